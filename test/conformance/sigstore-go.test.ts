// sigstore-go's otherName case (issue 15): a private Sigstore instance whose certificates carry the identity in an
// otherName SAN and whose checkpoints are signed under a log name that is not in the log's URL. Verified as
// sigstore-go verifies it: the SAN read from the otherName, the checkpoint's log found by its key.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './paths';
import { runCli } from './run-cli';
import { describeSuite } from './suite-runner';

describeSuite('sigstore-go', {
  root: join(import.meta.dirname, 'data'),
  cases: 2,
  refusals: { 'othername/email-is-not-the-username': 'IDENTITY_MISMATCH' },
});

describe('a checkpoint matched by key is still verified by that key', () => {
  const data = join(import.meta.dirname, 'data', 'sigstore-go');
  const flags = [
    '--certificate-identity',
    'foo!oidc.local',
    '--certificate-oidc-issuer',
    'http://oidc.local:8080',
    '--trusted-root',
    join(data, 'scaffolding.json'),
    'sha256:bc103b4a84971ef6459b294a2b98568a2bfb72cded09d4acd1e16366a401f95b',
  ];

  it('refuses the checkpoint with its signature changed, under its own name or the log’s host', async () => {
    const bundle = JSON.parse(readFileSync(join(data, 'othername.sigstore.json'), 'utf8'));
    const proof = bundle.verificationMaterial.tlogEntries[0].inclusionProof;
    const [note, line] = proof.checkpoint.envelope.split('\n\n') as [string, string];
    const [dash, name, encoded] = line.trimEnd().split(' ') as [string, string, string];
    const bytes = Buffer.from(encoded, 'base64');
    bytes[bytes.length - 1]! ^= 1; // the key hint kept, the signature changed
    const dir = mkdtempSync(join(tmpdir(), 'twokey-sigstore-go-'));
    try {
      for (const shown of [name, 'rekor.rekor-system.172.18.255.1.sslip.io']) {
        proof.checkpoint.envelope = `${note}\n\n${dash} ${shown} ${bytes.toString('base64')}\n`;
        const path = join(dir, `${shown}.json`);
        writeFileSync(path, JSON.stringify(bundle));
        const result = await runCli(['verify-bundle', '--bundle', path, ...flags], repoRoot);
        expect(result.status, result.stderr).toBe(1);
        expect(result.stderr).toMatch(/^error TLOG_INVALID: .*invalid checkpoint signature/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
