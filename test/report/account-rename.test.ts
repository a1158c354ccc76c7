// A colluding pair hid from M9 when one of them renamed her GitHub account every few merged pull requests (Settings →
// Account → Change username: free, instant, the same account id). Each review attestation signed after a rename names
// her new login (author.login, reviewers[].name, reviews[].reviewer.login, the permissions key) with her unchanged
// account id; keyed by login, the report split her into several authors and approvers, each under
// MIN_APPROVALS_FOR_SHARE, and the pair and max-top-approver-share's failure disappeared. People are now counted by
// account id (M9, M3's approvers, M7's reviewer), named by their latest login, every login listed. The renames are
// the history's genuine review attestations, re-issued with the login in force when each was signed.
import {
  computeSodReport,
  EvidenceLedger,
  parsePolicy,
  type ReviewFact,
  type SodReport,
  type VerifiedBundle,
} from '@twokey/core';
import { orgHistoryPolicy, planOrgHistory } from '@twokey/testkit';
import { describe, expect, it } from 'vitest';
import { renderSodReportHtml } from '../../packages/cli/src/report-html';
import { bundlesOf, resign, sodSchemaProblems } from './sod-truth';

const REVIEW = 'https://twokey.dev/attestations/review/v1';
const history = planOrgHistory();
const honest = bundlesOf(history);
const POLICY = 'report:\n  max-top-approver-share: 0.8\n  max-privileged-approval-share: 0.01\n';

function ledgerOf(bundles: readonly VerifiedBundle[]): { ledger: EvidenceLedger; report: () => SodReport } {
  const policy = parsePolicy(orgHistoryPolicy('trusted_root.json', POLICY), 'org-policy.yml');
  const ledger = new EvidenceLedger(policy, { owner: 'acme' });
  for (const b of bundles) ledger.addVerified(b);
  const report = () => computeSodReport({ policy, ledger, generatedAt: new Date('2026-12-01T00:00:00Z') });
  return { ledger, report };
}

const report = (bundles: readonly VerifiedBundle[]) => {
  const sod = ledgerOf(bundles).report();
  expect(sodSchemaProblems(sod)).toEqual([]);
  return sod;
};

// biome-ignore lint/suspicious/noExplicitAny: statements read as JSON
const stmt = (b: VerifiedBundle) => b.statement as any;
const isReview = (b: VerifiedBundle) => stmt(b)?.predicateType === REVIEW;
const mergedAt = (b: VerifiedBundle) => Date.parse(stmt(b).predicate.pullRequest.mergedAt);
const mentions = (b: VerifiedBundle, login: string) => JSON.stringify(b.statement).includes(JSON.stringify(login));

/**
 * `who` renames her account each time `every` more of the pull requests she authored have merged: every review
 * attestation signed after a rename names her by the login in force then (`who-2`, `who-3`, …), her id unchanged.
 */
function withRenames(bundles: readonly VerifiedBundle[], who: string, every: number): VerifiedBundle[] {
  const authored = bundles
    .filter((b) => isReview(b) && stmt(b).predicate.author.login === who)
    .sort((a, b) => mergedAt(a) - mergedAt(b));
  const renames = authored.filter((_, i) => i > 0 && i % every === 0).map((b) => mergedAt(b) - 1);
  const loginAt = (t: number) => {
    const n = renames.filter((r) => r <= t).length;
    return n === 0 ? who : `${who}-${n + 1}`;
  };
  return bundles.map((b) => {
    if (!isReview(b) || !mentions(b, who)) return b;
    const login = loginAt(mergedAt(b));
    if (login === who) return b;
    return resign(b, b.source, b.signer.extensions.runInvocationURI!, (s) => {
      Object.assign(s, JSON.parse(JSON.stringify(s).replaceAll(JSON.stringify(who), JSON.stringify(login))));
    });
  });
}

/** The login the latest-merged review attestation naming `who`'s account gives her. */
function latestLogin(bundles: readonly VerifiedBundle[], id: number): string {
  const named = bundles
    .filter((b) => isReview(b))
    .flatMap((b) => {
      const p = stmt(b).predicate;
      const logins = [
        ...(p.author.id === id ? [p.author.login] : []),
        ...p.reviews
          .filter((r: { reviewer: { id: number } }) => r.reviewer.id === id)
          .map((r: { reviewer: { login: string } }) => r.reviewer.login),
      ];
      return logins.map((login: string) => ({ login, at: mergedAt(b) }));
    })
    .sort((a, b) => a.at - b.at);
  return named.at(-1)!.login;
}

function idOf(bundles: readonly VerifiedBundle[], login: string): number {
  return stmt(bundles.find((b) => isReview(b) && stmt(b).predicate.author.login === login)!).predicate.author.id;
}

