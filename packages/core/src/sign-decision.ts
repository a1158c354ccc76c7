// The sign stage's decision: may the sign identity sign these artifacts? Only when the build provenance was signed
// by the policy's build identity and covers every artifact, the sign job is not the build identity, and the commit
// the provenance names was merged through an independently reviewed pull request. Pure: bundles are verified by
// packages/sigstore and the review evidence is collected by packages/github before they get here.

import { IN_TOTO_PAYLOAD_TYPE, parseStatement, type Statement, subjectHasDigest } from './intoto';
import type { ArtifactRef, Check, ReviewEvidence, SignerIdentity, Verdict, VerifiedBundle } from './model';
import { buildRunProblem, describeIdentityRule, matchIdentity, type Policy, policyRolesOf } from './policy';
import {
  type BuildProvenance,
  certificateBacksProvenance,
  parseProvenance,
  withoutTrailingSlashes,
} from './provenance';
import { bindRepositories, EvaluationError } from './repository-binding';
import { evaluateReview, type ReviewCheckId, type ReviewResult } from './review';

/** The ids of the sign stage's own checks, in the order they are reported; the review checks follow them. */
export const SIGN_CHECK_IDS = [
  'provenance-verified',
  'provenance-build-identity',
  'provenance-readable',
  'provenance-certificate-agrees',
  'provenance-one-source',
  'artifacts-in-provenance',
  'sign-identity-distinct',
  'sign-identity-in-policy',
  'source-repository-bound',
  'review-evidence',
  'built-commit-is-merged-commit',
] as const;

/** A sign check id: one of the stage's own, or a review check. */
export type SignCheckId = (typeof SIGN_CHECK_IDS)[number] | ReviewCheckId;

/** Verification codes that mean "signed, but not by the expected identity" (packages/sigstore's codes). */
const IDENTITY_CODES: readonly string[] = ['IDENTITY_MISMATCH', 'ISSUER_MISMATCH', 'EXTENSION_MISMATCH'];

/** One provenance bundle the sign stage was given: verified under the policy's build identity, or rejected. */
export type ProvenanceBundle =
  | { source: string; verified: VerifiedBundle }
  | { source: string; rejected: { code: string; reason: string } };

/** What verified build provenance says was built: the only place the sign stage takes repository and commit from. */
export interface BuiltSource {
  /** `owner/name`. */
  repository: string;
  repositoryUrl: string;
  commit: string;
  ref: string;
  /** The identities that signed the provenance naming this source. */
  builders: SignerIdentity[];
}

/** The provenance checks, and the source they vouch for (absent when no provenance by the build identity names one). */
export interface ProvenanceJudgement {
  checks: Check[];
  source?: BuiltSource;
  /** Every verified provenance signer, whatever identity: the sign job must be none of them. */
  signers: SignerIdentity[];
}

export interface SignDecisionInput {
  policy: Policy;
  artifacts: ArtifactRef[];
  provenance: ProvenanceJudgement;
  /** The sign job's own identity, from its OIDC token, as Fulcio will certify it. */
  signer: SignerIdentity;
  /** Review evidence collected for `provenance.source`; absent when there was no source to collect it for. */
  evidence?: ReviewEvidence;
}

/** The decision: pass only when every check passes; the review result when the review rules were applied. */
export interface SignDecision {
  verdict: Verdict;
  checks: Check[];
  source?: BuiltSource;
  review?: ReviewResult;
}

/** A provenance bundle that verified, by the build identity, readable as GitHub workflow provenance. */
interface ReadProvenance {
  bundle: VerifiedBundle;
  provenance: BuildProvenance;
  statement: Statement;
}

/** The provenance bundles sorted by how far each got: rejected, verified, by the build identity, read, backed. */
interface ProvenanceSorting {
  given: ProvenanceBundle[];
  rejected: { source: string; code: string; reason: string }[];
  /** Signed by the policy's build identity (and not also its sign identity). */
  byBuild: VerifiedBundle[];
  /** Why a verified bundle is not by the build identity. */
  wrongIdentity: string[];
  read: ReadProvenance[];
  unreadable: string[];
  /** Readable provenance whose certificate backs its repository, commit and ref. */
  agreeing: ReadProvenance[];
  disagreeing: string[];
}

/**
 * Judges the provenance bundles: every one must verify, be signed by the policy's build identity (and not also
 * match its sign identity), be GitHub workflow provenance whose certificate backs its repository, commit and ref,
 * all of them one source, and together cover every artifact. The source is returned when the bundles that qualify
 * agree on one, so review evidence can be collected even while another check fails (every reason is reported).
 */
