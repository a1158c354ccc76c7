// Segregation-of-duties indicators from signed evidence (issue 18, docs/sod-report.md): M1 unapproved change rate,
// M2 approval latency, M3 privileged approvers, M6 audit completeness, M7 approval reuse, M8 emergency bypasses,
// M9 collusion risk, M10 deploy outcome — each from the facts of verified bundles that the policy's identities signed
// (sod-evidence.ts), each number beside the evidence it counts, and the policy's `report:` thresholds as pass/fail
// lines. Pure: the caller verifies and reads the bundles and GitHub's deployments.
import { environmentKey } from './deploy-approval';
import { CodedError } from './error';
import type { Policy, ReportThresholdKey } from './policy';
// DEFAULT_COLLUSION_SHARE lives with the policy: a repository policy's max-top-approver-share is compared with it.
import { DEFAULT_COLLUSION_SHARE, REPORT_THRESHOLD_KEYS } from './policy';
import type {
  AuditFinding,
  AuditFindingKind,
  DecisionFact,
  DeployApprovalFact,
  EvidenceLedger,
  EvidenceLink,
  ReviewFact,
} from './sod-evidence';
import sodReportSchema from './sod-report.schema.json' with { type: 'json' };

export * from './sod-evidence';
export * from './sod-summary';

/** The version of the report's format (`schemaVersion`): within it, fields are only added (docs/sod-report.md). */
export const SOD_REPORT_SCHEMA_VERSION = 1;

/** The JSON Schema every `twokey report --json` follows (draft 2020-12). */
export const SOD_REPORT_SCHEMA = sodReportSchema;

/** An author's approver shares are judged only with at least this many counted approvals (M9). */
export const MIN_APPROVALS_FOR_SHARE = 5;

/** A GitHub deployment and its statuses (M10), as deploymentsFromGitHub reads them. */
export interface DeploymentRecord {
  id: number;
  url?: string;
  repository?: string;
  environment: string;
  sha: string;
  createdAt: string;
  /** The workflow run that made it (from a status's log or target URL): the one run all its statuses name. */
  runId?: string;
  /**
   * The runs its statuses name, when they name more than one: anyone who can write deployments can post a status
   * naming another run, so which run deployed is not known (the deployment then counts as one no record covers).
   */
  runsNamed?: string[];
  /**
   * The environments it was listed under, when a status moved it (a status's `environment`, GitHub's
   * `original_environment` keeping the first): which environment it deployed to is then not known either.
   */
  environmentsNamed?: string[];
  statuses: { state: string; createdAt: string }[];
}

export type SodIndicatorStatus = 'measured' | 'not-measured';

export interface LatencyStats {
  count: number;
  medianSeconds: number | null;
  p90Seconds: number | null;
}

export interface SodReport {
  schemaVersion: 1;
  generatedAt: string;
  window: { since?: string; until?: string };
  policy: { source: string; digest: string; repository?: { source: string; digest: string } };
  evidence: {
    read: number;
    verified: number;
    rejected: number;
    duplicates: number;
    counted: { decisionRecords: number; reviews: number; deployApprovals: number; breakGlasses: number };
    other: number;
    skipped: number;
    deployments?: { source: string; count: number };
  };
  months: string[];
  indicators: {
    M1: UnapprovedRate;
    M2: ApprovalLatency;
    M3: PrivilegedApprovers;
    M6: AuditCompleteness;
    M7: ApprovalReuse;
    M8: EmergencyBypass;
    M9: CollusionRisk;
    M10: DeployOutcome;
  };
  thresholds: ThresholdResult[];
  verdict: 'pass' | 'fail';
}

interface Measured {
  status: SodIndicatorStatus;
  /** Why it was not measured. */
  reason?: string;
}

export interface DeployLink {
  record: EvidenceLink;
  repository: string;
  environment?: string;
  at: string;
  run?: string;
}

export interface UnapprovedRate extends Measured {
  /** Passed deploy runs counted: those that ship an artifact no earlier one shipped to its environment, and every
   * unapproved one. */
  passed: number;
  refused: number;
  unapproved: number;
  /** Passed runs (approved) that shipped only artifacts earlier runs had shipped to the same environment. */
  redeploys?: number;
  rate: number | null;
  byMonth: { month: string; passed: number; unapproved: number; refused: number; redeploys?: number }[];
  byRepository: { repository: string; passed: number; unapproved: number; refused: number; redeploys?: number }[];
  unapprovedDeploys: (DeployLink & { breakGlass: string[]; artifacts: string[] })[];
  redeployed?: (DeployLink & { artifacts: string[] })[];
  refusalsByCheck: { check: string; count: number; records: EvidenceLink[] }[];
}

export interface ApprovalLatency {
  review: Measured &
    LatencyStats & {
      unmeasured: number;
      byRepository: ({ repository: string } & LatencyStats)[];
      byMonth: ({ month: string } & LatencyStats)[];
      pullRequests: {
        repository: string;
        number: number;
        url: string;
        openedAt?: string;
        firstApprovalAt?: string;
        seconds: number | null;
        evidence: EvidenceLink;
      }[];
    };
  deploy: Measured &
    LatencyStats & {
      /** Deploy approvals whose request time is known neither from them (requestedAt) nor from GitHub's deployments. */
      unmeasured: number;
      byEnvironment: ({ environment: string } & LatencyStats)[];
      deploys: {
        repository: string;
        environment: string;
        run: string;
        requestedAt: string;
        /** Where requestedAt was read: the signed deploy approval, or GitHub's deployment of the run (not signed). */
        requestedFrom: 'deploy-approval' | 'deployment';
        approvedAt: string;
        seconds: number;
        evidence: EvidenceLink;
        deployment?: string;
      }[];
    };
}

export interface PrivilegedApprovers extends Measured {
  approvals: number;
  privileged: number;
  share: number | null;
  byPermission: { permission: string; approvals: number }[];
  byMonth: { month: string; approvals: number; privileged: number }[];
  /** Each approver once by account: the latest login, and the account id and every login when it had several. */
  privilegedApprovers: { login: string; id?: number; logins?: string[]; approvals: number; pullRequests: string[] }[];
}

export interface AuditCompleteness extends Measured {
  findings: number;
  byKind: { kind: AuditFindingKind; count: number }[];
  items: AuditFinding[];
}

export interface ApprovalReuse extends Measured {
  reuses: number;
  reviewApprovals: {
    repository: string;
    reviewId: number;
    reviewer: string;
    pullRequest: string;
    commits: string[];
    evidence: EvidenceLink[];
  }[];
  deployApprovals: {
    approval: EvidenceLink;
    environment: string;
    run: string;
    usedBy: { record: EvidenceLink; environment?: string; run?: string }[];
  }[];
  breakGlasses: { id: string; artifact: string; environment?: string; records: EvidenceLink[] }[];
}

export interface EmergencyBypass extends Measured {
  used: number;
  signed: number;
  withoutFollowUp: number;
  maxPerMonth: number;
  byMonth: { month: string; used: number; signed: number }[];
  breakGlasses: {
    id: string;
    evidence?: EvidenceLink;
    repository?: string;
    environment?: string;
    commit?: string;
    incident?: string;
    requester?: string;
    approvers?: string[];
    notBefore?: string;
    firstUsedAt?: string;
    uses: number;
    records: EvidenceLink[];
    followUp: { pullRequest: string; evidence: EvidenceLink } | null;
  }[];
}

export interface CollusionRisk extends Measured {
  approvals: number;
  authors: number;
  approvers: number;
  /** Herfindahl index of approvals over approvers, organisation-wide (1: one approver gives every approval). */
  herfindahl: number | null;
  pairs: { author: string; approver: string; approvals: number; share: number; pullRequests: string[] }[];
  byAuthor: {
    author: string;
    approvals: number;
    approvers: number;
    topApprover: string;
    topShare: number;
    herfindahl: number;
  }[];
  byRepository: { repository: string; approvals: number; approvers: number; herfindahl: number }[];
  reciprocalPairs: { a: string; b: string; aApprovedB: number; bApprovedA: number }[];
  suspectedCollusion: { a: string; b: string; shareAB: number; shareBA: number; pullRequests: string[] }[];
  /** Every author and approver counted, as the rows name them, with their account id and every login seen. */
  people?: PersonName[];
  minApprovalsForShare: number;
  collusionShare: number;
}

