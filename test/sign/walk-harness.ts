// What the end-to-end tests of review.reviewed-history share: acme/app's branch history written as merges on the
// GitHub fake, the build and sign actions run on the loopback Sigstore stack as acme/app's release runs them, the
// bundles a deploy is given, and the CLI run in-process. Each test file keeps its own policies and attack.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
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
import { afterAll, beforeAll, expect } from 'vitest';
import { run } from '../../packages/cli/src/cli';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
export const ISSUER = 'https://token.actions.githubusercontent.com';
export const ARTIFACT = 'dist/app.tar.gz';
export const MAIN = 'refs/heads/main';

export const alice = aUser('alice');
export const bob = aUser('bob');
export const carol = aUser('carol');
export const dave = aUser('dave');
type Person = typeof alice;

/** acme/app, alice, bob, carol and dave its writers, its main begun by a push before history-since (2026-03-01). */
export function anAppRepository(): FakeRepository {
  const repo = aRepository('acme/app', {
    collaborators: { alice: 'write', bob: 'write', carol: 'write', dave: 'write' },
  });
  pushCommit(repo, aCommit({ author: alice, message: 'Before twokey', date: '2026-02-01T00:00:00Z' }), 'main', {
    by: alice,
  });
  return repo;
}

/**
 * A one-commit pull request by `author` on main's tip, approved by `approvers` on its head 40 s after it was written,
 * squash-merged by its author at 55 s (`minute` minutes after 2026-03-02T00:00Z). Returns the merge commit.
 */
export function merge(
  repo: FakeRepository,
  author: Person,
  approvers: Person[],
  title: string,
  minute: number,
): string {
  const at = (s: number) => new Date(Date.parse('2026-03-02T00:00:00Z') + (minute * 60 + s) * 1000).toISOString();
  const tip = repo.branches.main!;
  const change = aCommit({ author, message: title, date: at(0).replace('.000', '') });
  change.parents = [tip];
  const pr = aPullRequest({ author, commits: [change], title });
  pr.base.sha = tip;
  for (const a of approvers) pr.reviews.push(aReview({ by: a, on: change.sha, state: 'APPROVED', at: at(40) }));
  return mergePullRequest(repo, pr, { method: 'squash', by: author, at: at(55) });
}

export interface SignRun {
  provenance: string;
  /** The commit the sign job runs at (its token's sha). */
  sha: string;
  /** The org policy, in the workspace. */
  policy: string;
  /** The sign workflow's job_workflow_ref (its SAN). */
  workflow: string;
  /** The repository whose workflow calls it (default acme/app). */
  repository?: string;
  ref?: string;
  /** The repository policy, in the workspace. */
  repositoryPolicy?: string;
  /** store-attestations: true. */
  store?: boolean;
}

export interface WalkStack {
  readonly issuer: OidcIssuer;
  readonly stack: SigstoreStack;
  /** This file's temporary directory; the workspace (with dist/) is inside it. */
  readonly root: string;
  readonly workspace: string;
  readonly github: GitHubFake;
  endpoints(): Record<'fulcio-url' | 'rekor-url' | 'tsa-url', string>;
  /** Serves `repo` as the GitHub API (the one served before, if any, is closed). */
  serve(repo: FakeRepository): Promise<GitHubFake>;
  /** acme/app's release: the build identity `buildWorkflow`'s provenance of `commit` (a push to main). */
  build(commit: string, buildWorkflow: string): Promise<ActionRun>;
  /** The sign action run as `run` says, on the GitHub fake served. */
  sign(run: SignRun): Promise<ActionRun>;
  /** A fresh directory holding the provenance and every bundle a sign run wrote: what a deploy is given. */
  bundlesOf(provenance: string, signed: ActionRun): string;
  /** `twokey …` in this process. */
  twokey(...argv: string[]): Promise<{ status: number; stdout: string; stderr: string }>;
}

