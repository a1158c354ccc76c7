// What a segregation-of-duties report lets count (issue 18): only bundles that verified and that the policy's
// identities signed, each signed event once, each about the repository its certificate names, none claiming a time
// after it was signed. Everything else is an audit finding (M6) and moves no other indicator. Each test builds the
// attack from an honest history's own statements, as someone holding the wrong token or the files would.
import {
  computeSodReport,
  type DeploymentRecord,
  deploymentsFromGitHub,
  describeSodReport,
  EvidenceLedger,
  herfindahl,
  latencyStats,
  markdownSodReport,
  type Policy,
  parsePolicy,
  type SodReport,
  SodReportError,
  type VerifiedBundle,
} from '@twokey/core';
import { type OrgHistory, orgHistoryPolicy, planOrgHistory } from '@twokey/testkit';
import { describe, expect, it } from 'vitest';
import { bundlesOf, sodSchemaProblems } from './sod-truth';

const history: OrgHistory = planOrgHistory({ firstMonth: '2026-01', months: 3 });
const honest = bundlesOf(history);
const policy = parsePolicy(orgHistoryPolicy('trusted_root.json'), 'org-policy.yml');

function report(
  bundles: readonly VerifiedBundle[],
  options: { policy?: Policy; rejected?: { source: string; sha256?: string }[] } = {},
): SodReport {
  const ledger = new EvidenceLedger(options.policy ?? policy);
  for (const r of options.rejected ?? [])
    ledger.addRejected({ source: r.source, code: 'TLOG_BODY_ERROR', reason: 'signature does not verify' }, r.sha256);
  for (const bundle of bundles) ledger.addVerified(bundle);
  const made = computeSodReport({
    policy: options.policy ?? policy,
    ledger,
    generatedAt: new Date('2026-12-01T00:00:00Z'),
  });
  expect(sodSchemaProblems(JSON.parse(JSON.stringify(made)))).toEqual([]);
  return made;
}

/** The one finding about a source, after checking that it is the only one the attack added. */
function onlyFinding(attacked: SodReport, source: string) {
  expect(attacked.indicators.M6.findings).toBe(baseline.indicators.M6.findings + 1);
  return attacked.indicators.M6.items.find((f) => f.evidence.source === source);
}

/** The indicators without M6 and the evidence counts: what an attack must not move. */
function metricsOf(r: SodReport) {
  const { M6: _, ...rest } = r.indicators;
  return rest;
}

const baseline = report(honest);
const record = (where: (b: VerifiedBundle) => boolean) => honest.find(where)!;
const aBreakGlassRecord = record(
  (b) => b.source.includes('decisions.jsonl') && JSON.stringify(b.statement).includes('TWOKEY_BREAK_GLASS'),
);
const aReview = record((b) => b.source.includes('/reviews/'));

// A statement is JSON: the attacks edit it as an attacker edits the file.
// biome-ignore lint/suspicious/noExplicitAny: the statement is edited as JSON
type Json = any;

function withPredicate(bundle: VerifiedBundle, change: (statement: Json) => void, source: string): VerifiedBundle {
  const statement = JSON.parse(JSON.stringify(bundle.statement));
  change(statement);
  return { ...bundle, source, sha256: undefined, evidenceKey: `forged:${source}`, statement };
}

