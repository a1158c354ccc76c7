// The evidence a segregation-of-duties report counts (issue 18, docs/sod-report.md): every verified bundle is matched
// to the policy's identities and read as one fact — a decision record, a review, a deploy approval, a break-glass —
// or, when it cannot count, as an audit finding (M6). Only the facts are kept, never the bundles, so a report over
// 100,000 bundles holds a few hundred bytes a bundle. Pure: the caller verifies the bundles (packages/sigstore).
import { artifactSubjects } from './artifact-subjects';
import { BREAK_GLASS_PREDICATE_TYPE, breakGlassId, parseBreakGlassPredicate } from './break-glass';
import {
  DEPLOY_APPROVAL_PREDICATE_TYPE,
  isBotAccount,
  namesEnvironment,
  parseDeployApprovalPredicate,
} from './deploy-approval';
import { parseStatement, type Statement } from './intoto';
import type { VerifiedBundle } from './model';
import { type Policy, type PolicyRole, policyRolesOf } from './policy';
import type { RejectedEvidence } from './report';
import { parseReviewPredicate, REVIEW_PREDICATE_TYPE, type ReviewPredicate } from './review-predicate';
import {
  readDecisionRecord,
  TWO_PERSON_RULE_LEVEL,
  VERIFICATION_SUMMARY_PREDICATE_TYPE,
  type VerificationSummaryPredicate,
} from './verification-summary';

/** A bundle as the report names it: where it was read, and the sha256 of the bytes that were verified. */
export interface EvidenceLink {
  source: string;
  sha256?: string;
}

/** A decision record (VSA) signed by identities.deploy: one deploy, passed or refused. */
export interface DecisionFact {
  evidence: EvidenceLink;
  result: 'PASSED' | 'FAILED';
  /** When the deploy job evaluated (the record's signed timeVerified). */
  at: string;
  repository: string;
  environment?: string;
  /** The deploy run (the certificate's run invocation URI) and its id, attempts aside. */
  run?: string;
  runId?: string;
  /** The artifacts deployed (sha256 hex). */
  artifacts: string[];
  /** Each break-glass used: its id, the run that signed it when recorded (breakGlassRunOf), the artifacts. */
  breakGlass: { id: string; run?: string; artifacts: string[] }[];
  /** Passed without the two-person rule: under a break-glass, or without twokey's two-person level. */
  unapproved: boolean;
  /** The ids of the checks that refused (a refusal), each once. */
  failedChecks: string[];
  /** The sha256 of every bundle the decision rested on (inputAttestations). */
  inputs: string[];
}

/** A review attestation signed by identities.sign: one pull request merged as one commit. */
export interface ReviewFact {
  evidence: EvidenceLink;
  repository: string;
  commit: string;
  /** Every commit the review covers: the built commit, the merged head, the merge commit and the PR's commits. */
  commits: string[];
  pullRequest: { number: number; url: string; createdAt?: string; mergedAt: string };
  /** The author's login when the review was signed, and account id (which a rename keeps). */
  author: string;
  authorId?: number;
  /**
   * The approvals that counted (the attestation's independent reviewers), each with its login when the review was
   * signed, its account id (from the reviewer's account URL, else its recorded review), and its review when recorded.
   */
  approvals: { login: string; id?: number; reviewId?: number; at?: string; permission?: string }[];
}

/** A deploy-approval attestation signed by identities.deploy: who released one deploy run through its environment. */
export interface DeployApprovalFact {
  evidence: EvidenceLink;
  repository: string;
  environment: string;
  run: string;
  runId?: string;
  /** When the deploy was requested, as the attestation signed it (absent in those signed before it was recorded). */
  requestedAt?: string;
  readAt: string;
  approvers: string[];
  artifacts: string[];
}

/** A break-glass attestation signed by identities.break-glass. */
export interface BreakGlassFact {
  evidence: EvidenceLink;
  /** sha256 of its statement: how decision records name it. */
  id: string;
  repository: string;
  environment: string;
  commit: string;
  incident: string;
  requester: string;
  approvers: string[];
  notBefore: string;
  expires: string;
  artifacts: string[];
}

/** Why a bundle does not count (M6). */
export type AuditFindingKind =
  | 'not-verified'
  | 'not-the-policy-identity'
  | 'unreadable'
  | 'inconsistent'
  | 'deploy-without-record'
  | 'record-evidence-missing'
  | 'record-evidence-not-verified'
  | 'deployment-without-record'
  | 'deployment-refused-by-record';

