// The HTML page shows what attestations say — logins, incident links, file names — and a signer can write anything
// there: nothing it says may become markup, a script or a link anywhere but https. (The page in a real browser, with
// its charts, is test/report/org-history.test.ts.)
import { computeSodReport, EvidenceLedger, parsePolicy, type VerifiedBundle } from '@twokey/core';
import { orgHistoryPolicy, planOrgHistory } from '@twokey/testkit';
import { describe, expect, it } from 'vitest';
import { renderSodReportHtml } from '../../packages/cli/src/report-html';
import { bundlesOf } from './sod-truth';

const HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>';

// A statement is JSON: the attacks edit it as an attacker edits the file.
// biome-ignore lint/suspicious/noExplicitAny: the statement is edited as JSON
type Json = any;

function page(edit: (statement: Json) => void, where: (b: VerifiedBundle) => boolean): string {
  const policy = parsePolicy(orgHistoryPolicy('trusted_root.json'), 'org-policy.yml');
  const ledger = new EvidenceLedger(policy);
  for (const bundle of bundlesOf(planOrgHistory({ firstMonth: '2026-01' }))) {
    if (where(bundle)) edit(bundle.statement as Json);
    ledger.addVerified({ ...bundle, source: where(bundle) ? `evidence/${HOSTILE}.json` : bundle.source });
  }
  const report = computeSodReport({ policy, ledger, generatedAt: new Date('2026-12-01T00:00:00Z') });
  return renderSodReportHtml(report, { hrefOf: (source) => encodeURIComponent(source) });
}

describe('the HTML page and what attestations say', () => {
  it('shows a hostile login and file name as text, never as markup', () => {
    const html = page(
      (statement) => {
        statement.predicate.author.login = HOSTILE;
        statement.predicate.reviewers[0].name = HOSTILE;
      },
      (b) => b.source.includes('/reviews/'),
    );
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
  });

  it('links an incident only when it is an https URL', () => {
    const html = page(
      (statement) => {
        statement.predicate.incident = 'javascript:alert(document.domain)';
      },
      (b) => b.source.includes('/break-glass/'),
    );
    expect(html).toContain('javascript:alert(document.domain)');
    expect(html).not.toMatch(/href="javascript:/i);
  });

  it("names where each deploy's request time comes from: the signed deploy approval, or GitHub's deployment", () => {
    const signed = page(
      () => {},
      () => false,
    );
    expect(signed).toContain('Deploys');
    expect(signed).toContain('the signed deploy approval');
    expect(signed).not.toContain('GitHub’s deployment (not signed)');
    // An approval signed before requestedAt was recorded, with no deployment given: not measured, and said so.
    const older = page(
      (statement) => {
        delete statement.predicate.requestedAt;
      },
      (b) => b.source.includes('/deploy-approvals/'),
    );
    expect(older).not.toContain('the signed deploy approval');
    expect(older).toMatch(/not measured: /);
  });
});
