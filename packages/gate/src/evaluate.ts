// The deploy verdict. For each artifact, from the bundles that verified (whoever signed them): every bundle judged
// once for the role it could fill, every chain the qualified ones make (a signature, a review attestation, build
// provenance) scored once by the deploy checks, and the chain whose checks pass most reported — an attacker's extra
// bundle can add a chain but never veto an honest one. An artifact passes when every check passes; the deploy, when
// every artifact does. Pure: bundles are verified before they get here (gate.ts), and the clock is an input.

import {
  type ArtifactReport,
  artifactSubjects,
  type BreakGlassUsed,
  type Check,
  checkPasses,
  type DecisionSeen,
  type DeployApprovalPredicate,
  type DeployReport,
  type Digest,
  deployReportProblems,
  EvaluationError,
  type EvidenceUsed,
  formatDigest,
  LAST_ISO_TIME_MS,
  matchIdentity,
  type Policy,
  REPORT_SCHEMA_VERSION,
  type RejectedEvidence,
  type RepositoryBinding,
  readDecisionRecord,
  type SignerIdentity,
  type VerifiedBundle,
} from '@twokey/core';
import {
  type ArtifactEvidence,
  BundleMemo,
  type Chain,
  chainCount,
  chainsOf,
  judgeEvidence,
  MAX_CHAINS,
} from './candidates';
import { type ChainJudgement, deployChecks, evidenceOfRoles, extraEvidence } from './checks';
import { ReportContractError } from './error';

/** An artifact to judge: its digest, and the name it is judged under (none when it was given by digest alone). */
export interface DeployArtifact {
  name?: string;
  digest: Digest;
}

export interface DeployEvaluationInput {
  policy: Policy;
  /** The repositories whose chains may pass (bindRepositories): never none, or nothing could pass. */
  binding: RepositoryBinding;
  /** When the evaluation runs. */
  now: Date;
  /** Judge the evidence as of this earlier time instead of `now` (`twokey verify --at`); the report says so. */
  at?: Date;
  /** The identity running the deploy (the deploy job's certificate identity); absent offline. */
  deployIdentity?: SignerIdentity;
  artifacts: readonly DeployArtifact[];
  /** Every bundle that verified, whoever signed it, in the order given: ties go to the first. */
  bundles: readonly VerifiedBundle[];
  /** Bundles that were read but did not verify: never evidence, but named when something is missing. */
  rejected?: readonly RejectedEvidence[];
  /** The deploy job's environment (its OIDC token's `environment`); absent offline or outside an environment. */
  environment?: string;
  /** Who approved the deploy, as the deploy job read it from GitHub just now, or why it could not. */
  liveDeployApproval?: LiveDeployApproval;
  /** Whether the decision records of earlier deploys (the attestation store's) are among the bundles. */
  earlierDecisionsRead?: boolean;
  /**
   * Verified decision records about other artifacts than these (the store's records of deploys of a break-glass's
   * other subjects): they only count its uses.
   */
  otherDecisions?: readonly VerifiedBundle[];
  /** Why the attestation store the deploy job reads beside its files could not be read, when it could not. */
  storeUnread?: string;
  /** The attestation store was read, but entries of it could not be (their blobs, its run digest's): why. */
  storeIncomplete?: string;
}

/** The run's environment approvals as the deploy job read them (its predicate), or why they could not be read. */
export type LiveDeployApproval = { predicate: DeployApprovalPredicate } | { error: string };

/** A break-glass an earlier decision record used: for which artifacts (sha256 hex), in which environment. */
export interface BreakGlassUse {
  id: string;
  /** The run that signed the break-glass used (breakGlassRunOf), when the record names it. */
  run?: string;
  artifacts: string[];
  environment?: string;
  /**
   * The deploy run that used it: its record's signing certificate's Run Invocation URI (Fulcio's
   * 1.3.6.1.4.1.57264.1.21, `…/actions/runs/ID/attempts/N`), when it names one.
   */
  deployRun?: string;
  source: string;
}

