// A bundle of the evidence with its `mediaType` key taken out read as "JSON but no bundle" (NOT_A_BUNDLE) and was
// skipped — counted only in `evidence.skipped`, named nowhere, no M6 finding — where the same bundle with one byte
// changed is `not-verified` (M6, row 116). alice, whose break-glass deploy's decision record and deploy approval sit
// in the evidence archive, stripped `mediaType` from both: the unapproved deploy left M1 and M8, no audit finding
// replaced it, and a report that failed passed. A bundle's fields without a mediaType are a malformed bundle now:
// rejected evidence, named, an audit finding. Found by the review of the report's integrity.
//
// Then, row 263 again, found by the review of its fix: a bundle read as "no bundle" only when its own top-level keys
// were a bundle's (any case, `_` dropped), so the same genuine decision record and deploy approval reshaped otherwise —
// wrapped as GitHub's attestation API returns an entry, or every key given a zero-width space, or kebab-case keys —
// were still skipped, named nowhere, and a failing report passed. A bundle's own top-level fields, spelled any way, at
// the top or one object down, make a malformed bundle now (test/sigstore/bundle-shaped-json.test.ts: what is not).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DECISION_EXTENSION, type SodReport } from '@twokey/core';
import {
  type OidcIssuer,
  type OrgHistory,
  orgHistoryPolicy,
  planOrgHistory,
  type SignedOrgHistory,
  type SigstoreStack,
  signOrgHistory,
  startOidcIssuer,
  startSigstoreStack,
} from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../conformance/run-cli';

let issuer: OidcIssuer;
let stack: SigstoreStack;
let workspace: string;
let history: OrgHistory;
let signed: SignedOrgHistory;

async function sodReport(args: string[]): Promise<{ exitCode: number | null; sod: SodReport }> {
  const run = await runCli(['report', '--json', ...args], workspace);
  expect(run.stderr).not.toMatch(/internal error/);
  return { exitCode: run.status, sod: JSON.parse(run.stdout) as SodReport };
}

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  workspace = mkdtempSync(join(tmpdir(), 'twokey-stripped-media-type-'));
  history = planOrgHistory({ months: 2 });
  signed = await signOrgHistory(history, { stack, issuer, directory: join(workspace, 'evidence') });
  writeFileSync(join(workspace, 'org-policy.yml'), orgHistoryPolicy(stack.trustedRootPath));
}, 180_000);

afterAll(async () => {
  await Promise.all([stack?.close(), issuer?.close()]);
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

/** The decision-record line of acme/web's break-glass deploy, and that run's deploy-approval file. */
function breakGlassEvidence(): { jsonl: string; line: number; approval: string } {
  const jsonl = join(signed.directory, 'acme/web/decisions.jsonl');
  const lines = readFileSync(jsonl, 'utf8').trimEnd().split('\n');
  const line = lines.findIndex((l) => {
    const s = JSON.parse(Buffer.from(JSON.parse(l).dsseEnvelope.payload, 'base64').toString('utf8'));
    return (
      s.predicate.verificationResult === 'PASSED' && (s.predicate[DECISION_EXTENSION]?.breakGlass ?? []).length > 0
    );
  });
  expect(line).toBeGreaterThanOrEqual(0);
  const deploy = history.deploys.find((d) => d.repository === 'acme/web' && d.breakGlass !== undefined)!;
  return { jsonl, line, approval: join(signed.directory, `acme/web/deploy-approvals/${deploy.runId}.sigstore.json`) };
}

function editLine(file: string, index: number, edit: (bundle: Record<string, unknown>) => void): void {
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  const bundle = JSON.parse(lines[index]!);
  edit(bundle);
  lines[index] = JSON.stringify(bundle);
  writeFileSync(file, `${lines.join('\n')}\n`);
}

describe('a bundle whose mediaType was taken out', () => {
  it('is rejected evidence, named, an audit finding: not skipped out of M1 and M8 into a pass', async () => {
    const honest = (await sodReport(['--policy', 'org-policy.yml', '--bundle', 'evidence'])).sod;
    const m1 = honest.indicators.M1;
    expect(m1.unapproved).toBeGreaterThan(0);
    // Thresholds the honest history just fails: one unapproved deploy fewer would pass, and no new audit gap.
    const limit = (m1.unapproved - 1) / (m1.passed - 1);
    writeFileSync(
      join(workspace, 'strict.yml'),
      orgHistoryPolicy(
        stack.trustedRootPath,
        `report:\n  max-unapproved-rate: ${limit}\n  max-audit-gaps: ${honest.indicators.M6.findings}\n`,
      ),
    );
    const strict = () => sodReport(['--policy', 'strict.yml', '--bundle', 'evidence']);
    const before = await strict();
    expect(before.exitCode).toBe(1);
    expect(before.sod.verdict).toBe('fail');

    const { jsonl, line, approval } = breakGlassEvidence();
    const original = { jsonl: readFileSync(jsonl, 'utf8'), approval: readFileSync(approval, 'utf8') };

    // Control: one byte of the record's signature changed — not-verified, an M6 finding; the report still fails.
    editLine(jsonl, line, (b) => {
      const env = b.dsseEnvelope as { signatures: { sig: string }[] };
      const sig = env.signatures[0]!.sig;
      env.signatures[0]!.sig = `${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`;
    });
    const tampered = await strict();
    expect(tampered.sod.indicators.M6.byKind).toContainEqual({ kind: 'not-verified', count: 1 });
    expect(tampered.sod.verdict).toBe('fail');
    writeFileSync(jsonl, original.jsonl);

    // The attack: `mediaType` removed from the record's line and from the run's deploy approval.
    editLine(jsonl, line, (b) => {
      delete b.mediaType;
    });
    const approvalBundle = JSON.parse(original.approval);
    delete approvalBundle.mediaType;
    writeFileSync(approval, `${JSON.stringify(approvalBundle)}\n`);

    const after = await strict();
    expect(after.sod.evidence.skipped).toBe(0);
    expect(after.sod.evidence.rejected).toBe(2);
    expect(after.sod.indicators.M6.findings).toBe(honest.indicators.M6.findings + 2);
    // Both files are named, with why they were not counted.
    const named = JSON.stringify(after.sod);
    expect(named).toContain(`evidence/acme/web/decisions.jsonl#L${line + 1}`);
    expect(named).toContain(approval.slice(workspace.length + 1));
    expect(named).toContain('mediaType: missing, though it holds a Sigstore bundle');
    expect(after.sod.verdict).toBe('fail');
    expect(after.exitCode).toBe(1);

    // With GitHub's deployments given, the deployment without a record is still named (no `--owner` report has them).
    const withDeployments = await sodReport([
      '--policy',
      'strict.yml',
      '--bundle',
      'evidence',
      '--deployments',
      'evidence.deployments.json',
    ]);
    expect(withDeployments.sod.indicators.M6.byKind.map((k) => k.kind)).toContain('deployment-without-record');

    writeFileSync(jsonl, original.jsonl);
    writeFileSync(approval, original.approval);
  }, 180_000);
});

type Reshape = (bundle: Record<string, unknown>) => unknown;

const RESHAPES: [string, Reshape][] = [
  // As GitHub's "list attestations" API returns each entry.
  [
    'wrapped as the attestation API returns it ({"bundle": …, "repository_id": …})',
    (b) => ({ bundle: b, repository_id: 1 }),
  ],
  // Every key renamed with a zero-width space: invisible in an editor or a diff.
  [
    'every top-level key with a zero-width space appended',
    (b) => Object.fromEntries(Object.entries(b).map(([k, v]) => [`${k}\u200b`, v])),
  ],
  // kebab-case keys (only `_` was dropped by the first fix's spelling).
  [
    'every top-level key in kebab-case',
    (b) =>
      Object.fromEntries(Object.entries(b).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), v])),
  ],
];