export function judgeBuildProvenance(input: {
  policy: Policy;
  artifacts: ArtifactRef[];
  provenance: ProvenanceBundle[];
}): ProvenanceJudgement {
  const { policy, artifacts } = input;
  const sorted = sortProvenance(input.provenance, policy);
  const { check: sourceCheck, source } = provenanceOneSource(sorted);
  return {
    checks: [
      provenanceVerified(sorted),
      provenanceBuildIdentity(sorted, policy),
      provenanceReadable(sorted),
      provenanceCertificateAgrees(sorted),
      sourceCheck,
      artifactsInProvenance(sorted, artifacts),
    ],
    ...(source && { source }),
    signers: sorted.given.flatMap((p) => ('verified' in p ? [p.verified.signer] : [])),
  };
}

function sortProvenance(given: ProvenanceBundle[], policy: Policy): ProvenanceSorting {
  const sorted: ProvenanceSorting = {
    given,
    rejected: given.flatMap((p) => ('rejected' in p ? [{ source: p.source, ...p.rejected }] : [])),
    byBuild: [],
    wrongIdentity: [],
    read: [],
    unreadable: [],
    agreeing: [],
    disagreeing: [],
  };
  for (const p of given) {
    if (!('verified' in p)) continue;
    const bundle = p.verified;
    const asBuild = matchIdentity(bundle.signer, policy.identities.build);
    const trigger = buildRunProblem(bundle.signer, policy.identities.build);
    // Patterns that overlap (which the policy's load does not always tell): a signer is one identity, as the gate holds.
    const also = asBuild.ok ? policyRolesOf(bundle.signer, policy).find((r) => r !== 'build') : undefined;
    if (!asBuild.ok) sorted.wrongIdentity.push(`${bundle.source}: ${asBuild.reason}`);
    else if (also) {
      sorted.wrongIdentity.push(
        `${bundle.source}: ${bundle.signer.san} is both the build and the ${also} identity of the policy`,
      );
    } else if (trigger) sorted.wrongIdentity.push(`${bundle.source}: ${trigger}`);
    else sorted.byBuild.push(bundle);
  }
  for (const bundle of sorted.byBuild) {
    const parsed = readProvenance(bundle);
    if (typeof parsed === 'string') sorted.unreadable.push(parsed);
    else sorted.read.push(parsed);
  }
  for (const r of sorted.read) {
    const problem = certificateDisagreement(r);
    if (problem) sorted.disagreeing.push(problem);
    else sorted.agreeing.push(r);
  }
  return sorted;
}

// 1. Every bundle verifies cryptographically (a wrong identity is judged by the next check).
function provenanceVerified({ given, rejected }: ProvenanceSorting): Check {
  if (given.length === 0)
    return fail('provenance-verified', 'expected at least one build provenance bundle, found none');
  const broken = rejected.filter((r) => !IDENTITY_CODES.includes(r.code));
  if (broken.length > 0) {
    const found = broken.map((r) => `${r.source}: ${r.code}: ${r.reason}`).join('; ');
    return fail(
      'provenance-verified',
      `expected every provenance bundle to verify against the trusted root, found ${found}`,
    );
  }
  return pass('provenance-verified', `${plural(given.length, 'provenance bundle')} verified against the trusted root`);
}

// 2. Every bundle is signed by the build identity, and that identity is not also the policy's sign identity.
function provenanceBuildIdentity({ rejected, wrongIdentity, byBuild }: ProvenanceSorting, policy: Policy): Check {
  const build = describeIdentityRule(policy.identities.build);
  const wrong = [
    ...rejected.filter((r) => IDENTITY_CODES.includes(r.code)).map((r) => `${r.source}: ${r.reason}`),
    ...wrongIdentity,
  ];
  if (wrong.length > 0) {
    return fail(
      'provenance-build-identity',
      `expected provenance signed by the policy's build identity ${build}; ${wrong.join('; ')}`,
    );
  }
  if (byBuild.length === 0) {
    return fail('provenance-build-identity', `expected provenance signed by the build identity ${build}, found none`);
  }
  const sans = [...new Set(byBuild.map((b) => b.signer.san))].join(', ');
  return pass('provenance-build-identity', `signed by ${sans}, the build identity ${build}`);
}

