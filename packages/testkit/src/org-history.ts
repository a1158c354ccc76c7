// A history that looks like an organisation (issue 18): three repositories and their teams, months of pull requests
// reviewed and deployed, refusals, a few break-glasses (one with a follow-up review, one used twice), a colluding
// pair who only approve each other, a deploy run that left no decision record, a review approval and a deploy
// approval reused — planned with the ground truth of every indicator, then signed on the loopback Sigstore stack
// under the four workflow identities, each statement built by the same functions the actions use. `twokey report`
// over the files must find exactly the truth.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  type ArtifactReport,
  breakGlassId,
  buildBreakGlassStatement,
  buildDeployApprovalStatement,
  buildReviewStatement,
  buildVerificationSummary,
  type Check,
  DEFAULT_REVIEW_RULES,
  DEPLOY_CHECK_IDS,
  type DeployReport,
  evaluateReview,
  type GitHubAccount,
  type ReviewEvidence,
  type VerifiedBundle,
} from '@twokey/core';
import { signStatement } from '@twokey/sigstore';
import { GITHUB_ACTIONS_ISSUER, identity, type OidcIssuer, type WorkflowIdentity } from './oidc-issuer';
import type { SigstoreStack } from './sigstore-stack';

const PLATFORM = 'acme/platform/.github/workflows';
/** The four identities, as `job_workflow_ref`s of the platform's reusable workflows. */
export const ORG_HISTORY_WORKFLOWS = {
  build: `${PLATFORM}/twokey-build.yml@refs/tags/v1.0.0`,
  sign: `${PLATFORM}/twokey-sign.yml@refs/tags/v1.0.0`,
  deploy: `${PLATFORM}/twokey-deploy.yml@refs/tags/v1.0.0`,
  breakGlass: `${PLATFORM}/twokey-break-glass.yml@refs/tags/v1.0.0`,
} as const;

const SERVER = 'https://github.com';
const ENVIRONMENT = 'production';

/** The org policy naming the four identities, verifying against `trustedRoot`, with `report` appended as it is. */
export function orgHistoryPolicy(trustedRoot: string, report = ''): string {
  const san = (workflow: string) => `${SERVER}/${workflow}`;
  return [
    'version: 1',
    'identities:',
    `  build: { issuer: ${GITHUB_ACTIONS_ISSUER}, san: ${san(ORG_HISTORY_WORKFLOWS.build)} }`,
    `  sign: { issuer: ${GITHUB_ACTIONS_ISSUER}, san: ${san(ORG_HISTORY_WORKFLOWS.sign)} }`,
    `  deploy: { issuer: ${GITHUB_ACTIONS_ISSUER}, san: ${san(ORG_HISTORY_WORKFLOWS.deploy)} }`,
    `  break-glass: { issuer: ${GITHUB_ACTIONS_ISSUER}, san: ${san(ORG_HISTORY_WORKFLOWS.breakGlass)} }`,
    'deploy:',
    `  trusted-root: ${JSON.stringify(trustedRoot)}`,
    '  approvals: { min: 1, require-prevent-self-review: true }',
    report,
  ].join('\n');
}

export interface OrgHistoryOptions {
  /** The first month (UTC, `YYYY-MM`); default: `months` before the current one, so that all of it is past. */
  firstMonth?: string;
  /** Months of history (default 4). */
  months?: number;
  /** Pull requests a month in each repository (default 3). */
  pullRequestsPerMonth?: number;
  /** The organisation the repositories belong to (default acme): several histories side by side (the bench). */
  owner?: string;
  /** Added to every run id, review id and pull request number, so that histories side by side never share one. */
  idBase?: number;
}

interface Team {
  repository: string;
  /** Who writes the pull requests, in turn. */
  authors: string[];
  /** Who approves each author's pull requests, in turn. */
  approvers: Record<string, string[]>;
  admins: string[];
  /** Who approves deploys through the production environment. */
  releaseManager: string;
}

/** The teams: acme/data's mallory and trent approve only each other (the colluding pair). */
const TEAMS: Team[] = [
  {
    repository: 'acme/payments',
    authors: ['alice', 'bob', 'carol', 'dave'],
    approvers: {
      alice: ['bob', 'carol', 'dave'],
      bob: ['carol', 'dave', 'alice'],
      carol: ['dave', 'alice', 'bob'],
      dave: ['alice', 'bob', 'carol'],
    },
    admins: ['carol'],
    releaseManager: 'rita',
  },
  {
    repository: 'acme/web',
    authors: ['erin', 'frank', 'grace', 'heidi'],
    approvers: {
      erin: ['frank', 'grace', 'heidi'],
      frank: ['grace', 'heidi', 'erin'],
      grace: ['heidi', 'erin', 'frank'],
      heidi: ['erin', 'frank', 'grace'],
    },
    admins: [],
    releaseManager: 'rita',
  },
  {
    repository: 'acme/data',
    authors: ['mallory', 'trent', 'mallory', 'trent', 'ivan', 'mallory', 'trent', 'judy'],
    approvers: {
      mallory: ['trent'],
      trent: ['mallory'],
      ivan: ['judy', 'mallory', 'trent'],
      judy: ['ivan', 'trent', 'mallory'],
    },
    admins: ['ivan'],
    releaseManager: 'sybil',
  },
];