describe('a genuine bundle reshaped around its fields', () => {
  // The honest history's report, and one under thresholds it just fails, read once for every reshape.
  let honest: SodReport;
  let before: SodReport;
  const strict = () => sodReport(['--policy', 'strict-reshaped.yml', '--bundle', 'evidence']);
  beforeAll(async () => {
    honest = (await sodReport(['--policy', 'org-policy.yml', '--bundle', 'evidence'])).sod;
    const m1 = honest.indicators.M1;
    const limit = (m1.unapproved - 1) / (m1.passed - 1);
    writeFileSync(
      join(workspace, 'strict-reshaped.yml'),
      orgHistoryPolicy(
        stack.trustedRootPath,
        `report:\n  max-unapproved-rate: ${limit}\n  max-audit-gaps: ${honest.indicators.M6.findings}\n`,
      ),
    );
    before = (await strict()).sod;
  }, 180_000);

  it.each(RESHAPES)(
    '%s: rejected evidence, named, an audit finding',
    async (_name, reshape) => {
      expect(honest.indicators.M1.unapproved).toBeGreaterThan(0);
      expect(before.verdict).toBe('fail');

      const { jsonl, line, approval } = breakGlassEvidence();
      const original = { jsonl: readFileSync(jsonl, 'utf8'), approval: readFileSync(approval, 'utf8') };
      try {
        const lines = original.jsonl.trimEnd().split('\n');
        lines[line] = JSON.stringify(reshape(JSON.parse(lines[line]!)));
        writeFileSync(jsonl, `${lines.join('\n')}\n`);
        writeFileSync(approval, `${JSON.stringify(reshape(JSON.parse(original.approval)))}\n`);

        const after = await strict();
        expect(after.sod.evidence.skipped).toBe(0);
        expect(after.sod.evidence.rejected).toBe(before.evidence.rejected + 2);
        expect(after.sod.indicators.M6.findings).toBe(honest.indicators.M6.findings + 2);
        const named = JSON.stringify(after.sod);
        expect(named).toContain(approval.slice(workspace.length + 1));
        expect(named).toContain(`evidence/acme/web/decisions.jsonl#L${line + 1}`);
        expect(named).toContain('mediaType: missing, though it holds a Sigstore bundle');
        expect(after.sod.verdict).toBe('fail');
        expect(after.exitCode).toBe(1);
      } finally {
        writeFileSync(jsonl, original.jsonl);
        writeFileSync(approval, original.approval);
      }
    },
    180_000,
  );
});