export interface AuditFinding {
  kind: AuditFindingKind;
  evidence: EvidenceLink;
  reason: string;
  code?: string;
}

/** A record may say it was made up to this long after its verified signing time (clocks differ), no later. */
export const CLOCK_SKEW_SECONDS = 10 * 60;

/**
 * The facts of every bundle added, each signed event once (by its evidence key): what the indicators are computed
 * from. A bundle that did not verify, or that no identity of the policy signed, or whose content cannot be read,
 * becomes a finding and nothing else.
 */
export class EvidenceLedger {
  readonly decisions: DecisionFact[] = [];
  readonly reviews: ReviewFact[] = [];
  readonly deployApprovals: DeployApprovalFact[] = [];
  readonly breakGlasses: BreakGlassFact[] = [];
  readonly findings: AuditFinding[] = [];
  /**
   * Bundles read, verified, signed again in other bytes (counted once), verified but of no indicator, and files found
   * in a directory that are JSON but no bundle (a report beside the bundles: skipped, not evidence).
   */
  readonly counts = { read: 0, verified: 0, rejected: 0, duplicates: 0, other: 0, skipped: 0 };
  /** sha256 of files that did not verify, so a record resting on one says so; and of every file that did. */
  readonly rejectedDigests = new Map<string, string>();
  readonly verifiedDigests = new Set<string>();
  /**
   * Other digests of a verified bundle's bytes, as the file the deploy job hashed would have had them (a bundle the
   * store gives back in other bytes), each to the sha256 of the bytes that were read.
   */
  readonly digestAliases = new Map<string, string>();
  /** Each signed event counted, by its evidence key, to the sha256 of the copy kept ('' when it had none). */
  private readonly seen = new Map<string, string>();
  private readonly repositories?: Set<string>;
  private readonly owner?: string;

  /**
   * `owner`: the organisation (or user) the report is about. The policy's identities are shared workflows that
   * repositories of other owners may call too: evidence of another owner's repository is a finding, never counted.
   */
  constructor(
    private readonly policy: Pick<Policy, 'identities' | 'deploy'>,
    scope: { owner?: string } = {},
  ) {
    if (policy.deploy.repositories) this.repositories = new Set(policy.deploy.repositories.map((r) => r.toLowerCase()));
    if (scope.owner !== undefined) this.owner = scope.owner.toLowerCase();
  }

  /** A file found beside the bundles that is no bundle (NOT_A_BUNDLE): named nowhere, counted as skipped. */
  addSkipped(): void {
    this.counts.skipped += 1;
  }

  /** The artifacts (sha256 hex) the counted evidence names: what to ask the attestation store about. */
  artifactDigests(): Set<string> {
    return new Set([...this.decisions, ...this.deployApprovals, ...this.breakGlasses].flatMap((f) => f.artifacts));
  }

  /** A bundle that did not verify: M6, nowhere else. */
  addRejected(rejected: RejectedEvidence, sha256?: string): void {
    this.counts.read += 1;
    this.counts.rejected += 1;
    if (sha256) this.rejectedDigests.set(sha256, rejected.source);
    this.findings.push({
      kind: 'not-verified',
      evidence: link(rejected.source, sha256),
      reason: rejected.reason,
      ...(rejected.code !== undefined && { code: rejected.code }),
    });
  }

