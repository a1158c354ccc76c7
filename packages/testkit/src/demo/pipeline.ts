// The demo's pipeline: the loopback services (Sigstore, the GitHub Actions OIDC issuer, the GitHub API) and one
// function per stage, each running the real bundled action through the runner harness under its own identity:
// build (acme/app's build workflow), sign (acme/platform's reusable sign workflow), deploy (acme/app's deploy workflow).

import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { type DeployReport, readDeployReport, type Statement } from '@twokey/core';
import { type SerializedBundle, signArtifact, signStatement } from '@twokey/sigstore';
import { type GitHubFake, type GitHubFakeState, startGitHubFake } from '../github-fake';
import {
  GITHUB_ACTIONS_ISSUER,
  identity,
  type OidcIssuer,
  startOidcIssuer,
  type WorkflowIdentity,
} from '../oidc-issuer';
import { runProcess } from '../process';
import { type ActionRun, runAction } from '../runner';
import { type SigstoreStack, startSigstoreStack } from '../sigstore-stack';
import { type AppChange, buildSampleApp, checkoutSampleApp } from './sample-app';

export const REPOSITORY = 'acme/app';
const BRANCH = 'refs/heads/main';
export const WORKFLOWS = {
  build: `${REPOSITORY}/.github/workflows/build.yml@${BRANCH}`,
  sign: `acme/platform/.github/workflows/sign.yml@${BRANCH}`,
  deploy: `${REPOSITORY}/.github/workflows/deploy.yml@${BRANCH}`,
} as const;
/** The certificate identity (SAN) Fulcio gives each stage: `https://github.com/{job_workflow_ref}`. */
export const IDENTITIES = {
  build: `https://github.com/${WORKFLOWS.build}`,
  sign: `https://github.com/${WORKFLOWS.sign}`,
  deploy: `https://github.com/${WORKFLOWS.deploy}`,
} as const;
// The platform team's sign workflow at the commit acme/app pins it by.
const PLATFORM_SHA = '9d2f6c1b8a7e5d4c3b2a19f8e7d6c5b4a3f2e1d0';
const ARTIFACT = 'app.js';
const GITHUB_TOKEN = 'ghs_demo-token-for-the-loopback-github-api';

/** The three jobs of a release of `commit`, each with its own workflow file and so its own identity. */
export function jobIdentities(commit: string): Record<'build' | 'sign' | 'deploy', WorkflowIdentity> {
  const job = (workflow: string, overrides: Partial<WorkflowIdentity> = {}) =>
    identity(REPOSITORY, workflow, BRANCH, commit, overrides);
  return {
    build: job('.github/workflows/build.yml'),
    // acme/app's release workflow calls the platform team's reusable workflow: the certificate names the latter.
    sign: job('.github/workflows/release.yml', { job_workflow_ref: WORKFLOWS.sign, job_workflow_sha: PLATFORM_SHA }),
    deploy: job('.github/workflows/deploy.yml', { environment: 'production' }),
  };
}

/** The policy the sign stage and the deploy gate enforce (what a platform team keeps in `.twokey/policy.yml`). */
export function demoPolicy(): string {
  return [
    '# twokey policy for acme/app (written by `npm run demo`)',
    'version: 1',
    'identities:',
    '  build:',
    `    issuer: ${GITHUB_ACTIONS_ISSUER}`,
    `    san: ${IDENTITIES.build}`,
    '  sign:',
    `    issuer: ${GITHUB_ACTIONS_ISSUER}`,
    `    san: ${IDENTITIES.sign}`,
    '    # a reusable workflow can be called from any repository: only runs for acme/app count',
    `    source-repository: https://github.com/${REPOSITORY}`,
    'review:',
    '  min-approvals: 1',
    '  allow-bots: false',
    'deploy:',
    '  max-age: 30d',
    '  artifacts:',
    `    - ${ARTIFACT}`,
    '',
  ].join('\n');
}

export interface Pipeline {
  repoRoot: string;
  /** The output directory: policy, trusted root, and one directory per scenario. */
  out: string;
  policyPath: string;
  trustedRootPath: string;
  stack: SigstoreStack;
  issuer: OidcIssuer;
  github: GitHubFake;
  close(): Promise<void>;
}

/** Starts the loopback services with acme/app's GitHub state and writes the policy and trusted root into `out`. */
export async function startPipeline(repoRoot: string, out: string, state: GitHubFakeState): Promise<Pipeline> {
  const issuer = await startOidcIssuer();
  // Like real Fulcio, the loopback one certifies only tokens the issuer signed.
  const stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  const github = await startGitHubFake(state);
  const policyPath = join(out, 'policy.yml');
  const trustedRootPath = join(out, 'trusted_root.json');
  writeFileSync(policyPath, demoPolicy());
  copyFileSync(stack.trustedRootPath, trustedRootPath);
  return {
    repoRoot,
    out,
    policyPath,
    trustedRootPath,
    stack,
    issuer,
    github,
    close: async () => {
      await Promise.all([github.close(), stack.close(), issuer.close()]);
    },
  };
}

