// The repository admin routes the platform's reusable sign job onto a self-hosted runner of the application repository
// (labelled `ubuntu-latest`, which `runs-on: ubuntu-latest` matches; a called workflow may use the caller repository's
// self-hosted runners). On that machine she holds the job's OIDC request token, so the sign identity's certificate
// for whatever she likes: here twokey's own sign action, unmodified, reading an API server of hers that says her direct
// push to main was a pull request approved by bob. Fulcio records the runner (Runner Environment, 1.3.6.1.4.1.57264.1.11,
// from the token's runner_environment claim): the deploy gate and twokey verify refuse a GitHub Actions identity that
// signed on a self-hosted runner, unless the policy's identity says runner-environment: any.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readDeployReport } from '@twokey/core';
import { BundleVerifier, loadTrustedRoot, readBundleFile } from '@twokey/sigstore';
import {
  aCommit,
  aGitHubState,
  aPullRequest,
  aRepository,
  aReview,
  aUser,
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
  type WorkflowIdentity,
} from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../conformance/run-cli';

const repoRoot = resolve(import.meta.dirname, '..', '..');
const BUILD_ACTION = join(repoRoot, 'actions', 'build');
const SIGN_ACTION = join(repoRoot, 'actions', 'sign');
const ISSUER = 'https://token.actions.githubusercontent.com';
const BUILD_WORKFLOW = 'acme/platform/.github/workflows/twokey-build.yml@refs/tags/v1.0.0';
const SIGN_WORKFLOW = 'acme/platform/.github/workflows/twokey-sign.yml@refs/tags/v1.0.0';
const ARTIFACT = 'dist/app.tar.gz';
const POLICY = '.twokey/org-policy.yml';

let issuer: OidcIssuer;
let stack: SigstoreStack;
let realGitHub: GitHubFake;
let malloryGitHub: GitHubFake;
let root: string;
let workspace: string;
let sneaked: string;

const endpoints = () => ({ 'fulcio-url': stack.fulcioURL, 'rekor-url': stack.rekorURL, 'tsa-url': stack.tsaURL });

/** A job of acme/app's release.yml on main at `sha` running the platform's reusable workflow `jobWorkflow`. */
const reusableJob = (jobWorkflow: string, sha: string, overrides: Partial<WorkflowIdentity> = {}) =>
  identity('acme/app', '.github/workflows/release.yml', 'refs/heads/main', sha, {
    job_workflow_ref: jobWorkflow,
    actor: 'mallory',
    ...overrides,
  });

const runSign = (who: WorkflowIdentity, provenance: string, githubApiUrl: string, policy = POLICY) =>
  runAction(SIGN_ACTION, {
    with: {
      'subject-path': ARTIFACT,
      provenance,
      policy,
      'trusted-root': stack.trustedRootPath,
      ...endpoints(),
    },
    identity: who,
    oidc: issuer,
    githubApiUrl,
    githubToken: 'ghs_sign_job_token',
    workspace,
  });

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });

  const alice = aUser('alice');
  const bob = aUser('bob');
  const mallory = aUser('mallory');

  // What mallory's own API server answers: a pull request by alice, approved by bob, merged as commit M.
  const story = aRepository('acme/app', { collaborators: { alice: 'write', bob: 'write', mallory: 'admin' } });
  const head = aCommit({ author: alice, message: 'Tidy the config loader' });
  const pullRequest = aPullRequest({ author: alice, commits: [head], title: 'Tidy the config loader' });
  pullRequest.reviews.push(aReview({ by: bob, on: head.sha, state: 'APPROVED' }));
  sneaked = mergePullRequest(story, pullRequest, { method: 'merge', by: bob });
  malloryGitHub = await startGitHubFake(aGitHubState(story));

  // What really happened on GitHub: mallory (admin) pushed M straight to main, bypassing protection. No review.
  const real = aRepository('acme/app', { collaborators: { alice: 'write', bob: 'write', mallory: 'admin' } });
  pushCommit(real, aCommit({ author: mallory, message: 'Add a backdoor', sha: sneaked }));
  realGitHub = await startGitHubFake(aGitHubState(real));

  root = mkdtempSync(join(tmpdir(), 'twokey-self-hosted-'));
  workspace = join(root, 'workspace');
  mkdirSync(join(workspace, 'dist'), { recursive: true });
  mkdirSync(join(workspace, '.twokey'), { recursive: true });
  writeFileSync(join(workspace, ARTIFACT), `app 1.1 with a backdoor ${'x'.repeat(4096)}\n`);
  // The org policy as docs/policy.example.yml writes it: the platform's reusable workflows at an exact release tag.
  writeFileSync(
    join(workspace, POLICY),
    `version: 1
identities:
  build:
    issuer: ${ISSUER}
    san: https://github.com/${BUILD_WORKFLOW}
  sign:
    issuer: ${ISSUER}
    san: https://github.com/${SIGN_WORKFLOW}
review:
  min-approvals: 1
  protected-branches: [main]
deploy:
  max-age: 1d
  trusted-root: ${stack.trustedRootPath}
`,
  );
}, 180_000);