export interface DeployOutcome extends Measured {
  passed: number;
  matched: number;
  succeeded: number;
  failed: number;
  pending: number;
  rate: number | null;
  deploys: (DeployLink & { deployment: string; state: 'success' | 'failure' | 'pending' })[];
  unmatched: DeployLink[];
}

export interface ThresholdResult {
  key: ReportThresholdKey;
  indicator: 'M1' | 'M2' | 'M3' | 'M6' | 'M7' | 'M8' | 'M9' | 'M10';
  limit: number;
  value: number | null;
  verdict: 'pass' | 'fail' | 'not-evaluated';
  reason: string;
}

export interface SodReportRequest {
  policy: Pick<Policy, 'source' | 'digest' | 'report' | 'repository' | 'identities'>;
  ledger: EvidenceLedger;
  /** Only what happened in [since, until) counts. */
  since?: Date;
  until?: Date;
  /** GitHub's deployments (M10, and M2's deploy requests), with where they were read; absent: not measured. */
  deployments?: { source: string; records: readonly DeploymentRecord[] };
  generatedAt: Date;
}

/** The indicators and the threshold lines over a ledger's facts, in one window. */
export function computeSodReport(request: SodReportRequest): SodReport {
  const { ledger, policy } = request;
  const within = windowTest(request.since, request.until);
  const decisions = ledger.decisions.filter((d) => within(d.at));
  const reviews = uniquePullRequests(ledger.reviews).filter((r) => within(r.pullRequest.mergedAt));
  const deployments = request.deployments?.records.filter((d) => within(d.createdAt));
  const noDeployIdentity =
    policy.identities.deploy === undefined
      ? 'the policy names no identities.deploy: no decision record or deploy approval can be trusted'
      : undefined;
  // No month after the report's own time: a break-glass's notBefore is the one time its signing time does not cap,
  // and a far future one (9999-01) would leave only the century before it, none with a fact (M8's busiest month 0).
  const notAfter = Math.min(request.generatedAt.getTime(), request.until ? request.until.getTime() - 1 : Infinity);
  const months = monthsOf(
    [
      ...decisions.map((d) => d.at),
      ...reviews.map((r) => r.pullRequest.mergedAt),
      ...ledger.breakGlasses.map((b) => b.notBefore).filter(within),
      ...(request.since ? [request.since.toISOString()] : []),
      ...(request.until ? [new Date(request.until.getTime() - 1).toISOString()] : []),
    ],
    notAfter,
  );
  const people = peopleOf(ledger.reviews);
  const indicators: SodReport['indicators'] = {
    M1: unapprovedRate(decisions, ledger.decisions, noDeployIdentity),
    M2: approvalLatency(reviews, ledger, within, deployments, noDeployIdentity),
    M3: privilegedApprovers(reviews, people),
    M6: auditCompleteness(ledger, within, deployments, request.deployments?.records),
    M7: approvalReuse(ledger, within, people),
    M8: emergencyBypass(ledger, decisions, months, within, noDeployIdentity),
    M9: collusionRisk(reviews, people, policy.report?.maxTopApproverShare ?? DEFAULT_COLLUSION_SHARE),
    M10: deployOutcome(decisions, deployments, noDeployIdentity),
  };
  const thresholds = thresholdResults(policy.report ?? {}, indicators);
  return {
    schemaVersion: SOD_REPORT_SCHEMA_VERSION,
    generatedAt: request.generatedAt.toISOString(),
    window: {
      ...(request.since && { since: request.since.toISOString() }),
      ...(request.until && { until: request.until.toISOString() }),
    },
    policy: {
      source: policy.source,
      digest: policy.digest,
      ...(policy.repository && { repository: policy.repository }),
    },
    evidence: {
      read: ledger.counts.read,
      verified: ledger.counts.verified,
      rejected: ledger.counts.rejected,
      duplicates: ledger.counts.duplicates,
      counted: {
        decisionRecords: ledger.decisions.length,
        reviews: ledger.reviews.length,
        deployApprovals: ledger.deployApprovals.length,
        breakGlasses: ledger.breakGlasses.length,
      },
      other: ledger.counts.other,
      skipped: ledger.counts.skipped,
      ...(request.deployments && {
        deployments: { source: request.deployments.source, count: request.deployments.records.length },
      }),
    },
    months,
    indicators,
    thresholds,
    verdict: thresholds.every((t) => t.verdict === 'pass') ? 'pass' : 'fail',
  };
}

/**
 * The deploys that passed: one per deploy run. Re-running the gate's job (attempt 2, 3, …) signs a PASSED record
 * each time, for the one deploy, and a run's environment can be named anew on each attempt (`prod-${{
 * github.run_attempt }}`): counted once a run, its records cannot dilute the break-glasses among the passed deploys.
 * A run is unapproved when any of its records is, and then an unapproved record stands for it (else the latest),
 * with the break-glasses and artifacts of all its records: the unit is the deploy run (one that deployed to staging
 * and to production, or under two break-glasses, counts once; M8 counts each break-glass). A record that names no
 * run is a deploy of its own.
 */
function passedDeploys(decisions: readonly DecisionFact[]): DecisionFact[] {
  const deploys = new Map<string, DecisionFact>();
  decisions.forEach((d, i) => {
    if (d.result !== 'PASSED') return;
    const key = d.runId !== undefined ? `run ${d.runId}` : `#${i}`;
    const seen = deploys.get(key);
    if (!seen) deploys.set(key, d);
    else {
      // An unapproved record stands for the run (the auditor's link leads to it), else the latest; the run's
      // break-glasses and artifacts are all of its records'.
      const stands =
        d.unapproved !== seen.unapproved ? (d.unapproved ? d : seen) : compare(d.at, seen.at) > 0 ? d : seen;
      const breakGlass = [
        ...seen.breakGlass,
        ...d.breakGlass.filter((b) => !seen.breakGlass.some((s) => s.id === b.id)),
      ];
      const artifacts = [...new Set([...seen.artifacts, ...d.artifacts])];
      deploys.set(key, { ...stands, unapproved: seen.unapproved || d.unapproved, breakGlass, artifacts });
    }
  });
  return [...deploys.values()];
}

// ── M1 ─────────────────────────────────────────────────────────────────────────────────────────────────────────

function unapprovedRate(
  decisions: readonly DecisionFact[],
  ledger: readonly DecisionFact[],
  notMeasured: string | undefined,
): UnapprovedRate {
  const runs = passedDeploys(decisions);
  // A run that ships nothing new (every artifact already shipped to its environment by an earlier passed run) is a
  // redeploy: dispatching the deploy workflow again for a reviewed release must not dilute the unapproved deploys. An
  // unapproved run counts whatever it ships: a redeploy under a break-glass is still a deploy without a review.
  const isNew = shipsNew(ledger);
  const passed = runs.filter((d) => d.unapproved || isNew(d));
  const redeploys = runs.filter((d) => !d.unapproved && !isNew(d));
  const unapproved = passed.filter((d) => d.unapproved);
  const refused = decisions.filter((d) => d.result === 'FAILED');
  const tally = (key: (d: DecisionFact) => string) => {
    const rows = new Map<string, { passed: number; unapproved: number; refused: number; redeploys: number }>();
    const row = (d: DecisionFact) => {
      const found = rows.get(key(d)) ?? { passed: 0, unapproved: 0, refused: 0, redeploys: 0 };
      rows.set(key(d), found);
      return found;
    };
    for (const d of passed) {
      row(d).passed += 1;
      if (d.unapproved) row(d).unapproved += 1;
    }
    for (const d of refused) row(d).refused += 1;
    for (const d of redeploys) row(d).redeploys += 1;
    return [...rows].sort(([a], [b]) => compare(a, b));
  };
  const byCheck = new Map<string, EvidenceLink[]>();
  for (const d of refused)
    for (const check of d.failedChecks) byCheck.set(check, [...(byCheck.get(check) ?? []), d.evidence]);
  return {
    ...status(notMeasured),
    passed: passed.length,
    refused: refused.length,
    unapproved: unapproved.length,
    redeploys: redeploys.length,
    rate: passed.length === 0 ? null : unapproved.length / passed.length,
    byMonth: tally((d) => monthOf(d.at)).map(([month, row]) => ({ month, ...row })),
    byRepository: tally((d) => d.repository).map(([repository, row]) => ({ repository, ...row })),
    unapprovedDeploys: sortByTime(unapproved).map((d) => ({
      ...deployLink(d),
      breakGlass: d.breakGlass.map((b) => b.id),
      artifacts: d.artifacts,
    })),
    redeployed: sortByTime(redeploys).map((d) => ({ ...deployLink(d), artifacts: d.artifacts })),
    refusalsByCheck: [...byCheck]
      .map(([check, records]) => ({ check, count: records.length, records }))
      .sort((a, b) => b.count - a.count || compare(a.check, b.check)),
  };
}

