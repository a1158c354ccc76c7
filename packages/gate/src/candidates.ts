// An artifact's evidence: every verified bundle judged once for the one role it could fill — the artifact signature,
// the review attestation, the build provenance — as qualified (by the policy's identity for the role, about this
// artifact, readable) or not, with the reason; then every chain those qualified candidates can make. Pure.

import {
  type AccountProfile,
  BREAK_GLASS_PREDICATE_TYPE,
  type BreakGlassPredicate,
  type BuildProvenance,
  breakGlassArtifactSubjects,
  breakGlassId,
  breakGlassRefProblem,
  breakGlassRunSubjectProblem,
  buildRunProblem,
  changeContributions,
  DEPLOY_APPROVAL_PREDICATE_TYPE,
  type DeployApprovalPredicate,
  describeIdentityRule,
  evaluateReview,
  evidenceFromPredicate,
  formatDigest,
  type GitHubAccount,
  type IdentityRule,
  IN_TOTO_PAYLOAD_TYPE,
  matchIdentity,
  type Policy,
  parseBreakGlassPredicate,
  parseDeployApprovalPredicate,
  parseProvenance,
  parseReviewPredicate,
  parseStatement,
  policyRolesOf,
  REVIEW_PREDICATE_TYPE,
  type RepositoryBinding,
  type ReviewPredicate,
  type ReviewResult,
  rejectionCauses,
  reviewArtifactSubjects,
  reviewedCommitOf,
  type SignerIdentity,
  SLSA_PROVENANCE_V1_PREDICATE_TYPE,
  type Statement,
  subjectHasDigest,
  type VerifiedBundle,
} from '@twokey/core';
import type { DeployArtifact, DeployContext } from './evaluate';

/** One bundle judged for one role: qualified (with what it says), or the reason it does not qualify. */
export interface Candidate<Qualified> {
  bundle: VerifiedBundle;
  /** Present when the bundle qualifies for the role. */
  qualified?: Qualified;
  /** Why it does not qualify. */
  reason: string;
  /** Whether it is about this artifact at all: reasons of relevant candidates are shown first. */
  relevant: boolean;
}

export interface QualifiedSignature {
  bundle: VerifiedBundle;
}

export interface QualifiedReview {
  bundle: VerifiedBundle;
  predicate: ReviewPredicate;
  commit: string;
  /** The review rules re-run under the policy on the attested evidence. */
  result: ReviewResult;
  /** What an account did in the change, as the review rules match people (core's changeContributions). */
  contributionsOf: (account: GitHubAccount, profile?: AccountProfile) => string[];
}

export interface QualifiedProvenance {
  bundle: VerifiedBundle;
  source: BuildProvenance;
}

export interface QualifiedBreakGlass {
  bundle: VerifiedBundle;
  predicate: BreakGlassPredicate;
  /** breakGlassId: what decision records name it by. */
  id: string;
}

export interface QualifiedDeployApproval {
  bundle: VerifiedBundle;
  predicate: DeployApprovalPredicate;
}

/** Everything found for one artifact: each bundle judged for its role, and what could not be read as evidence. */
export interface ArtifactEvidence {
  artifact: DeployArtifact;
  signatures: Candidate<QualifiedSignature>[];
  reviews: Candidate<QualifiedReview>[];
  provenances: Candidate<QualifiedProvenance>[];
  /** Break-glass attestations: signed by the policy's break-glass identity, about this artifact, readable. */
  breakGlasses: Candidate<QualifiedBreakGlass>[];
  /** Deploy-approval attestations: signed by the policy's deploy identity, about this artifact, readable. */
  deployApprovals: Candidate<QualifiedDeployApproval>[];
  /** DSSE bundles that hold no readable in-toto statement. */
  unreadable: string[];
  /** Bundles that did not verify: never evidence, named when something is missing. */
  unverified: string[];
}

/** One choice of evidence for an artifact: at most one qualified bundle for each role. */
export interface Chain {
  signature?: QualifiedSignature;
  review?: QualifiedReview;
  provenance?: QualifiedProvenance;
}

