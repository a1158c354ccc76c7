// A deployment repository in the report (threat model row 186): acme/ops deploys acme/payments' artifacts, so its
// deploy jobs sign their decision records and deploy approvals as runs of acme/ops. They count when the policy lists
// acme/ops among deploy.repositories, as every repository the report counts; counting any repository of the owner
// (as one fix did) let a sandbox repository running the deploy workflow on reviewed artifacts pad the passed deploys
// (M1) with runs of its own, so a repository the policy does not list is a finding, whoever owns it.
import { computeSodReport, EvidenceLedger, parsePolicy, type VerifiedBundle } from '@twokey/core';
import { orgHistoryPolicy, planOrgHistory } from '@twokey/testkit';
import { describe, expect, it } from 'vitest';
import { bundlesOf, resign } from './sod-truth';

const history = planOrgHistory({ firstMonth: '2026-01', months: 3 });
const honest = bundlesOf(history);

function report(bundles: readonly VerifiedBundle[], policyText: string) {
  const policy = parsePolicy(policyText, 'org-policy.yml');
  const ledger = new EvidenceLedger(policy, { owner: 'acme' });
  for (const b of bundles) ledger.addVerified(b);
  return computeSodReport({ policy, ledger, generatedAt: new Date('2026-12-01T00:00:00Z') });
}

/** payments' decision records as a deployment repository's deploy jobs sign them: the same statements, run in `where`. */
function deployedFrom(where: string): VerifiedBundle[] {
  return honest.map((b) => {
    if (!b.source.startsWith('acme/payments/decisions')) return b;
    const run = /\/runs\/(\d+)/.exec(b.signer.extensions.runInvocationURI ?? '')![1];
    const uri = `https://github.com/${where}/actions/runs/${run}/attempts/1`;
    const signed = resign(b, b.source.replace('acme/payments', where), uri, () => {});
    return {
      ...signed,
      signer: {
        ...signed.signer,
        extensions: {
          ...signed.signer.extensions,
          sourceRepositoryURI: `https://github.com/${where}`,
          runInvocationURI: uri,
        },
      },
    };
  });
}

describe('a deployment repository', () => {
  const listing = (...repositories: string[]) =>
    orgHistoryPolicy('trusted_root.json', 'report:\n  max-unapproved-rate: 0.001\n').replace(
      '  approvals:',
      `  repositories: [${repositories.join(', ')}]\n  approvals:`,
    );

  it('counts the deploys acme/ops made of acme/payments’ artifacts, its break-glasses among them, when the policy lists it', () => {
    const policy = listing('acme/payments', 'acme/web', 'acme/data', 'acme/ops');
    const r = report(deployedFrom('acme/ops'), policy);
    expect(r.indicators.M6.items.filter((f) => f.reason.startsWith('acme/ops is not a repository'))).toEqual([]);
    expect(r.indicators.M1.byRepository.map((x) => x.repository)).toContain('acme/ops');
    // As many unapproved deploys as when acme/payments deployed them itself.
    expect(r.indicators.M1.unapproved).toBe(report(honest, policy).indicators.M1.unapproved);
    expect(r.indicators.M1.unapproved).toBeGreaterThan(0);
    expect(r.verdict).toBe('fail');
  });

  it('does not count a repository the policy does not list, of the same owner (a sandbox padding M1) or another', () => {
    const policy = listing('acme/payments', 'acme/web', 'acme/data');
    for (const where of ['acme/alice-sandbox', 'evil/ops']) {
      const r = report(deployedFrom(where), policy);
      expect(r.indicators.M1.byRepository.map((x) => x.repository)).not.toContain(where);
      expect(
        r.indicators.M6.items.some(
          (f) =>
            f.kind === 'not-the-policy-identity' &&
            f.reason.startsWith(`${where} is not a repository`) &&
            f.reason.includes('a deployment repository counts when deploy.repositories lists it'),
        ),
        where,
      ).toBe(true);
    }
  });
});