/** What every artifact of one evaluation is judged under. */
export interface DeployContext {
  policy: Policy;
  binding: RepositoryBinding;
  /** The time freshness is measured from: `at` when given, else `now`. */
  judgedAt: Date;
  /** `at` was given (`twokey verify --at`): an exact time, not a runner's clock, so no allowance for skew. */
  judgedAsOf: boolean;
  deployIdentity?: SignerIdentity;
  rejected: readonly RejectedEvidence[];
  /** A release's artifacts share bundles (one provenance, one review attestation for all): each is read once. */
  memo: BundleMemo;
  environment?: string;
  liveDeployApproval?: LiveDeployApproval;
  /** Every break-glass use the verified decision records show. */
  breakGlassUses: BreakGlassUse[];
  earlierDecisionsRead: boolean;
  storeUnread?: string;
  /** The attestation store was read, but not all of it (entries that could not be read): why. */
  storeIncomplete?: string;
}

/**
 * Judges every artifact under one policy, one binding and one clock. The verdict is pass only when every artifact
 * passes. Throws EvaluationError (a usage error) when there is nothing to judge, no repository bound, or no valid time.
 */
export function evaluateDeploy(input: DeployEvaluationInput): DeployReport {
  const context = deployContext(input);
  const evidenceOf = evidenceIndex(input.bundles, input.artifacts);
  const artifacts = input.artifacts.map((artifact) => evaluateArtifact(artifact, evidenceOf(artifact), context));
  const verdict = artifacts.every((a) => a.verdict === 'pass') ? 'pass' : 'fail';
  const until = verdict === 'pass' ? earliest(artifacts.map((a) => a.validUntil)) : undefined;
  const report: DeployReport = {
    schemaVersion: REPORT_SCHEMA_VERSION,
    verdict,
    evaluatedAt: input.now.toISOString(),
    ...(input.at && { asOf: input.at.toISOString() }),
    ...(until !== undefined && { validUntil: until }),
    policy: {
      source: input.policy.source,
      digest: input.policy.digest,
      ...(input.policy.repository && { repository: { ...input.policy.repository } }),
    },
    artifacts,
    rejected: firstPerSource(context.rejected),
  };
  // The report is a contract (report.schema.json): one that breaks it is twokey's bug, never a verdict.
  const problems = deployReportProblems(report);
  if (problems.length > 0) throw new ReportContractError(problems);
  return report;
}

/** The verdict on one artifact: the deploy checks on the chain of its evidence whose checks pass most. */
export function evaluateArtifact(
  artifact: DeployArtifact,
  bundles: readonly VerifiedBundle[],
  context: DeployContext,
): ArtifactReport {
  // Each bundle judged once for the role it could fill; each chain of the qualified ones scored once by its checks.
  const evidence = judgeEvidence(artifact, bundles, context);
  // The chain whose checks pass most is the one reported, its checks as scored: an extra bundle never vetoes.
  const { chain, judged, cut } = mostPassing(evidence, context);
  const checks = cut === undefined ? judged.checks : withCut(judged.checks, cut);
  const verdict = checks.every(checkPasses) ? 'pass' : 'fail';
  const used = [...evidenceUsed(chain), ...extraEvidence(judged)];
  const until = verdict === 'pass' ? passesUntil(used, judged, context) : undefined;
  return {
    artifact: { ...(artifact.name !== undefined && { name: artifact.name }), digest: formatDigest(artifact.digest) },
    verdict,
    checks,
    ...(until !== undefined && { validUntil: until }),
    chain: chainOfCustody(chain, judged.breakGlass?.report),
    evidence: used,
    ...(chain.review && { review: chain.review.result }),
    ...(judged.breakGlass && { breakGlass: judged.breakGlass.report }),
    ...decisionsAbout(artifact, bundles, context),
    ...(judged.deployApproval && {
      deployApproval: {
        source: judged.deployApproval.source,
        environment: judged.deployApproval.environment,
        approvers: judged.deployApproval.approvers,
      },
    }),
  };
}