/** Judges every bundle found for an artifact for the role its kind and predicate type say it could fill. */
export function judgeEvidence(
  artifact: DeployArtifact,
  bundles: readonly VerifiedBundle[],
  context: DeployContext,
): ArtifactEvidence {
  const { memo, policy } = context;
  const statements = bundles
    .filter((b) => b.kind === 'dsse')
    .map((b) => ({ bundle: b, ...memo.once(b, 'statement', () => readStatement(b)) }));
  return {
    artifact,
    signatures: bundles
      .filter((b) => b.kind === 'message-signature')
      .map((b) => judgeSignature(b, artifact, policy, memo)),
    reviews: statements
      .filter((s) => s.statement?.predicateType === REVIEW_PREDICATE_TYPE)
      .map((s) => judgeReview(s.bundle, s.statement!, artifact, policy, memo)),
    provenances: statements
      .filter((s) => s.statement?.predicateType === SLSA_PROVENANCE_V1_PREDICATE_TYPE)
      .map((s) => judgeProvenance(s.bundle, s.statement!, artifact, policy, memo)),
    breakGlasses: statements
      .filter((s) => s.statement?.predicateType === BREAK_GLASS_PREDICATE_TYPE)
      .map((s) => judgeDecisionStatement(s.bundle, s.statement!, artifact, policy, 'break-glass', readBreakGlass)),
    deployApprovals: statements
      .filter((s) => s.statement?.predicateType === DEPLOY_APPROVAL_PREDICATE_TYPE)
      .map((s) => judgeDecisionStatement(s.bundle, s.statement!, artifact, policy, 'deploy', readDeployApproval)),
    unreadable: statements.flatMap((s) => (s.problem === undefined ? [] : [s.problem])),
    unverified: rejectionCauses(context.rejected).map(
      (cause) =>
        `${cause.sources.length === 1 ? `${cause.sources[0]} did` : `${cause.sources.length} bundles did`} not verify (${cause.cause})`,
    ),
  };
}

/**
 * Every chain the qualified candidates make — each review attestation with each provenance with each signature, a
 * role without a candidate left empty — in the order the bundles were given (the evaluation keeps the first best),
 * one at a time: their number is the product of the candidates' (chainCount), and genuine bundles a writer of the
 * repository makes by re-running the build and sign workflows qualify, so it can be large (MAX_CHAINS).
 */
export function* chainsOf(evidence: ArtifactEvidence, binding?: RepositoryBinding): Generator<Chain> {
  const reviews = qualified(evidence.reviews);
  // With a break-glass among the evidence, each chain is also tried without a review: a review that does not pass
  // for this chain (another repository's, over the same bytes, put in the store by anyone who may write there) must
  // not keep the break-glass from standing in for the missing one — an extra bundle never vetoes. Past MAX_CHAINS,
  // right after the bound repository's reviews, before any other's (which would otherwise push it out of reach).
  const withoutReview = alsoWithoutReview(evidence);
  const home = binding === undefined ? reviews : reviews.filter((q) => inBoundRepository(q, binding));
  const reviewChoices = withoutReview
    ? [...home, undefined, ...reviews.filter((q) => !home.includes(q))]
    : orNone(homeFirst(reviews, binding));
  for (const review of reviewChoices) {
    for (const provenance of orNone(homeFirst(qualified(evidence.provenances), binding))) {
      for (const signature of orNone(homeFirst(qualified(evidence.signatures), binding))) {
        yield {
          ...(signature && { signature }),
          ...(review && { review }),
          ...(provenance && { provenance }),
        };
      }
    }
  }
}

/**
 * With more chains than the evaluation judges (MAX_CHAINS), the candidates whose certificate names a bound repository
 * first, in the order given otherwise: bundles of another repository over the same bytes (a writer's own repository
 * running the shared workflows, re-run as often as she likes, then put in this repository's store) never pass here,
 * and must not push the chain that does past the ones judged. Below it, the order given: every chain is judged anyway.
 */
function homeFirst<Q extends { bundle: VerifiedBundle }>(list: Q[], binding: RepositoryBinding | undefined): Q[] {
  if (binding === undefined) return list;
  return [...list.filter((q) => inBoundRepository(q, binding)), ...list.filter((q) => !inBoundRepository(q, binding))];
}

