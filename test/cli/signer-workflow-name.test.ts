// `twokey verify-bundle --signer-workflow OWNER/REPO/.github/workflows/build.yml` names one workflow file. A developer's
// other workflow file on her branch, named `.github/workflows/build.yml@x.yml`, signs with the SAN
// `https://github.com/OWNER/REPO/.github/workflows/build.yml@x.yml@refs/heads/feature`: the flag's pattern must not
// take the rest of that file name for the ref. Signed on the loopback Sigstore stack by the testkit's OIDC issuer.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signArtifact } from '@twokey/sigstore';
import { identity, type OidcIssuer, type SigstoreStack, startOidcIssuer, startSigstoreStack } from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../conformance/run-cli';

let stack: SigstoreStack;
let issuer: OidcIssuer;
let dir: string;

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  dir = mkdtempSync(join(tmpdir(), 'twokey-signer-workflow-'));
  writeFileSync(join(dir, 'app.tar.gz'), 'app bytes\n');
});
afterAll(async () => {
  await stack?.close();
  await issuer?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function signedBy(workflowFile: string, ref: string, name: string): Promise<string> {
  const who = identity('acme/app', workflowFile, ref, 'b'.repeat(40));
  const bundle = await signArtifact(
    { file: join(dir, 'app.tar.gz') },
    {
      endpoints: { fulcioURL: stack.fulcioURL, rekorURL: stack.rekorURL, tsaURL: stack.tsaURL },
      identityToken: () => issuer.mint(who, { audience: 'sigstore' }),
    },
  );
  const path = join(dir, `${name}.sigstore.json`);
  writeFileSync(path, JSON.stringify(bundle));
  return path;
}

// Whose run it must be (gh's --owner, required with its signer flags): acme, whose repository signed.
const verify = (bundle: string, ...flags: string[]) =>
  runCli(
    [
      'verify-bundle',
      '--bundle',
      bundle,
      '--trusted-root',
      stack.trustedRootPath,
      ...flags,
      '--owner',
      'acme',
      join(dir, 'app.tar.gz'),
    ],
    dir,
  );

describe('verify-bundle --signer-workflow and --signer-repo: the ref after the workflow file', () => {
  it('refuses another workflow file whose name starts with the named one and an @', async () => {
    const bundle = await signedBy('.github/workflows/build.yml@x.yml', 'refs/heads/feature', 'at-in-name');
    const result = await verify(bundle, '--signer-workflow', 'acme/app/.github/workflows/build.yml');
    expect(result.status).toBe(1);
    expect(result.stdout + result.stderr).toContain('IDENTITY_MISMATCH');
    expect(result.stdout).not.toContain('Verified OK');
  });

  it('accepts the named workflow at a branch, a tag or a ref with an @ in it', async () => {
    for (const [ref, name] of [
      ['refs/heads/main', 'main'],
      ['refs/tags/v1.2.3', 'tag'],
      ['refs/heads/fix@home', 'at-in-ref'],
    ] as const) {
      const bundle = await signedBy('.github/workflows/build.yml', ref, name);
      for (const flags of [
        ['--signer-workflow', 'acme/app/.github/workflows/build.yml'],
        ['--signer-repo', 'acme/app'],
      ]) {
        const result = await verify(bundle, ...flags);
        expect(result.status, `${ref} ${flags.join(' ')}: ${result.stderr}`).toBe(0);
        expect(result.stdout).toContain('Verified OK');
      }
    }
  });
});
