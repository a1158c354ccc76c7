// A repository policy that would hide a colluding pair from the segregation-of-duties report. The policy's
// `report.max-top-approver-share` is both a threshold and the share at which M9 names a reciprocal pair as suspected
// collusion (0.8 when no policy sets it). Where the org policy set no such threshold, any repository value passed for
// a tightening: `report: { max-top-approver-share: 1 }`, one innocent-looking line merged to the default branch,
// raised the share from 0.8 to 1, and a pair who give each other 80–99% of their approvals was no longer named (the
// report passing, its new "threshold" met). The repository's value is now compared with the org's effective one.
// The history is test/report/org-history.test.ts's: mallory and trent approve only each other; here one of mallory's
// pull requests is approved by judy, so trent gives 4 of mallory's 5 counted approvals (0.8).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeSodReport, EvidenceLedger, type Policy, PolicyError, type SodReport } from '@twokey/core';
import { readPolicyFiles } from '@twokey/sigstore';
import { orgHistoryPolicy, planOrgHistory } from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundlesOf } from './sod-truth';

let workspace: string;
const history = planOrgHistory();
const malloryPrs = history.pullRequests.filter((pr) => pr.author === 'mallory' && !pr.reuses);
const moved = malloryPrs.find((pr) => pr.approvals.length === 1 && pr.approvals[0]!.login === 'trent')!;
moved.approvals[0]!.login = 'judy';
const bundles = bundlesOf(history);

beforeAll(() => {
  workspace = mkdtempSync(join(tmpdir(), 'twokey-m9-share-'));
  // The org policy sets no report thresholds (as the platform's may not).
  writeFileSync(join(workspace, 'org-policy.yml'), orgHistoryPolicy('trusted_root.json'));
});

afterAll(() => rmSync(workspace, { recursive: true, force: true }));

/** The policy as `twokey report --policy org-policy.yml [--repository-policy policy.yml]` and the report action read it. */
function policyWith(repositoryPolicy?: string): Policy {
  if (repositoryPolicy !== undefined) writeFileSync(join(workspace, 'policy.yml'), repositoryPolicy);
  return readPolicyFiles(
    'org-policy.yml',
    repositoryPolicy === undefined ? undefined : { path: 'policy.yml' },
    workspace,
  );
}

function report(policy: Policy): SodReport {
  const ledger = new EvidenceLedger(policy, { owner: 'acme' });
  for (const b of bundles) ledger.addVerified(b);
  return computeSodReport({ policy, ledger, generatedAt: new Date('2026-12-01T00:00:00Z') });
}

const pairs = (sod: SodReport) => sod.indicators.M9.suspectedCollusion.map((s) => [s.a, s.b]);

describe('report.max-top-approver-share in a repository policy, where the org policy sets none', () => {
  it('refuses `max-top-approver-share: 1`, which would hide the pair the org policy names: a loosening of 0.8', () => {
    const org = report(policyWith());
    const mallory = org.indicators.M9.byAuthor.find((a) => a.author === 'mallory')!;
    expect(mallory.topApprover).toBe('trent');
    expect(mallory.topShare).toBeGreaterThanOrEqual(0.8);
    expect(mallory.topShare).toBeLessThan(1);
    expect(org.indicators.M9.collusionShare).toBe(0.8);
    expect(pairs(org)).toEqual([['mallory', 'trent']]);

    for (const share of ['1', '0.81']) {
      let error: unknown;
      try {
        policyWith(`version: 1\nreport:\n  max-top-approver-share: ${share}\n`);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(PolicyError);
      expect((error as PolicyError).code).toBe('POLICY_INVALID');
      expect((error as PolicyError).problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
        `report.max-top-approver-share: ${share} is higher than the org policy's 0.8 (the default; it sets none): a repository policy may only tighten the org policy (org-policy.yml)`,
      ]);
    }
  });

  it('takes a lower share, or the default itself, and still names the pair', () => {
    for (const [share, expected] of [
      ['0.7', 0.7],
      ['0.8', 0.8],
    ] as const) {
      const sod = report(policyWith(`version: 1\nreport:\n  max-top-approver-share: ${share}\n`));
      expect(sod.policy.repository).toBeDefined();
      expect(sod.indicators.M9.collusionShare).toBe(expected);
      expect(pairs(sod)).toEqual([['mallory', 'trent']]);
    }
  });
});