/** Whether the candidate's certificate names a run in a bound repository (for the order alone, never the verdict). */
function inBoundRepository(candidate: { bundle: VerifiedBundle }, binding: RepositoryBinding): boolean {
  const uri = candidate.bundle.signer.extensions.sourceRepositoryURI?.toLowerCase();
  return uri !== undefined && binding.repositories.some((r) => uri.endsWith(`/${r.toLowerCase()}`));
}

/** How many chains chainsOf makes of this evidence. */
export function chainCount(evidence: ArtifactEvidence): number {
  const reviews = qualified(evidence.reviews).length;
  const choices = (n: number) => Math.max(n, 1);
  return (
    (choices(reviews) + (alsoWithoutReview(evidence) ? 1 : 0)) *
    choices(qualified(evidence.provenances).length) *
    choices(qualified(evidence.signatures).length)
  );
}

/** Whether chains are also tried without a review: some review qualifies, and so does a break-glass (chainsOf). */
function alsoWithoutReview(evidence: ArtifactEvidence): boolean {
  return qualified(evidence.reviews).length > 0 && qualified(evidence.breakGlasses).length > 0;
}

/**
 * The most chains of one artifact's evidence the evaluation judges (each ~0.05 ms, all checks): 16 re-runs of the build
 * and sign workflows, each combined with every other, before a chain that passes every check ends the search. Past
 * it the artifact is refused, saying so, unless one of the first passed: with 80 re-runs of each, every combination
 * judged took 18 s and 1.4 GB; with 150, the process ran out of memory.
 */
export const MAX_CHAINS = 4096;

function qualified<Q>(candidates: Candidate<Q>[]): Q[] {
  return candidates.flatMap((c) => (c.qualified === undefined ? [] : [c.qualified]));
}

function orNone<Q>(list: Q[]): (Q | undefined)[] {
  return list.length > 0 ? list : [undefined];
}

/**
 * What is read from a bundle whatever artifact it is judged for (its statement, its signer's role, its parsed
 * predicate and the review rules' result), kept for one evaluation: under one policy, so the same every time.
 */