/** Hours from a pull request's opening to its first approval, in turn (M2). */
const REVIEW_HOURS = [2, 5, 1, 26, 3, 8, 50, 4, 12, 6, 30, 0.5];
/** Minutes from a deploy's request to its approval, in turn (M2). */
const DEPLOY_MINUTES = [12, 5, 40, 120, 25, 8, 3, 60];

export interface PlannedPullRequest {
  repository: string;
  number: number;
  url: string;
  author: string;
  approvals: { login: string; reviewId: number; at: string; permission: 'admin' | 'write' }[];
  /** Absent for the one pull request whose opening time was not recorded. */
  createdAt?: string;
  mergedAt: string;
  head: string;
  commit: string;
  /** The pull request's own commits (a follow-up review also carries the hotfix it reviews). */
  commits: string[];
  artifact: { name: string; sha256: string };
  /** A second attestation reusing the approvals of an earlier one, for another commit. */
  reuses?: { commit: string };
}

export interface PlannedBreakGlass {
  repository: string;
  commit: string;
  author: string;
  requester: string;
  approvers: string[];
  notBefore: string;
  expires: string;
  incident: string;
  artifact: { name: string; sha256: string };
  runId: string;
}

export interface PlannedDeploy {
  repository: string;
  runId: string;
  /** When the deploy job evaluated (the record's timeVerified). */
  at: string;
  /** When GitHub created the deployment (the deploy was requested). */
  requestedAt: string;
  artifact: { name: string; sha256: string };
  commit: string;
  result: 'PASSED' | 'FAILED';
  failedChecks: string[];
  /** The pull request whose review it rests on, by index; the break-glass it rests on, by index. */
  pullRequest?: number;
  breakGlass?: number;
  /** Its own deploy approval (signed by this run); or the run whose approval it reuses; or none. */
  approval: { own: string[] } | { reusedFromRun: string };
  /** False: the run signed its approval but no decision record (the missing record). */
  recorded: boolean;
  /** GitHub's final deployment status. */
  outcome: 'success' | 'failure' | 'pending';
}

export interface OrgHistory {
  pullRequests: PlannedPullRequest[];
  breakGlasses: PlannedBreakGlass[];
  deploys: PlannedDeploy[];
  months: string[];
}