describe('evidence that does not count', () => {
  it('a decision record signed by an identity the policy does not name: M6 only', () => {
    const forged = { ...aBreakGlassRecord, source: 'forged/record.json', evidenceKey: 'forged', sha256: undefined };
    forged.signer = {
      ...forged.signer,
      san: 'https://github.com/acme/app/.github/workflows/deploy.yml@refs/heads/main',
    };
    const attacked = report([...honest, forged]);
    expect(metricsOf(attacked)).toEqual(metricsOf(baseline));
    expect(onlyFinding(attacked, 'forged/record.json')).toMatchObject({ kind: 'not-the-policy-identity' });
  });

  it('a bundle that did not verify (tampered, another root): M6 only, and the record resting on it says so', () => {
    const input = (aBreakGlassRecord.statement as Json).predicate.inputAttestations[0].digest.sha256 as string;
    const without = honest.filter((b) => b.sha256 !== input);
    const attacked = report(without, { rejected: [{ source: 'tampered.json', sha256: input }] });
    expect(attacked.indicators.M6.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'not-verified', evidence: { source: 'tampered.json', sha256: input } }),
        expect.objectContaining({
          kind: 'record-evidence-not-verified',
          evidence: expect.objectContaining({ source: aBreakGlassRecord.source }),
        }),
      ]),
    );
  });

  it('a bundle that did not verify alongside the honest ones moves nothing but M6', () => {
    const attacked = report(honest, { rejected: [{ source: 'foreign-root.json' }] });
    expect(metricsOf(attacked)).toEqual(metricsOf(baseline));
    expect(attacked.indicators.M6.findings).toBe(baseline.indicators.M6.findings + 1);
    expect(attacked.evidence.rejected).toBe(1);
  });

  it('a review attestation about another repository than the run that signed it: inconsistent, M6 only', () => {
    const forged = withPredicate(
      aReview,
      (s) => {
        s.predicate.repository = { name: 'acme/other', uri: 'https://github.com/acme/other' };
      },
      'forged/review.json',
    );
    const attacked = report([...honest, forged]);
    expect(metricsOf(attacked)).toEqual(metricsOf(baseline));
    expect(onlyFinding(attacked, forged.source)).toMatchObject({
      kind: 'inconsistent',
      reason: expect.stringContaining('acme/other'),
    });
  });

  it('a record dated after it was signed (a claim from the future): inconsistent, M6 only', () => {
    const forged = withPredicate(
      aBreakGlassRecord,
      (s) => {
        s.predicate.timeVerified = '2026-12-24T00:00:00.000Z';
      },
      'forged/future.json',
    );
    const attacked = report([...honest, forged]);
    expect(metricsOf(attacked)).toEqual(metricsOf(baseline));
    expect(onlyFinding(attacked, forged.source)).toMatchObject({ kind: 'inconsistent' });
  });

  it('a deploy approval naming another run than the one its certificate names: unreadable, M6 only', () => {
    const approval = record((b) => b.source.includes('/deploy-approvals/'));
    const forged = withPredicate(
      approval,
      (s) => {
        s.predicate.run.uri = s.predicate.run.uri.replace(/runs\/\d+/, 'runs/1');
      },
      'forged/approval.json',
    );
    const attacked = report([...honest, forged]);
    expect(metricsOf(attacked)).toEqual(metricsOf(baseline));
    expect(onlyFinding(attacked, forged.source)).toMatchObject({
      kind: 'unreadable',
      reason: expect.stringContaining('runs/1'),
    });
  });

  it('the same signed event in other bytes counts once', () => {
    const copies = honest.map((b) => ({ ...b, source: `copy/${b.source}`, sha256: 'f'.repeat(64) }));
    const doubled = report([...honest, ...copies]);
    expect(metricsOf(doubled)).toEqual(metricsOf(baseline));
    expect(doubled.evidence.duplicates).toBe(honest.length);
  });

  it('says what it cannot measure without a deploy identity, never zero', () => {
    const noDeploy = parsePolicy(
      orgHistoryPolicy('trusted_root.json').replace(/^ {2}deploy: \{ issuer.*\n/m, ''),
      'org-policy.yml',
    );
    const measured = report(honest, { policy: noDeploy });
    for (const id of ['M1', 'M8', 'M10'] as const) {
      expect(measured.indicators[id]).toMatchObject({
        status: 'not-measured',
        reason: expect.stringContaining('identities.deploy'),
      });
    }
    expect(measured.indicators.M6.byKind).toContainEqual({
      kind: 'not-the-policy-identity',
      count: expect.any(Number),
    });
  });
});

describe('the report', () => {
  it('refuses a field its schema does not know', () => {
    expect(sodSchemaProblems({ ...JSON.parse(JSON.stringify(baseline)), extra: 1 })).not.toEqual([]);
  });

  it('shows a login with control characters as escapes in the terminal and escaped in Markdown', () => {
    const evil = withPredicate(
      aReview,
      (s) => {
        s.predicate.reviewers[0].name = 'eve\u001b[2Jmallory';
      },
      'evil/review.json',
    );
    const shown = report([...honest.filter((b) => b !== aReview), { ...evil, evidenceKey: aReview.evidenceKey }]);
    expect(describeSodReport(shown)).not.toContain('\u001b');
    expect(markdownSodReport(shown)).not.toContain('\u001b');
  });

  it('reads GitHub deployments and names what is malformed', () => {
    const deployments: DeploymentRecord[] = deploymentsFromGitHub(
      [
        {
          id: 1,
          url: 'https://api.github.com/repos/acme/web/deployments/1',
          environment: 'production',
          sha: 'a'.repeat(40),
          created_at: '2026-02-01T00:00:00Z',
          statuses: [
            {
              state: 'success',
              created_at: '2026-02-01T00:10:00Z',
              log_url: 'https://github.com/acme/web/actions/runs/42/job/7',
            },
          ],
        },
      ],
      'deployments.json',
    );
    expect(deployments).toEqual([
      expect.objectContaining({
        id: 1,
        repository: 'acme/web',
        runId: '42',
        statuses: [{ state: 'success', createdAt: '2026-02-01T00:10:00Z' }],
      }),
    ]);
    expect(() => deploymentsFromGitHub([{ id: 'x' }], 'deployments.json')).toThrow(SodReportError);
    expect(() => deploymentsFromGitHub({}, 'deployments.json')).toThrow(/deployments\.json: \(root\): expected a list/);
  });

  it('computes percentiles by nearest rank and the Herfindahl index', () => {
    expect(latencyStats([5, 1, 4, 2, 3])).toEqual({ count: 5, medianSeconds: 3, p90Seconds: 5 });
    expect(latencyStats([])).toEqual({ count: 0, medianSeconds: null, p90Seconds: null });
    expect(herfindahl([1, 1, 1, 1])).toBe(0.25);
    expect(herfindahl([7])).toBe(1);
  });
});