// 3. GitHub workflow SLSA provenance, readable.
function provenanceReadable({ read, unreadable }: ProvenanceSorting): Check {
  if (unreadable.length > 0) {
    return fail('provenance-readable', `expected GitHub workflow SLSA v1 provenance; ${unreadable.join('; ')}`);
  }
  if (read.length === 0) return notEvaluated('provenance-readable', 'no provenance by the build identity');
  const sources = read.map(
    (r) => `${r.bundle.source}: ${r.provenance.repositoryUrl}@${r.provenance.commit} (${r.provenance.ref})`,
  );
  return pass('provenance-readable', sources.join('; '));
}

// 4. The certificate (what Fulcio saw in the build job's token) backs the repository, commit and ref.
function provenanceCertificateAgrees({ agreeing, disagreeing }: ProvenanceSorting): Check {
  if (disagreeing.length > 0) return fail('provenance-certificate-agrees', disagreeing.join('; '));
  if (agreeing.length === 0) {
    return notEvaluated('provenance-certificate-agrees', 'no readable provenance by the build identity');
  }
  return pass(
    'provenance-certificate-agrees',
    'the build certificate names the same repository, commit and ref as the provenance',
  );
}

// 5. One source: the review is of one commit of one repository.
function provenanceOneSource({ agreeing }: ProvenanceSorting): { check: Check; source?: BuiltSource } {
  const sources = new Map<string, ReadProvenance[]>();
  for (const r of agreeing) {
    // The ref too: the review is judged for the branch the build ran on, which a build of the same commit on another
    // branch (unprotected) must not borrow.
    const key = `${r.provenance.repositoryUrl}@${r.provenance.commit} on ${r.provenance.ref}`;
    sources.set(key, [...(sources.get(key) ?? []), r]);
  }
  if (sources.size === 0) {
    return {
      check: notEvaluated('provenance-one-source', 'no provenance by the build identity names a source'),
    };
  }
  if (sources.size > 1) {
    const found = [...sources.entries()]
      .map(([key, list]) => `${key} (${list.map((r) => r.bundle.source).join(', ')})`)
      .join(' and ');
    return {
      check: fail(
        'provenance-one-source',
        `expected every provenance to name one repository, commit and ref, found ${found}`,
      ),
    };
  }
  const all = [...sources.values()][0]!;
  const p = all[0]!.provenance;
  const builders = all.map((r) => r.bundle.signer);
  return {
    check: pass('provenance-one-source', `built from ${p.repositoryUrl} at commit ${p.commit}`),
    source: { repository: p.repository, repositoryUrl: p.repositoryUrl, commit: p.commit, ref: p.ref, builders },
  };
}

