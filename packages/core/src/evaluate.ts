// The deploy evaluation: the one decision the deploy action and `twokey verify` share. For each artifact, from the
// bundles that verified cryptographically (whoever signed them), it finds the artifact signature, the review
// attestation and the build provenance, decides which identity signed which using the policy, and reports every
// check with its verdict and reason. Pure: bundles are verified by packages/sigstore before they get here.

import { posix } from 'node:path';
import { CodedError } from './error';
import { IN_TOTO_PAYLOAD_TYPE, parseStatement, type Statement, subjectHasDigest } from './intoto';
import type { Check, SignerIdentity, Verdict, VerifiedBundle } from './model';
import { matchesAnyGlob } from './name-glob';
import { describeIdentityRule, matchIdentity, type Policy } from './policy';
import {
  type BuildProvenance,
  certificateBacksProvenance,
  type ProvenanceClaim,
  parseProvenance,
  sameRepositoryUri,
} from './provenance';
import { evaluateReview, type ReviewResult } from './review';
import {
  evidenceFromPredicate,
  parseReviewPredicate,
  REVIEW_PREDICATE_TYPE,
  type ReviewPredicate,
  reviewedCommitOf,
} from './review-predicate';
import { SLSA_PROVENANCE_V1_PREDICATE_TYPE } from './slsa-provenance';

/** The ids of the deploy checks, in the order they are reported. */
export const DEPLOY_CHECK_IDS = [
  'covered-by-policy',
  'artifact-signature',
  'review-attestation',
  'review-rules',
  'build-provenance',
  'same-commit',
  'same-repository',
  'distinct-identities',
  'fresh',
] as const;

/** A deploy check id. */
export type DeployCheckId = (typeof DEPLOY_CHECK_IDS)[number];

/** The artifact being judged: its name (file path or subject name) and sha256. */
export interface ArtifactRef {
  name: string;
  digest: { algorithm: 'sha256'; hex: string };
}

/**
 * Everything evaluateArtifact needs: the artifact, every verified bundle found for it, the policy, the repositories
 * its chain may come from and the clock.
 */
export interface EvaluateArtifactInput {
  artifact: ArtifactRef;
  bundles: VerifiedBundle[];
  policy: Policy;
  /** The repositories whose chains may pass (from bindRepositories): never none, or nothing passes. */
  binding: RepositoryBinding;
  now: Date;
  /** The identity running the deploy (the deploy action's own certificate identity); absent offline. */
  deployIdentity?: SignerIdentity;
  /** Bundles that were read but did not verify: never evidence, but named when something is missing. */
  rejected?: RejectedEvidence[];
}

/**
 * The repositories an artifact's build → sign chain may come from: provenance, review attestation and signature must
 * all name one repository, and it must be one of these. Without a binding, a valid chain made for any repository
 * that runs the same shared build and sign workflows would pass.
 */
export interface RepositoryBinding {
  /** `owner/name`, at least one; compared case-insensitively. */
  repositories: string[];
  /** Who named them, for messages: `deploy.repositories in .twokey/policy.yml`, `GITHUB_REPOSITORY`, `--repo` … */
  from: string;
}

/** The repository the caller names besides the policy, and what it is to the binding. */
export interface CallerRepository {
  /** `owner/name` as given; absent or empty when not given. */
  repository?: string;
  /** How it is given, for messages: `GITHUB_REPOSITORY`, `--repo`. */
  name: string;
  /**
   * `fallback`: binds only when the policy names no repository (the deploying repository: a deployment repository
   * that names the repositories it ships is not one of them). `narrow`: must be one the policy names, when it names
   * any, and is then the only one bound (`twokey verify --repo`).
   */
  role: 'fallback' | 'narrow';
}

/**
 * Which repositories a chain may come from: the policy's `deploy.repositories`, else the repositories its identities
 * pin (`source-repository`), else the caller's. A caller that narrows must name one of the policy's. Throws
 * EvaluationError (a usage error) when nothing binds a repository, or the caller's is malformed or not the policy's.
 */