/**
 * Until when a passing artifact's evidence passes what depends on the time it is judged at: each bundle's oldest
 * verified signing time plus max-age (`fresh`, and an attested deploy approval), and a used break-glass's expiry. What
 * the gate passed is shipped by a later job, which GitHub may start much later — its environment's reviewers have 30
 * days, and "Re-run failed jobs" runs it again with the gate's outputs of the first attempt — so that job checks this
 * before it ships (workflows/release.yml; threat model, row 253). Undefined when nothing bounds it (no evidence).
 */
function passesUntil(
  evidence: readonly EvidenceUsed[],
  judged: ChainJudgement,
  context: DeployContext,
): string | undefined {
  const maxAgeMs = context.policy.deploy.maxAgeSeconds * 1000;
  const bounds = evidence.flatMap((e) =>
    e.signedAt.length === 0 ? [] : [isoTimeBefore10000(Math.min(...e.signedAt.map(Date.parse)) + maxAgeMs)],
  );
  if (judged.breakGlass) bounds.push(isoTimeBefore10000(Date.parse(judged.breakGlass.used.predicate.expires)));
  return earliest(bounds);
}

/** A time a report can name (`YYYY-…Z`): a max-age of millennia bounds nothing sooner than the year 9999's end. */
function isoTimeBefore10000(ms: number): string {
  return new Date(Math.min(ms, LAST_ISO_TIME_MS)).toISOString();
}

/** The earliest of ISO 8601 UTC times (toISOString's: they sort as text); undefined when one is missing or none. */
function earliest(times: readonly (string | undefined)[]): string | undefined {
  if (times.length === 0 || times.some((t) => t === undefined)) return undefined;
  return (times as string[]).toSorted()[0];
}

/**
 * The first of the chains with the most passing checks (there is always one: with no candidates, the empty chain),
 * judged one at a time: the first that passes every check ends the search (no later one passes more), and at most
 * MAX_CHAINS are judged (`cut`: how many there were, when some were not).
 */
function mostPassing(
  evidence: ArtifactEvidence,
  context: DeployContext,
): { chain: Chain; judged: ChainJudgement; cut?: number } {
  let best: { chain: Chain; judged: ChainJudgement } | undefined;
  let bestScore = -1;
  let judgedCount = 0;
  const count = chainCount(evidence);
  // Past MAX_CHAINS, the candidates of a bound repository are tried first (chainsOf).
  for (const chain of chainsOf(evidence, count > MAX_CHAINS ? context.binding : undefined)) {
    if (judgedCount === MAX_CHAINS) return { ...best!, cut: count };
    judgedCount += 1;
    const judged = deployChecks(chain, evidence, context);
    const score = judged.checks.filter(checkPasses).length;
    if (score > bestScore) [best, bestScore] = [{ chain, judged }, score];
    if (score === judged.checks.length) break;
  }
  return best!;
}

/**
 * The checks of the best of the first MAX_CHAINS chains, when more could be made and none of those passed: each check
 * that did not pass says the search stopped there (a chain past it might have), so the refusal says why.
 */
function withCut(checks: Check[], count: number): Check[] {
  const note = ` (the evidence for this artifact makes ${count} combinations of a review, a provenance and a signature; the first ${MAX_CHAINS} were judged and none passed every check: give the bundles of one build and sign run, not every re-run's)`;
  return checks.map((c) => (checkPasses(c) ? c : { ...c, reason: `${c.reason}${note}` }));
}