afterAll(async () => {
  await Promise.all([stack?.close(), issuer?.close(), realGitHub?.close(), malloryGitHub?.close()]);
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('the repository admin runs the platform sign job on her own self-hosted runner', () => {
  it('the deploy gate and twokey verify refuse the sign identity’s signatures made there; runner-environment: any accepts them', async () => {
    // 1. The genuine build identity attests mallory's direct push to main (a build on the protected branch).
    const build = await runAction(BUILD_ACTION, {
      with: { 'subject-path': ARTIFACT, ...endpoints() },
      identity: reusableJob(BUILD_WORKFLOW, sneaked),
      oidc: issuer,
      workspace,
    });
    expect(build.exitCode, build.log).toBe(0);
    const provenance = build.outputs['bundle-path']!;

    // 2. On a GitHub-hosted runner, reading the real GitHub, sign refuses (no pull request).
    const honestSign = await runSign(reusableJob(SIGN_WORKFLOW, sneaked), provenance, realGitHub.url);
    expect(honestSign.exitCode, honestSign.log).not.toBe(0);
    expect(honestSign.log).toContain('SIGN_REFUSED');

    // 3. The same reusable sign job on mallory's runner: the same SAN, her API server. The genuine sign step refuses
    //    to sign there (its own identity is not the policy's); but the machine is hers, and so is what runs on it:
    //    here the same action, given a policy that accepts any runner.
    const onHerRunner = reusableJob(SIGN_WORKFLOW, sneaked, { runner_environment: 'self-hosted' });
    const refusedThere = await runSign(onHerRunner, provenance, malloryGitHub.url);
    expect(refusedThere.exitCode).not.toBe(0);
    expect(refusedThere.log).toContain(
      "sign-identity-in-policy: the sign job is not the policy's sign identity, so deploy would refuse what it signs: expected a job on a GitHub-hosted runner, found runner environment self-hosted",
    );
    const anyRunner = POLICY.replace('.yml', '-any-runner.yml');
    writeFileSync(
      join(workspace, anyRunner),
      readFileSync(join(workspace, POLICY), 'utf8').replace(
        `    san: https://github.com/${SIGN_WORKFLOW}`,
        `    san: https://github.com/${SIGN_WORKFLOW}\n    runner-environment: any`,
      ),
    );
    const hijacked = await runSign(onHerRunner, provenance, malloryGitHub.url, anyRunner);
    expect(hijacked.exitCode, hijacked.log).toBe(0);
    const bundles = join(root, 'bundles');
    mkdirSync(bundles, { recursive: true });
    copyFileSync(provenance, join(bundles, 'provenance.sigstore.json'));
    for (const [i, path] of hijacked.outputs['bundle-paths']!.split('\n').entries()) {
      copyFileSync(path, join(bundles, `sign-${i}.sigstore.json`));
    }
    const verifier = new BundleVerifier(loadTrustedRoot(stack.trustedRootPath));
    const signer = verifier.verify(readBundleFile(hijacked.outputs['review-bundle-path']!), {
      identity: { san: `https://github.com/${SIGN_WORKFLOW}`, issuer: ISSUER },
    }).signer;
    expect(signer.extensions.runnerEnvironment).toBe('self-hosted');

    // 4. The deploy gate and twokey verify refuse the chain: the sign identity signed on a self-hosted runner.
    const gate = await runAction(repoRoot, {
      with: { 'subject-path': ARTIFACT, bundles, policy: POLICY, ...endpoints() },
      identity: identity('acme/app', '.github/workflows/release.yml', 'refs/heads/main', sneaked, {
        job_workflow_ref: 'acme/platform/.github/workflows/twokey-deploy.yml@refs/tags/v1.0.0',
        environment: 'production',
      }),
      oidc: issuer,
      workspace,
    });
    expect(gate.exitCode, gate.log).not.toBe(0);
    expect(gate.outputs.verified).toBe('false');
    const verify = (policy: string) =>
      runCli(['verify', ARTIFACT, '--policy', policy, '--repo', 'acme/app', '--bundle', bundles, '--json'], workspace);
    const refused = await verify(POLICY);
    expect(refused.status, refused.stdout + refused.stderr).toBe(1);
    const report = readDeployReport(refused.stdout, 'twokey verify --json');
    const signature = report.artifacts[0]!.checks.find((c) => c.id === 'artifact-signature')!;
    expect(signature.verdict).toBe('fail');
    expect(signature.reason).toContain(
      'expected a job on a GitHub-hosted runner, found runner environment self-hosted',
    );
    const review = report.artifacts[0]!.checks.find((c) => c.id === 'review-attestation')!;
    expect(review.verdict).toBe('fail');
    expect(review.reason).toContain('expected a job on a GitHub-hosted runner, found runner environment self-hosted');

    // 5. Under a policy that accepts any runner for the sign identity (a platform whose own runners serve it), the
    //    same evidence is judged on its review alone, which mallory's server made up: the runner was the whole check.
    const accepted = await verify(anyRunner);
    expect(accepted.status, accepted.stdout + accepted.stderr).toBe(0);
  });
});
