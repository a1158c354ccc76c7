// The bundled build action, as GitHub's runner runs it (testkit's runAction: node on a fresh bundle of today's
// sources, inputs as INPUT_*, the runner's files, the OIDC request variables only with id-token: write). Only what
// the bundle adds is checked here — its inputs, outputs, exit code, annotations and summary; everything the build
// stage decides is checked in-process in build-stage.test.ts.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  type ActionRun,
  identity,
  type OidcIssuer,
  runAction,
  type SigstoreStack,
  startOidcIssuer,
  startSigstoreStack,
} from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBundleCli } from '../conformance/run-cli';

const BUILD_ACTION = resolve(import.meta.dirname, '..', '..', 'actions', 'build');
const ISSUER = 'https://token.actions.githubusercontent.com';
const COMMIT = '5e1f0c2d9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d';
const build = identity('acme/app', '.github/workflows/build.yml', 'refs/heads/main', COMMIT);
const BUILD_SAN = 'https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main';
const ARTIFACT = 'dist/app-linux-amd64.tar.gz';

let stack: SigstoreStack;
let issuer: OidcIssuer;
let workspace: string;
let hex: string;

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  workspace = mkdtempSync(join(tmpdir(), 'twokey-build-ws-'));
  mkdirSync(join(workspace, 'dist'));
  const bytes = `app contents ${'x'.repeat(1000)}\n`;
  writeFileSync(join(workspace, ARTIFACT), bytes);
  hex = createHash('sha256').update(bytes).digest('hex');
});

afterAll(async () => {
  await stack?.close();
  await issuer?.close();
});

function runBuild(inputs: Record<string, string>, options: { oidc?: boolean } = {}): Promise<ActionRun> {
  return runAction(BUILD_ACTION, {
    with: { 'fulcio-url': stack.fulcioURL, 'rekor-url': stack.rekorURL, 'tsa-url': stack.tsaURL, ...inputs },
    identity: build,
    oidc: options.oidc === false ? undefined : issuer,
    workspace,
  });
}

function bundlesIn(run: ActionRun): string[] {
  const directory = join(run.runnerTemp, 'twokey');
  return existsSync(directory) ? readdirSync(directory) : [];
}

describe('the bundled build action', () => {
  it('reads its inputs and the job token, writes bundle-path and subjects, exits 0, and the bundle verifies', async () => {
    const run = await runBuild({ 'subject-path': 'dist/*.tar.gz' });
    expect(run.exitCode, run.log).toBe(0);
    const bundlePath = run.outputs['bundle-path']!;
    expect(bundlesIn(run)).toEqual([bundlePath.slice(join(run.runnerTemp, 'twokey/').length)]);
    expect(JSON.parse(run.outputs.subjects!)).toEqual([{ name: 'app-linux-amd64.tar.gz', digest: { sha256: hex } }]);
    const verified = await verifyBundleCli(
      bundlePath,
      ARTIFACT,
      { san: BUILD_SAN, issuer: ISSUER, trustedRoot: stack.trustedRootPath },
      workspace,
    );
    expect(verified.status, verified.stderr).toBe(0);
    expect(run.summary).toContain('## twokey build: provenance signed');
    expect(run.summary).toContain('https\\://github.com/acme/app/.github/workflows/build.yml@refs/heads/main');
  });

  it('fails the step with the error annotation and summary when the job has no id-token: write, and writes nothing', async () => {
    const certified = stack.presentedTokens.length;
    const run = await runBuild({ 'subject-path': 'dist/*.tar.gz' }, { oidc: false });
    expect(run.exitCode, run.log).not.toBe(0);
    expect(run.log).toContain('::error::OIDC_PERMISSION_MISSING: ');
    expect(run.summary).toContain('## twokey build: nothing signed');
    expect(run.summary).toContain('id-token: write');
    expect(run.outputs).toEqual({});
    expect(bundlesIn(run)).toEqual([]);
    expect(stack.presentedTokens.length).toBe(certified);
  });
});