export class BundleMemo {
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

// A message signature qualifies when it signs this artifact's digest, by the policy's sign identity.
function judgeSignature(
  bundle: VerifiedBundle,
  artifact: DeployArtifact,
  policy: Policy,
  memo: BundleMemo,
): Candidate<QualifiedSignature> {
  const signed = bundle.messageDigest;
  const relevant = signed?.algorithm === artifact.digest.algorithm && signed.hex === artifact.digest.hex;
  if (!relevant) {
    const what = signed ? `${signed.algorithm}:${signed.hex}` : 'nothing';
    return { bundle, relevant, reason: `${bundle.source} signs ${what}, not this artifact` };
  }
  const role = memo.once(bundle, 'sign role', () => roleProblem(bundle.signer, 'sign', policy));
  if (role) return { bundle, relevant, reason: `found a signature by ${role} (${bundle.source})` };
  return { bundle, relevant, reason: '', qualified: { bundle } };
}

// A review attestation qualifies when the sign identity signed it, its subjects name this artifact, and its predicate
// reads (its git commit subject agrees with it).
function judgeReview(
  bundle: VerifiedBundle,
  statement: Statement,
  artifact: DeployArtifact,
  policy: Policy,
  memo: BundleMemo,
): Candidate<QualifiedReview> {
  // Its reviewed-commit subject (review.reviewed-history) is no artifact: it stands in for no artifact.
  const relevant = subjectHasDigest(
    { ...statement, subject: reviewArtifactSubjects(statement.subject) },
    artifact.digest,
  );
  const role = memo.once(bundle, 'sign role', () => roleProblem(bundle.signer, 'sign', policy));
  if (role) return { bundle, relevant, reason: `found a review attestation by ${role} (${bundle.source})` };
  if (!relevant) {
    return {
      bundle,
      relevant,
      reason: `found a review attestation (${bundle.source}) whose subjects do not include ${formatDigest(artifact.digest)} (its subjects: ${describeSubjects(statement)})`,
    };
  }
  return { bundle, relevant, ...memo.once(bundle, 'review', () => readReview(bundle, statement, policy)) };
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
  const evidence = evidenceFromPredicate(predicate);
  const result = evaluateReview(evidence, policy.review);
  const contributionsOf = changeContributions(evidence, policy.review);
  return { reason: '', qualified: { bundle, predicate, commit: predicate.commit, result, contributionsOf } };
}

// Provenance qualifies when the build identity signed it, its subjects name this artifact, and it reads as SLSA v1.
function judgeProvenance(
  bundle: VerifiedBundle,
  statement: Statement,
  artifact: DeployArtifact,
  policy: Policy,
  memo: BundleMemo,
): Candidate<QualifiedProvenance> {
  const relevant = subjectHasDigest(statement, artifact.digest);
  const role = memo.once(bundle, 'build role', () => roleProblem(bundle.signer, 'build', policy));
  if (role) return { bundle, relevant, reason: `found provenance by ${role} (${bundle.source})` };
  if (!relevant) {
    return {
      bundle,
      relevant,
      reason: `found provenance (${bundle.source}) whose subjects do not include ${formatDigest(artifact.digest)} (its subjects: ${describeSubjects(statement)})`,
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

// A break-glass or deploy-approval attestation qualifies when the policy's identity for it signed it, its subjects
// name this artifact, and its predicate reads. A policy that names no such identity trusts none.
function judgeDecisionStatement<Q>(
  bundle: VerifiedBundle,
  statement: Statement,
  artifact: DeployArtifact,
  policy: Policy,
  role: 'break-glass' | 'deploy',
  read: (bundle: VerifiedBundle, statement: Statement) => { reason: string; qualified?: Q },
): Candidate<Q> {
  const what = role === 'break-glass' ? 'a break-glass attestation' : 'a deploy-approval attestation';
  // A break-glass's run subject (the run that signed it) is no artifact: it stands in for no artifact's review.
  const about =
    role === 'break-glass' ? { ...statement, subject: breakGlassArtifactSubjects(statement.subject) } : statement;
  const relevant = subjectHasDigest(about, artifact.digest);
  const rule = role === 'break-glass' ? policy.identities.breakGlass : policy.identities.deploy;
  const key = role === 'break-glass' ? 'identities.break-glass' : 'identities.deploy';
  if (!rule) {
    return { bundle, relevant, reason: `found ${what} (${bundle.source}), but the policy names no ${key} to trust` };
  }
  if (!matchIdentity(bundle.signer, rule).ok) {
    return {
      bundle,
      relevant,
      reason: `found ${what} by ${bundle.signer.san || '(no SAN)'} (${bundle.source}), expected the ${role} identity ${describeIdentityRule(rule)}${runnerProblem(bundle.signer, rule)}`,
    };
  }
  // Patterns that overlap (which the policy's load does not always tell) would let another identity's workflow — a
  // build job running the repository's code, the sign job — sign this one's decisions: a signer must be one identity.
  const also = otherRoleOf(bundle.signer, role, policy);
  if (also) {
    return {
      bundle,
      relevant,
      reason: `found ${what} by ${bundle.signer.san || '(no SAN)'} (${bundle.source}), which is also the ${also} identity of the policy; they must differ`,
    };
  }
  if (!relevant) {
    return {
      bundle,
      relevant,
      reason: `found ${what} (${bundle.source}) whose subjects do not include ${formatDigest(artifact.digest)} (its subjects: ${describeSubjects(about)})`,
    };
  }
  return { bundle, relevant, ...read(bundle, statement) };
}

/** The policy's other identity (build, sign, or the other of deploy and break-glass) the signer also matches, if any. */
function otherRoleOf(signer: SignerIdentity, role: 'break-glass' | 'deploy', policy: Policy): string | undefined {
  return policyRolesOf(signer, policy).find((other) => other !== role);
}

/**
 * A break-glass qualifies when its predicate reads, it names the run its certificate was issued to, and that run ran
 * from the repository's default branch as GitHub told the break-glass run (its certificate's Source Repository Ref;
 * core, breakGlassRefProblem). A caller workflow on any other branch is anyone's with write access, who can have
 * someone else dispatch it there and release it herself.
 */
function readBreakGlass(
  bundle: VerifiedBundle,
  statement: Statement,
): { reason: string; qualified?: QualifiedBreakGlass } {
  try {
    const predicate = parseBreakGlassPredicate(statement.predicate);
    const unbound = runBindingProblem(bundle, predicate.run.uri, 'break-glass');
    if (unbound) return { reason: unbound };
    // It carries its run's subject (the digest of the run its certificate names), under which the attestation store
    // lists every break-glass of the run: the deploy gate finds the others, and their uses, by it (gate.ts).
    const runless = breakGlassRunSubjectProblem(statement, bundle.signer.extensions.runInvocationURI);
    if (runless) return { reason: `${bundle.source}: ${runless}` };
    const offRef = breakGlassRefProblem(predicate, {
      ref: bundle.signer.extensions.sourceRepositoryRef,
      refFrom: "its certificate's Source Repository Ref",
    });
    if (offRef) return { reason: `${bundle.source}: ${offRef}` };
    return { reason: '', qualified: { bundle, predicate, id: breakGlassId(bundle.statement) } };
  } catch (error) {
    return { reason: `${bundle.source}: invalid break-glass predicate: ${(error as Error).message}` };
  }
}

function readDeployApproval(
  bundle: VerifiedBundle,
  statement: Statement,
): { reason: string; qualified?: QualifiedDeployApproval } {
  try {
    const predicate = parseDeployApprovalPredicate(statement.predicate);
    const unbound = runBindingProblem(bundle, predicate.run.uri, 'deploy-approval');
    if (unbound) return { reason: unbound };
    return { reason: '', qualified: { bundle, predicate } };
  } catch (error) {
    return { reason: `${bundle.source}: invalid deploy-approval predicate: ${(error as Error).message}` };
  }
}

/**
 * A decision is bound to the run that made it: the certificate's run invocation URI (Fulcio extension
 * 1.3.6.1.4.1.57264.1.21), where it has one, must be the run the predicate names.
 */
function runBindingProblem(bundle: VerifiedBundle, run: string, what: string): string | undefined {
  const certified = bundle.signer.extensions.runInvocationURI;
  if (certified === undefined || certified === run) return undefined;
  return `${bundle.source}: the ${what} attestation names run ${run}, but its certificate was issued to run ${certified}`;
}

/** When the identity is the rule's but for its runner: `: ` and why (a self-hosted runner); else nothing. */
function runnerProblem(signer: SignerIdentity, rule: IdentityRule): string {
  if (rule.runnerEnvironment === undefined) return '';
  const { runnerEnvironment: _, ...anyRunner } = rule;
  if (!matchIdentity(signer, anyRunner).ok) return '';
  return `: ${matchIdentity(signer, rule).reason}`;
}

/** Why a signer cannot act in a role: not the policy's identity for it, or also the other role's identity. */
function roleProblem(signer: SignerIdentity, role: 'build' | 'sign', policy: Policy): string | undefined {
  const rule = policy.identities[role];
  const other = role === 'build' ? 'sign' : 'build';
  const who = signer.san || '(no SAN)';
  if (!matchIdentity(signer, rule).ok) {
    return signer.issuer === rule.issuer || !matchIdentity({ ...signer, issuer: rule.issuer }, rule).ok
      ? `${who}, expected the ${role} identity ${describeIdentityRule(rule)}${runnerProblem(signer, rule)}`
      : `${who} from issuer ${signer.issuer || '(none)'}, expected the ${role} identity from issuer ${rule.issuer}`;
  }
  if (matchIdentity(signer, policy.identities[other]).ok) {
    return `${who}, which is both the build and the sign identity of the policy; they must differ`;
  }
  // Patterns that overlap another identity's (which the policy's load does not always tell): a review attestation or
  // an artifact signature by the deploy or break-glass workflow is none of the sign identity's, as otherRoleOf holds
  // those two apart from the rest (found by the review of identities and roles).
  const also = policyRolesOf(signer, policy).find((r) => r !== role);
  if (also) return `${who}, which is also the ${also} identity of the policy; they must differ`;
  const trigger = role === 'build' ? buildRunProblem(signer, rule) : undefined;
  return trigger && `${who}, ${trigger}`;
}

function describeSubjects(statement: Statement): string {
  const shown = statement.subject.slice(0, 3).map((s) => {
    const [algorithm, value] = Object.entries(s.digest)[0] ?? ['?', '?'];
    return `${s.name ?? '(unnamed)'} ${algorithm}:${value}`;
  });
  return shown.join(', ') + (statement.subject.length > 3 ? `, and ${statement.subject.length - 3} more` : '');
}