/**
 * Whether a deploy run (as passedDeploys merges it) ships something new: an artifact (repository, environment,
 * sha256) that no earlier passed record of another run in the ledger — inside the window or before it — shipped to
 * that environment. Each artifact's first run is the one of its earliest passed record. A run that names no artifact
 * ships something new (it cannot be told from a redeploy).
 */
function shipsNew(ledger: readonly DecisionFact[]): (run: DecisionFact) => boolean {
  const runOf = (d: DecisionFact) => (d.runId !== undefined ? `run ${d.runId}` : `record ${d.evidence.source}`);
  const first = new Map<string, { at: number; run: string; source: string }>();
  // GitHub's environment names are not case sensitive (`Production` is `production`, one set of protection rules), and
  // a record carries the spelling its caller gave: compared as spelt, each spelling was a new environment.
  const shipped = (d: DecisionFact, artifact: string) =>
    `${d.repository.toLowerCase()}\n${environmentKey(d.environment ?? '')}\n${artifact}`;
  for (const d of ledger) {
    if (d.result !== 'PASSED') continue;
    const at = Date.parse(d.at);
    for (const artifact of d.artifacts) {
      const key = shipped(d, artifact);
      const known = first.get(key);
      if (!known || at < known.at || (at === known.at && compare(d.evidence.source, known.source) < 0))
        first.set(key, { at, run: runOf(d), source: d.evidence.source });
    }
  }
  const runsShipping = new Map<string, boolean>();
  for (const d of ledger) {
    if (d.result !== 'PASSED') continue;
    const run = runOf(d);
    const news = d.artifacts.length === 0 || d.artifacts.some((a) => first.get(shipped(d, a))?.run === run);
    runsShipping.set(run, (runsShipping.get(run) ?? false) || news);
  }
  return (run) => runsShipping.get(runOf(run)) ?? true;
}

// ── M2 ─────────────────────────────────────────────────────────────────────────────────────────────────────────

function approvalLatency(
  reviews: readonly ReviewFact[],
  ledger: EvidenceLedger,
  within: (time: string) => boolean,
  deployments: readonly DeploymentRecord[] | undefined,
  noDeployIdentity: string | undefined,
): ApprovalLatency {
  const pullRequests = reviews.map((r) => {
    const opened = r.pullRequest.createdAt;
    const first = earliest(r.approvals.flatMap((a) => (a.at ? [a.at] : [])));
    const seconds = opened && first ? Math.max(0, (Date.parse(first) - Date.parse(opened)) / 1000) : null;
    return {
      repository: r.repository,
      number: r.pullRequest.number,
      url: r.pullRequest.url,
      ...(opened && { openedAt: opened }),
      ...(first && { firstApprovalAt: first }),
      seconds,
      evidence: r.evidence,
      mergedAt: r.pullRequest.mergedAt,
    };
  });
  const measured = pullRequests.filter((p) => p.seconds !== null);
  const seconds = (rows: typeof measured) => rows.map((p) => p.seconds as number);
  const review = {
    status: 'measured' as const,
    ...latencyStats(seconds(measured)),
    unmeasured: pullRequests.length - measured.length,
    byRepository: groupBy(measured, (p) => p.repository).map(([repository, rows]) => ({
      repository,
      ...latencyStats(seconds(rows)),
    })),
    byMonth: groupBy(measured, (p) => monthOf(p.mergedAt)).map(([month, rows]) => ({
      month,
      ...latencyStats(seconds(rows)),
    })),
    pullRequests: pullRequests
      .sort((a, b) => compare(a.mergedAt, b.mergedAt) || compare(a.url, b.url))
      .map(({ mergedAt: _, ...p }) => p),
  };

  let deploy: ApprovalLatency['deploy'];
  if (noDeployIdentity) {
    deploy = {
      status: 'not-measured',
      reason: noDeployIdentity,
      ...latencyStats([]),
      unmeasured: 0,
      byEnvironment: [],
      deploys: [],
    };
  } else {
    const approvals = ledger.deployApprovals.filter((a) => within(a.readAt));
    const byRun = new Map((deployments ?? []).flatMap((d) => (d.runId ? [[d.runId, d] as const] : [])));
    const deploys = approvals
      .flatMap((a) => deployLatency(a, byRun))
      .sort((a, b) => compare(a.approvedAt, b.approvedAt) || compare(a.run, b.run));
    const unmeasured = approvals.length - deploys.length;
    deploy = {
      status: 'measured',
      ...latencyStats(deploys.map((d) => d.seconds)),
      unmeasured,
      byEnvironment: groupBy(deploys, (d) => d.environment).map(([environment, rows]) => ({
        environment,
        ...latencyStats(rows.map((d) => d.seconds)),
      })),
      deploys,
    };
    // Nothing measured and something to measure: without GitHub's deployments, a number of zero deploys would lie.
    if (!deployments && deploys.length === 0 && unmeasured > 0) {
      deploy = {
        ...deploy,
        status: 'not-measured',
        reason:
          "the deploy approvals do not record when their deploy was requested (requestedAt: they were signed before twokey recorded it), only when the deploy job read its approvals (readAt): give GitHub's deployments (--deployments, or --repo with a token), whose created_at is the request",
      };
    }
  }
  return { review, deploy };
}

/**
 * How long a deploy waited for its approval: from its request to the reading of its approvals (readAt). The request
 * is the one the deploy approval signed (requestedAt); for an approval signed before that was recorded, the
 * created_at of GitHub's deployment of its run (unsigned); with neither, it is not measured.
 */
function deployLatency(
  approval: DeployApprovalFact,
  deploymentsByRun: ReadonlyMap<string, DeploymentRecord>,
): ApprovalLatency['deploy']['deploys'] {
  const deployment = approval.runId === undefined ? undefined : deploymentsByRun.get(approval.runId);
  const requestedAt = approval.requestedAt ?? deployment?.createdAt;
  if (requestedAt === undefined) return [];
  return [
    {
      repository: approval.repository,
      environment: approval.environment,
      run: approval.run,
      requestedAt,
      requestedFrom: approval.requestedAt !== undefined ? 'deploy-approval' : 'deployment',
      approvedAt: approval.readAt,
      seconds: Math.max(0, (Date.parse(approval.readAt) - Date.parse(requestedAt)) / 1000),
      evidence: approval.evidence,
      ...(deployment?.url && { deployment: deployment.url }),
    },
  ];
}

// ── M3 ─────────────────────────────────────────────────────────────────────────────────────────────────────────

