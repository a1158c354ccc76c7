// The bundled sign action, as GitHub's runner runs it (testkit's runAction: node on a fresh bundle of today's sources,
// inputs as INPUT_*, the job's context and OIDC request variables, GITHUB_API_URL on the GitHub fake), after the
// bundled build action. Only what the bundle adds is checked here — inputs read, outputs written, the exit code, an
// annotation per failed check, the summary; every attack the sign stage refuses is in sign-stage.test.ts, in-process.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  type ActionRun,
  aCommit,
  aGitHubState,
  aPullRequest,
  aRepository,
  aReview,
  aUser,
  type FakeRepository,
  type GitHubFake,
  identity,
  mergePullRequest,
  type OidcIssuer,
  pushCommit,
  runAction,
  type SigstoreStack,
  startGitHubFake,
  startOidcIssuer,
  startSigstoreStack,
} from '@twokey/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyBundleCli } from '../conformance/run-cli';

const repoRoot = resolve(import.meta.dirname, '..', '..');
const SIGN_ACTION = join(repoRoot, 'actions', 'sign');
const BUILD_ACTION = join(repoRoot, 'actions', 'build');
const ISSUER = 'https://token.actions.githubusercontent.com';
const BUILD_SAN = 'https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main';
const SIGN_WORKFLOW = 'acme/platform/.github/workflows/twokey-sign.yml@refs/heads/main';
const SIGN_SAN = `https://github.com/${SIGN_WORKFLOW}`;
const ARTIFACT = 'dist/app.tar.gz';

let stack: SigstoreStack;
let issuer: OidcIssuer;
let workspace: string;
const fakes: GitHubFake[] = [];

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  workspace = mkdtempSync(join(tmpdir(), 'twokey-sign-ws-'));
  mkdirSync(join(workspace, 'dist'));
  mkdirSync(join(workspace, '.twokey'));
  writeFileSync(join(workspace, ARTIFACT), `app ${'y'.repeat(500)}\n`);
  const identities = `version: 1\nidentities:\n  build:\n    issuer: ${ISSUER}\n    san: ${BUILD_SAN}\n  sign:\n    issuer: ${ISSUER}\n    san: ${SIGN_SAN}\n`;
  // The org policy, given as the `policy` input (the reusable workflow leaves it empty: the platform repository's own,
  // which a bundle built for the test does not sit in).
  writeFileSync(join(workspace, '.twokey', 'org-policy.yml'), identities);
  writeFileSync(join(workspace, 'typo-policy.yml'), `${identities}review:\n  min-aprovals: 2\n`);
});

afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

afterAll(async () => {
  await stack?.close();
  await issuer?.close();
});

const endpoints = () => ({ 'fulcio-url': stack.fulcioURL, 'rekor-url': stack.rekorURL, 'tsa-url': stack.tsaURL });

/** The build action on `commit`, as acme/app's build job: returns the provenance bundle's path. */
async function runBuild(commit: string): Promise<string> {
  const run = await runAction(BUILD_ACTION, {
    with: { 'subject-path': ARTIFACT, ...endpoints() },
    identity: identity('acme/app', '.github/workflows/build.yml', 'refs/heads/main', commit),
    oidc: issuer,
    workspace,
  });
  expect(run.exitCode, run.log).toBe(0);
  return run.outputs['bundle-path']!;
}

/** The sign action as the platform's reusable sign workflow called by acme/app, reading `repository` from a fake. */
async function runSign(repository: FakeRepository, commit: string, inputs: Record<string, string> = {}) {
  const fake = await startGitHubFake(aGitHubState(repository));
  fakes.push(fake);
  const provenance = await runBuild(commit);
  const certified = stack.presentedTokens.length;
  const run = await runAction(SIGN_ACTION, {
    with: {
      'subject-path': ARTIFACT,
      provenance,
      'trusted-root': stack.trustedRootPath,
      policy: '.twokey/org-policy.yml',
      ...endpoints(),
      ...inputs,
    },
    identity: identity('acme/app', '.github/workflows/release.yml', 'refs/heads/main', commit, {
      job_workflow_ref: SIGN_WORKFLOW,
    }),
    oidc: issuer,
    githubApiUrl: fake.url,
    githubToken: 'ghs_sign_job_token',
    workspace,
  });
  return { run, fake, certified: stack.presentedTokens.length - certified };
}

function bundlesIn(run: ActionRun): string[] {
  const directory = join(run.runnerTemp, 'twokey');
  return existsSync(directory) ? readdirSync(directory) : [];
}