describe('M9 over a colluding pair, one of whom renames her account during the period', () => {
  const renamed = withRenames(honest, 'mallory', 2);
  const id = idOf(honest, 'mallory');
  // Her logins in the order the attestations show them (a rename is for good).
  const logins = [
    ...new Set(
      renamed
        .filter((b) => isReview(b) && mentions(b, 'mallory') === false)
        .sort((a, b) => mergedAt(a) - mergedAt(b))
        .flatMap((b) => JSON.stringify(b.statement).match(/"mallory-\d+"/g) ?? [])
        .map((l) => JSON.parse(l) as string),
    ),
  ];
  logins.unshift('mallory');

  it('the attack is as an attacker makes it: several logins, one account id, the same approvals', () => {
    expect(logins.length).toBeGreaterThan(2);
    const ids = new Set(
      renamed
        .filter((b) => isReview(b) && /^mallory/.test(stmt(b).predicate.author.login))
        .map((b) => stmt(b).predicate.author.id),
    );
    expect([...ids]).toEqual([id]);
    expect(report(renamed).indicators.M9.approvals).toBe(report(honest).indicators.M9.approvals);
  });

  it('still counts her as one author and approver, names the pair, and fails max-top-approver-share', () => {
    const before = report(honest);
    const after = report(renamed);
    const name = latestLogin(renamed, id);
    expect(name).not.toBe('mallory');
    expect(after.indicators.M9.authors).toBe(before.indicators.M9.authors);
    expect(after.indicators.M9.approvers).toBe(before.indicators.M9.approvers);
    expect(after.indicators.M9.herfindahl).toBe(before.indicators.M9.herfindahl);
    expect(after.indicators.M9.suspectedCollusion.map((s) => [s.a, s.b])).toEqual([[name, 'trent']]);
    expect(after.indicators.M9.suspectedCollusion[0]!.pullRequests).toEqual(
      before.indicators.M9.suspectedCollusion[0]!.pullRequests,
    );
    const share = (r: SodReport) => r.thresholds.find((t) => t.key === 'max-top-approver-share')!;
    expect(share(after).verdict).toBe('fail');
    expect(share(after).value).toBe(share(before).value);
    expect(after.verdict).toBe('fail');
    // Named by her latest login, every login of the account listed with its id.
    const her = after.indicators.M9.people!.find((p) => p.id === id)!;
    expect(her.login).toBe(name);
    expect(her.logins).toEqual(logins);
    expect(after.indicators.M9.byAuthor.filter((a) => /^mallory/.test(a.author)).map((a) => a.author)).toEqual([name]);
  });

  it('shows her latest login and every login on the HTML page', () => {
    const html = renderSodReportHtml(report(renamed));
    expect(html).toContain('People counted under several logins');
    expect(html).toContain(logins.join(', '));
  });
});

describe('M3 and M7 across a rename', () => {
  it('count an admin approver who renames as one approver, named by the latest login', () => {
    const before = report(honest);
    const admin = before.indicators.M3.privilegedApprovers[0]!;
    expect(admin).toBeDefined();
    const renamed = withRenamedApprover(honest, admin.login);
    const after = report(renamed);
    expect(after.indicators.M3.privileged).toBe(before.indicators.M3.privileged);
    expect(after.indicators.M3.privilegedApprovers.length).toBe(before.indicators.M3.privilegedApprovers.length);
    const row = after.indicators.M3.privilegedApprovers.find((a) => a.login === `${admin.login}-renamed`)!;
    expect(row.approvals).toBe(admin.approvals);
    expect(row.id).toBeGreaterThan(0);
    expect(row.logins).toEqual([admin.login, `${admin.login}-renamed`]);
    expect(row.pullRequests).toEqual(admin.pullRequests);
  });

  it('names a reused review approval by its reviewer’s latest login', () => {
    const before = report(honest);
    const reused = before.indicators.M7.reviewApprovals[0]!;
    const after = report(withRenamedApprover(honest, reused.reviewer));
    expect(after.indicators.M7.reuses).toBe(before.indicators.M7.reuses);
    expect(after.indicators.M7.reviewApprovals.find((r) => r.reviewId === reused.reviewId)!.reviewer).toBe(
      `${reused.reviewer}-renamed`,
    );
  });
});

/** `who` renames her account halfway through the history: the later half of the attestations name `who-renamed`. */
function withRenamedApprover(bundles: readonly VerifiedBundle[], who: string): VerifiedBundle[] {
  const hers = bundles.filter((b) => isReview(b) && mentions(b, who)).sort((a, b) => mergedAt(a) - mergedAt(b));
  const from = mergedAt(hers[Math.floor(hers.length / 2)]!);
  return bundles.map((b) =>
    isReview(b) && mentions(b, who) && mergedAt(b) >= from
      ? resign(b, b.source, b.signer.extensions.runInvocationURI!, (s) => {
          Object.assign(
            s,
            JSON.parse(JSON.stringify(s).replaceAll(JSON.stringify(who), JSON.stringify(`${who}-renamed`))),
          );
        })
      : b,
  );
}

describe('review facts without an account id (older evidence)', () => {
  it('count people by their lower-cased login, and an account id apart from a login', () => {
    const { ledger, report: sod } = ledgerOf([]);
    const fact = (n: number, author: string, approver: string, ids?: [number, number]): ReviewFact => ({
      evidence: { source: `review-${n}.json` },
      repository: 'acme/app',
      commit: n.toString(16).padStart(40, '0'),
      commits: [n.toString(16).padStart(40, '0')],
      pullRequest: { number: n, url: `https://github.com/acme/app/pull/${n}`, mergedAt: `2026-03-0${n}T12:00:00Z` },
      author,
      ...(ids && { authorId: ids[0] }),
      approvals: [{ login: approver, ...(ids && { id: ids[1] }) }],
    });
    ledger.reviews.push(fact(1, 'Alice', 'bob'), fact(2, 'alice', 'BOB'), fact(3, 'alice', 'bob', [11, 12]));
    const m = sod().indicators.M9;
    expect(m.authors).toBe(2);
    expect(m.approvers).toBe(2);
    // Both accounts' latest login is `alice`/`bob`: the one with an id says so.
    expect(m.pairs.map((p) => [p.author, p.approver, p.approvals])).toEqual([
      ['alice', 'BOB', 2],
      ['alice (id 11)', 'bob (id 12)', 1],
    ]);
  });
});