function privilegedApprovers(reviews: readonly ReviewFact[], people: People): PrivilegedApprovers {
  const approvals = reviews.flatMap((r) => r.approvals.map((a) => ({ ...a, review: r })));
  const privileged = approvals.filter((a) => a.permission === 'admin');
  return {
    status: 'measured',
    approvals: approvals.length,
    privileged: privileged.length,
    share: approvals.length === 0 ? null : privileged.length / approvals.length,
    byPermission: groupBy(approvals, (a) => a.permission ?? 'unknown').map(([permission, rows]) => ({
      permission,
      approvals: rows.length,
    })),
    byMonth: groupBy(approvals, (a) => monthOf(a.review.pullRequest.mergedAt)).map(([month, rows]) => ({
      month,
      approvals: rows.length,
      privileged: rows.filter((a) => a.permission === 'admin').length,
    })),
    // One approver however many logins the account had (a rename keeps the account id).
    privilegedApprovers: groupBy(privileged, (a) => personKey(a.login, a.id))
      .map(([key, rows]) => ({
        ...people.describe(key),
        approvals: rows.length,
        pullRequests: [...new Set(rows.map((a) => a.review.pullRequest.url))].sort(),
      }))
      .sort((a, b) => b.approvals - a.approvals || compare(a.login, b.login)),
  };
}

// ── M6 ─────────────────────────────────────────────────────────────────────────────────────────────────────────

/** `sha256:HEX, …`, each artifact once. */
function refusedNames(artifacts: readonly string[]): string {
  return [...new Set(artifacts)].map((a) => `sha256:${a}`).join(', ');
}

/** `GitHub deployment ID to ENV (CREATED_AT, run RUN)`, or what its statuses say of its run instead. */
function deploymentNamed(d: DeploymentRecord): string {
  const run = d.runId
    ? `, run ${d.runId}`
    : d.runsNamed
      ? `, its statuses name several runs: ${d.runsNamed.join(', ')}`
      : d.environmentsNamed
        ? `, moved between environments by its statuses: ${d.environmentsNamed.join(', ')}`
        : ', no run named';
  return `GitHub deployment ${d.id} to ${d.environment} (${d.createdAt}${run})`;
}

function auditCompleteness(
  ledger: EvidenceLedger,
  within: (time: string) => boolean,
  deployments: readonly DeploymentRecord[] | undefined,
  /** Every deployment given, the window's and those before it: a run's jobs are counted over its whole life. */
  everyDeployment: readonly DeploymentRecord[] | undefined,
): AuditCompleteness {
  const items: AuditFinding[] = [...ledger.findings];
  // What each deploy run decided for each environment: a record of one run for staging says nothing of the same
  // run's deploy to production (a workflow can deploy to both, and delete one record's files).
  const recorded = new Map<string, DecisionFact[]>();
  for (const d of ledger.decisions) {
    if (d.runId === undefined || d.environment === undefined) continue;
    const key = runEnvironment(d.runId, d.environment);
    recorded.set(key, [...(recorded.get(key) ?? []), d]);
  }
  // A deploy run that signed its approval but left no decision record for that environment.
  const flagged = new Set<string>();
  for (const approval of ledger.deployApprovals) {
    if (!within(approval.readAt) || approval.runId === undefined) continue;
    const key = runEnvironment(approval.runId, approval.environment);
    if (recorded.has(key)) continue;
    flagged.add(key);
    items.push({
      kind: 'deploy-without-record',
      evidence: approval.evidence,
      reason: `the deploy run ${approval.run} (${approval.repository}, ${approval.environment}) signed its deploy approval but no decision record of that run for ${approval.environment} is among the evidence`,
    });
  }
  // Each run's deployments to each environment that some record of that run and environment covers.
  const covered = new Map<string, DeploymentRecord[]>();
  for (const deployment of deployments ?? []) {
    const key = deployment.runId === undefined ? undefined : runEnvironment(deployment.runId, deployment.environment);
    if (key !== undefined && recorded.has(key)) {
      covered.set(key, [...(covered.get(key) ?? []), deployment]);
      continue;
    }
    // A run already named (its approval without a record) is one gap, not two.
    if (key !== undefined && flagged.has(key)) continue;
    items.push({
      kind: 'deployment-without-record',
      evidence: { source: deployment.url ?? `deployment ${deployment.id}` },
      reason: `${deploymentNamed(deployment)} has no decision record for ${deployment.environment} among the evidence`,
    });
  }
  for (const [key, runDeployments] of covered) {
    // The gate refused an artifact, and the run deployed to the environment anyway (a job after the gate's, `if:
    // always()`, an admin's bypass). Another gate job of the same run passing other artifacts (an old release, as a
    // decoy) does not cover it: a GitHub deployment does not say which artifact it shipped.
    const records = recorded.get(key)!;
    const passed = new Set(records.filter((r) => r.result === 'PASSED').flatMap((r) => r.artifacts));
    const refused = records
      .filter((r) => r.result === 'FAILED')
      .flatMap((r) => r.artifacts.filter((a) => !passed.has(a)));
    if (refused.length === 0) continue;
    // A deployment that once succeeded shipped, whatever status came after: a writer may post an `error` after
    // GitHub's `success` (found by the review of the report).
    const succeeded = runDeployments.find((d) => d.statuses.some((s) => s.state === 'success'));
    if (succeeded) {
      items.push({
        kind: 'deployment-refused-by-record',
        evidence: { source: succeeded.url ?? `deployment ${succeeded.id}` },
        reason: `${deploymentNamed(succeeded)} succeeded, but a decision record of that run for ${succeeded.environment} refused ${refusedNames(refused)}, which no record of the run for ${succeeded.environment} passed`,
      });
      continue;
    }
    // A job that ships and then fails (`./deploy.sh`, then `exit 1`, or cancelled) never succeeds. Then more jobs of
    // the run ran in the environment (GitHub says in_progress when a job starts, after its environment's approval) than
    // gates recorded a decision there: a job ran in it without a record — that job, or a gate attempt that ended before
    // it recorded (a failed download, a signing outage) and was run again, which read alike. An audit gap either way,
    // not a refused deploy shipped (found by the reviews of the report's fixes). The latest to start is named.
    // Over the run's whole life, as its records are: a re-run in the next window (GitHub allows one for 30 days) made
    // the window's jobs no more than every attempt's records (found by the review of the fix).
    const ran = (everyDeployment ?? runDeployments).filter(
      (d) =>
        d.runId !== undefined &&
        runEnvironment(d.runId, d.environment) === key &&
        d.statuses.some((s) => s.state === 'in_progress'),
    );
    if (ran.length <= records.length) continue;
    const latest = ran.toSorted((a, b) => compare(a.createdAt, b.createdAt)).at(-1)!;
    items.push({
      kind: 'deployment-without-record',
      evidence: { source: latest.url ?? `deployment ${latest.id}` },
      reason: `${deploymentNamed(latest)} is one of ${ran.length} jobs of that run that ran in ${latest.environment}, more than the ${records.length} decision record${records.length === 1 ? '' : 's'} of the run there, which refused ${refusedNames(refused)}: a job ran in ${latest.environment} without a record (one that shipped and failed, or a gate attempt that ended before it recorded)`,
    });
  }
  // What a decision record rests on, by the sha256 of its bytes.
  const verified = ledger.verifiedDigests;
  for (const record of ledger.decisions) {
    if (!within(record.at)) continue;
    for (const input of record.inputs) {
      if (verified.has(input)) continue;
      const rejected = ledger.rejectedDigests.get(input);
      items.push(
        rejected
          ? {
              kind: 'record-evidence-not-verified',
              evidence: record.evidence,
              reason: `it rests on the bundle sha256:${input} (${rejected}), which does not verify`,
            }
          : {
              kind: 'record-evidence-missing',
              evidence: record.evidence,
              reason: `it rests on the bundle sha256:${input}, which is not among the evidence`,
            },
      );
    }
  }
  return {
    status: 'measured',
    findings: items.length,
    byKind: groupBy(items, (f) => f.kind).map(([kind, rows]) => ({
      kind: kind as AuditFindingKind,
      count: rows.length,
    })),
    items,
  };
}

// ── M7 ─────────────────────────────────────────────────────────────────────────────────────────────────────────