  /**
   * A bundle that verified against the trusted root: counted once, as the fact its signer may state. `aliases` are
   * the sha256 of other bytes known to carry exactly this bundle (its JSON as the actions write it).
   */
  addVerified(bundle: VerifiedBundle, aliases: readonly string[] = []): void {
    this.counts.read += 1;
    this.counts.verified += 1;
    if (bundle.sha256) {
      this.verifiedDigests.add(bundle.sha256);
      for (const alias of aliases) {
        this.verifiedDigests.add(alias);
        this.digestAliases.set(alias, bundle.sha256);
      }
    }
    const key = bundle.evidenceKey ?? `file:${bundle.sha256 ?? bundle.source}`;
    const kept = this.seen.get(key);
    if (kept !== undefined) {
      this.counts.duplicates += 1;
      // The same signed event in other bytes (re-encoded, `jq . bundle.json`): a record resting on these bytes rests
      // on the fact kept, whichever copy was read first — else a copy sorted first hid the original's links (M7).
      if (bundle.sha256 && kept !== '' && bundle.sha256 !== kept && !this.digestAliases.has(bundle.sha256)) {
        this.digestAliases.set(bundle.sha256, kept);
      }
      return;
    }
    this.seen.set(key, bundle.sha256 ?? '');
    const evidence = link(bundle.source, bundle.sha256);
    const finding = (kind: AuditFindingKind, reason: string) => this.findings.push({ kind, evidence, reason });
    const roles = policyRolesOf(bundle.signer, this.policy);
    const role = roles[0];
    if (role === undefined) {
      finding(
        'not-the-policy-identity',
        `signed by ${bundle.signer.san || '(no SAN)'} (issuer ${bundle.signer.issuer || 'none'}), which is none of the policy's identities`,
      );
      return;
    }
    if (roles.length > 1) {
      // Patterns that overlap: a build job (the repository's code) could sign decision records, a sign job deploy
      // approvals. As the gate holds identities apart (roleProblem, otherRoleOf), a signer must be one of them.
      finding(
        'not-the-policy-identity',
        `signed by ${bundle.signer.san || '(no SAN)'}, which is several of the policy's identities (${roles.join(', ')}); they must differ`,
      );
      return;
    }
    if (bundle.kind !== 'dsse' || bundle.statement === undefined) {
      this.counts.other += 1;
      return;
    }
    let statement: Statement;
    try {
      statement = parseStatement(bundle.statement);
    } catch (error) {
      finding('unreadable', `not an in-toto statement: ${(error as Error).message}`);
      return;
    }
    const expected = EXPECTED_TYPES[role];
    if (!expected.includes(statement.predicateType)) {
      // Provenance by the build identity, anything else a policy identity signs: verified, of no indicator.
      this.counts.other += 1;
      return;
    }
    const problem = this.read(role, statement, bundle, evidence);
    if (problem) finding(problem.kind, problem.reason);
  }

  private read(
    role: Role,
    statement: Statement,
    bundle: VerifiedBundle,
    evidence: EvidenceLink,
  ): { kind: AuditFindingKind; reason: string } | undefined {
    const signerRepository = repositoryOfUri(bundle.signer.extensions.sourceRepositoryURI);
    const signedAt = latest(bundle.signedAt);
    // A break-glass's run subject (the run that signed it), a review's reviewed-commit subject: no artifact.
    const artifacts = artifactSubjects(statement.predicateType, statement.subject);
    const subjects = artifacts.flatMap((s) => (typeof s.digest.sha256 === 'string' ? [s.digest.sha256] : []));
    let fact: { repository: string; claimedAt: string; add: () => void };
    try {
      fact = this.factOf(role, statement, bundle, evidence, signerRepository, subjects);
    } catch (error) {
      return { kind: 'unreadable', reason: `${statement.predicateType}: ${(error as Error).message}` };
    }
    if (signerRepository !== undefined && fact.repository.toLowerCase() !== signerRepository.toLowerCase()) {
      return {
        kind: 'inconsistent',
        reason: `it is about ${fact.repository}, but its certificate was issued to a run of ${signerRepository}`,
      };
    }
    // A deployment repository (acme/ops deploys acme/app) signs its decision records and deploy approvals as its own
    // runs: it counts when the policy lists it among deploy.repositories, as every repository the report counts.
    // Any repository of the owner would be too wide: a sandbox running the deploy workflow on reviewed artifacts
    // would pad the passed deploys (M1) with runs of its own.
    if (this.repositories && !this.repositories.has(fact.repository.toLowerCase())) {
      return {
        kind: 'not-the-policy-identity',
        reason: `${fact.repository} is not a repository the policy deploys${role === 'deploy' ? ' (a deployment repository counts when deploy.repositories lists it)' : ''}`,
      };
    }
    if (this.owner !== undefined && fact.repository.split('/')[0]!.toLowerCase() !== this.owner) {
      return {
        kind: 'not-the-policy-identity',
        reason: `${fact.repository} is not a repository of ${this.owner}, whose report this is`,
      };
    }
    const claimed = Date.parse(fact.claimedAt);
    if (!Number.isFinite(claimed)) return { kind: 'unreadable', reason: `its time ${fact.claimedAt} is not a time` };
    // What happened before it was signed (a merge, a deploy's evaluation) cannot be dated after; a break-glass's window
    // may open later than it was signed.
    if (role !== 'break-glass' && signedAt !== undefined && claimed > signedAt.getTime() + CLOCK_SKEW_SECONDS * 1000) {
      return {
        kind: 'inconsistent',
        reason: `it says ${fact.claimedAt}, later than its verified signing time ${signedAt.toISOString()}`,
      };
    }
    fact.add();
    return undefined;
  }

