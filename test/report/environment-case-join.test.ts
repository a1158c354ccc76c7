// M6's join of GitHub's deployments with decision records (deployment-refused-by-record, rows 152 and 156) keyed a
// run's deploys by environment exactly, while GitHub's environment names are not case sensitive (row 200) and a
// record's environment is the deploy job's token's claim, spelt as its caller wrote it. A refused gate job spelt
// `PRODUCTION`, a decoy gate job and the job that shipped anyway `production`: the refusal was never joined with the
// successful production deployment, and the report passed (row 234). Environments are now compared without case.
import {
  computeSodReport,
  DECISION_EXTENSION,
  type DeploymentRecord,
  deploymentsFromGitHub,
  EvidenceLedger,
  parsePolicy,
  type SodReport,
  type VerifiedBundle,
} from '@twokey/core';
import { type OrgHistory, orgHistoryDeployments, orgHistoryPolicy, planOrgHistory } from '@twokey/testkit';
import { describe, expect, it } from 'vitest';
import { bundlesOf, resign } from '../report/sod-truth';

const history: OrgHistory = planOrgHistory({ firstMonth: '2026-01', months: 3 });
const honest = bundlesOf(history);
const github = () => JSON.parse(JSON.stringify(orgHistoryDeployments(history))) as Record<string, unknown>[];

function report(bundles: readonly VerifiedBundle[], deployments: object[], thresholds = ''): SodReport {
  const policy = parsePolicy(orgHistoryPolicy('trusted_root.json', thresholds), 'org-policy.yml');
  const ledger = new EvidenceLedger(policy, { owner: 'acme' });
  for (const b of bundles) ledger.addVerified(b);
  const records: DeploymentRecord[] = deploymentsFromGitHub(deployments, 'deployments.json');
  return computeSodReport({
    policy,
    ledger,
    deployments: { source: 'deployments.json', records },
    generatedAt: new Date('2026-12-01T00:00:00Z'),
  });
}

function deployment(id: number, repository: string, run: string, environment: string, at: string, sha: string) {
  const log = `https://github.com/${repository}/actions/runs/${run}/job/${id}`;
  return {
    id,
    url: `https://api.github.com/repos/${repository}/deployments/${id}`,
    environment,
    sha,
    ref: 'main',
    created_at: at,
    statuses: [
      { state: 'in_progress', created_at: at, log_url: log },
      { state: 'success', created_at: new Date(Date.parse(at) + 120_000).toISOString(), log_url: log },
    ],
  };
}

const refusedByRecord = (r: SodReport) =>
  r.indicators.M6.items.filter((f) => f.kind === 'deployment-refused-by-record').length;

describe('M6: a refusal joined with the deployment of its run, whatever case the environment is spelt in', () => {
  it('finds the deployment a record refused when the refused gate job spelt the environment in another case', () => {
    const gaps = 'report:\n  max-audit-gaps: 1\n';
    const baseline = report(honest, github(), gaps);
    const refused = history.deploys.find((d) => d.result === 'FAILED' && d.recorded)!;
    const at = new Date(Date.parse(refused.at) + 5 * 60_000).toISOString();
    const uri = `https://github.com/${refused.repository}/actions/runs/${refused.runId}/attempts/1`;
    // The refused record, as the deploy identity signs it when its job's token says `PRODUCTION`.
    const refusedRecord = honest.find((b) => b.source === `${refused.repository}/decisions.jsonl#${refused.runId}`)!;
    const signed = refusedRecord.statement as { predicate: Record<string, { environment?: string } | string> };
    expect(signed.predicate.verificationResult).toBe('FAILED');
    expect((signed.predicate[DECISION_EXTENSION] as { environment?: string }).environment).toBe('production');
    const upper = resign(refusedRecord, `${refused.repository}/refused-${refused.runId}.json`, uri, (s) => {
      s.predicate[DECISION_EXTENSION].environment = 'PRODUCTION';
    });
    // The decoy: a second gate job of the run, `production`, passes an old reviewed release (as deployments-join.test).
    const decoy = history.deploys.find(
      (x) =>
        x.result === 'PASSED' &&
        x.repository === refused.repository &&
        'own' in x.approval &&
        x.artifact.sha256 !== refused.artifact.sha256,
    )!;
    const record = honest.find((b) => b.source === `${decoy.repository}/decisions.jsonl#${decoy.runId}`)!;
    const approval = honest.find(
      (b) => b.source === `${decoy.repository}/deploy-approvals/${decoy.runId}.sigstore.json`,
    )!;
    const decoyApproval = resign(approval, `decoy/${refused.runId}.approval.json`, uri, (s) => {
      s.predicate.run = { ...s.predicate.run, id: Number(refused.runId), attempt: 1, uri };
    });
    const decoyRecord = resign(record, `decoy/${refused.runId}.record.json`, uri, (s) => {
      s.predicate.inputAttestations = [
        s.predicate.inputAttestations[0],
        { uri: 'file:///runner/work/decoy-approval.json', digest: { sha256: decoyApproval.sha256 } },
      ];
    });
    const forcedDeployment = deployment(99_001, refused.repository, refused.runId, 'production', at, refused.commit);

    // Control: same spelling → the finding is made and the report fails (the stopped row 156).
    const control = report([...honest, decoyApproval, decoyRecord], [...github(), forcedDeployment], gaps);
    expect(refusedByRecord(control)).toBe(refusedByRecord(baseline) + 1);
    expect(control.verdict).toBe('fail');

    // The refused record spelt `PRODUCTION` (one environment to GitHub): the same finding, and the report fails.
    const others = honest.filter((b) => b !== refusedRecord);
    const spelt = report([...others, upper, decoyApproval, decoyRecord], [...github(), forcedDeployment], gaps);
    expect(spelt.indicators.M1.refused).toBe(control.indicators.M1.refused);
    expect(baseline.verdict).toBe('pass');
    expect(refusedByRecord(spelt)).toBe(refusedByRecord(baseline) + 1);
    expect(spelt.verdict).toBe('fail');
  });
});
