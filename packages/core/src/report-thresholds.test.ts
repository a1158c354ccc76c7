// The policy's `report:` keys (issue 18): thresholds that turn `twokey report`'s indicators into pass/fail lines. They
// are read like every other key (unknown or mistyped: an error naming it), and a repository policy may only tighten
// them — an application team cannot make its own report pass by raising a limit.
import { describe, expect, it } from 'vitest';
import { type Policy, PolicyError, parsePolicy, parseRepositoryPolicy } from './policy';

const ISSUER = 'https://token.actions.githubusercontent.com';
const HEAD = `version: 1
identities:
  build: { issuer: ${ISSUER}, san: "https://github.com/acme/platform/.github/workflows/build.yml@refs/heads/main" }
  sign: { issuer: ${ISSUER}, san: "https://github.com/acme/platform/.github/workflows/sign.yml@refs/heads/main" }
`;
const ORG_SOURCE = 'platform/.twokey/org-policy.yml';

function org(report: string): Policy {
  return parsePolicy(`${HEAD}${report}`, ORG_SOURCE);
}

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof PolicyError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  throw new Error('expected a PolicyError');
}

describe('report thresholds in the policy', () => {
  it('reads every key, a latency as a duration', () => {
    const policy = org(`report:
  max-unapproved-rate: 0.001
  max-review-latency-p90: 48h
  max-privileged-approval-share: 0.25
  max-audit-gaps: 0
  max-approval-reuse: 0
  max-break-glass-per-month: 1
  max-break-glass-without-follow-up: 0
  max-top-approver-share: 0.8
  min-deploy-success-rate: 0.95
`);
    expect(policy.report).toEqual({
      maxUnapprovedRate: 0.001,
      maxReviewLatencyP90Seconds: 48 * 3600,
      maxPrivilegedApprovalShare: 0.25,
      maxAuditGaps: 0,
      maxApprovalReuse: 0,
      maxBreakGlassPerMonth: 1,
      maxBreakGlassWithoutFollowUp: 0,
      maxTopApproverShare: 0.8,
      minDeploySuccessRate: 0.95,
    });
  });

  it('has no thresholds when the policy sets none', () => {
    expect(org('').report).toBeUndefined();
  });

  it('refuses an unknown key, a rate above 1, a negative count and a malformed duration, naming each', () => {
    const problems = problemsOf(() =>
      org(`report:
  max-unaproved-rate: 0.1
  max-top-approver-share: 1.5
  max-audit-gaps: -1
  max-review-latency-p90: two days
`),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^report\.max-unaproved-rate: unknown key \(expected one of: max-unapproved-rate,/),
        `report.max-top-approver-share: expected at most 1, found 1.5`,
        expect.stringMatching(/^report\.max-audit-gaps: expected at least 0, found -1/),
        expect.stringMatching(/^report\.max-review-latency-p90: expected a duration such as 30d/),
      ]),
    );
  });
});

