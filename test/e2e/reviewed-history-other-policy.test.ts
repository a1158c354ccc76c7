// An honest release, signed under the org policy (review.reviewed-history on, as docs/policy.example.yml) and the app
// repository's own .twokey/policy.yml (min-approvals: 2, as docs/repository-policy.example.yml), judged where that
// repository policy is not read: `twokey verify --policy ORG` without --repository-policy, and the deploy gate of a
// deployment repository (deploy.repositories: [acme/app]) with no policy of its own. Its walk was judged under stricter
// rules than those judging it there, and is taken (the gate first asked the very same rules, and refused every such
// release); a walk judged under looser ones is not (test/sign/old-sign-version-walk.test.ts).
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readDeployReport } from '@twokey/core';
import {
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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../packages/cli/src/cli';

const repoRoot = resolve(import.meta.dirname, '..', '..');
const BUILD_ACTION = join(repoRoot, 'actions', 'build');
const SIGN_ACTION = join(repoRoot, 'actions', 'sign');
const ISSUER = 'https://token.actions.githubusercontent.com';
const BUILD_WORKFLOW = 'acme/platform/.github/workflows/build.yml@refs/tags/v1';
const SIGN_WORKFLOW = 'acme/platform/.github/workflows/sign.yml@refs/tags/v1';
const ARTIFACT = 'dist/app.tar.gz';
const MAIN = 'refs/heads/main';
const ORG = 'org-policy.yml';

let issuer: OidcIssuer;
let stack: SigstoreStack;
let root: string;
let workspace: string;
let github: GitHubFake;
const endpoints = () => ({ 'fulcio-url': stack.fulcioURL, 'rekor-url': stack.rekorURL, 'tsa-url': stack.tsaURL });
const alice = aUser('alice');
const bob = aUser('bob');
const carol = aUser('carol');
const dave = aUser('dave');

function merge(repo: FakeRepository, author: typeof alice, approvers: (typeof alice)[], title: string, minute: number) {
  const at = (s: number) => new Date(Date.parse('2026-03-02T00:00:00Z') + (minute * 60 + s) * 1000).toISOString();
  const tip = repo.branches.main!;
  const change = aCommit({ author, message: title, date: at(0).replace('.000', '') });
  change.parents = [tip];
  const pr = aPullRequest({ author, commits: [change], title });
  pr.base.sha = tip;
  for (const a of approvers) pr.reviews.push(aReview({ by: a, on: change.sha, state: 'APPROVED', at: at(40) }));
  return mergePullRequest(repo, pr, { method: 'squash', by: author, at: at(55) });
}

async function twokey(...argv: string[]) {
  const out = { stdout: '', stderr: '' };
  const status = await run(argv, {
    stdout: { write: (t: string) => (out.stdout += t) },
    stderr: { write: (t: string) => (out.stderr += t) },
  } as never);
  return { status, ...out };
}

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  root = mkdtempSync(join(tmpdir(), 'twokey-e2e-other-policy-'));
  workspace = join(root, 'workspace');
  mkdirSync(join(workspace, 'dist'), { recursive: true });
  mkdirSync(join(workspace, '.twokey'), { recursive: true });
  writeFileSync(join(workspace, ARTIFACT), `honest app ${'x'.repeat(2048)}\n`);
  writeFileSync(
    join(workspace, ORG),
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
  reviewed-history: true
  history-since: 2026-03-01
deploy:
  max-age: 1d
  trusted-root: ${stack.trustedRootPath}
  repositories: [acme/app]
`,
  );
  // The app repository tightens the org policy, as docs/repository-policy.example.yml does.
  writeFileSync(join(workspace, '.twokey', 'policy.yml'), 'version: 1\nreview:\n  min-approvals: 2\n');
}, 120_000);

afterAll(async () => {
  await Promise.all([github?.close(), stack?.close(), issuer?.close()]);
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('reviewed-history: an honest release judged where its repository policy is not read', () => {
  it('passes twokey verify without --repository-policy and a deployment repository’s gate', async () => {
    const repo = aRepository('acme/app', {
      collaborators: { alice: 'write', bob: 'write', carol: 'write', dave: 'write' },
    });
    pushCommit(repo, aCommit({ author: alice, message: 'Before twokey', date: '2026-02-01T00:00:00Z' }), 'main', {
      by: alice,
    });
    merge(repo, alice, [bob, dave], 'Feature', 1); // two approvals: passes under every policy here
    const h = merge(repo, carol, [bob, dave], 'Changelog', 5);
    github = await startGitHubFake(aGitHubState(repo));

    const built = await runAction(BUILD_ACTION, {
      with: { 'subject-path': ARTIFACT, ...endpoints() },
      identity: identity('acme/app', '.github/workflows/release.yml', MAIN, h, { job_workflow_ref: BUILD_WORKFLOW }),
      oidc: issuer,
      workspace,
    });
    expect(built.exitCode, built.log).toBe(0);
    const provenance = built.outputs['bundle-path']!;
    const signed = await runAction(SIGN_ACTION, {
      with: {
        'subject-path': ARTIFACT,
        provenance,
        policy: ORG,
        'repository-policy': '.twokey/policy.yml',
        'trusted-root': stack.trustedRootPath,
        ...endpoints(),
      },
      identity: identity('acme/app', '.github/workflows/release.yml', MAIN, h, { job_workflow_ref: SIGN_WORKFLOW }),
      oidc: issuer,
      githubApiUrl: github.url,
      githubToken: 'ghs_sign_job_token',
      workspace,
    });
    expect(signed.exitCode, signed.log).toBe(0);
    const bundles = mkdtempSync(join(root, 'bundles-'));
    copyFileSync(provenance, join(bundles, 'provenance.sigstore.json'));
    for (const [i, p] of signed.outputs['bundle-paths']!.split('\n').entries()) {
      copyFileSync(p, join(bundles, `sign-${i}.sigstore.json`));
    }
    const verify = (...extra: string[]) =>
      twokey(
        'verify',
        join(workspace, ARTIFACT),
        '--policy',
        join(workspace, ORG),
        '--bundle',
        bundles,
        '--repo',
        'acme/app',
        '--json',
        ...extra,
      );

    // Control: judged with the same pair the sign stage used, the release passes.
    const same = await verify('--repository-policy', join(workspace, '.twokey', 'policy.yml'));
    expect(same.status, same.stdout + same.stderr).toBe(0);

    // The org policy alone (looser than what the release was judged under): it passes there too.
    const orgOnly = await verify();
    expect(orgOnly.status, orgOnly.stdout + orgOnly.stderr).toBe(0);
    expect(readDeployReport(orgOnly.stdout, 'verify').verdict).toBe('pass');

    // A deployment repository (deploy.repositories: [acme/app]) with no repository policy of its own.
    const gate = await runAction(repoRoot, {
      with: { 'subject-path': ARTIFACT, bundles, policy: ORG, record: 'false', ...endpoints() },
      identity: identity('acme/deployer', '.github/workflows/deploy.yml', MAIN, 'd'.repeat(40), {
        environment: 'production',
      }),
      oidc: issuer,
      workspace,
    });
    expect(gate.outputs.verified, gate.log).toBe('true');
  }, 600_000);
});