export function bindRepositories(policy: Policy, caller: CallerRepository): RepositoryBinding {
  const given = caller.repository || undefined;
  if (given !== undefined && !OWNER_NAME.test(given)) {
    throw new EvaluationError(
      'REPOSITORY_MALFORMED',
      `${caller.name}: expected OWNER/NAME, found ${JSON.stringify(given)}`,
    );
  }
  const named = policyRepositories(policy);
  if (!named) {
    if (given === undefined) {
      const why = `${policy.source} pins no source-repository and names no deploy.repositories`;
      throw new EvaluationError(
        'REPOSITORY_UNBOUND',
        caller.role === 'narrow'
          ? `${caller.name} OWNER/NAME is required: ${why}, so nothing says whose build → sign chain to accept`
          : `${caller.name} is not set and ${why}, so nothing says whose build → sign chain to accept`,
      );
    }
    return { repositories: [given], from: caller.name };
  }
  if (caller.role === 'fallback' || given === undefined) return named;
  if (!named.repositories.some((r) => sameRepositoryName(r, given))) {
    throw new EvaluationError(
      'REPOSITORY_NOT_IN_POLICY',
      `${caller.name} ${given}: expected one of the repositories ${named.from} binds (${named.repositories.join(', ')})`,
    );
  }
  return { repositories: [given], from: `${caller.name}, one of ${named.from}` };
}

/** The repositories the policy itself binds: `deploy.repositories`, else its identities' `source-repository`. */
function policyRepositories(policy: Policy): RepositoryBinding | undefined {
  if (policy.deploy.repositories?.length) {
    return { repositories: policy.deploy.repositories, from: `deploy.repositories in ${policy.source}` };
  }
  const pinned = [policy.identities.build.sourceRepository, policy.identities.sign.sourceRepository].flatMap((uri) =>
    uri === undefined ? [] : [repositoryNameOf(uri) ?? uri],
  );
  const distinct = pinned.filter((r, i) => pinned.findIndex((o) => sameRepositoryName(o, r)) === i);
  return distinct.length ? { repositories: distinct, from: `the source-repository in ${policy.source}` } : undefined;
}

/** `owner/name`, as GitHub spells a repository (and policy.schema.json's deploy.repositories). */
const OWNER_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\/[A-Za-z0-9._-]+$/;