function approvalReuse(ledger: EvidenceLedger, within: (time: string) => boolean, people: People): ApprovalReuse {
  // A review approval counted for more than one commit.
  const byReview = new Map<string, { review: ReviewFact; reviewer: string; reviewId: number; facts: ReviewFact[] }>();
  for (const fact of ledger.reviews) {
    for (const approval of fact.approvals) {
      if (approval.reviewId === undefined) continue;
      const key = `${fact.repository.toLowerCase()}#${approval.reviewId}`;
      const known = byReview.get(key) ?? {
        review: fact,
        reviewer: people.name(personKey(approval.login, approval.id)),
        reviewId: approval.reviewId,
        facts: [],
      };
      known.facts.push(fact);
      byReview.set(key, known);
    }
  }
  const reviewApprovals = [...byReview.values()]
    .filter(
      (r) => new Set(r.facts.map((f) => f.commit)).size > 1 && r.facts.some((f) => within(f.pullRequest.mergedAt)),
    )
    .map((r) => ({
      repository: r.review.repository,
      reviewId: r.reviewId,
      reviewer: r.reviewer,
      pullRequest: r.review.pullRequest.url,
      commits: [...new Set(r.facts.map((f) => f.commit))],
      evidence: r.facts.map((f) => f.evidence),
    }));

  // A deploy approval a decision record of another run, or of another environment, rests on.
  const approvalsByDigest = new Map(
    ledger.deployApprovals.flatMap((a) => (a.evidence.sha256 ? [[a.evidence.sha256, a] as const] : [])),
  );
  const usedBy = new Map<string, DecisionFact[]>();
  for (const record of ledger.decisions) {
    for (const named of record.inputs) {
      const input = approvalsByDigest.has(named) ? named : ledger.digestAliases.get(named);
      if (input !== undefined && approvalsByDigest.has(input))
        usedBy.set(input, [...(usedBy.get(input) ?? []), record]);
    }
  }
  const deployApprovals = [...usedBy]
    .map(([digest, records]) => ({ approval: approvalsByDigest.get(digest)!, records }))
    .filter(
      ({ approval, records }) =>
        records.some((r) => within(r.at)) &&
        records.some(
          // Another environment by name, without case (row 200): `Production` and `production` are one.
          (r) =>
            r.runId !== approval.runId ||
            (r.environment !== undefined && environmentKey(r.environment) !== environmentKey(approval.environment)),
        ),
    )
    .map(({ approval, records }) => ({
      approval: approval.evidence,
      environment: approval.environment,
      run: approval.run,
      usedBy: records.map((r) => ({
        record: r.evidence,
        ...(r.environment !== undefined && { environment: r.environment }),
        ...(r.run !== undefined && { run: r.run }),
      })),
    }));

  // A break-glass used again in an environment by another deploy run — whichever of its subjects each ships, and through
  // another break-glass its run signed (one approval released every job of that run: one use for them all, by one
  // deploy run per environment, as the gate counts it). Environments without case, as GitHub names them (row 200).
  const uses = new Map<string, { records: DecisionFact[]; artifacts: Set<string> }>();
  /** The break-glass id each use key names first (a run's key stands for every break-glass it signed). */
  const firstId = new Map<string, string>();
  for (const record of ledger.decisions) {
    if (record.result !== 'PASSED') continue;
    for (const breakGlass of record.breakGlass) {
      const key = `${breakGlass.run ?? breakGlass.id}\n${environmentKey(record.environment ?? '')}`;
      const use = uses.get(key) ?? { records: [], artifacts: new Set<string>() };
      if (!use.records.includes(record)) use.records.push(record);
      for (const artifact of breakGlass.artifacts) use.artifacts.add(artifact);
      uses.set(key, use);
      if (!firstId.has(key)) firstId.set(key, breakGlass.id);
    }
  }
  const breakGlasses = [...uses]
    .filter(([, { records }]) => new Set(records.map((r) => r.runId ?? r.evidence.source)).size > 1)
    .filter(([, { records }]) => records.some((r) => within(r.at)))
    .map(([key, { records, artifacts }]) => {
      const [, environment] = key.split('\n') as [string, string];
      return {
        id: firstId.get(key)!,
        artifact: [...artifacts].sort().join(', '),
        ...(environment !== '' && { environment }),
        records: sortByTime(records).map((r) => r.evidence),
      };
    });
  return {
    status: 'measured',
    reuses: reviewApprovals.length + deployApprovals.length + breakGlasses.length,
    reviewApprovals,
    deployApprovals,
    breakGlasses,
  };
}

// ── M8 ─────────────────────────────────────────────────────────────────────────────────────────────────────────

function emergencyBypass(
  ledger: EvidenceLedger,
  decisions: readonly DecisionFact[],
  months: readonly string[],
  within: (time: string) => boolean,
  notMeasured: string | undefined,
): EmergencyBypass {
  const signed = new Map(ledger.breakGlasses.map((b) => [b.id, b]));
  const records = new Map<string, DecisionFact[]>();
  for (const record of sortByTime(decisions)) {
    if (record.result !== 'PASSED') continue;
    for (const { id } of record.breakGlass) records.set(id, [...(records.get(id) ?? []), record]);
  }
  const ids = [
    ...new Set([...records.keys(), ...ledger.breakGlasses.filter((b) => within(b.notBefore)).map((b) => b.id)]),
  ];
  const breakGlasses = ids.map((id) => {
    const fact = signed.get(id);
    const used = records.get(id) ?? [];
    const followUp = fact ? followUpReview(fact, ledger.reviews) : undefined;
    return {
      id,
      ...(fact && {
        evidence: fact.evidence,
        repository: fact.repository,
        environment: fact.environment,
        commit: fact.commit,
        incident: fact.incident,
        requester: fact.requester,
        approvers: fact.approvers,
        notBefore: fact.notBefore,
      }),
      ...(used[0] && { firstUsedAt: used[0].at }),
      uses: used.length,
      records: used.map((r) => r.evidence),
      followUp: followUp ? { pullRequest: followUp.pullRequest.url, evidence: followUp.evidence } : null,
    };
  });
  breakGlasses.sort((a, b) => compare(a.firstUsedAt ?? a.notBefore ?? '', b.firstUsedAt ?? b.notBefore ?? ''));
  const usedOnes = breakGlasses.filter((b) => b.uses > 0);
  const byMonth = months.map((month) => ({
    month,
    used: usedOnes.filter((b) => monthOf(b.firstUsedAt!) === month).length,
    signed: breakGlasses.filter((b) => b.notBefore !== undefined && monthOf(b.notBefore) === month).length,
  }));
  return {
    ...status(notMeasured),
    used: usedOnes.length,
    signed: breakGlasses.filter((b) => b.evidence !== undefined).length,
    withoutFollowUp: usedOnes.filter((b) => b.followUp === null).length,
    maxPerMonth: Math.max(0, ...byMonth.map((m) => m.used)),
    byMonth,
    breakGlasses,
  };
}

/** A review attestation of the break-glass's commit, for a pull request merged after the break-glass opened. */
function followUpReview(
  breakGlass: { repository: string; commit: string; notBefore: string },
  reviews: readonly ReviewFact[],
) {
  return reviews.find(
    (r) =>
      r.repository.toLowerCase() === breakGlass.repository.toLowerCase() &&
      r.commits.includes(breakGlass.commit) &&
      Date.parse(r.pullRequest.mergedAt) >= Date.parse(breakGlass.notBefore),
  );
}

// ── M9 ─────────────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * Who approves whom. People are counted by their GitHub account (its id, which a rename keeps: an author who renames
 * her account every few pull requests is still one author), named by the latest login the evidence shows.
 */