// 6. Every artifact is a subject of the provenance.
function artifactsInProvenance({ agreeing }: ProvenanceSorting, artifacts: ArtifactRef[]): Check {
  if (artifacts.length === 0)
    return fail('artifacts-in-provenance', 'expected at least one artifact to sign, found none');
  if (agreeing.length === 0) {
    return notEvaluated('artifacts-in-provenance', 'no provenance by the build identity to look the artifacts up in');
  }
  const uncovered = artifacts.filter((a) => !agreeing.some((r) => subjectHasDigest(r.statement, a.digest)));
  if (uncovered.length > 0) {
    const missing = uncovered.map((a) => `${a.name} (sha256:${a.digest.hex})`).join(', ');
    return fail(
      'artifacts-in-provenance',
      `expected every artifact among the subjects of the build provenance, found ${missing} in none (its subjects: ${describeSubjects(agreeing)})`,
    );
  }
  return pass(
    'artifacts-in-provenance',
    `${plural(artifacts.length, 'artifact')} among the subjects of the build provenance`,
  );
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The whole decision: the provenance checks, the sign job's identity, and the review rules on the collected evidence. */
export function signDecision(input: SignDecisionInput): SignDecision {
  const { policy, provenance, signer, evidence } = input;
  const source = provenance.source;
  const checks: Check[] = [...provenance.checks, signIdentityDistinct(signer, policy, provenance.signers)];
  checks.push(signIdentityInPolicy(signer, policy), sourceRepositoryBound(source, signer, policy));

  let review: ReviewResult | undefined;
  const collected = reviewEvidenceCheck(source, evidence);
  checks.push(collected);
  if (collected.verdict === 'pass' && evidence) {
    review = evaluateReview(evidence, policy.review);
    checks.push(builtCommitIsMergedCommit(evidence), ...review.checks);
  }
  return {
    verdict: checks.every((c) => c.verdict === 'pass') ? 'pass' : 'fail',
    checks,
    ...(source && { source }),
    ...(review && { review }),
  };
}

/**
 * The identity a GitHub Actions job's certificate will carry, from its OIDC token's claims, as Fulcio derives it:
 * SAN `{server}/{job_workflow_ref}`, the token's issuer, and the source repository extensions.
 */
export function workflowSigner(claims: Record<string, unknown>, serverUrl: string): SignerIdentity | undefined {
  const text = (name: string): string | undefined => {
    const value = claims[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const jobWorkflowRef = text('job_workflow_ref');
  const issuer = text('iss');
  if (!jobWorkflowRef || !issuer) return undefined;
  const server = withoutTrailingSlashes(serverUrl);
  const extensions: Record<string, string> = { issuer, buildSignerURI: `${server}/${jobWorkflowRef}` };
  const repository = text('repository');
  if (repository) extensions.sourceRepositoryURI = `${server}/${repository}`;
  const sha = text('sha');
  if (sha) extensions.sourceRepositoryDigest = sha;
  const ref = text('ref');
  if (ref) extensions.sourceRepositoryRef = ref;
  // Fulcio's Build Trigger: the event that started the run.
  const trigger = text('event_name');
  if (trigger) extensions.buildTrigger = trigger;
  // Fulcio's Runner Environment, from the same claim.
  const runner = text('runner_environment');
  if (runner) extensions.runnerEnvironment = runner;
  // Fulcio's Run Invocation URI, from the same claims: which run (and attempt) this job is of — a deploy job tells its
  // own run's earlier decision records (another job of a matrix) from another run's by it.
  const runId = text('run_id');
  const attempt = text('run_attempt');
  if (repository && runId && attempt) {
    extensions.runInvocationURI = `${server}/${repository}/actions/runs/${runId}/attempts/${attempt}`;
  }
  return { san: `${server}/${jobWorkflowRef}`, issuer, extensions };
}

// ── the checks ────────────────────────────────────────────────────────────────────────────────────────────

function signIdentityDistinct(signer: SignerIdentity, policy: Policy, builders: SignerIdentity[]): Check {
  const same = builders.find((b) => b.san === signer.san);
  if (same) {
    return fail(
      'sign-identity-distinct',
      `the sign job runs as ${signer.san}, the identity that signed the build provenance: build and sign must be different workflow files`,
    );
  }
  if (matchIdentity(signer, policy.identities.build).ok) {
    return fail(
      'sign-identity-distinct',
      `the sign job runs as ${signer.san}, which the policy's build identity ${describeIdentityRule(policy.identities.build)} matches: build and sign must be different workflow files`,
    );
  }
  const built = [...new Set(builders.map((b) => b.san))].join(', ') || 'no verified provenance';
  return pass('sign-identity-distinct', `the sign job runs as ${signer.san}; the build ran as ${built}`);
}

function signIdentityInPolicy(signer: SignerIdentity, policy: Policy): Check {
  const match = matchIdentity(signer, policy.identities.sign);
  if (!match.ok) {
    return fail(
      'sign-identity-in-policy',
      `the sign job is not the policy's sign identity, so deploy would refuse what it signs: ${match.reason}`,
    );
  }
  // Patterns that overlap (which the policy's load does not always tell): the gate takes nothing of a signer that is
  // two identities of the policy as the sign identity's (roleProblem).
  const also = policyRolesOf(signer, policy).find((role) => role !== 'sign');
  return also
    ? fail(
        'sign-identity-in-policy',
        `the sign job runs as ${signer.san}, which is also the policy's ${also} identity, so deploy would refuse what it signs: they must differ`,
      )
    : pass('sign-identity-in-policy', `the sign job is the policy's sign identity: ${match.reason}`);
}

/**
 * The built repository is one the sign job may vouch for: the policy's deploy.repositories or pinned
 * source-repository, else the repository the sign job runs for. Otherwise shared build and sign workflows would sign
 * another repository's valid chain for this one.
 */
function sourceRepositoryBound(source: BuiltSource | undefined, signer: SignerIdentity, policy: Policy): Check {
  if (!source) return notEvaluated('source-repository-bound', 'no verified provenance names a repository');
  const own = signer.extensions.sourceRepositoryURI;
  const ownName = own === undefined ? undefined : /^https:\/\/[^/]+\/([^/]+\/[^/]+?)(?:\.git)?\/*$/.exec(own)?.[1];
  let binding: { repositories: string[]; from: string };
  try {
    binding = bindRepositories(policy, {
      ...(ownName !== undefined && { repository: ownName }),
      name: "the sign job's repository",
      role: 'fallback',
    });
  } catch (error) {
    if (error instanceof EvaluationError) return fail('source-repository-bound', error.message);
    throw error;
  }
  const bound = binding.repositories.some((r) => r.toLowerCase() === source.repository.toLowerCase());
  return bound
    ? pass('source-repository-bound', `${source.repository} is a repository bound by ${binding.from}`)
    : fail(
        'source-repository-bound',
        `expected provenance of ${binding.repositories.join(' or ')} (bound by ${binding.from}), found provenance of ${source.repository}: another repository's build is not this one's to sign`,
      );
}

function reviewEvidenceCheck(source: BuiltSource | undefined, evidence: ReviewEvidence | undefined): Check {
  if (!source) {
    return fail(
      'review-evidence',
      'not collected: no verified provenance by the build identity names the repository and commit to review',
    );
  }
  if (!evidence) return fail('review-evidence', `not collected for ${source.repository}@${source.commit}`);
  if (evidence.repository.toLowerCase() !== source.repository.toLowerCase() || evidence.commit !== source.commit) {
    return fail(
      'review-evidence',
      `expected review evidence for ${source.repository}@${source.commit}, the built source; found evidence for ${evidence.repository}@${evidence.commit}`,
    );
  }
  // The branch the review is judged against is the one the verified provenance says the build ran on.
  if (evidence.builtRef !== source.ref) {
    return fail(
      'review-evidence',
      `expected review evidence for the branch the build ran on (${source.ref}), found evidence for ${evidence.builtRef ?? 'no branch'}`,
    );
  }
  return pass(
    'review-evidence',
    `collected from GitHub for ${source.repository}@${source.commit} built on ${source.ref}`,
  );
}

function builtCommitIsMergedCommit(evidence: ReviewEvidence): Check {
  const pr = evidence.pullRequest;
  if (pr && pr.mergeCommitSha.toLowerCase() === evidence.commit.toLowerCase()) {
    return pass('built-commit-is-merged-commit', `pull request #${pr.number} was merged as ${evidence.commit}`);
  }
  const associated = evidence.associatedPullRequests ?? [];
  if (associated.length === 0) {
    return fail('built-commit-is-merged-commit', `no pull request was merged as ${evidence.commit}`);
  }
  const described = associated.map((a) =>
    a.merged ? `#${a.number} (${a.url}) was merged as ${a.mergeCommitSha}` : `#${a.number} (${a.url}) is not merged`,
  );
  return fail(
    'built-commit-is-merged-commit',
    `the built commit ${evidence.commit} belongs to pull request ${described.join(', ')}: what was built is not what was merged`,
  );
}

// ── reading provenance ────────────────────────────────────────────────────────────────────────────────────

function readProvenance(bundle: VerifiedBundle): ReadProvenance | string {
  if (bundle.kind !== 'dsse' || bundle.payloadType !== IN_TOTO_PAYLOAD_TYPE || bundle.statement === undefined) {
    return `${bundle.source}: expected a DSSE envelope holding an in-toto statement, found ${bundle.kind === 'dsse' ? `payload type ${bundle.payloadType ?? '(none)'}` : 'a message signature'}`;
  }
  try {
    return { bundle, provenance: parseProvenance(bundle.statement), statement: parseStatement(bundle.statement) };
  } catch (error) {
    return `${bundle.source}: ${(error as Error).message}`;
  }
}

function certificateDisagreement(r: ReadProvenance): string | undefined {
  const problems = certificateBacksProvenance(r.bundle.signer, r.provenance).map((p) => p.reason);
  return problems.length ? `${r.bundle.source}: ${problems.join('; ')}` : undefined;
}

function describeSubjects(read: ReadProvenance[]): string {
  const subjects = read.flatMap((r) => r.statement.subject);
  const shown = subjects.slice(0, 3).map((s) => `${s.name ?? '(unnamed)'} sha256:${s.digest.sha256 ?? '(none)'}`);
  return shown.join(', ') + (subjects.length > 3 ? `, and ${subjects.length - 3} more` : '');
}

function pass(id: SignCheckId, reason: string): Check {
  return { id, verdict: 'pass', reason };
}

function fail(id: SignCheckId, reason: string): Check {
  return { id, verdict: 'fail', reason };
}

/** A check that could not be evaluated for want of what it reads: never a pass (the decision fails closed). */
function notEvaluated(id: SignCheckId, reason: string): Check {
  return { id, verdict: 'not-evaluated', reason };
}
