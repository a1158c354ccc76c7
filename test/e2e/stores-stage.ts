// The stage the two e2e tests of row 176 share (deploy-repository-store, deploy-store-mode): the loopback Sigstore
// stack and OIDC issuer, a GitHub fake, a workspace with dist/app.tar.gz, releases of a commit through the genuine
// build and sign actions (each storing its attestations), and a deploy of a release through the root action in a
// repository of the caller's choosing, approved by one person.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DeployReport, readDeployReport } from '@twokey/core';
import {
  type FakeRepository,
  type GitHubFake,
  type GitHubFakeState,
  identity,
  type OidcIssuer,
  runAction,
  type SigstoreStack,
  startGitHubFake,
  startOidcIssuer,
  startSigstoreStack,
  type WorkflowIdentity,
} from '@twokey/testkit';
import { expect } from 'vitest';
import { repoRoot } from '../conformance/paths';

export const ISSUER = 'https://token.actions.githubusercontent.com';
const PLATFORM = 'acme/platform/.github/workflows';
export const BUILD_WORKFLOW = `${PLATFORM}/twokey-build.yml@refs/tags/v1.0.0`;
export const SIGN_WORKFLOW = `${PLATFORM}/twokey-sign.yml@refs/tags/v1.0.0`;
export const DEPLOY_WORKFLOW = `${PLATFORM}/twokey-deploy.yml@refs/tags/v1.0.0`;
export const san = (workflow: string) => `https://github.com/${workflow}`;

export interface Stage {
  stack: SigstoreStack;
  issuer: OidcIssuer;
  github: GitHubFake;
  workspace: string;
  close(): Promise<void>;
}

/** The servers, and a workspace holding dist/app.tar.gz and the given files (the policies). */
export async function startStage(state: GitHubFakeState, files: (stack: SigstoreStack) => Record<string, string>) {
  const issuer = await startOidcIssuer();
  const stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  const github = await startGitHubFake(state);
  const workspace = mkdtempSync(join(tmpdir(), 'twokey-stores-stage-'));
  mkdirSync(join(workspace, 'dist'));
  writeFileSync(join(workspace, 'dist', 'app.tar.gz'), 'app 1.0, reproducibly built\n');
  for (const [name, text] of Object.entries(files(stack))) writeFileSync(join(workspace, name), text);
  return {
    stack,
    issuer,
    github,
    workspace,
    async close() {
      await github.close();
      await stack.close();
      await issuer.close();
      rmSync(workspace, { recursive: true, force: true });
    },
  } satisfies Stage;
}

const endpoints = (stage: Stage) => ({
  'fulcio-url': stage.stack.fulcioURL,
  'rekor-url': stage.stack.rekorURL,
  'tsa-url': stage.stack.tsaURL,
});
let runs = 0;
function job(repo: string, workflow: string, sha: string, overrides: Partial<WorkflowIdentity> = {}): WorkflowIdentity {
  runs += 1;
  return identity(repo, '.github/workflows/release.yml', 'refs/heads/main', sha, {
    job_workflow_ref: workflow,
    run_id: String(9900 + runs),
    ...overrides,
  });
}

/** `repo`'s release of `sha`: built and signed (policy org-policy.yml), its bundles copied into `dir`. */
export async function release(stage: Stage, repo: string, sha: string, dir: string): Promise<void> {
  const { workspace } = stage;
  mkdirSync(join(workspace, dir));
  const built = await runAction(join(repoRoot, 'actions', 'build'), {
    with: { 'subject-path': 'dist/app.tar.gz', 'store-attestations': 'true', ...endpoints(stage) },
    identity: job(repo, BUILD_WORKFLOW, sha),
    oidc: stage.issuer,
    githubApiUrl: stage.github.url,
    githubToken: 'ghs_build_job',
    workspace,
  });
  expect(built.exitCode, built.log).toBe(0);
  const provenance = join(workspace, dir, 'provenance.sigstore.json');
  copyFileSync(built.outputs['bundle-path']!, provenance);
  const signed = await runAction(join(repoRoot, 'actions', 'sign'), {
    with: {
      'subject-path': 'dist/app.tar.gz',
      provenance,
      policy: 'org-policy.yml',
      'trusted-root': stage.stack.trustedRootPath,
      'store-attestations': 'true',
      ...endpoints(stage),
    },
    identity: job(repo, SIGN_WORKFLOW, sha),
    oidc: stage.issuer,
    githubApiUrl: stage.github.url,
    githubToken: 'ghs_sign_job',
    workspace,
  });
  expect(signed.exitCode, signed.log).toBe(0);
  for (const [i, path] of signed.outputs['bundle-paths']!.split('\n').entries()) {
    copyFileSync(path, join(workspace, dir, `sign-${i}.sigstore.json`));
  }
}

/** The deploy of `commit` in `repository`, started by erin and approved for production by `approver`. */
export async function deploy(
  stage: Stage,
  repository: FakeRepository,
  commit: string,
  approver: string,
  inputs: Record<string, string>,
) {
  const full = `${repository.owner.login}/${repository.name}`;
  const who = job(full, DEPLOY_WORKFLOW, commit, { environment: 'production', actor: 'erin' });
  const id = stage.github.state.users!.find((u) => u.login === approver)!.id;
  repository.workflowRunApprovals[who.run_id] = [
    { state: 'approved', comment: 'ok', environments: ['production'], user: { login: approver, id, type: 'User' } },
  ];
  const run = await runAction(repoRoot, {
    with: {
      'subject-path': 'dist/app.tar.gz',
      policy: 'org-policy.yml',
      'store-attestations': 'true',
      ...endpoints(stage),
      ...inputs,
    },
    identity: who,
    oidc: stage.issuer,
    githubApiUrl: stage.github.url,
    githubToken: 'ghs_deploy_job',
    workspace: stage.workspace,
  });
  const path = run.outputs['report-path'];
  expect(path, run.log).toBeDefined();
  return { exitCode: run.exitCode, log: run.log, report: readDeployReport(readFileSync(path!, 'utf8'), path!) };
}

export const approvalCheck = (report: DeployReport) =>
  report.artifacts[0]!.checks.find((c) => c.id === 'deploy-approval')!;