describe('a repository policy and the report thresholds', () => {
  const platform = org(`report:
  max-unapproved-rate: 0.01
  max-top-approver-share: 0.8
  min-deploy-success-rate: 0.9
  max-review-latency-p90: 2d
`);
  const repository = (text: string) => parseRepositoryPolicy(`version: 1\n${text}`, '.twokey/policy.yml', platform);

  it('tightens them: a lower max, a higher min, a limit the org policy does not set', () => {
    const policy = repository(`report:
  max-unapproved-rate: 0.001
  min-deploy-success-rate: 0.99
  max-approval-reuse: 0
  max-review-latency-p90: 1d
`);
    expect(policy.report).toEqual({
      maxUnapprovedRate: 0.001,
      maxTopApproverShare: 0.8,
      minDeploySuccessRate: 0.99,
      maxApprovalReuse: 0,
      maxReviewLatencyP90Seconds: 86400,
    });
  });

  it('keeps the org thresholds when it sets none', () => {
    expect(repository('review: { min-approvals: 2 }').report).toEqual(platform.report);
  });

  it('refuses to loosen them: a higher max or a lower min, each named with the org policy', () => {
    const problems = problemsOf(() =>
      repository(`report:
  max-unapproved-rate: 0.5
  max-top-approver-share: 1
  min-deploy-success-rate: 0.5
  max-review-latency-p90: 30d
`),
    );
    expect(problems).toEqual([
      `report.max-unapproved-rate: 0.5 is higher than the org policy's 0.01: a repository policy may only tighten the org policy (${ORG_SOURCE})`,
      `report.max-review-latency-p90: 30d is higher than the org policy's 172800: a repository policy may only tighten the org policy (${ORG_SOURCE})`,
      `report.max-top-approver-share: 1 is higher than the org policy's 0.8: a repository policy may only tighten the org policy (${ORG_SOURCE})`,
      `report.min-deploy-success-rate: 0.5 is lower than the org policy's 0.9: a repository policy may only tighten the org policy (${ORG_SOURCE})`,
    ]);
  });

  it('reads report.min-period as a duration; a repository may lengthen it, never shorten it', () => {
    const weekly = org('report:\n  min-period: 7d\n');
    expect(weekly.report).toEqual({ minPeriodSeconds: 7 * 86400 });
    const longer = parseRepositoryPolicy('version: 1\nreport:\n  min-period: 30d\n', '.twokey/policy.yml', weekly);
    expect(longer.report?.minPeriodSeconds).toBe(30 * 86400);
    expect(
      problemsOf(() => parseRepositoryPolicy('version: 1\nreport:\n  min-period: 1\n', '.twokey/policy.yml', weekly)),
    ).toEqual([
      `report.min-period: 1 is shorter than the org policy's 604800 seconds: a repository policy may only tighten the org policy (${ORG_SOURCE})`,
    ]);
    expect(problemsOf(() => org('report:\n  min-period: a week\n'))).toEqual([
      'report.min-period: expected a duration such as 30d, 12h, 90m or a number of seconds, found "a week"',
    ]);
  });
});

describe('report.max-top-approver-share against the org policy’s effective share (M9 names collusion at 0.8 by default)', () => {
  const noThresholds = org('');
  const repository = (text: string, platform = noThresholds) =>
    parseRepositoryPolicy(`version: 1\n${text}`, '.twokey/policy.yml', platform);

  it('refuses a higher share than the default where the org policy sets none: it would hide a colluding pair', () => {
    expect(noThresholds.report).toBeUndefined();
    expect(problemsOf(() => repository('report:\n  max-top-approver-share: 1\n'))).toEqual([
      `report.max-top-approver-share: 1 is higher than the org policy's 0.8 (the default; it sets none): a repository policy may only tighten the org policy (${ORG_SOURCE})`,
    ]);
  });

  it('takes a lower share, or the default, where the org policy sets none', () => {
    expect(repository('report:\n  max-top-approver-share: 0.6\n').report).toEqual({ maxTopApproverShare: 0.6 });
    expect(repository('report:\n  max-top-approver-share: 0.8\n').report).toEqual({ maxTopApproverShare: 0.8 });
  });

  it('compares with the org policy’s own share where it sets one, above the default or below it', () => {
    const looser = org('report:\n  max-top-approver-share: 0.9\n');
    expect(repository('report:\n  max-top-approver-share: 0.85\n', looser).report).toEqual({
      maxTopApproverShare: 0.85,
    });
    const stricter = org('report:\n  max-top-approver-share: 0.5\n');
    expect(problemsOf(() => repository('report:\n  max-top-approver-share: 0.6\n', stricter))).toEqual([
      `report.max-top-approver-share: 0.6 is higher than the org policy's 0.5: a repository policy may only tighten the org policy (${ORG_SOURCE})`,
    ]);
  });
});