/** `https://github.com/acme/app` (or `…/acme/app.git/`) → `acme/app`; undefined for anything else. */
function repositoryNameOf(uri: string): string | undefined {
  return /^https:\/\/[^/]+\/([^/]+\/[^/]+?)(?:\.git)?\/*$/.exec(uri)?.[1];
}

/** GitHub repository names compare case-insensitively. */
function sameRepositoryName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** A bundle that did not verify cryptographically, with the verifier's code and reason. */
export interface RejectedEvidence {
  source: string;
  code?: string;
  reason: string;
}

/** A piece of evidence the verdict rests on (the VSA names these). */
export interface EvidenceUsed {
  role: 'signature' | 'review' | 'provenance';
  /** The bundle's file. */
  source: string;
  signer: { san: string; issuer: string };
  /** Verified signing times, ISO 8601. */
  signedAt: string[];
}

/** The chain of custody shown to people: commit → pull request → author → approvers → build → sign. */
export interface ArtifactChain {
  /** `owner/name`. */
  repository?: string;
  commit?: string;
  pullRequest?: { number: number; url: string; title: string };
  author?: string;
  /** Logins of the independent approvers (empty when none counted). */
  approvers: string[];
  buildIdentity?: string;
  signIdentity?: string;
}

/** The verdict on one artifact, every check, the chain and the evidence it rests on. */
export interface ArtifactReport {
  artifact: { name: string; digest: string };
  verdict: Verdict;
  checks: Check[];
  chain: ArtifactChain;
  evidence: EvidenceUsed[];
  /** The review rules re-run under the policy on the attested evidence, when a review attestation was found. */
  review?: ReviewResult;
}

/** The deploy report: what `twokey verify --json` prints and the deploy action writes to `report-path`. */
export interface DeployReport {
  verdict: Verdict;
  /** When the evaluation ran (ISO 8601): freshness is judged against it. */
  evaluatedAt: string;
  policy: { source: string; digest: string };
  artifacts: ArtifactReport[];
  /** Bundles that did not verify (each once), so a refusal can say why expected evidence was not there. */
  rejected: RejectedEvidence[];
}

/**
 * Why there is no report: nothing to evaluate, artifacts judged under different policies, or no repository bound
 * (bindRepositories: none named, a malformed one, one the policy does not name).
 */
export type EvaluationErrorCode =
  | 'NO_ARTIFACTS'
  | 'POLICY_MISMATCH'
  | 'REPOSITORY_UNBOUND'
  | 'REPOSITORY_MALFORMED'
  | 'REPOSITORY_NOT_IN_POLICY';

/** A usage error of evaluateDeploy or bindRepositories (exit 2), never a verdict. */
export class EvaluationError extends CodedError<EvaluationErrorCode> {
  readonly kind = 'usage';
  override readonly name = 'EvaluationError';
}

/** A verified time in the future beyond this is a clock problem or a forgery, never fresh evidence. */
const CLOCK_SKEW_SECONDS = 300;

/** Judges every artifact; the verdict is pass only when there is at least one artifact and every one passes. */
export function evaluateDeploy(inputs: readonly EvaluateArtifactInput[]): DeployReport {
  const first = inputs[0];
  if (!first) throw new EvaluationError('NO_ARTIFACTS', 'expected at least one artifact to evaluate, found none');
  const mixed = inputs.find((i) => i.policy.digest !== first.policy.digest);
  if (mixed) {
    throw new EvaluationError(
      'POLICY_MISMATCH',
      `every artifact must be judged under one policy: ${first.policy.source} (sha256 ${first.policy.digest}) and ${mixed.policy.source} (sha256 ${mixed.policy.digest})`,
    );
  }
  const unbound = inputs.find((i) => i.binding.repositories.length === 0);
  if (unbound) {
    throw new EvaluationError(
      'REPOSITORY_UNBOUND',
      `expected at least one repository for ${unbound.artifact.name}'s chain to be bound to, found none (${unbound.binding.from})`,
    );
  }
  // A release's artifacts share bundles (one provenance, one review attestation for all): each is read once.
  const memo = new BundleMemo();
  const artifacts = inputs.map((input) => evaluateArtifact(input, memo));
  const rejected = new Map<string, RejectedEvidence>();
  for (const r of inputs.flatMap((i) => i.rejected ?? [])) if (!rejected.has(r.source)) rejected.set(r.source, r);
  return {
    verdict: artifacts.every((a) => a.verdict === 'pass') ? 'pass' : 'fail',
    evaluatedAt: first.now.toISOString(),
    policy: { source: first.policy.source, digest: first.policy.digest },
    artifacts,
    rejected: [...rejected.values()],
  };
}

/** Judges one artifact against the policy from the verified bundles found for it. */
export function evaluateArtifact(input: EvaluateArtifactInput, memo = new BundleMemo()): ArtifactReport {
  const { artifact, policy } = input;
  const hex = artifact.digest.hex.toLowerCase();
  const subject = `sha256:${hex}`;
  const sign = describeIdentityRule(policy.identities.sign);
  const build = describeIdentityRule(policy.identities.build);

  const signatures = input.bundles
    .filter((b) => b.kind === 'message-signature')
    .map((b) => judgeSignature(b, hex, policy, memo));
  const statements = input.bundles
    .filter((b) => b.kind === 'dsse')
    .map((b) => ({ bundle: b, ...memo.once(b, 'statement', () => readStatement(b)) }));
  const reviews = statements
    .filter((s) => s.statement?.predicateType === REVIEW_PREDICATE_TYPE)
    .map((s) => judgeReview(s.bundle, s.statement!, hex, input, memo));
  const provenances = statements
    .filter((s) => s.statement?.predicateType === SLSA_PROVENANCE_V1_PREDICATE_TYPE)
    .map((s) => judgeProvenance(s.bundle, s.statement!, hex, policy, memo));
  const unverified = (input.rejected ?? []).map((r) => `${r.source} did not verify (${r.reason})`);
  const unreadable = [...statements.flatMap((s) => (s.problem === undefined ? [] : [s.problem])), ...unverified];

  const { review, provenance } = choosePair(qualified(reviews), qualified(provenances), input);
  const signature = chooseSignature(qualified(signatures), provenance, input);

  const checks: Check[] = [
    coveredByPolicy(artifact, policy),
    signature
      ? pass(
          'artifact-signature',
          `${signature.bundle.source}: a signature over ${subject} by ${signature.bundle.signer.san}`,
        )
      : fail(
          'artifact-signature',
          missing(`a signature over ${subject} by the sign identity ${sign}`, signatures, unverified),
        ),
    review
      ? pass(
          'review-attestation',
          `${review.bundle.source}: a review attestation by ${review.bundle.signer.san} for ${subject} and commit ${review.commit}`,
        )
      : fail(
          'review-attestation',
          missing(
            `a review attestation (${REVIEW_PREDICATE_TYPE}) by the sign identity ${sign} whose subjects include ${subject}`,
            reviews,
            unreadable,
          ),
        ),
    reviewRules(review),
    provenance
      ? pass(
          'build-provenance',
          `${provenance.bundle.source}: SLSA provenance by ${provenance.bundle.signer.san} for ${subject}, built from ${provenance.source.repositoryUrl}@${provenance.source.commit}`,
        )
      : fail(
          'build-provenance',
          missing(
            `SLSA provenance (${SLSA_PROVENANCE_V1_PREDICATE_TYPE}) by the build identity ${build} whose subjects include ${subject}`,
            provenances,
            unreadable,
          ),
        ),
    sameCommit(review, provenance),
    sameRepository(signature, review, provenance, input.binding),
    distinctIdentities(signature?.bundle, review?.bundle, provenance?.bundle, input.deployIdentity),
    fresh(
      [
        ['signature', signature?.bundle],
        ['review attestation', review?.bundle],
        ['provenance', provenance?.bundle],
      ],
      input,
    ),
  ];

  const evidence: EvidenceUsed[] = [];
  if (signature) evidence.push(used('signature', signature.bundle));
  if (review) evidence.push(used('review', review.bundle));
  if (provenance) evidence.push(used('provenance', provenance.bundle));

  const repository = review?.predicate.repository.name ?? provenance?.source.repository;
  const commit = provenance?.source.commit ?? review?.commit;
  const pr = review?.predicate.pullRequest;
  const signIdentity = signature?.bundle.signer.san ?? review?.bundle.signer.san;
  const chain: ArtifactChain = {
    ...(repository && { repository }),
    ...(commit && { commit }),
    ...(pr && { pullRequest: { number: pr.number, url: pr.url, title: pr.title } }),
    ...(review && { author: review.predicate.author.login }),
    approvers: review?.result.independentApprovers.map((a) => a.login) ?? [],
    ...(provenance && { buildIdentity: provenance.bundle.signer.san }),
    ...(signIdentity && { signIdentity }),
  };

  return {
    artifact: { name: artifact.name, digest: subject },
    verdict: checks.every((c) => c.verdict === 'pass') ? 'pass' : 'fail',
    checks,
    chain,
    evidence,
    ...(review && { review: review.result }),
  };
}

// ── candidates: each bundle judged for one role ────────────────────────────────────────────────────────────

/** One bundle judged for one role: qualified (with what it says), or the reason it does not qualify. */
interface Candidate<Qualified> {
  bundle: VerifiedBundle;
  /** Present when the bundle qualifies for the role. */
  qualified?: Qualified;
  /** Why it does not qualify. */
  reason: string;
  /** Whether it is about this artifact at all: reasons of relevant candidates are shown first. */
  relevant: boolean;
}

interface QualifiedSignature {
  bundle: VerifiedBundle;
}

interface QualifiedReview {
  bundle: VerifiedBundle;
  predicate: ReviewPredicate;
  commit: string;
  /** The review rules re-run under the policy on the attested evidence. */
  result: ReviewResult;
}

interface QualifiedProvenance {
  bundle: VerifiedBundle;
  source: BuildProvenance;
}

function qualified<Q>(candidates: Candidate<Q>[]): Q[] {
  return candidates.flatMap((c) => (c.qualified === undefined ? [] : [c.qualified]));
}

function judgeSignature(
  bundle: VerifiedBundle,
  hex: string,
  policy: Policy,
  memo: BundleMemo,
): Candidate<QualifiedSignature> {
  const digest = bundle.messageDigest;
  const relevant = digest?.algorithm === 'sha256' && digest.hex.toLowerCase() === hex;
  if (!relevant) {
    const signed = digest ? `${digest.algorithm}:${digest.hex}` : 'nothing';
    return { bundle, relevant, reason: `${bundle.source} signs ${signed}, not this artifact` };
  }
  const role = memo.once(bundle, 'sign role', () => roleProblem(bundle.signer, 'sign', policy));
  if (role) return { bundle, relevant, reason: `found a signature by ${role} (${bundle.source})` };
  return { bundle, relevant, reason: '', qualified: { bundle } };
}

function judgeReview(
  bundle: VerifiedBundle,
  statement: Statement,
  hex: string,
  input: EvaluateArtifactInput,
  memo: BundleMemo,
): Candidate<QualifiedReview> {
  const relevant = subjectHasDigest(statement, { algorithm: 'sha256', hex });
  const role = memo.once(bundle, 'sign role', () => roleProblem(bundle.signer, 'sign', input.policy));
  if (role) return { bundle, relevant, reason: `found a review attestation by ${role} (${bundle.source})` };
  if (!relevant) {
    return {
      bundle,
      relevant,
      reason: `found a review attestation (${bundle.source}) whose subjects do not include sha256:${hex} (its subjects: ${describeSubjects(statement)})`,
    };
  }
  return { bundle, relevant, ...memo.once(bundle, 'review', () => readReview(bundle, statement, input.policy)) };
}

/** What a review attestation says, whichever artifact it is judged for: its predicate, re-judged under the policy. */
function readReview(
  bundle: VerifiedBundle,
  statement: Statement,
  policy: Policy,
): { reason: string; qualified?: QualifiedReview } {
  let predicate: ReviewPredicate;
  try {
    predicate = parseReviewPredicate(statement.predicate);
  } catch (error) {
    return { reason: `${bundle.source}: invalid review predicate: ${(error as Error).message}` };
  }
  const commit = reviewedCommitOf(statement);
  if (commit === undefined || commit.toLowerCase() !== predicate.commit) {
    return {
      reason: `${bundle.source}: expected one gitCommit subject equal to the predicate's commit ${predicate.commit}, found ${commit ?? 'none or several'}`,
    };
  }
  // The policy's rules, not the ones the attestation recorded: the deploy gate decides what a review is.
  const result = evaluateReview(evidenceFromPredicate(predicate), policy.review);
  return { reason: '', qualified: { bundle, predicate, commit: predicate.commit, result } };
}

function judgeProvenance(
  bundle: VerifiedBundle,
  statement: Statement,
  hex: string,
  policy: Policy,
  memo: BundleMemo,
): Candidate<QualifiedProvenance> {
  const relevant = subjectHasDigest(statement, { algorithm: 'sha256', hex });
  const role = memo.once(bundle, 'build role', () => roleProblem(bundle.signer, 'build', policy));
  if (role) return { bundle, relevant, reason: `found provenance by ${role} (${bundle.source})` };
  if (!relevant) {
    return {
      bundle,
      relevant,
      reason: `found provenance (${bundle.source}) whose subjects do not include sha256:${hex} (its subjects: ${describeSubjects(statement)})`,
    };
  }
  return { bundle, relevant, ...memo.once(bundle, 'provenance', () => readProvenance(bundle)) };
}

function readProvenance(bundle: VerifiedBundle): { reason: string; qualified?: QualifiedProvenance } {
  try {
    return { reason: '', qualified: { bundle, source: parseProvenance(bundle.statement) } };
  } catch (error) {
    return { reason: `${bundle.source}: ${(error as Error).message}` };
  }
}

/** Why a signer cannot act in a role: not the policy's identity for it, or also the other role's identity. */
function roleProblem(signer: SignerIdentity, role: 'build' | 'sign', policy: Policy): string | undefined {
  const rule = policy.identities[role];
  const other = role === 'build' ? 'sign' : 'build';
  const who = signer.san || '(no SAN)';
  if (!matchIdentity(signer, rule).ok) {
    return signer.issuer === rule.issuer || !matchIdentity({ ...signer, issuer: rule.issuer }, rule).ok
      ? `${who}, expected the ${role} identity ${describeIdentityRule(rule)}`
      : `${who} from issuer ${signer.issuer || '(none)'}, expected the ${role} identity from issuer ${rule.issuer}`;
  }
  if (matchIdentity(signer, policy.identities[other]).ok) {
    return `${who}, which is both the build and the sign identity of the policy; they must differ`;
  }
  return undefined;
}

/**
 * What is read from a bundle whatever artifact it is judged for (its statement, its signer's role, its parsed
 * predicate and the review rules' result), kept for one evaluation: under one policy, so the same every time.
 */
class BundleMemo {
  private readonly kept = new WeakMap<VerifiedBundle, Map<string, unknown>>();

  once<T>(bundle: VerifiedBundle, what: string, read: () => T): T {
    let values = this.kept.get(bundle);
    if (!values) {
      values = new Map();
      this.kept.set(bundle, values);
    }
    if (!values.has(what)) values.set(what, read());
    return values.get(what) as T;
  }
}

function readStatement(bundle: VerifiedBundle): { statement?: Statement; problem?: string } {
  if (bundle.payloadType !== IN_TOTO_PAYLOAD_TYPE || bundle.statement === undefined) {
    return {
      problem: `${bundle.source}: a DSSE envelope of type ${bundle.payloadType ?? '(none)'}, not an in-toto statement`,
    };
  }
  try {
    return { statement: parseStatement(bundle.statement) };
  } catch (error) {
    return { problem: `${bundle.source}: invalid in-toto statement: ${(error as Error).message}` };
  }
}

/**
 * Picks the review attestation and provenance that agree best: an attacker's extra bundle can add a candidate but
 * never veto an honest pair. Scored on the checks a pair can pass; ties go to the first found.
 */
function choosePair(
  reviews: QualifiedReview[],
  provenances: QualifiedProvenance[],
  input: EvaluateArtifactInput,
): { review?: QualifiedReview; provenance?: QualifiedProvenance } {
  let best: { review?: QualifiedReview; provenance?: QualifiedProvenance; score: number } = { score: -1 };
  for (const review of reviews.length ? reviews : [undefined]) {
    for (const provenance of provenances.length ? provenances : [undefined]) {
      const checks = [
        reviewRules(review),
        sameCommit(review, provenance),
        sameRepository(undefined, review, provenance, input.binding),
        distinctIdentities(undefined, review?.bundle, provenance?.bundle, input.deployIdentity),
        fresh(
          [
            ['review attestation', review?.bundle],
            ['provenance', provenance?.bundle],
          ],
          input,
        ),
      ];
      const score = checks.filter((c) => c.verdict === 'pass').length;
      if (score > best.score) best = { review, provenance, score };
    }
  }
  return { ...(best.review && { review: best.review }), ...(best.provenance && { provenance: best.provenance }) };
}

/**
 * Picks the artifact signature: made in the repository the chosen provenance was built in, fresh, and by an identity
 * other than the build's and the deploy's, when one is (another repository's signature never displaces it).
 */
function chooseSignature(
  signatures: QualifiedSignature[],
  provenance: QualifiedProvenance | undefined,
  input: EvaluateArtifactInput,
): QualifiedSignature | undefined {
  let best: { signature?: QualifiedSignature; score: number } = { score: -1 };
  for (const signature of signatures) {
    const checks = [
      distinctIdentities(signature.bundle, undefined, provenance?.bundle, input.deployIdentity),
      fresh([['signature', signature.bundle]], input),
    ];
    const agrees = !provenance || signerDisagreement('signature', signature.bundle, provenance) === undefined;
    const score = checks.filter((c) => c.verdict === 'pass').length + (agrees ? 1 : 0);
    if (score > best.score) best = { signature, score };
  }
  return best.signature;
}

// ── the checks ────────────────────────────────────────────────────────────────────────────────────────────

function coveredByPolicy(artifact: ArtifactRef, policy: Policy): Check {
  const patterns = policy.deploy.artifacts;
  if (!patterns) return pass('covered-by-policy', `${policy.source} covers every artifact (no deploy.artifacts list)`);
  const names = [artifact.name, posix.basename(artifact.name.replaceAll('\\', '/'))];
  const hit = names.map((n) => matchesAnyGlob(n, patterns)).find((p) => p !== undefined);
  return hit
    ? pass('covered-by-policy', `${artifact.name} matches ${hit} in deploy.artifacts`)
    : fail(
        'covered-by-policy',
        `expected ${artifact.name} to match deploy.artifacts (${patterns.join(', ')}), found no match`,
      );
}

function reviewRules(review: QualifiedReview | undefined): Check {
  if (!review)
    return fail('review-rules', 'not evaluated: no review attestation by the sign identity for this artifact');
  const failed = review.result.checks.filter((c) => c.verdict === 'fail');
  const approvers = review.result.independentApprovers.map((a) => a.login);
  if (failed.length === 0) {
    return pass(
      'review-rules',
      `the attested review satisfies the policy's rules again: independent approval by ${approvers.join(', ')}`,
    );
  }
  return fail(
    'review-rules',
    `the attested review does not satisfy the policy's rules: ${failed.map((c) => `${c.id}: ${c.reason}`).join('; ')}`,
  );
}

function sameCommit(review: QualifiedReview | undefined, provenance: QualifiedProvenance | undefined): Check {
  if (!review || !provenance) return fail('same-commit', `not evaluated: ${absent(review, provenance)}`);
  const built = provenance.source.commit;
  const uncertified = certificateProblem(provenance, 'commit');
  if (uncertified) return fail('same-commit', uncertified);
  if (review.commit !== built) {
    return fail(
      'same-commit',
      `expected the review attestation to be for the built commit ${built}, found a review of ${review.commit}`,
    );
  }
  return (
    sameBuiltRef(review, provenance) ??
    pass(
      'same-commit',
      `the provenance and the review attestation both name commit ${built} built on ${provenance.source.ref}`,
    )
  );
}

/** The branch the build ran on: backed by the build certificate, and the one the review attestation was made for. */
function sameBuiltRef(review: QualifiedReview, provenance: QualifiedProvenance): Check | undefined {
  const ref = provenance.source.ref;
  const uncertified = certificateProblem(provenance, 'ref');
  if (uncertified) return fail('same-commit', uncertified);
  const reviewed = review.predicate.builtRef;
  if (reviewed === undefined) {
    return fail(
      'same-commit',
      `expected the review attestation (${review.bundle.source}) to record the branch the change was built on (builtRef ${ref}), found none: it was signed under older rules that did not record it`,
    );
  }
  if (reviewed !== ref) {
    return fail(
      'same-commit',
      `expected the review attestation to be for the build on ${ref}, found one for a build on ${reviewed}`,
    );
  }
  return undefined;
}

/** Whether the build certificate backs the provenance's claim (one rule with the sign stage's). */
function certificateProblem(provenance: QualifiedProvenance, claim: ProvenanceClaim): string | undefined {
  return certificateBacksProvenance(provenance.bundle.signer, provenance.source).find((p) => p.claim === claim)?.reason;
}

/**
 * One repository: the provenance, the build certificate, the review attestation and the sign certificates (when they
 * name one) all say where the change was built, and it is a repository the deploy is bound to.
 */
function sameRepository(
  signature: QualifiedSignature | undefined,
  review: QualifiedReview | undefined,
  provenance: QualifiedProvenance | undefined,
  binding: RepositoryBinding,
): Check {
  if (!review || !provenance) return fail('same-repository', `not evaluated: ${absent(review, provenance)}`);
  const built = provenance.source.repositoryUrl;
  const uncertified = certificateProblem(provenance, 'repository');
  if (uncertified) return fail('same-repository', uncertified);
  const reviewed = review.predicate.repository.uri;
  if (!sameRepositoryUri(reviewed, built)) {
    return fail(
      'same-repository',
      `expected the review to be in ${built}, where the artifact was built; found ${reviewed}`,
    );
  }
  const signed =
    signerDisagreement('review attestation', review.bundle, provenance) ??
    (signature && signerDisagreement('signature', signature.bundle, provenance));
  if (signed) return fail('same-repository', signed);
  const repository = provenance.source.repository;
  const named = `${signature ? 'provenance, review attestation and signature' : 'provenance and review attestation'} name ${built}`;
  if (!binding.repositories.some((r) => sameRepositoryName(r, repository))) {
    const [one, ...more] = binding.repositories;
    const expected =
      one === undefined ? 'no repository' : more.length ? `one of ${binding.repositories.join(', ')}` : one;
    return fail(
      'same-repository',
      `expected a chain of ${expected} (bound by ${binding.from}), found a chain of ${repository}: its ${named}`,
    );
  }
  return pass('same-repository', `the ${named}, a repository bound by ${binding.from}`);
}

/** Why a sign certificate names a repository other than the one the artifact was built in (none: it agrees or names none). */
function signerDisagreement(
  what: 'signature' | 'review attestation',
  bundle: VerifiedBundle,
  provenance: QualifiedProvenance,
): string | undefined {
  const ran = bundle.signer.extensions.sourceRepositoryURI;
  if (ran === undefined || sameRepositoryUri(ran, provenance.source.repositoryUrl)) return undefined;
  return `expected the ${what} (${bundle.source}) to be made for ${provenance.source.repositoryUrl}, where the artifact was built; its certificate says the sign workflow ran in ${ran}`;
}

function distinctIdentities(
  signature: VerifiedBundle | undefined,
  review: VerifiedBundle | undefined,
  provenance: VerifiedBundle | undefined,
  deploy: SignerIdentity | undefined,
): Check {
  const build = provenance?.signer.san;
  const signs = [...new Set([signature?.signer.san, review?.signer.san].filter((s): s is string => s !== undefined))];
  if (build === undefined || signs.length === 0) {
    return fail(
      'distinct-identities',
      `not evaluated: ${build === undefined ? 'no build provenance' : 'no signature or review attestation'} to compare`,
    );
  }
  const clash = signs.find((s) => s === build);
  if (clash)
    return fail(
      'distinct-identities',
      `expected build and sign under different identities, found both signed by ${build}`,
    );
  if (deploy) {
    const deployed = [build, ...signs].find((s) => s === deploy.san);
    if (deployed) {
      return fail(
        'distinct-identities',
        `expected the deploy to run under its own identity, found it runs as ${deployed}`,
      );
    }
  }
  const deployNote = deploy ? `, deploy ${deploy.san}` : ' (no deploy identity: evaluated offline)';
  return pass('distinct-identities', `build ${build}, sign ${signs.join(' and ')}${deployNote}: all different`);
}

function fresh(pieces: [string, VerifiedBundle | undefined][], input: EvaluateArtifactInput): Check {
  const present = pieces.filter((p): p is [string, VerifiedBundle] => p[1] !== undefined);
  if (present.length === 0) return fail('fresh', 'no evidence to date');
  const maxAge = input.policy.deploy.maxAgeSeconds;
  const now = input.now.getTime();
  const problems: string[] = [];
  const ages: string[] = [];
  for (const [what, bundle] of present) {
    if (bundle.signedAt.length === 0) {
      problems.push(`the ${what} (${bundle.source}) has no verified signing time`);
      continue;
    }
    const oldest = Math.min(...bundle.signedAt.map((d) => d.getTime()));
    const age = (now - oldest) / 1000;
    const at = new Date(oldest).toISOString();
    if (Number.isNaN(age)) problems.push(`the ${what} (${bundle.source}) has no valid signing time to compare`);
    else if (age < -CLOCK_SKEW_SECONDS) {
      problems.push(`the ${what} (${bundle.source}) was signed in the future, at ${at}`);
    } else if (age > maxAge) {
      problems.push(
        `the ${what} (${bundle.source}) was signed at ${at}, ${duration(age)} ago, older than max-age ${duration(maxAge)}`,
      );
    } else ages.push(`${what} ${duration(Math.max(age, 0))} old`);
  }
  return problems.length
    ? fail('fresh', problems.join('; '))
    : pass('fresh', `${ages.join(', ')} (max-age ${duration(maxAge)})`);
}

// ── words ─────────────────────────────────────────────────────────────────────────────────────────────────

/** "expected X, found …": what the candidates were, the ones about this artifact first, at most five. */
function missing(expected: string, candidates: Candidate<unknown>[], problems: string[]): string {
  const relevant = candidates.filter((c) => c.relevant && !c.qualified).map((c) => c.reason);
  const others = candidates.filter((c) => !c.relevant && !c.qualified).map((c) => c.reason);
  const found = [...relevant, ...(relevant.length ? [] : others), ...problems];
  if (found.length === 0) return `expected ${expected}, found none`;
  const shown = found.slice(0, 5).join('; ');
  return `expected ${expected}; ${shown}${found.length > 5 ? `; and ${found.length - 5} more` : ''}`;
}

function absent(review: unknown, provenance: unknown): string {
  if (!review && !provenance) return 'no review attestation and no build provenance';
  return review ? 'no build provenance' : 'no review attestation';
}

function describeSubjects(statement: Statement): string {
  const shown = statement.subject.slice(0, 3).map((s) => {
    const [algorithm, value] = Object.entries(s.digest)[0] ?? ['?', '?'];
    return `${s.name ?? '(unnamed)'} ${algorithm}:${value}`;
  });
  return shown.join(', ') + (statement.subject.length > 3 ? `, and ${statement.subject.length - 3} more` : '');
}

function used(role: EvidenceUsed['role'], bundle: VerifiedBundle): EvidenceUsed {
  return {
    role,
    source: bundle.source,
    signer: { san: bundle.signer.san, issuer: bundle.signer.issuer },
    signedAt: bundle.signedAt.map((d) => d.toISOString()),
  };
}

/** `12d 3h`, `45m`, `30s`: an age or a max-age in the units the policy uses. */
function duration(seconds: number): string {
  const s = Math.round(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts = [d && `${d}d`, h && `${h}h`, m && `${m}m`].filter(Boolean);
  return parts.length ? parts.slice(0, 2).join(' ') : `${s % 60}s`;
}

function pass(id: DeployCheckId, reason: string): Check {
  return { id, verdict: 'pass', reason };
}

function fail(id: DeployCheckId, reason: string): Check {
  return { id, verdict: 'fail', reason };
}