/** The review bundle a sign run wrote. */
export const reviewBundleOf = (signed: ActionRun) =>
  signed.outputs['bundle-paths']!.split('\n').find((p) => p.includes('review-'))!;

/**
 * The OIDC issuer and Sigstore stack for this file (started before its tests, with `setUp` then run on the workspace),
 * and the GitHub fake it serves; all closed after them.
 */
export function useWalkStack(prefix: string, setUp: (stack: WalkStack) => void): WalkStack {
  let issuer: OidcIssuer | undefined;
  let stack: SigstoreStack | undefined;
  let github: GitHubFake | undefined;
  let root = '';
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the ${what} is not started: use it inside a test`);
    return value;
  };
  const harness: WalkStack = {
    get issuer() {
      return started(issuer, 'OIDC issuer');
    },
    get stack() {
      return started(stack, 'Sigstore stack');
    },
    get root() {
      return root;
    },
    get workspace() {
      return join(root, 'workspace');
    },
    get github() {
      return started(github, 'GitHub fake');
    },
    endpoints: () => {
      const s = harness.stack;
      return { 'fulcio-url': s.fulcioURL, 'rekor-url': s.rekorURL, 'tsa-url': s.tsaURL };
    },
    async serve(repo) {
      await github?.close();
      github = await startGitHubFake(aGitHubState(repo));
      return github;
    },
    async build(commit, buildWorkflow) {
      const built = await runAction(join(REPO_ROOT, 'actions', 'build'), {
        with: { 'subject-path': ARTIFACT, ...harness.endpoints() },
        identity: identity('acme/app', '.github/workflows/release.yml', MAIN, commit, {
          job_workflow_ref: buildWorkflow,
        }),
        oidc: harness.issuer,
        workspace: harness.workspace,
      });
      expect(built.exitCode, built.log).toBe(0);
      return built;
    },
    sign(given) {
      return runAction(join(REPO_ROOT, 'actions', 'sign'), {
        with: {
          'subject-path': ARTIFACT,
          provenance: given.provenance,
          policy: given.policy,
          ...(given.repositoryPolicy !== undefined && { 'repository-policy': given.repositoryPolicy }),
          'trusted-root': harness.stack.trustedRootPath,
          ...(given.store && { 'store-attestations': 'true' }),
          ...harness.endpoints(),
        },
        identity: identity(
          given.repository ?? 'acme/app',
          '.github/workflows/release.yml',
          given.ref ?? MAIN,
          given.sha,
          {
            job_workflow_ref: given.workflow,
          },
        ),
        oidc: harness.issuer,
        githubApiUrl: harness.github.url,
        githubToken: 'ghs_sign_job_token',
        workspace: harness.workspace,
      });
    },
    bundlesOf(provenance, signed) {
      const bundles = mkdtempSync(join(root, 'bundles-'));
      copyFileSync(provenance, join(bundles, 'provenance.sigstore.json'));
      for (const [i, p] of signed.outputs['bundle-paths']!.split('\n').entries()) {
        copyFileSync(p, join(bundles, `sign-${i}.sigstore.json`));
      }
      return bundles;
    },
    async twokey(...argv) {
      const out = { stdout: '', stderr: '' };
      const status = await run(argv, {
        stdout: { write: (text: string) => (out.stdout += text) },
        stderr: { write: (text: string) => (out.stderr += text) },
      } as never);
      return { status, ...out };
    },
  };
  beforeAll(async () => {
    issuer = await startOidcIssuer();
    const verifier = issuer;
    stack = await startSigstoreStack({ verifyIdentityToken: (token) => verifier.verify(token) });
    root = mkdtempSync(join(tmpdir(), `${prefix}-`));
    mkdirSync(join(harness.workspace, 'dist'), { recursive: true });
    setUp(harness);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([github?.close(), stack?.close(), issuer?.close()]);
    if (root) rmSync(root, { recursive: true, force: true });
  });
  return harness;
}