/** A scenario's directory: the artifact, `bundles/` (everything the deploy gate is shown) and `report.json`. */
export interface ScenarioFiles {
  directory: string;
  artifact: string;
  bundles: string;
  report: string;
}

export function scenarioFiles(pipeline: Pipeline, name: string): ScenarioFiles {
  const directory = join(pipeline.out, name);
  mkdirSync(join(directory, 'bundles'), { recursive: true });
  return {
    directory,
    artifact: join(directory, ARTIFACT),
    bundles: join(directory, 'bundles'),
    report: join(directory, 'report.json'),
  };
}

/** What a stage did: whether the step succeeded, what it said went wrong, and the files it left. */
export interface StageResult {
  ok: boolean;
  /** The step's `::error::` annotations, unescaped (why it failed). */
  errors: string[];
  /** Bundles it produced, copied into the scenario's `bundles/`. */
  bundles: string[];
  run: ActionRun;
}

const endpointInputs = (pipeline: Pipeline) => ({
  'fulcio-url': pipeline.stack.fulcioURL,
  'rekor-url': pipeline.stack.rekorURL,
  'tsa-url': pipeline.stack.tsaURL,
});

/**
 * The build job: checks out acme/app at `commit` with `change`, builds `dist/app.js`, then runs the build action
 * (SLSA provenance signed by the build identity). The artifact and the provenance land in the scenario directory.
 */