function collusionRisk(reviews: readonly ReviewFact[], people: People, collusionShare: number): CollusionRisk {
  const approvals = reviews.flatMap((r) =>
    r.approvals.map((a) => ({
      author: personKey(r.author, r.authorId),
      approver: personKey(a.login, a.id),
      repository: r.repository,
      url: r.pullRequest.url,
    })),
  );
  const name = (key: string) => people.name(key);
  const pairs = groupBy(approvals, (a) => `${a.author}\n${a.approver}`).map(([key, rows]) => {
    const [author, approver] = key.split('\n') as [string, string];
    return { author, approver, approvals: rows.length, pullRequests: [...new Set(rows.map((r) => r.url))].sort() };
  });
  const perAuthor = new Map<string, number>();
  for (const a of approvals) perAuthor.set(a.author, (perAuthor.get(a.author) ?? 0) + 1);
  const shared = pairs
    .map((p) => ({ ...p, share: p.approvals / perAuthor.get(p.author)! }))
    .sort(
      (a, b) =>
        b.approvals - a.approvals ||
        compare(name(a.author), name(b.author)) ||
        compare(name(a.approver), name(b.approver)),
    );
  const byAuthor = groupBy(shared, (p) => p.author)
    .map(([author, rows]) => {
      const top = [...rows].sort(
        (a, b) => b.approvals - a.approvals || compare(name(a.approver), name(b.approver)),
      )[0]!;
      return {
        author: name(author),
        approvals: perAuthor.get(author)!,
        approvers: rows.length,
        topApprover: name(top.approver),
        topShare: top.share,
        herfindahl: herfindahl(rows.map((r) => r.approvals)),
      };
    })
    .sort((a, b) => b.topShare - a.topShare || compare(a.author, b.author));
  const pairOf = new Map(shared.map((p) => [`${p.author}\n${p.approver}`, p]));
  const reciprocalPairs: CollusionRisk['reciprocalPairs'] = [];
  const suspectedCollusion: CollusionRisk['suspectedCollusion'] = [];
  const enough = (person: string) => (perAuthor.get(person) ?? 0) >= MIN_APPROVALS_FOR_SHARE;
  for (const ab of shared) {
    const ba = pairOf.get(`${ab.approver}\n${ab.author}`);
    // Each pair once: the one whose author comes first by name (then by account).
    const order = compare(name(ab.author), name(ab.approver)) || compare(ab.author, ab.approver);
    if (!ba || order >= 0) continue;
    const [a, b] = [name(ab.author), name(ab.approver)];
    reciprocalPairs.push({ a, b, aApprovedB: ba.approvals, bApprovedA: ab.approvals });
    if (ab.share >= collusionShare && ba.share >= collusionShare && enough(ab.author) && enough(ab.approver)) {
      suspectedCollusion.push({
        a,
        b,
        shareAB: ba.share,
        shareBA: ab.share,
        pullRequests: [...new Set([...ab.pullRequests, ...ba.pullRequests])].sort(),
      });
    }
  }
  const approverCounts = groupBy(approvals, (a) => a.approver).map(([, rows]) => rows.length);
  return {
    status: 'measured',
    approvals: approvals.length,
    authors: perAuthor.size,
    approvers: approverCounts.length,
    herfindahl: approvals.length === 0 ? null : herfindahl(approverCounts),
    pairs: shared.map((p) => ({ ...p, author: name(p.author), approver: name(p.approver) })),
    byAuthor,
    byRepository: groupBy(approvals, (a) => a.repository).map(([repository, rows]) => {
      const counts = groupBy(rows, (a) => a.approver).map(([, r]) => r.length);
      return { repository, approvals: rows.length, approvers: counts.length, herfindahl: herfindahl(counts) };
    }),
    reciprocalPairs: reciprocalPairs.sort((x, y) => compare(x.a, y.a) || compare(x.b, y.b)),
    suspectedCollusion,
    people: people.list(approvals.flatMap((a) => [a.author, a.approver])),
    minApprovalsForShare: MIN_APPROVALS_FOR_SHARE,
    collusionShare,
  };
}

// ── people ─────────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * A person as the report counts them: the GitHub account id, which a rename keeps; the lower-cased login only where
 * the evidence records no id.
 */
export function personKey(login: string, id: number | undefined): string {
  return id !== undefined ? `id:${id}` : `login:${login.toLowerCase()}`;
}

/** A person as the report names them: the latest login, the account id, every login the evidence shows for it. */
export interface PersonName {
  login: string;
  id?: number;
  logins: string[];
}

interface People {
  /** The latest login; with the account id beside it when another person's latest login is the same. */
  name(key: string): string;
  /** The name, and the id and every login when the account had more than one. */
  describe(key: string): { login: string; id?: number; logins?: string[] };
  /** Each person once, by name. */
  list(keys: Iterable<string>): PersonName[];
}

/** Every person the review attestations name (authors and approvers), with the logins each was seen under. */
function peopleOf(reviews: readonly ReviewFact[]): People {
  const seen = new Map<string, { id?: number; logins: Map<string, { login: string; at: number }> }>();
  const add = (login: string, id: number | undefined, at: number) => {
    const key = personKey(login, id);
    const person = seen.get(key) ?? { ...(id !== undefined && { id }), logins: new Map() };
    const known = person.logins.get(login.toLowerCase());
    if (!known || at >= known.at) person.logins.set(login.toLowerCase(), { login, at });
    seen.set(key, person);
  };
  for (const r of reviews) {
    const at = Date.parse(r.pullRequest.mergedAt);
    add(r.author, r.authorId, at);
    for (const a of r.approvals) add(a.login, a.id, at);
  }
  const loginsOf = (key: string) =>
    [...(seen.get(key)?.logins.values() ?? [])].sort((a, b) => a.at - b.at || compare(a.login, b.login));
  const latest = (key: string) => loginsOf(key).at(-1)?.login ?? key.replace(/^(id|login):/, '');
  const holders = new Map<string, number>();
  for (const key of seen.keys())
    holders.set(latest(key).toLowerCase(), (holders.get(latest(key).toLowerCase()) ?? 0) + 1);
  const name = (key: string) => {
    const login = latest(key);
    const id = seen.get(key)?.id;
    return (holders.get(login.toLowerCase()) ?? 0) > 1 && id !== undefined ? `${login} (id ${id})` : login;
  };
  return {
    name,
    describe(key) {
      const id = seen.get(key)?.id;
      const logins = loginsOf(key).map((l) => l.login);
      return { login: name(key), ...(id !== undefined && { id }), ...(logins.length > 1 && { logins }) };
    },
    list(keys) {
      return [...new Set(keys)]
        .map((key) => {
          const id = seen.get(key)?.id;
          return { login: name(key), ...(id !== undefined && { id }), logins: loginsOf(key).map((l) => l.login) };
        })
        .sort((a, b) => compare(a.login, b.login));
    },
  };
}

// ── M10 ────────────────────────────────────────────────────────────────────────────────────────────────────────

function deployOutcome(
  decisions: readonly DecisionFact[],
  deployments: readonly DeploymentRecord[] | undefined,
  noDeployIdentity: string | undefined,
): DeployOutcome {
  const passed = sortByTime(passedDeploys(decisions));
  const empty = { passed: passed.length, matched: 0, succeeded: 0, failed: 0, pending: 0, rate: null, deploys: [] };
  if (noDeployIdentity) return { status: 'not-measured', reason: noDeployIdentity, ...empty, unmatched: [] };
  if (!deployments) {
    return {
      status: 'not-measured',
      reason:
        "no deployments given: a deploy's outcome is GitHub's deployment status (--deployments, or --repo with a token)",
      ...empty,
      unmatched: [],
    };
  }
  // Each run's deployment to each environment, the latest when a run made several (its re-run attempts).
  const byRun = new Map<string, DeploymentRecord>();
  for (const d of [...deployments].sort((a, b) => compare(a.createdAt, b.createdAt))) {
    if (d.runId) byRun.set(runEnvironment(d.runId, d.environment), d);
  }
  const deploys: DeployOutcome['deploys'] = [];
  const unmatched: DeployLink[] = [];
  for (const record of passed) {
    const deployment =
      record.runId === undefined || record.environment === undefined
        ? undefined
        : byRun.get(runEnvironment(record.runId, record.environment));
    if (!deployment) unmatched.push(deployLink(record));
    else {
      deploys.push({
        ...deployLink(record),
        deployment: deployment.url ?? `deployment ${deployment.id}`,
        state: outcomeOf(deployment),
      });
    }
  }
  const succeeded = deploys.filter((d) => d.state === 'success').length;
  const failed = deploys.filter((d) => d.state === 'failure').length;
  return {
    status: 'measured',
    passed: passed.length,
    matched: deploys.length,
    succeeded,
    failed,
    pending: deploys.length - succeeded - failed,
    rate: succeeded + failed === 0 ? null : succeeded / (succeeded + failed),
    deploys,
    unmatched,
  };
}