  private factOf(
    _role: Role,
    statement: Statement,
    bundle: VerifiedBundle,
    evidence: EvidenceLink,
    signerRepository: string | undefined,
    artifacts: string[],
  ): { repository: string; claimedAt: string; add: () => void } {
    const run = bundle.signer.extensions.runInvocationURI;
    if (statement.predicateType === VERIFICATION_SUMMARY_PREDICATE_TYPE) {
      const record = readDecisionRecord(statement);
      if (!record) throw new Error('not a decision record twokey can read (verificationResult, timeVerified)');
      const predicate = statement.predicate as Partial<VerificationSummaryPredicate>;
      const extension = record.extension;
      const breakGlass = (extension?.breakGlass ?? []).map((b) => ({
        id: b.id,
        ...(b.run !== undefined && { run: b.run }),
        artifacts: [...b.artifacts],
      }));
      const levels = Array.isArray(predicate.verifiedLevels) ? predicate.verifiedLevels : [];
      const fact: DecisionFact = {
        evidence,
        result: record.result,
        at: record.timeVerified,
        repository: signerRepository ?? repositoryOfUri(record.resourceUri.replace(/\/deployments\/.*$/, '')) ?? '',
        ...(extension?.environment !== undefined && { environment: extension.environment }),
        ...(run !== undefined && { run }),
        ...(runIdOf(run) !== undefined && { runId: runIdOf(run) }),
        artifacts,
        breakGlass,
        unapproved: record.result === 'PASSED' && (breakGlass.length > 0 || !levels.includes(TWO_PERSON_RULE_LEVEL)),
        failedChecks: [...new Set((extension?.failedChecks ?? []).map((c) => String(c.id)))],
        inputs: (Array.isArray(predicate.inputAttestations) ? predicate.inputAttestations : []).flatMap((a) =>
          typeof a?.digest?.sha256 === 'string' ? [a.digest.sha256] : [],
        ),
      };
      return { repository: fact.repository, claimedAt: fact.at, add: () => this.decisions.push(fact) };
    }
    if (statement.predicateType === DEPLOY_APPROVAL_PREDICATE_TYPE) {
      const predicate = parseDeployApprovalPredicate(statement.predicate);
      const ownRun = runIdOf(run);
      if (ownRun !== undefined && runIdOf(predicate.run.uri) !== ownRun) {
        throw new Error(`it names the run ${predicate.run.uri}, but was signed by the run ${run}`);
      }
      const fact: DeployApprovalFact = {
        evidence,
        repository: predicate.repository.name,
        environment: predicate.environment,
        run: predicate.run.uri,
        ...(runIdOf(predicate.run.uri) !== undefined && { runId: runIdOf(predicate.run.uri) }),
        ...(predicate.requestedAt !== undefined && { requestedAt: predicate.requestedAt }),
        readAt: predicate.readAt,
        approvers: predicate.approvals
          .filter(
            (a) =>
              a.state === 'approved' &&
              namesEnvironment(a.environments, predicate.environment) &&
              !isBotAccount(a.user),
          )
          .map((a) => a.user.login),
        artifacts,
      };
      return { repository: fact.repository, claimedAt: fact.readAt, add: () => this.deployApprovals.push(fact) };
    }
    if (statement.predicateType === BREAK_GLASS_PREDICATE_TYPE) {
      const predicate = parseBreakGlassPredicate(statement.predicate);
      const fact: BreakGlassFact = {
        evidence,
        id: breakGlassId(bundle.statement),
        repository: predicate.repository.name,
        environment: predicate.environment,
        commit: predicate.change.commit,
        incident: predicate.incident,
        requester: predicate.requester.login,
        approvers: predicate.approvers.map((a) => a.login),
        notBefore: predicate.notBefore,
        expires: predicate.expires,
        artifacts,
      };
      return { repository: fact.repository, claimedAt: fact.notBefore, add: () => this.breakGlasses.push(fact) };
    }
    const predicate = parseReviewPredicate(statement.predicate);
    const fact = reviewFact(predicate, evidence);
    return { repository: fact.repository, claimedAt: fact.pullRequest.mergedAt, add: () => this.reviews.push(fact) };
  }
}

