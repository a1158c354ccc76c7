// review.reviewed-history and review.history-since in the policy: off by default; on, it needs a history-since; a
// repository policy may turn it on (with a date, or the org's), never off, and may only move history-since earlier.
import { describe, expect, it } from 'vitest';
import { DEFAULT_REVIEW_RULES, type Policy, PolicyError, parsePolicy, parseRepositoryPolicy } from './policy';
import { evaluateReview } from './review';

const ISSUER = 'https://token.actions.githubusercontent.com';
const IDENTITIES = `version: 1
identities:
  build:
    issuer: ${ISSUER}
    san: https://github.com/acme/platform/.github/workflows/build.yml@refs/heads/main
  sign:
    issuer: ${ISSUER}
    san: https://github.com/acme/platform/.github/workflows/sign.yml@refs/heads/main
`;
const ORG_SOURCE = 'platform/.twokey/org-policy.yml';

function org(review = ''): Policy {
  return parsePolicy(`${IDENTITIES}${review}`, ORG_SOURCE);
}

function problemsOf(parse: () => unknown): { path: string; message: string }[] {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyError);
    return (error as PolicyError).problems;
  }
  throw new Error('expected a PolicyError');
}

const ON = 'review:\n  reviewed-history: true\n  history-since: 2026-03-01\n';

describe('review.reviewed-history in the org policy', () => {
  it('is off by default, and absent from the rules (existing evidence and fixtures keep their rules)', () => {
    const rules = org().review;
    expect(rules.reviewedHistory).toBeUndefined();
    expect(rules.historySince).toBeUndefined();
    expect(rules).toEqual(DEFAULT_REVIEW_RULES);
  });

  it('turned on, reads history-since as a UTC time (a date is its midnight UTC)', () => {
    expect(org(ON).review).toMatchObject({ reviewedHistory: true, historySince: '2026-03-01T00:00:00.000Z' });
    const withTime = org('review:\n  reviewed-history: true\n  history-since: "2026-03-01T12:00:00+02:00"\n');
    expect(withTime.review.historySince).toBe('2026-03-01T10:00:00.000Z');
  });

  it('turned on without history-since is refused, naming the key', () => {
    const problems = problemsOf(() => org('review:\n  reviewed-history: true\n'));
    expect(problems).toEqual([
      expect.objectContaining({
        path: 'review.reviewed-history',
        message: expect.stringContaining('requires review.history-since'),
      }),
    ]);
  });

  it('refuses a history-since that is no date', () => {
    expect(problemsOf(() => org('review:\n  reviewed-history: true\n  history-since: 2026-02-30\n'))).toEqual([
      expect.objectContaining({ path: 'review.history-since', message: '2026-02-30 is not a date or time (ISO 8601)' }),
    ]);
    expect(problemsOf(() => org('review:\n  history-since: yesterday\n'))[0]!.path).toBe('review.history-since');
  });

  it('on, with evidence that has no history walk, refuses the review (reviewed-history)', () => {
    const evidence = {
      repository: 'acme/app',
      commit: 'a'.repeat(40),
      gaps: [],
      commits: [],
      reviews: [],
      lastPush: { accounts: [], people: [], source: 'activity' as const },
      permissions: {},
    };
    const result = evaluateReview(evidence, org(ON).review);
    expect(result.checks.at(-1)).toMatchObject({ id: 'reviewed-history', verdict: 'fail' });
    expect(result.checks.at(-1)!.reason).toContain('records no walk of the branch');
    // Off: no such check at all.
    expect(evaluateReview(evidence, org().review).checks.map((c) => c.id)).not.toContain('reviewed-history');
  });
});

describe('review.reviewed-history in a repository policy', () => {
  const repository = (text: string, base: Policy) =>
    parseRepositoryPolicy(`version: 1\n${text}`, '.twokey/policy.yml', base);

  it('cannot turn it off', () => {
    expect(problemsOf(() => repository('review:\n  reviewed-history: false\n', org(ON)))).toEqual([
      expect.objectContaining({
        path: 'review.reviewed-history',
        message: expect.stringContaining('false where the org policy says true'),
      }),
    ]);
  });

  it('cannot set a later history-since than the org policy', () => {
    expect(problemsOf(() => repository('review:\n  history-since: 2026-04-01\n', org(ON)))).toEqual([
      expect.objectContaining({
        path: 'review.history-since',
        message: expect.stringContaining("2026-04-01 is later than the org policy's 2026-03-01T00:00:00.000Z"),
      }),
    ]);
  });

  it('cannot set a later history-since by a time whose offset takes it past year 9999 (it read as earlier, as text)', () => {
    // 9999-12-31T23:59-14:00 is 10000-01-01T13:59Z, which toISOString spells +010000-…: before "2026-…" as text,
    // so it passed as a tightening while the walk, reading it as a time, judged nothing. A time out of 0000–9999 is
    // no time at all, in a repository policy and in an org policy, and so is one before year 0000.
    for (const time of ['"9999-12-31T23:59-14:00"', '"0000-01-01T00:00+00:01"']) {
      expect(problemsOf(() => repository(`review:\n  history-since: ${time}\n`, org(ON)))).toEqual([
        expect.objectContaining({
          path: 'review.history-since',
          message: `${JSON.parse(time)} is not a date or time (ISO 8601)`,
        }),
      ]);
      expect(problemsOf(() => org(`review:\n  reviewed-history: true\n  history-since: ${time}\n`))[0]).toMatchObject({
        path: 'review.history-since',
      });
    }
    // A day the month does not have is no date in a date-time either (Date.parse rolls it over to March 2).
    expect(problemsOf(() => org('review:\n  history-since: "2026-02-30T00:00:00Z"\n'))[0]).toMatchObject({
      path: 'review.history-since',
      message: '2026-02-30T00:00:00Z is not a date or time (ISO 8601)',
    });
  });

  it('may set an earlier history-since, and keeps the org policy on when it says nothing', () => {
    expect(repository('review:\n  history-since: 2026-01-01\n', org(ON)).review).toMatchObject({
      reviewedHistory: true,
      historySince: '2026-01-01T00:00:00.000Z',
    });
    expect(repository('review:\n  min-approvals: 2\n', org(ON)).review).toMatchObject({
      reviewedHistory: true,
      historySince: '2026-03-01T00:00:00.000Z',
    });
  });

  it('may turn it on, with a history-since of its own when the org policy has none', () => {
    expect(repository(ON, org()).review).toMatchObject({
      reviewedHistory: true,
      historySince: '2026-03-01T00:00:00.000Z',
    });
    expect(problemsOf(() => repository('review:\n  reviewed-history: true\n', org()))[0]!.path).toBe(
      'review.reviewed-history',
    );
  });
});