/** A deploy run and an environment, as one key. */
/** A run's deploys to one environment, as a key: environments without case (row 200), as GitHub names them. */
function runEnvironment(runId: string, environment: string): string {
  return `${runId}\n${environmentKey(environment)}`;
}

/** The deployment's latest final status: success, or failure (`failure`, `error`); none yet: pending. */
function outcomeOf(deployment: DeploymentRecord): 'success' | 'failure' | 'pending' {
  const final = deployment.statuses
    .filter((s) => s.state === 'success' || s.state === 'failure' || s.state === 'error')
    .sort((a, b) => compare(a.createdAt, b.createdAt))
    .at(-1);
  if (!final) return 'pending';
  return final.state === 'success' ? 'success' : 'failure';
}

// ── thresholds ─────────────────────────────────────────────────────────────────────────────────────────────────

function thresholdResults(thresholds: NonNullable<Policy['report']>, m: SodReport['indicators']): ThresholdResult[] {
  const results: ThresholdResult[] = [];
  for (const { key, field, bound } of REPORT_THRESHOLD_KEYS) {
    const limit = thresholds[field];
    if (limit === undefined) continue;
    const judged = judge(key, m);
    const verdict =
      judged.value === null
        ? judged.emptyPasses
          ? 'pass'
          : 'not-evaluated'
        : (bound === 'max' ? judged.value <= limit : judged.value >= limit)
          ? 'pass'
          : 'fail';
    const rate = key.endsWith('-rate') || key.endsWith('-share');
    const shown = (value: number) =>
      key === 'max-review-latency-p90'
        ? duration(value)
        : rate
          ? `${round(value)} (${round(value * 100)}%)`
          : String(round(value));
    const reason =
      judged.value === null
        ? judged.why
        : `${judged.what} is ${shown(judged.value)}; ${key} ${shown(limit)}${verdict === 'pass' ? '' : ` — ${bound === 'max' ? 'above' : 'below'} it`}`;
    results.push({ key, indicator: judged.indicator, limit, value: judged.value, verdict, reason });
  }
  return results;
}

interface Judged {
  indicator: ThresholdResult['indicator'];
  value: number | null;
  what: string;
  /** Without a value: why (not measured, nothing to measure), and whether that passes (nothing to exceed). */
  why: string;
  emptyPasses: boolean;
}

function judge(key: ReportThresholdKey, m: SodReport['indicators']): Judged {
  const notMeasured = (indicator: Judged['indicator'], reason: string | undefined) => ({
    indicator,
    value: null,
    what: '',
    why: `not measured: ${reason}`,
    emptyPasses: false,
  });
  switch (key) {
    case 'max-unapproved-rate':
      if (m.M1.status === 'not-measured') return notMeasured('M1', m.M1.reason);
      return {
        indicator: 'M1',
        value: m.M1.rate,
        what: `${m.M1.unapproved} of ${m.M1.passed} passed deploys without an independent review${m.M1.redeploys ? ` (${m.M1.redeploys} reviewed redeploys of artifacts already shipped not counted)` : ''}`,
        why: 'no passed deploy in the window: none without a review',
        emptyPasses: true,
      };
    case 'max-review-latency-p90':
      return {
        indicator: 'M2',
        value: m.M2.review.p90Seconds,
        what: `the 90th percentile of pull request opened → first counted approval (${m.M2.review.count} pull requests)`,
        why: 'no pull request in the window records when it was opened and approved',
        emptyPasses: false,
      };
    case 'max-privileged-approval-share':
      return {
        indicator: 'M3',
        value: m.M3.share,
        what: `the share of counted approvals given by admins (${m.M3.privileged} of ${m.M3.approvals})`,
        why: 'no counted approval in the window',
        emptyPasses: true,
      };
    case 'max-audit-gaps':
      return {
        indicator: 'M6',
        value: m.M6.findings,
        what: 'the number of audit findings',
        why: '',
        emptyPasses: true,
      };
    case 'max-approval-reuse':
      return {
        indicator: 'M7',
        value: m.M7.reuses,
        what: 'the number of approvals reused',
        why: '',
        emptyPasses: true,
      };
    case 'max-break-glass-per-month':
      if (m.M8.status === 'not-measured') return notMeasured('M8', m.M8.reason);
      return {
        indicator: 'M8',
        value: m.M8.maxPerMonth,
        what: 'the most break-glasses used in one month',
        why: '',
        emptyPasses: true,
      };
    case 'max-break-glass-without-follow-up':
      if (m.M8.status === 'not-measured') return notMeasured('M8', m.M8.reason);
      return {
        indicator: 'M8',
        value: m.M8.withoutFollowUp,
        what: 'the number of break-glasses used whose change has no later review',
        why: '',
        emptyPasses: true,
      };
    case 'max-top-approver-share': {
      const eligible = m.M9.byAuthor.filter((a) => a.approvals >= MIN_APPROVALS_FOR_SHARE);
      const top = eligible[0];
      return {
        indicator: 'M9',
        value: top ? top.topShare : null,
        what: top
          ? `the highest share of one author's approvals given by one approver (${top.topApprover} for ${top.author}: ${top.approvals} approvals)`
          : '',
        why: `no author with ${MIN_APPROVALS_FOR_SHARE} or more counted approvals in the window`,
        emptyPasses: true,
      };
    }
    case 'min-deploy-success-rate':
      if (m.M10.status === 'not-measured') return notMeasured('M10', m.M10.reason);
      return {
        indicator: 'M10',
        value: m.M10.rate,
        what: `the share of passed deploys that succeeded (${m.M10.succeeded} of ${m.M10.succeeded + m.M10.failed} finished)`,
        why: 'no passed deploy in the window has a finished GitHub deployment',
        emptyPasses: false,
      };
  }
}

// ── GitHub's deployments ───────────────────────────────────────────────────────────────────────────────────────

export type SodReportErrorCode = 'DEPLOYMENTS_INVALID';

/** Deployments that cannot be read (a file given with --deployments): a usage error naming the field. */
export class SodReportError extends CodedError<SodReportErrorCode> {
  readonly kind = 'usage';
  override readonly name = 'SodReportError';
}

/**
 * GitHub's deployments as the REST API lists them (`GET /repos/{owner}/{repo}/deployments`), each with the list of
 * its statuses (`GET …/deployments/{id}/statuses`) as `statuses`. The run is read from a status's `log_url` or
 * `target_url` (`…/actions/runs/ID/…`), which GitHub Actions sets.
 */
/**
 * Each deployment once, by its id, with the statuses of every copy: the list is read a page at a time, newest first,
 * and one created meanwhile pushes the last of a page onto the next, where it is listed again (found by the review of
 * the report's fixes: a refusing gate listed twice read as two jobs).
 */
function oncePerId(deployments: readonly unknown[]): unknown[] {
  const byId = new Map<number, Record<string, unknown>>();
  const kept: unknown[] = [];
  for (const value of deployments) {
    const d = value as Record<string, unknown> | null;
    const first = typeof d?.id === 'number' ? byId.get(d.id) : undefined;
    if (!first) {
      if (typeof d?.id === 'number') byId.set(d.id, d);
      kept.push(value);
    } else if (Array.isArray(first.statuses) && Array.isArray(d!.statuses)) {
      const seen = new Set(first.statuses.map((status) => JSON.stringify(status)));
      const more = d!.statuses.filter((status) => !seen.has(JSON.stringify(status)));
      byId.set(d!.id as number, { ...first, statuses: [...first.statuses, ...more] });
      kept[kept.indexOf(first)] = byId.get(d!.id as number);
    }
  }
  return kept;
}