type Role = PolicyRole;

/** The statements each identity signs that an indicator reads. */
const EXPECTED_TYPES: Record<Role, readonly string[]> = {
  deploy: [VERIFICATION_SUMMARY_PREDICATE_TYPE, DEPLOY_APPROVAL_PREDICATE_TYPE],
  'break-glass': [BREAK_GLASS_PREDICATE_TYPE],
  sign: [REVIEW_PREDICATE_TYPE],
  build: [],
};

/** The approvals a review attestation counted: its independent reviewers, each with the review that counted. */
function reviewFact(predicate: ReviewPredicate, evidence: EvidenceLink): ReviewFact {
  const mergedAt = Date.parse(predicate.pullRequest.mergedAt);
  const approvals = predicate.reviewers.map(({ name, uri }) => {
    const login = name ?? '';
    // The account id: the reviewer's account URL (`…/user/ID`), which the sign stage writes from the account id.
    const named = accountIdOf(uri);
    // Each reviewer's latest approval before the merge is the one that counted. (Within one attestation a login names
    // one account: the logins are those of when it was signed.)
    const review = predicate.reviews
      .filter(
        (r) =>
          r.state === 'APPROVED' &&
          r.reviewer.login.toLowerCase() === login.toLowerCase() &&
          Date.parse(r.submittedAt) <= mergedAt,
      )
      .sort((a, b) => Date.parse(b.submittedAt) - Date.parse(a.submittedAt))[0];
    const id = accountId(review?.reviewer.id) ?? named;
    const permission = Object.hasOwn(predicate.permissions, login) ? predicate.permissions[login] : undefined;
    return {
      login,
      ...(id !== undefined && { id }),
      ...(review && { reviewId: review.id, at: review.submittedAt }),
      ...(permission !== undefined && { permission }),
    };
  });
  const pr = predicate.pullRequest;
  return {
    evidence,
    repository: predicate.repository.name,
    commit: predicate.commit,
    commits: [
      ...new Set([
        predicate.commit,
        predicate.mergedHead,
        predicate.mergeCommit,
        ...predicate.commits.map((c) => c.sha),
      ]),
    ],
    pullRequest: {
      number: pr.number,
      url: pr.url,
      ...(pr.createdAt !== undefined && { createdAt: pr.createdAt }),
      mergedAt: pr.mergedAt,
    },
    author: predicate.author.login,
    ...(accountId(predicate.author.id) !== undefined && { authorId: predicate.author.id }),
    approvals,
  };
}

/** A GitHub account id: a positive integer, else none. */
function accountId(id: unknown): number | undefined {
  return typeof id === 'number' && Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

/** The account id of an account's API URL (`https://api.github.com/user/ID`, `…/api/v3/user/ID`), or undefined. */
function accountIdOf(uri: string | undefined): number | undefined {
  const match = uri === undefined ? null : /\/user\/([1-9][0-9]{0,15})\/?$/.exec(uri);
  return match ? accountId(Number(match[1])) : undefined;
}

function link(source: string, sha256: string | undefined): EvidenceLink {
  return sha256 === undefined ? { source } : { source, sha256 };
}

/** `owner/name` of `https://github.com/owner/name` (any server); undefined when it names none. */
export function repositoryOfUri(uri: string | undefined): string | undefined {
  if (uri === undefined) return undefined;
  const match = /^https?:\/\/[^/]+\/([^/]+\/[^/]+?)\/?$/.exec(uri);
  return match?.[1];
}

/** The run id of `…/actions/runs/ID[/attempts/N]`: one deploy run, whatever its attempt. */
export function runIdOf(uri: string | undefined): string | undefined {
  if (uri === undefined) return undefined;
  return /\/actions\/runs\/(\d+)(?:\/attempts\/\d+)?\/?$/.exec(uri)?.[1];
}

function latest(times: readonly Date[]): Date | undefined {
  let found: Date | undefined;
  for (const t of times) if (found === undefined || t.getTime() > found.getTime()) found = t;
  return found;
}