/** The context every artifact of an evaluation is judged in, refusing what cannot be judged (EvaluationError). */
export function deployContext(input: DeployEvaluationInput): DeployContext {
  if (input.artifacts.length === 0) {
    throw new EvaluationError('NO_ARTIFACTS', 'expected at least one artifact to evaluate, found none');
  }
  if (input.binding.repositories.length === 0) {
    throw new EvaluationError(
      'REPOSITORY_UNBOUND',
      `expected at least one repository for the artifacts' chains to be bound to, found none (${input.binding.from})`,
    );
  }
  if (Number.isNaN(input.now.getTime())) {
    throw new EvaluationError('CLOCK_INVALID', 'expected the time the evaluation runs, found an invalid date');
  }
  if (input.at && !(input.at.getTime() <= input.now.getTime())) {
    throw new EvaluationError(
      'CLOCK_INVALID',
      `expected a time to judge the evidence as of no later than now (${input.now.toISOString()}), found ${Number.isNaN(input.at.getTime()) ? 'an invalid date' : input.at.toISOString()}`,
    );
  }
  return {
    policy: input.policy,
    binding: input.binding,
    judgedAt: input.at ?? input.now,
    judgedAsOf: input.at !== undefined,
    ...(input.deployIdentity && { deployIdentity: input.deployIdentity }),
    rejected: input.rejected ?? [],
    memo: new BundleMemo(),
    ...(input.environment !== undefined && { environment: input.environment }),
    ...(input.liveDeployApproval && { liveDeployApproval: input.liveDeployApproval }),
    breakGlassUses: breakGlassUses([...input.bundles, ...(input.otherDecisions ?? [])], input.policy),
    earlierDecisionsRead: input.earlierDecisionsRead ?? false,
    ...(input.storeUnread !== undefined && { storeUnread: input.storeUnread }),
    ...(input.storeIncomplete !== undefined && { storeIncomplete: input.storeIncomplete }),
  };
}

/** The decision records among an artifact's bundles that are about it (by the deploy identity, when named). */
function decisionsAbout(
  artifact: DeployArtifact,
  bundles: readonly VerifiedBundle[],
  context: DeployContext,
): { decisions?: DecisionSeen[] } {
  const deployer = context.policy.identities.deploy;
  const hex = artifact.digest.hex;
  const decisions = bundles.flatMap((bundle): DecisionSeen[] => {
    if (bundle.kind !== 'dsse' || !sha256Named(bundle).includes(hex)) return [];
    const record = readDecisionRecord(bundle.statement);
    if (!record || (deployer && !matchIdentity(bundle.signer, deployer).ok)) return [];
    const extension = record.extension;
    const name = artifact.name ?? formatDigest(artifact.digest);
    const failed = (extension?.failedChecks ?? [])
      .filter((c) => c?.artifact === name || c?.artifact === formatDigest(artifact.digest))
      .map((c) => String(c.id));
    return [
      {
        source: bundle.source,
        result: record.result,
        timeVerified: record.timeVerified,
        ...(extension?.environment !== undefined && { environment: extension.environment }),
        signer: bundle.signer.san,
        ...(bundle.signer.extensions.sourceRepositoryURI !== undefined && {
          repository: bundle.signer.extensions.sourceRepositoryURI,
        }),
        breakGlass: (extension?.breakGlass ?? []).some((b) => b.artifacts.includes(hex)),
        ...(failed.length > 0 && { failedChecks: failed }),
      },
    ];
  });
  return decisions.length > 0 ? { decisions } : {};
}

/**
 * The break-glass uses the decision records among the bundles show: passed records by the policy's deploy identity
 * (any signer when the policy names none: a record can only make a break-glass count as used, never let one through).
 */
function breakGlassUses(bundles: readonly VerifiedBundle[], policy: Policy): BreakGlassUse[] {
  const deployer = policy.identities.deploy;
  return bundles.flatMap((bundle) => {
    const record = bundle.kind === 'dsse' ? readDecisionRecord(bundle.statement) : undefined;
    if (!record?.extension || record.result !== 'PASSED') return [];
    if (deployer && !matchIdentity(bundle.signer, deployer).ok) return [];
    const environment = record.extension.environment;
    const deployRun = bundle.signer.extensions.runInvocationURI;
    return record.extension.breakGlass.map((use) => ({
      id: use.id,
      ...(use.run !== undefined && { run: use.run }),
      artifacts: use.artifacts,
      ...(environment !== undefined && { environment }),
      ...(deployRun !== undefined && { deployRun }),
      source: bundle.source,
    }));
  });
}

/**
 * The bundles each artifact is judged on: those about it (what a message signature signs, or an in-toto subject's
 * sha256 exactly as written), and those about none of the artifacts judged, so that a refusal can still name them. A
 * bundle about another judged artifact can never qualify for this one, so leaving it out changes no verdict, and a
 * release of N artifacts is judged in O(N) instead of O(N²). Input order is kept: ties go to the first.
 */