export function deploymentsFromGitHub(json: unknown, source: string): DeploymentRecord[] {
  const fail = (field: string, what: string): never => {
    throw new SodReportError('DEPLOYMENTS_INVALID', `${source}: ${field}: ${what}`);
  };
  if (!Array.isArray(json)) fail('(root)', 'expected a list of deployments');
  return oncePerId(json as unknown[]).map((value, i) => {
    const d = (value ?? {}) as Record<string, unknown>;
    const at = `[${i}]`;
    if (typeof d.id !== 'number') fail(`${at}.id`, 'expected a number');
    if (typeof d.environment !== 'string') fail(`${at}.environment`, 'expected a string');
    if (typeof d.sha !== 'string') fail(`${at}.sha`, 'expected a string');
    if (typeof d.created_at !== 'string' || Number.isNaN(Date.parse(d.created_at)))
      fail(`${at}.created_at`, 'expected a time');
    const statuses = d.statuses ?? [];
    if (!Array.isArray(statuses)) fail(`${at}.statuses`, 'expected a list of statuses');
    const url = typeof d.url === 'string' ? d.url : undefined;
    const repository = url ? /\/repos\/([^/]+\/[^/]+)\/deployments\//.exec(url)?.[1] : undefined;
    // Every run a status names (a page `https://HOST/OWNER/REPO/actions/runs/ID/…`, whatever its host or repository:
    // a repository renamed since keeps its old name in the statuses posted before), and every environment the
    // deployment was listed under. GitHub Actions names its run in each status it posts; a status anyone with
    // deployments: write posts may name another run, or move the deployment to another environment — then neither
    // is known, and no record covers it.
    const original = typeof d.original_environment === 'string' ? d.original_environment : (d.environment as string);
    // By environmentKey: `Production` and `production` are one GitHub environment (row 200), named as first spelt.
    const environments = new Map<string, string>();
    const named = (name: string) => {
      if (!environments.has(environmentKey(name))) environments.set(environmentKey(name), name);
    };
    named(original);
    named(d.environment as string);
    const runs = new Set<string>();
    const read = (statuses as Record<string, unknown>[]).map((s, j) => {
      if (typeof s?.state !== 'string') fail(`${at}.statuses[${j}].state`, 'expected a string');
      if (typeof s.created_at !== 'string') fail(`${at}.statuses[${j}].created_at`, 'expected a time');
      for (const link of [s.log_url, s.target_url]) {
        const id = typeof link === 'string' ? runNamedBy(link) : undefined;
        if (id) runs.add(id);
      }
      if (typeof s.environment === 'string' && s.environment !== '') named(s.environment);
      return { state: s.state as string, createdAt: s.created_at as string };
    });
    const runId = runs.size === 1 && environments.size === 1 ? [...runs][0] : undefined;
    return {
      id: d.id as number,
      ...(url && { url }),
      ...(repository && { repository }),
      environment: original,
      sha: d.sha as string,
      createdAt: d.created_at as string,
      ...(runId !== undefined && { runId }),
      ...(runs.size > 1 && { runsNamed: [...runs] }),
      ...(environments.size > 1 && { environmentsNamed: [...environments.values()] }),
      statuses: read,
    };
  });
}

/** The run a status URL names (`…/OWNER/REPO/actions/runs/ID`, at the start of its path), or undefined. */
function runNamedBy(link: string): string | undefined {
  let path: string;
  try {
    const parsed = new URL(link);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined;
    path = parsed.pathname;
  } catch {
    return undefined;
  }
  const match = /^\/([^/]+)\/([^/]+)\/actions\/runs\/(\d+)(?:\/|$)/.exec(path);
  return match?.[3];
}

// ── helpers ────────────────────────────────────────────────────────────────────────────────────────────────────

/** Each pull request merged as a commit once, however many times its review was signed (a re-run of sign). */
function uniquePullRequests(reviews: readonly ReviewFact[]): ReviewFact[] {
  const seen = new Map<string, ReviewFact>();
  for (const r of reviews) {
    const key = `${r.repository.toLowerCase()}#${r.pullRequest.number}@${r.commit}`;
    if (!seen.has(key)) seen.set(key, r);
  }
  return [...seen.values()];
}

function windowTest(since: Date | undefined, until: Date | undefined): (time: string) => boolean {
  const from = since?.getTime() ?? Number.NEGATIVE_INFINITY;
  const to = until?.getTime() ?? Number.POSITIVE_INFINITY;
  return (time) => {
    const t = Date.parse(time);
    return t >= from && t < to;
  };
}

function status(notMeasured: string | undefined): Measured {
  return notMeasured ? { status: 'not-measured', reason: notMeasured } : { status: 'measured' };
}

function deployLink(d: DecisionFact): DeployLink {
  return {
    record: d.evidence,
    repository: d.repository,
    ...(d.environment !== undefined && { environment: d.environment }),
    at: d.at,
    ...(d.run !== undefined && { run: d.run }),
  };
}

/** `YYYY-MM` (UTC) of a time. */
export function monthOf(time: string): string {
  return new Date(time).toISOString().slice(0, 7);
}

/** The most months a report lists (a century): the latest ones. */
const MAX_MONTHS = 1200;

/**
 * Every month from the earliest time's to the latest's, in order, of the times not after `notAfter` (the report's own
 * time); of four-digit years, the latest MAX_MONTHS.
 */
export function monthsOf(times: readonly string[], notAfter = Infinity): string[] {
  // A time past 9999 is `+010000-…`: it sorted first as text and never ended the walk. A window opened a century ago
  // must not list only its first century either (M8's busiest month would be one without a fact): counted back from
  // the latest month.
  const indices = times
    .filter((time) => Date.parse(time) <= notAfter)
    .map(monthOf)
    .filter((m) => /^\d{4}-\d{2}$/.test(m))
    .map((m) => Number(m.slice(0, 4)) * 12 + Number(m.slice(5, 7)) - 1);
  if (indices.length === 0) return [];
  // A loop, not Math.max(...indices): spread arguments overflow the stack past ~125,000 times.
  let earliest = indices[0]!;
  let last = indices[0]!;
  for (const index of indices) {
    if (index < earliest) earliest = index;
    if (index > last) last = index;
  }
  const first = Math.max(earliest, last - MAX_MONTHS + 1);
  const out: string[] = [];
  for (let index = first; index <= last; index += 1) {
    out.push(`${String(Math.floor(index / 12)).padStart(4, '0')}-${String((index % 12) + 1).padStart(2, '0')}`);
  }
  return out;
}

/** Median and 90th percentile by nearest rank (the value at rank ⌈p·n⌉ of the sorted list). */
export function latencyStats(seconds: readonly number[]): LatencyStats {
  const sorted = [...seconds].sort((a, b) => a - b);
  const rank = (p: number) => (sorted.length === 0 ? null : sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!);
  return { count: sorted.length, medianSeconds: rank(0.5), p90Seconds: rank(0.9) };
}

/** Σ share²: 1/n when n approvers share evenly, 1 when one gives them all. */
export function herfindahl(counts: readonly number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  return total === 0 ? 0 : counts.reduce((sum, c) => sum + (c / total) ** 2, 0);
}

function groupBy<T>(rows: readonly T[], key: (row: T) => string): [string, T[]][] {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    const group = groups.get(k);
    if (group) group.push(row);
    else groups.set(k, [row]);
  }
  return [...groups].sort(([a], [b]) => compare(a, b));
}

function sortByTime<T extends { at: string; evidence: EvidenceLink }>(rows: readonly T[]): T[] {
  return [...rows].sort((a, b) => compare(a.at, b.at) || compare(a.evidence.source, b.evidence.source));
}

function earliest(times: readonly string[]): string | undefined {
  let found: string | undefined;
  for (const t of times) if (found === undefined || Date.parse(t) < Date.parse(found)) found = t;
  return found;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

/** Seconds as the policy writes durations: `36h`, `2d`, `90m`, `45s`. */
export function duration(seconds: number): string {
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  if (seconds >= 3600) return `${round(seconds / 3600)}h`;
  return `${round(seconds)}s`;
}