/** alice's pull request; bob (write access) approved its head or not; merged by squash. */
function aChange(options: { approved: boolean; title: string }) {
  const alice = aUser('alice');
  const bob = aUser('bob');
  const repository = aRepository('acme/app', { collaborators: { alice: 'write', bob: 'write' } });
  const head = aCommit({ author: alice, message: 'Add the parser' });
  const pullRequest = aPullRequest({ author: alice, commits: [head], title: options.title });
  if (options.approved) pullRequest.reviews.push(aReview({ by: bob, on: head.sha }));
  const merged = mergePullRequest(repository, pullRequest, { method: 'squash', by: bob });
  return { alice, repository, pullRequest, merged };
}

describe('the bundled sign action', () => {
  it('after the bundled build action: reads its inputs, the GitHub API with the job token, signs, writes its outputs and summary; the bundles verify', async () => {
    const change = aChange({ approved: true, title: 'Parser <b>fast</b> | [x](https://evil.example)' });
    const { run, fake, certified } = await runSign(change.repository, change.merged);

    expect(run.exitCode, run.log).toBe(0);
    expect(certified).toBe(2);
    expect(run.outputs.verdict).toBe('pass');
    expect(run.outputs.commit).toBe(change.merged);
    expect(JSON.parse(run.outputs.checks!).every((c: { verdict: string }) => c.verdict === 'pass')).toBe(true);
    const reviewPath = run.outputs['review-bundle-path']!;
    const signaturePath = join(run.runnerTemp, 'twokey', 'app.tar.gz.sig.sigstore.json');
    expect(run.outputs['bundle-paths']!.split('\n')).toEqual([signaturePath, reviewPath]);
    expect(bundlesIn(run).sort()).toEqual([
      'app.tar.gz.sig.sigstore.json',
      `review-${change.merged.slice(0, 12)}.sigstore.json`,
    ]);
    for (const bundle of [signaturePath, reviewPath]) {
      const verified = await verifyBundleCli(
        bundle,
        ARTIFACT,
        { san: SIGN_SAN, issuer: ISSUER, trustedRoot: stack.trustedRootPath },
        workspace,
      );
      expect(verified.status, verified.stderr).toBe(0);
    }
    expect(fake.requests.length).toBeGreaterThan(0);
    expect(fake.requests.every((r) => r.authorization === 'token ghs_sign_job_token')).toBe(true);

    expect(run.summary).toContain('## twokey sign: signed');
    expect(run.summary).toContain('| independent approvers | bob |');
    expect(run.summary).toContain('&lt;b&gt;fast&lt;/b&gt; \\| \\[x\\]');
    expect(run.summary).not.toContain('<b>fast');
  });

  it('refused: fails the step with an annotation per failed check and SIGN_REFUSED, writes verdict and checks, signs nothing', async () => {
    const change = aChange({ approved: false, title: 'Parser' });
    const pushed = pushCommit(change.repository, aCommit({ author: change.alice, message: 'Hotfix' }));
    const { run, certified } = await runSign(change.repository, pushed);

    expect(run.exitCode, run.log).not.toBe(0);
    const failed = JSON.parse(run.outputs.checks!).filter((c: { verdict: string }) => c.verdict === 'fail');
    expect(failed.map((c: { id: string }) => c.id)).toContain('merged-by-pull-request');
    for (const check of failed) expect(run.log).toContain(`::error::${check.id}: `);
    expect(run.log).toContain('::error::SIGN_REFUSED: nothing was signed; ');
    expect(run.outputs.verdict).toBe('fail');
    expect(run.outputs.commit).toBe(pushed);
    expect(run.outputs['bundle-paths']).toBeUndefined();
    expect(run.summary).toContain('## twokey sign: nothing signed');
    expect(bundlesIn(run)).toEqual([]);
    expect(certified).toBe(0);
  });

  it('a usage error (a policy it cannot use): fails the step naming the key, no checks, nothing asked of GitHub', async () => {
    const change = aChange({ approved: true, title: 'Parser' });
    const { run, fake, certified } = await runSign(change.repository, change.merged, { policy: 'typo-policy.yml' });

    expect(run.exitCode).not.toBe(0);
    expect(run.log).toContain('::error::POLICY_INVALID: typo-policy.yml: review.min-aprovals: unknown key');
    expect(run.summary).toContain('## twokey sign: nothing signed');
    expect(run.outputs).toEqual({});
    expect(bundlesIn(run)).toEqual([]);
    expect(certified).toBe(0);
    expect(fake.requests).toEqual([]);
  });
});