export async function runBuild(
  pipeline: Pipeline,
  files: ScenarioFiles,
  commit: string,
  change: AppChange,
): Promise<StageResult> {
  const workspace = mkdtempSync(join(tmpdir(), 'twokey-demo-acme-app-'));
  try {
    checkoutSampleApp(workspace, change);
    copyFileSync(buildSampleApp(workspace, pipeline.repoRoot), files.artifact);
    const run = await runAction(join(pipeline.repoRoot, 'actions', 'build'), {
      with: { 'subject-path': `dist/${ARTIFACT}`, ...endpointInputs(pipeline) },
      identity: jobIdentities(commit).build,
      oidc: pipeline.issuer,
      workspace,
      githubToken: GITHUB_TOKEN,
    });
    return finish(run, [[run.outputs['bundle-path'], join(files.bundles, 'provenance.sigstore.json')]]);
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}

/**
 * The sign job: the platform's reusable workflow runs the sign action on the artifact and its provenance. It asks
 * the GitHub API who reviewed the commit and signs the artifact and a review attestation only when the review holds.
 */
export async function runSign(pipeline: Pipeline, files: ScenarioFiles, commit: string): Promise<StageResult> {
  const run = await runAction(join(pipeline.repoRoot, 'actions', 'sign'), {
    with: {
      'subject-path': ARTIFACT,
      provenance: 'bundles/provenance.sigstore.json',
      policy: pipeline.policyPath,
      'trusted-root': pipeline.trustedRootPath,
      'github-token': GITHUB_TOKEN,
      ...endpointInputs(pipeline),
    },
    identity: jobIdentities(commit).sign,
    oidc: pipeline.issuer,
    githubApiUrl: pipeline.github.url,
    workspace: files.directory,
    githubToken: GITHUB_TOKEN,
    event: { ref: BRANCH, after: commit, repository: { full_name: REPOSITORY } },
  });
  // `bundle-paths` lists each artifact's signature, then the review attestation (`review-bundle-path`).
  const review = run.outputs['review-bundle-path'];
  const signatures = (run.outputs['bundle-paths'] ?? '').split('\n').filter((p) => p !== '' && p !== review);
  return finish(run, [
    ...signatures.map((p, i): [string, string] => [
      p,
      join(files.bundles, `signature${i ? `-${i + 1}` : ''}.sigstore.json`),
    ]),
    [review, join(files.bundles, 'review.sigstore.json')],
  ]);
}

/** What the deploy gate decided: the step's result and the report it wrote (`report-path`). */
export interface DeployResult extends StageResult {
  verified: boolean;
  report?: DeployReport;
}

/** The deploy job: the root action (the deploy gate) judges the artifact from everything in `bundles/`. */
export async function runDeploy(pipeline: Pipeline, files: ScenarioFiles, commit: string): Promise<DeployResult> {
  const run = await runAction(pipeline.repoRoot, {
    with: {
      'subject-path': ARTIFACT,
      bundles: 'bundles',
      policy: pipeline.policyPath,
      'trusted-root': pipeline.trustedRootPath,
      'github-token': GITHUB_TOKEN,
      ...endpointInputs(pipeline),
    },
    identity: jobIdentities(commit).deploy,
    oidc: pipeline.issuer,
    githubApiUrl: pipeline.github.url,
    workspace: files.directory,
    githubToken: GITHUB_TOKEN,
  });
  // The decision record is the gate's own output, not evidence: it stays out of `bundles/`.
  const stage = finish(
    run,
    [[run.outputs['record-path'], join(files.directory, 'decision-record.sigstore.json')]],
    false,
  );
  const reportPath = run.outputs['report-path'];
  let report: DeployReport | undefined;
  if (reportPath && existsSync(reportPath)) {
    copyFileSync(reportPath, files.report);
    report = readDeployReport(readFileSync(files.report, 'utf8'), files.report);
  }
  rmSync(run.runnerTemp, { recursive: true, force: true });
  return { ...stage, verified: run.outputs.verified === 'true', ...(report && { report }) };
}

/**
 * What a compromised build job can do on its own: it holds the build identity's OIDC token, so it can sign anything
 * as the build identity — here the artifact and a review attestation it made up.
 */
export async function signAsBuildIdentity(
  pipeline: Pipeline,
  files: ScenarioFiles,
  commit: string,
  forgedReview: Statement,
): Promise<string[]> {
  const token = await pipeline.issuer.mint(jobIdentities(commit).build, { audience: 'sigstore' });
  const options = {
    endpoints: {
      fulcioURL: pipeline.stack.fulcioURL,
      rekorURL: pipeline.stack.rekorURL,
      tsaURL: pipeline.stack.tsaURL,
    },
    identityToken: async () => token,
  };
  const written: string[] = [];
  const keep = (bundle: SerializedBundle, name: string) => {
    const path = join(files.bundles, `${name}.sigstore.json`);
    writeFileSync(path, `${JSON.stringify(bundle)}\n`);
    written.push(path);
  };
  keep(await signArtifact({ file: files.artifact }, options), 'signature');
  keep(await signStatement(forgedReview, options), 'review');
  return written;
}

/** `twokey verify` on the scenario's files, offline, as a release manager runs it by hand. */
export interface OfflineVerdict {
  exitCode: number;
  report?: DeployReport;
  stderr: string;
}

/** The arguments of the `twokey verify` command for a scenario, with paths as given by `path`. */
export function verifyArguments(pipeline: Pipeline, files: ScenarioFiles, path: (p: string) => string): string[] {
  return [
    'verify',
    path(files.artifact),
    '--policy',
    path(pipeline.policyPath),
    '--bundle',
    path(files.bundles),
    '--trusted-root',
    path(pipeline.trustedRootPath),
  ];
}

/** Runs the `twokey` command (the launcher of the built CLI) with `--json` from the repository root. */
export async function verifyOffline(pipeline: Pipeline, files: ScenarioFiles): Promise<OfflineVerdict> {
  const cli = join(pipeline.repoRoot, 'packages', 'cli', 'bin', 'twokey.mjs');
  const args = [...verifyArguments(pipeline, files, (p) => relative(pipeline.repoRoot, p) || '.'), '--json'];
  const { status, stdout, stderr } = await runProcess(process.execPath, [cli, ...args], { cwd: pipeline.repoRoot });
  const exitCode = status ?? 1;
  let report: DeployReport | undefined;
  try {
    report = readDeployReport(stdout, 'twokey verify --json');
  } catch {
    // No report: the exit code and stderr say why.
  }
  return { exitCode, stderr, ...(report && { report }) };
}

/** Copies the bundles an action wrote (paths from its outputs) to where the scenario keeps them. */
function finish(run: ActionRun, copies: [string | undefined, string][], cleanUp = true): StageResult {
  const bundles: string[] = [];
  for (const [source, target] of copies) {
    if (!source || !existsSync(source)) continue;
    copyFileSync(source, target);
    bundles.push(target);
  }
  if (cleanUp) rmSync(run.runnerTemp, { recursive: true, force: true });
  return { ok: run.exitCode === 0, errors: annotations(run.log), bundles, run };
}

/** The `::error::` workflow commands in a step's log, with @actions/core's escaping undone. */
export function annotations(log: string): string[] {
  const errors: string[] = [];
  for (const line of log.split(/\r?\n/)) {
    const match = /^::error(?: [^:]*)?::(.*)$/.exec(line);
    if (!match) continue;
    errors.push(match[1]!.replaceAll('%0D', '\r').replaceAll('%0A', '\n').replaceAll('%25', '%'));
  }
  return errors;
}