/** The history, planned: deterministic for the same options. */
export function planOrgHistory(options: OrgHistoryOptions = {}): OrgHistory {
  const monthCount = options.months ?? 4;
  const perMonth = options.pullRequestsPerMonth ?? 3;
  const first = options.firstMonth ?? monthBefore(new Date(), monthCount);
  const months = Array.from({ length: monthCount }, (_, i) => addMonths(first, i));
  const idBase = options.idBase ?? 0;
  const ids = counter(5000 + idBase);
  const runs = counter(880_000_000 + idBase);
  const owner = options.owner ?? 'acme';
  const teams = TEAMS.map((team) => ({ ...team, repository: team.repository.replace(/^acme\//, `${owner}/`) }));
  const repo = (name: string) => `${owner}/${name}`;
  const pullRequests: PlannedPullRequest[] = [];
  const deploys: PlannedDeploy[] = [];
  const breakGlasses: PlannedBreakGlass[] = [];
  let latencyTurn = 0;
  let deployTurn = 0;

  const deploy = (
    d: Omit<PlannedDeploy, 'runId' | 'requestedAt' | 'recorded' | 'outcome'> & Partial<PlannedDeploy>,
  ) => {
    const minutes = DEPLOY_MINUTES[deployTurn++ % DEPLOY_MINUTES.length]!;
    deploys.push({
      runId: String(runs()),
      requestedAt: shift(d.at, -(minutes + 1) * 60),
      recorded: true,
      outcome: d.result === 'PASSED' ? 'success' : 'failure',
      ...d,
    });
  };

  teams.forEach((team, t) => {
    const turns = new Map<string, number>();
    let number = idBase + 100 * (t + 1);
    months.forEach((month, m) => {
      for (let j = 0; j < perMonth; j += 1) {
        const author = team.authors[(m * perMonth + j) % team.authors.length]!;
        const turn = turns.get(author) ?? 0;
        turns.set(author, turn + 1);
        const pool = team.approvers[author]!;
        // Every fourth pull request of a repository has a second approver (when the author has one to ask).
        const approvers = [pool[turn % pool.length]!];
        if ((m * perMonth + j) % 4 === 3 && pool.length > 1) approvers.push(pool[(turn + 1) % pool.length]!);
        number += 1;
        // Spread over the month's first twenty days, whatever their number: every merge and deploy stays in the past.
        const createdAt = shift(at(month, 1, 9 + t), Math.floor((j * 20 * 24) / perMonth) * 3600);
        const hoursToApproval = REVIEW_HOURS[latencyTurn++ % REVIEW_HOURS.length]!;
        const approvedAt = shift(createdAt, hoursToApproval * 3600);
        const mergedAt = shift(approvedAt, 3 * 3600);
        const head = hex40(`${team.repository}#${number}/head`);
        const commit = hex40(`${team.repository}#${number}/merge`);
        pullRequests.push({
          repository: team.repository,
          number,
          url: `${SERVER}/${team.repository}/pull/${number}`,
          author,
          approvals: approvers.map((login, k) => ({
            login,
            reviewId: ids(),
            at: shift(approvedAt, k * 3600),
            permission: team.admins.includes(login) ? 'admin' : 'write',
          })),
          // acme/web's first pull request predates the sign stage recording when a pull request was opened.
          ...(!(t === 1 && m === 0 && j === 0) && { createdAt }),
          mergedAt,
          head,
          commit,
          commits: [hex40(`${team.repository}#${number}/1`), head],
          artifact: artifactOf(team.repository, commit),
        });
        const pr = pullRequests.length - 1;
        deploy({
          repository: team.repository,
          at: shift(mergedAt, 2 * 3600),
          artifact: pullRequests[pr]!.artifact,
          commit,
          result: 'PASSED',
          failedChecks: [],
          pullRequest: pr,
          approval: { own: [team.releaseManager] },
        });
      }
    });
  });

  // Refusals: a deploy approved by nobody independent, then the same artifact again, approved.
  const refusedPr = pullRequests.findIndex((p) => p.repository === repo('web'));
  const refused = deploys.find((d) => d.pullRequest === refusedPr)!;
  deploy({
    ...pick(refused, ['repository', 'artifact', 'commit', 'pullRequest']),
    at: shift(refused.at, -3600),
    result: 'FAILED',
    failedChecks: ['deploy-approval'],
    approval: { own: [] },
  });
  // An old artifact, refused as stale.
  const stalePr = pullRequests.findIndex((p) => p.repository === repo('payments'));
  const stale = deploys.find((d) => d.pullRequest === stalePr)!;
  deploy({
    ...pick(stale, ['repository', 'artifact', 'commit', 'pullRequest']),
    at: at(months[months.length - 1]!, 27, 10),
    result: 'FAILED',
    failedChecks: ['fresh'],
    approval: { own: ['rita'] },
  });

  // Break-glasses: hotfixes pushed straight to main during incidents. The first is refused without one.
  const hotfix = (
    repository: string,
    month: string,
    day: number,
    author: string,
    requester: string,
    approver: string,
  ) => {
    const commit = hex40(`${repository}/hotfix/${month}-${day}`);
    const notBefore = at(month, day, 2);
    const index = breakGlasses.push({
      repository,
      commit,
      author,
      requester,
      approvers: [approver],
      notBefore,
      expires: shift(notBefore, 4 * 3600),
      incident: `https://acme.example/incidents/${month}-${day}`,
      artifact: artifactOf(repository, commit),
      runId: String(runs()),
    });
    return index - 1;
  };
  const second = months[Math.min(1, months.length - 1)]!;
  const third = months[Math.min(2, months.length - 1)]!;
  const b0 = hotfix(repo('payments'), second, 11, 'alice', 'alice', 'carol');
  const b1 = hotfix(repo('web'), second, 19, 'frank', 'heidi', 'erin');
  const b2 = hotfix(repo('data'), third, 7, 'ivan', 'ivan', 'judy');
  deploy({
    repository: repo('payments'),
    at: shift(breakGlasses[b0]!.notBefore, -1800),
    artifact: breakGlasses[b0]!.artifact,
    commit: breakGlasses[b0]!.commit,
    result: 'FAILED',
    failedChecks: ['review-attestation', 'review-rules'],
    approval: { own: ['rita'] },
  });
  for (const b of [b0, b1, b2]) {
    const glass = breakGlasses[b]!;
    deploy({
      repository: glass.repository,
      at: shift(glass.notBefore, 1800),
      artifact: glass.artifact,
      commit: glass.commit,
      result: 'PASSED',
      failedChecks: [],
      breakGlass: b,
      approval: { own: [teams.find((team) => team.repository === glass.repository)!.releaseManager] },
    });
  }
  // The third break-glass used a second time, by another run, within its window.
  deploy({
    repository: repo('data'),
    at: shift(breakGlasses[b2]!.notBefore, 2 * 3600),
    artifact: breakGlasses[b2]!.artifact,
    commit: breakGlasses[b2]!.commit,
    result: 'PASSED',
    failedChecks: [],
    breakGlass: b2,
    approval: { own: ['sybil'] },
  });
  // The first hotfix reviewed afterwards: a pull request whose commits carry it.
  const followed = pullRequests.findIndex(
    (p) => p.repository === repo('payments') && Date.parse(p.mergedAt) > Date.parse(breakGlasses[b0]!.notBefore),
  );
  pullRequests[followed]!.commits.unshift(breakGlasses[b0]!.commit);

  // A review approval reused: acme/web's second pull request's attestation signed again for another commit.
  const reusedPr = pullRequests.filter((p) => p.repository === repo('web'))[1]!;
  const reusedCommit = hex40(`${reusedPr.repository}#${reusedPr.number}/again`);
  pullRequests.push({
    ...reusedPr,
    approvals: reusedPr.approvals.map((a) => ({ ...a })),
    commit: reusedCommit,
    artifact: artifactOf(reusedPr.repository, reusedCommit),
    reuses: { commit: reusedPr.commit },
  });

  // A deploy approval reused: a later run redeploys acme/payments' last artifact on an earlier run's approval.
  const lastPayments = [...deploys]
    .reverse()
    .find((d) => d.repository === repo('payments') && d.result === 'PASSED' && d.pullRequest !== undefined)!;
  deploy({
    ...pick(lastPayments, ['repository', 'artifact', 'commit', 'pullRequest']),
    at: shift(lastPayments.at, 5 * 3600),
    result: 'PASSED',
    failedChecks: [],
    approval: { reusedFromRun: lastPayments.runId },
  });

  // The missing record: a deploy run approved and deployed, whose decision record is nowhere.
  const missing = deploys.find(
    (d) => d.repository === repo('data') && d.result === 'PASSED' && d.pullRequest !== undefined,
  )!;
  missing.recorded = false;

  // Outcomes: two passed deploys failed in production, the latest is still running.
  const passed = deploys.filter((d) => d.result === 'PASSED' && d.recorded).sort((a, b) => compare(a.at, b.at));
  passed[3]!.outcome = 'failure';
  passed[10]!.outcome = 'failure';
  passed[passed.length - 1]!.outcome = 'pending';

  deploys.sort((a, b) => compare(a.at, b.at));
  return { pullRequests, breakGlasses, deploys, months };
}

// ── ground truth ───────────────────────────────────────────────────────────────────────────────────────────────

/** What every indicator must say over the history (in a window), computed from the plan, not from evidence. */
export interface OrgHistoryTruth {
  M1: { passed: number; refused: number; unapproved: number; refusalsByCheck: Record<string, number> };
  M2: {
    review: { count: number; unmeasured: number; medianSeconds: number | null; p90Seconds: number | null };
    deploy: { count: number; unmeasured: number; medianSeconds: number | null; p90Seconds: number | null };
  };
  M3: { approvals: number; privileged: number; privilegedApprovers: Record<string, number> };
  M6: { findings: number; byKind: Record<string, number> };
  M7: {
    reuses: number;
    reviewApprovals: { reviewId: number; reviewer: string; commits: string[] }[];
    deployApprovals: { run: string; usedByRuns: string[] }[];
    breakGlasses: { artifact: string; runs: string[] }[];
  };
  M8: {
    used: number;
    signed: number;
    withoutFollowUp: number;
    maxPerMonth: number;
    usedByMonth: Record<string, number>;
  };
  M9: { approvals: number; authors: number; approvers: number; suspectedCollusion: [string, string][] };
  M10: { matched: number; succeeded: number; failed: number; pending: number };
}

/**
 * `withDeployments`: GitHub's deployments are given (M10). `requestedAtSigned`: the deploy approvals record when their
 * deploy was requested, as this generator signs them; false for a corpus signed before they did, whose deploy side
 * of M2 only GitHub's deployments measure.
 */
export function orgHistoryTruth(
  history: OrgHistory,
  window: { since?: Date; until?: Date } = {},
  withDeployments = true,
  requestedAtSigned = true,
): OrgHistoryTruth {
  const within = (time: string) =>
    Date.parse(time) >= (window.since?.getTime() ?? -Infinity) &&
    Date.parse(time) < (window.until?.getTime() ?? Infinity);
  const recorded = history.deploys.filter((d) => d.recorded && within(d.at));
  const passed = recorded.filter((d) => d.result === 'PASSED');
  const refusals: Record<string, number> = {};
  for (const d of recorded) for (const c of d.failedChecks) refusals[c] = (refusals[c] ?? 0) + 1;
  const prs = history.pullRequests.filter((p) => within(p.mergedAt));
  const latencies = prs.flatMap((p) =>
    p.createdAt ? [(Math.min(...p.approvals.map((a) => Date.parse(a.at))) - Date.parse(p.createdAt)) / 1000] : [],
  );
  const approvals = prs.flatMap((p) => p.approvals.map((a) => ({ ...a, author: p.author })));
  const privileged = approvals.filter((a) => a.permission === 'admin');
  const count = (logins: string[]) => {
    const out: Record<string, number> = {};
    for (const l of logins) out[l] = (out[l] ?? 0) + 1;
    return out;
  };
  const ownApproval = (d: PlannedDeploy) => 'own' in d.approval;
  const approvalTimes = history.deploys.filter((d) => ownApproval(d) && within(shift(d.at, -60)));
  const deployLatencies =
    withDeployments || requestedAtSigned
      ? approvalTimes.map((d) => (Date.parse(shift(d.at, -60)) - Date.parse(d.requestedAt)) / 1000)
      : [];
  const missing = history.deploys.filter((d) => !d.recorded && within(shift(d.at, -60)));
  const reusedReviews = prs.filter((p) => p.reuses);
  const reusedApprovals = passed.filter((d) => 'reusedFromRun' in d.approval);
  const glassUses = new Map<number, PlannedDeploy[]>();
  for (const d of passed)
    if (d.breakGlass !== undefined) glassUses.set(d.breakGlass, [...(glassUses.get(d.breakGlass) ?? []), d]);
  const twice = [...glassUses].filter(([, uses]) => uses.length > 1);
  const followedUp = (b: PlannedBreakGlass) =>
    history.pullRequests.some((p) => p.commits.includes(b.commit) && Date.parse(p.mergedAt) >= Date.parse(b.notBefore));
  const usedByMonth: Record<string, number> = {};
  for (const [, uses] of glassUses) {
    const month = new Date(uses.map((u) => u.at).sort()[0]!).toISOString().slice(0, 7);
    usedByMonth[month] = (usedByMonth[month] ?? 0) + 1;
  }
  const perAuthor = new Map<string, Map<string, number>>();
  for (const a of approvals) {
    const row = perAuthor.get(a.author) ?? new Map<string, number>();
    row.set(a.login, (row.get(a.login) ?? 0) + 1);
    perAuthor.set(a.author, row);
  }
  // The colluding pair, as planned: each gives the other every approval.
  const colluding: [string, string][] = TEAMS.flatMap((team) =>
    Object.entries(team.approvers).flatMap(([author, pool]) =>
      pool.length === 1 &&
      author < pool[0]! &&
      team.approvers[pool[0]!]?.length === 1 &&
      team.approvers[pool[0]!]![0] === author &&
      approvals.filter((a) => a.author === author).length >= 5 &&
      approvals.filter((a) => a.author === pool[0]).length >= 5
        ? [[author, pool[0]!] as [string, string]]
        : [],
    ),
  );
  const withDeployment = withDeployments ? passed : [];
  const stats = (seconds: number[]) => {
    const sorted = [...seconds].sort((a, b) => a - b);
    const rank = (p: number) => (sorted.length ? sorted[Math.ceil(p * sorted.length) - 1]! : null);
    return { count: sorted.length, medianSeconds: rank(0.5), p90Seconds: rank(0.9) };
  };
  const findings: Record<string, number> = {};
  if (missing.length) findings['deploy-without-record'] = missing.length;
  return {
    M1: {
      passed: passed.length,
      refused: recorded.length - passed.length,
      unapproved: passed.filter((d) => d.breakGlass !== undefined).length,
      refusalsByCheck: refusals,
    },
    M2: {
      review: { ...stats(latencies), unmeasured: prs.length - latencies.length },
      deploy: { ...stats(deployLatencies), unmeasured: approvalTimes.length - deployLatencies.length },
    },
    M3: {
      approvals: approvals.length,
      privileged: privileged.length,
      privilegedApprovers: count(privileged.map((a) => a.login)),
    },
    M6: { findings: missing.length, byKind: findings },
    M7: {
      reuses: reusedReviews.reduce((n, p) => n + p.approvals.length, 0) + reusedApprovals.length + twice.length,
      reviewApprovals: reusedReviews.flatMap((p) =>
        p.approvals.map((a) => ({ reviewId: a.reviewId, reviewer: a.login, commits: [p.reuses!.commit, p.commit] })),
      ),
      deployApprovals: reusedApprovals.map((d) => {
        const run = (d.approval as { reusedFromRun: string }).reusedFromRun;
        return { run, usedByRuns: [run, d.runId] };
      }),
      breakGlasses: twice.map(([b, uses]) => ({
        artifact: history.breakGlasses[b]!.artifact.sha256,
        runs: uses.map((u) => u.runId),
      })),
    },
    M8: {
      used: glassUses.size,
      signed: history.breakGlasses.filter((b) => within(b.notBefore)).length,
      withoutFollowUp: [...glassUses.keys()].filter((b) => !followedUp(history.breakGlasses[b]!)).length,
      maxPerMonth: Math.max(0, ...Object.values(usedByMonth)),
      usedByMonth,
    },
    M9: {
      approvals: approvals.length,
      authors: perAuthor.size,
      approvers: new Set(approvals.map((a) => a.login)).size,
      suspectedCollusion: colluding,
    },
    M10: {
      matched: withDeployment.length,
      succeeded: withDeployment.filter((d) => d.outcome === 'success').length,
      failed: withDeployment.filter((d) => d.outcome === 'failure').length,
      pending: withDeployment.filter((d) => d.outcome === 'pending').length,
    },
  };
}

// ── statements ─────────────────────────────────────────────────────────────────────────────────────────────────

/** One bundle to sign: where it goes, who signs it, and what. */
export interface PlannedStatement {
  file: string;
  role: 'review' | 'break-glass' | 'deploy-approval' | 'decision-record';
  signer: WorkflowIdentity;
  statement: object;
}

/**
 * The statements of a history in the order they can be made: reviews and break-glasses, then each deploy run's
 * approval (naming the bundles it rests on) and its record (naming every bundle, its approval included), given the
 * sha256 of each bundle file as it was written (`digestOf(file)`).
 */
export function* orgHistoryStatements(
  history: OrgHistory,
  digestOf: (file: string) => string,
): Generator<PlannedStatement[], void, void> {
  const reviewFile = (i: number) => `${history.pullRequests[i]!.repository}/reviews/${i}.sigstore.json`;
  const glassFile = (i: number) => `${history.breakGlasses[i]!.repository}/break-glass/${i}.sigstore.json`;
  const approvalFile = (d: PlannedDeploy) => `${d.repository}/deploy-approvals/${d.runId}.sigstore.json`;
  // Decision records of a repository are kept a line each, as `gh attestation download` writes them.
  const recordFile = (d: PlannedDeploy) => `${d.repository}/decisions.jsonl#${d.runId}`;

  yield [
    ...history.pullRequests.map((pr, i) => ({
      file: reviewFile(i),
      role: 'review' as const,
      signer: job(
        pr.repository,
        ORG_HISTORY_WORKFLOWS.sign,
        pr.commit,
        `sign/${pr.repository}#${pr.number}@${pr.commit}`,
      ),
      statement: reviewStatement(pr),
    })),
    ...history.breakGlasses.map((glass, i) => ({
      file: glassFile(i),
      role: 'break-glass' as const,
      signer: job(glass.repository, ORG_HISTORY_WORKFLOWS.breakGlass, glass.commit, glass.runId, {
        environment: 'twokey-break-glass',
        event_name: 'workflow_dispatch',
      }),
      statement: breakGlassStatement(glass),
    })),
  ];

  const ownInputs = (d: PlannedDeploy) =>
    d.pullRequest !== undefined
      ? [reviewFile(d.pullRequest)]
      : d.breakGlass !== undefined
        ? [glassFile(d.breakGlass)]
        : [];
  const deployer = (d: PlannedDeploy) =>
    job(d.repository, ORG_HISTORY_WORKFLOWS.deploy, d.commit, d.runId, { environment: ENVIRONMENT, actor: 'octocat' });
  yield history.deploys
    .filter((d) => 'own' in d.approval)
    .map((d) => ({
      file: approvalFile(d),
      role: 'deploy-approval' as const,
      signer: deployer(d),
      statement: deployApprovalStatement(
        d,
        (d.approval as { own: string[] }).own,
        ownInputs(d).map((f) => ({ file: f, sha256: digestOf(f) })),
      ),
    }));

  const approvalOf = (d: PlannedDeploy) =>
    'own' in d.approval
      ? approvalFile(d)
      : approvalFile(history.deploys.find((e) => e.runId === (d.approval as { reusedFromRun: string }).reusedFromRun)!);
  yield history.deploys
    .filter((d) => d.recorded)
    .map((d) => ({
      file: recordFile(d),
      role: 'decision-record' as const,
      signer: deployer(d),
      statement: decisionStatement(
        history,
        d,
        [...ownInputs(d), approvalOf(d)].map((f) => ({ file: f, sha256: digestOf(f) })),
      ),
    }));
}

/** GitHub's deployments of the history, as the REST API lists them with their statuses (M10). */
export function orgHistoryDeployments(history: OrgHistory): object[] {
  return history.deploys.map((d, i) => {
    const log = `${SERVER}/${d.repository}/actions/runs/${d.runId}/job/${900 + i}`;
    const statuses = [
      { state: 'waiting', created_at: d.requestedAt, log_url: log },
      { state: 'in_progress', created_at: shift(d.at, -30), log_url: log },
      ...(d.outcome === 'pending' ? [] : [{ state: d.outcome, created_at: shift(d.at, 300), log_url: log }]),
    ];
    return {
      id: 70_000 + i,
      url: `https://api.github.com/repos/${d.repository}/deployments/${70_000 + i}`,
      environment: ENVIRONMENT,
      sha: d.commit,
      ref: 'main',
      created_at: d.requestedAt,
      statuses,
    };
  });
}

function reviewStatement(pr: PlannedPullRequest): object {
  const author = account(pr.author);
  const person = { name: pr.author, email: `${pr.author}@acme.example`, account: author };
  const approvers = pr.approvals.map((a) => account(a.login));
  const merger = approvers[0]!;
  // The author pushed the commits a minute apart, an hour before opening the pull request: the last push made the head.
  const pushedAt = (i: number) => shift(pr.createdAt ?? shift(pr.mergedAt, -86400), -3600 + i * 60);
  const evidence: ReviewEvidence = {
    repository: pr.repository,
    commit: pr.commit,
    builtRef: 'refs/heads/main',
    defaultBranch: 'main',
    gaps: [],
    pullRequest: {
      number: pr.number,
      url: pr.url,
      title: `Change ${pr.number}`,
      author,
      headSha: pr.head,
      headRef: `change-${pr.number}`,
      headRepository: pr.repository,
      mergeCommitSha: pr.commit,
      ...(pr.createdAt && { createdAt: pr.createdAt }),
      mergedAt: pr.mergedAt,
      mergedBy: merger,
      mergeMethod: 'squash',
      baseRef: 'main',
      baseChanges: [],
    },
    commits: pr.commits.map((sha, i) => ({
      sha,
      author: person,
      committer: person,
      coAuthors: [],
      committedAt: pushedAt(i),
    })),
    reviews: pr.approvals.map((a, i) => ({
      id: a.reviewId,
      reviewer: approvers[i]!,
      state: 'APPROVED' as const,
      commitId: pr.head,
      submittedAt: a.at,
    })),
    profiles: [author, ...approvers].map((a) => ({ account: a, name: a.login })),
    lastPush: { accounts: [author], people: [], source: 'activity' },
    activity: {
      available: true,
      headPushes: [
        {
          id: 1,
          ref: `refs/heads/change-${pr.number}`,
          before: '0'.repeat(40),
          after: pr.head,
          timestamp: pushedAt(pr.commits.length - 1),
          activityType: 'push',
          actor: author,
        },
      ],
      builtCommitArrivals: [
        {
          id: 2,
          ref: 'refs/heads/main',
          before: '0'.repeat(40),
          after: pr.commit,
          timestamp: pr.mergedAt,
          activityType: 'pr_merge',
          actor: merger,
        },
      ],
    },
    permissions: Object.fromEntries([
      [pr.author, 'write' as const],
      ...pr.approvals.map((a) => [a.login, a.permission] as const),
    ]),
  };
  const rules = { ...DEFAULT_REVIEW_RULES };
  return buildReviewStatement({
    subjects: [{ name: pr.artifact.name, digest: { sha256: pr.artifact.sha256 } }],
    evidence,
    rules,
    result: evaluateReview(evidence, rules),
    serverUrl: SERVER,
  });
}

function breakGlassStatement(glass: PlannedBreakGlass): object {
  return buildBreakGlassStatement([{ name: glass.artifact.name, digest: { sha256: glass.artifact.sha256 } }], {
    reason: 'production is down',
    incident: glass.incident,
    environment: ENVIRONMENT,
    repository: { name: glass.repository, uri: `${SERVER}/${glass.repository}` },
    change: { commit: glass.commit, author: account(glass.author) },
    requester: account(glass.requester),
    approvers: glass.approvers.map(account),
    notBefore: glass.notBefore,
    expires: glass.expires,
    waives: ['review-attestation', 'review-rules'],
    run: { id: Number(glass.runId), attempt: 1, uri: runUri(glass.repository, glass.runId) },
  });
}

function deployApprovalStatement(
  d: PlannedDeploy,
  approvers: string[],
  inputs: { file: string; sha256: string }[],
): object {
  return buildDeployApprovalStatement([{ name: d.artifact.name, digest: { sha256: d.artifact.sha256 } }], {
    environment: ENVIRONMENT,
    repository: { name: d.repository, uri: `${SERVER}/${d.repository}` },
    run: { id: Number(d.runId), attempt: 1, uri: runUri(d.repository, d.runId) },
    requesters: [account('octocat')],
    approvals: approvers.map((login) => ({
      user: account(login),
      state: 'approved' as const,
      comment: `ok from ${login}`,
      environments: [ENVIRONMENT],
    })),
    protection: { requiredReviewers: [{ type: 'User', name: approvers[0] ?? 'rita' }], preventSelfReview: true },
    requestedAt: d.requestedAt,
    readAt: shift(d.at, -60),
    evidence: inputs.map((i) => ({ uri: `file:///runner/work/${i.file}`, digest: { sha256: i.sha256 } })),
  });
}

/** The record as the deploy job builds it: from its deploy report, naming every bundle it rested on. */
function decisionStatement(history: OrgHistory, d: PlannedDeploy, inputs: { file: string; sha256: string }[]): object {
  const glass = d.breakGlass === undefined ? undefined : history.breakGlasses[d.breakGlass]!;
  const failed = new Set(d.failedChecks);
  const checks: Check[] = DEPLOY_CHECK_IDS.map((id) => ({
    id,
    verdict: failed.has(id)
      ? 'fail'
      : glass && (id === 'review-attestation' || id === 'review-rules')
        ? 'waived'
        : 'pass',
    reason: failed.has(id) ? `${id} refused` : `${id} holds`,
  }));
  const signer = { san: `${SERVER}/${ORG_HISTORY_WORKFLOWS.deploy}`, issuer: GITHUB_ACTIONS_ISSUER };
  const evidence = inputs.map((input) => ({
    role: input.file.includes('/reviews/')
      ? ('review' as const)
      : input.file.includes('/break-glass/')
        ? ('break-glass' as const)
        : ('deploy-approval' as const),
    source: input.file,
    signer,
    signedAt: [d.at],
  }));
  const artifact: ArtifactReport = {
    artifact: { name: d.artifact.name, digest: `sha256:${d.artifact.sha256}` },
    verdict: d.result === 'PASSED' ? 'pass' : 'fail',
    checks,
    chain: { repository: d.repository, commit: d.commit, approvers: [] },
    evidence,
    ...(glass && {
      breakGlass: {
        source: inputs[0]!.file,
        id: breakGlassId(JSON.parse(JSON.stringify(breakGlassStatement(glass)))),
        reason: 'production is down',
        incident: glass.incident,
        environment: ENVIRONMENT,
        requester: { login: glass.requester, id: userId(glass.requester) },
        approvers: glass.approvers.map((login) => ({ login, id: userId(login) })),
        notBefore: glass.notBefore,
        expires: glass.expires,
        waives: ['review-attestation', 'review-rules'],
      },
    }),
  };
  const report: DeployReport = {
    schemaVersion: 1,
    verdict: artifact.verdict,
    evaluatedAt: d.at,
    policy: { source: '.twokey/org-policy.yml', digest: 'e'.repeat(64) },
    artifacts: [artifact],
    rejected: [],
  };
  const attestations = inputs.map((input) => ({
    bundle: {
      source: input.file,
      kind: 'dsse',
      signer: { ...signer, extensions: {} },
      signedAt: [new Date(d.at)],
    } as VerifiedBundle,
    uri: `file:///runner/work/${input.file}`,
    sha256: input.sha256,
  }));
  return buildVerificationSummary({
    report,
    verifier: { id: signer.san, version: { twokey: '0.1.0' } },
    resourceUri: `${SERVER}/${d.repository}/deployments/${ENVIRONMENT}`,
    policyUri: `git+${SERVER}/acme/platform@${'f'.repeat(40)}#.twokey/org-policy.yml`,
    attestations,
    environment: ENVIRONMENT,
  });
}

// ── signing ────────────────────────────────────────────────────────────────────────────────────────────────────

export interface SignedOrgHistory {
  /** The directory every bundle was written below (`--bundle DIR`). */
  directory: string;
  /** Every bundle, as `twokey report` names it (relative to `directory`; a JSON Lines bundle as `FILE#Ln`). */
  bundles: string[];
  /** GitHub's deployments (`--deployments FILE`), beside the bundles' directory. */
  deploymentsFile: string;
}

/**
 * Signs a planned history on the loopback stack: each statement with a token the OIDC issuer mints for its workflow
 * identity, `concurrency` at a time; each bundle written as the actions write them (`JSON + "\n"`), the decision
 * records of a repository as one `decisions.jsonl`.
 */
export async function signOrgHistory(
  history: OrgHistory,
  options: { stack: SigstoreStack; issuer: OidcIssuer; directory: string; concurrency?: number },
): Promise<SignedOrgHistory> {
  const { stack, issuer, directory } = options;
  const endpoints = { fulcioURL: stack.fulcioURL, rekorURL: stack.rekorURL, tsaURL: stack.tsaURL };
  const digests = new Map<string, string>();
  const lines = new Map<string, string[]>();
  const bundles: string[] = [];
  // A job's token serves all it signs, as a job's does (minted again after five minutes, well within its lifetime).
  const tokens = new Map<string, { token: Promise<string>; at: number }>();
  const tokenOf = (signer: WorkflowIdentity) => {
    const key = JSON.stringify(signer);
    const known = tokens.get(key);
    if (known && Date.now() - known.at < 5 * 60_000) return known.token;
    const token = issuer.mint(signer, { audience: 'sigstore' });
    tokens.set(key, { token, at: Date.now() });
    return token;
  };
  for (const batch of orgHistoryStatements(history, (file) => digests.get(file)!)) {
    const signed = await mapConcurrently(batch, options.concurrency ?? 8, (planned) =>
      signStatement(planned.statement, { endpoints, identityToken: () => tokenOf(planned.signer) }),
    );
    batch.forEach((planned, i) => {
      const text = `${JSON.stringify(signed[i])}\n`;
      const [file, line] = planned.file.split('#') as [string, string | undefined];
      if (line === undefined) {
        mkdirSync(dirname(join(directory, file)), { recursive: true });
        writeFileSync(join(directory, file), text);
        digests.set(planned.file, sha256(text));
        bundles.push(file);
      } else {
        const written = lines.get(file) ?? [];
        written.push(text.trimEnd());
        lines.set(file, written);
        bundles.push(`${file}#L${written.length}`);
      }
    });
  }
  for (const [file, written] of lines) {
    mkdirSync(dirname(join(directory, file)), { recursive: true });
    writeFileSync(join(directory, file), `${written.join('\n')}\n`);
  }
  const deploymentsFile = `${directory}.deployments.json`;
  writeFileSync(deploymentsFile, `${JSON.stringify(orgHistoryDeployments(history), null, 2)}\n`);
  return { directory, bundles, deploymentsFile };
}

async function mapConcurrently<T, R>(items: readonly T[], limit: number, f: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await f(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

// ── helpers ────────────────────────────────────────────────────────────────────────────────────────────────────

/** A job of `repository` running a platform workflow, in its own run. */
function job(
  repository: string,
  workflow: string,
  sha: string,
  run: string,
  overrides: Partial<WorkflowIdentity> = {},
): WorkflowIdentity {
  const runId = /^\d+$/.test(run) ? run : String(100_000_000 + (parseInt(sha256(run).slice(0, 7), 16) % 800_000_000));
  return identity(repository, '.github/workflows/release.yml', 'refs/heads/main', sha, {
    job_workflow_ref: workflow,
    job_workflow_sha: 'f'.repeat(40),
    run_id: runId,
    ...overrides,
  });
}

function runUri(repository: string, runId: string): string {
  return `${SERVER}/${repository}/actions/runs/${runId}/attempts/1`;
}

const userIds = new Map<string, number>();
function userId(login: string): number {
  if (!userIds.has(login)) userIds.set(login, 7_000_000 + (parseInt(sha256(login).slice(0, 6), 16) % 1_000_000));
  return userIds.get(login)!;
}

function account(login: string): GitHubAccount {
  return { login, id: userId(login), type: 'User' };
}

function artifactOf(repository: string, commit: string): { name: string; sha256: string } {
  return {
    name: `${repository.split('/')[1]}-${commit.slice(0, 7)}.tar.gz`,
    sha256: sha256(`${repository}@${commit}`),
  };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function hex40(seed: string): string {
  return sha256(seed).slice(0, 40);
}

function counter(start: number): () => number {
  let n = start;
  return () => n++;
}

function at(month: string, day: number, hour: number): string {
  const [year, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(year, m - 1, day, hour)).toISOString();
}

function shift(time: string, seconds: number): string {
  return new Date(Date.parse(time) + seconds * 1000).toISOString();
}

function addMonths(month: string, n: number): string {
  const [year, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(year, m - 1 + n, 1)).toISOString().slice(0, 7);
}

function monthBefore(now: Date, months: number): string {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - months, 1)).toISOString().slice(0, 7);
}

function pick<T extends object, K extends keyof T>(value: T, keys: K[]): Pick<T, K> {
  return Object.fromEntries(keys.filter((k) => value[k] !== undefined).map((k) => [k, value[k]])) as Pick<T, K>;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