function evidenceIndex(
  bundles: readonly VerifiedBundle[],
  artifacts: readonly DeployArtifact[],
): (artifact: DeployArtifact) => VerifiedBundle[] {
  const judged = new Set(artifacts.map((a) => a.digest.hex));
  const about = new Map<string, number[]>();
  const unrelated: number[] = [];
  bundles.forEach((bundle, index) => {
    const named = new Set(sha256Named(bundle).filter((hex) => judged.has(hex)));
    if (named.size === 0) unrelated.push(index);
    for (const hex of named) {
      const list = about.get(hex);
      if (list) list.push(index);
      else about.set(hex, [index]);
    }
  });
  return (artifact) => {
    const own = about.get(artifact.digest.hex) ?? [];
    const merged: VerifiedBundle[] = [];
    let i = 0;
    let j = 0;
    while (i < own.length || j < unrelated.length) {
      const next = j >= unrelated.length || (i < own.length && own[i]! < unrelated[j]!) ? own[i++]! : unrelated[j++]!;
      merged.push(bundles[next]!);
    }
    return merged;
  };
}

/** The sha256 digests a bundle is about, as the evaluation compares them (a digest as signed or written). */
function sha256Named(bundle: VerifiedBundle): string[] {
  if (bundle.messageDigest) return bundle.messageDigest.algorithm === 'sha256' ? [bundle.messageDigest.hex] : [];
  const statement = bundle.statement as { predicateType?: unknown; subject?: unknown } | undefined;
  const subject = statement?.subject;
  if (!Array.isArray(subject)) return [];
  // A break-glass's run subject, a review's reviewed-commit subject: no artifact it is about.
  const about = artifactSubjects(statement?.predicateType, subject as { name?: unknown }[]);
  return about.flatMap((s) => {
    const hex = (s as { digest?: { sha256?: unknown } } | null)?.digest?.sha256;
    return typeof hex === 'string' ? [hex] : [];
  });
}

/** Each rejected bundle once: the first reason given for its file. */
function firstPerSource(rejected: readonly RejectedEvidence[]): RejectedEvidence[] {
  const first = new Map<string, RejectedEvidence>();
  for (const r of rejected) if (!first.has(r.source)) first.set(r.source, r);
  return [...first.values()];
}

/**
 * The chain of custody shown to people: commit → pull request → author → approvers → build → sign. Under a
 * break-glass, the change as it records it: the pull request merged as the commit, and everyone who made it.
 */
function chainOfCustody(
  { signature, review, provenance }: Chain,
  breakGlass: BreakGlassUsed | undefined,
): ArtifactReport['chain'] {
  const repository = review?.predicate.repository.name ?? provenance?.source.repository;
  const commit = provenance?.source.commit ?? review?.commit;
  const change = review ? undefined : breakGlass?.change;
  const pr = review?.predicate.pullRequest ?? change?.pullRequest;
  const signIdentity = signature?.bundle.signer.san ?? review?.bundle.signer.san;
  return {
    ...(repository && { repository }),
    ...(commit && { commit }),
    ...(pr && { pullRequest: { number: pr.number, url: pr.url, title: pr.title } }),
    ...(review && { author: review.predicate.author.login }),
    ...(change && {
      // The pull request's author, as for a reviewed change; else the commit's (a merge commit's is only its merger).
      author: (change.contributors.find((c) => c.roles.includes('pull-request-author')) ?? change.author).login,
      contributors: change.contributors.map((c) => `${c.login} (${c.roles.join(', ')})`),
    }),
    approvers: review?.result.independentApprovers.map((a) => a.login) ?? [],
    ...(provenance && { buildIdentity: provenance.bundle.signer.san }),
    ...(signIdentity && { signIdentity }),
  };
}

/** The bundles the verdict rests on (the decision record names them). */
function evidenceUsed({ signature, review, provenance }: Chain): EvidenceUsed[] {
  return evidenceOfRoles([
    ['signature', signature?.bundle],
    ['review', review?.bundle],
    ['provenance', provenance?.bundle],
  ]);
}
