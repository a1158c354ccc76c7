// The demo's pipeline: the loopback services (Sigstore, the GitHub Actions OIDC issuer, the GitHub API) and one
// function per stage, each running the real bundled action through the runner harness under its own identity:
// build (acme/app's build workflow), sign, deploy and break-glass (acme/platform's reusable workflows, called by
// acme/app). The deploy job runs in the production environment, whose approvals the GitHub API answers.

import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { type DeployReport, readDeployReport, type Statement } from '@twokey/core';
import { type SerializedBundle, signArtifact, signStatement } from '@twokey/sigstore';
import {
  type FakeRepository,
  type FakeUser,
  type GitHubFake,
  type GitHubFakeState,
  startGitHubFake,
} from '../github-fake';
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
import { BREAK_GLASS_ENVIRONMENT, PRODUCTION } from './acme-app';
import { type AppChange, buildSampleApp, checkoutSampleApp } from './sample-app';

export const REPOSITORY = 'acme/app';
const BRANCH = 'refs/heads/main';
export const WORKFLOWS = {
  build: `${REPOSITORY}/.github/workflows/build.yml@${BRANCH}`,
  sign: `acme/platform/.github/workflows/sign.yml@${BRANCH}`,
  deploy: `acme/platform/.github/workflows/deploy.yml@${BRANCH}`,
  breakGlass: `acme/platform/.github/workflows/break-glass.yml@${BRANCH}`,
} as const;
/** The certificate identity (SAN) Fulcio gives each stage: `https://github.com/{job_workflow_ref}`. */
export const IDENTITIES = {
  build: `https://github.com/${WORKFLOWS.build}`,
  sign: `https://github.com/${WORKFLOWS.sign}`,
  deploy: `https://github.com/${WORKFLOWS.deploy}`,
  breakGlass: `https://github.com/${WORKFLOWS.breakGlass}`,
} as const;
// The platform team's workflows at the commit acme/app pins them by.
const PLATFORM_SHA = '9d2f6c1b8a7e5d4c3b2a19f8e7d6c5b4a3f2e1d0';
const ARTIFACT = 'app.js';
const GITHUB_TOKEN = 'ghs_demo-token-for-the-loopback-github-api';

/**
 * The jobs of a release of `commit`, each with its own workflow file and so its own identity: build, sign and deploy
 * (in the production environment), and the break-glass job (in its own protected environment). `run` gives the run's
 * id and who started it (the deploy and break-glass runs, whose environment approvals GitHub keeps by run id).
 */
export function jobIdentities(
  commit: string,
  run: { id?: string; actor?: string } = {},
): Record<'build' | 'sign' | 'deploy' | 'breakGlass', WorkflowIdentity> {
  const runOverrides: Partial<WorkflowIdentity> = {
    ...(run.id && { run_id: run.id }),
    ...(run.actor && { actor: run.actor }),
  };
  const job = (workflow: string, overrides: Partial<WorkflowIdentity> = {}) =>
    identity(REPOSITORY, workflow, BRANCH, commit, { ...overrides, ...runOverrides });
  // acme/app's release workflow calls the platform team's reusable workflows: the certificate names the latter.
  const platform = (workflow: string, overrides: Partial<WorkflowIdentity> = {}) =>
    job('.github/workflows/release.yml', { job_workflow_ref: workflow, job_workflow_sha: PLATFORM_SHA, ...overrides });
  return {
    build: job('.github/workflows/build.yml'),
    sign: platform(WORKFLOWS.sign),
    deploy: platform(WORKFLOWS.deploy, { environment: PRODUCTION }),
    // Dispatched by hand, as a break-glass is asked for (the example workflow runs on workflow_dispatch).
    breakGlass: platform(WORKFLOWS.breakGlass, {
      environment: BREAK_GLASS_ENVIRONMENT,
      event_name: 'workflow_dispatch',
    }),
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
    '  # signs the deploy approval it read and the decision record of every deploy, a refusal too',
    '  deploy:',
    `    issuer: ${GITHUB_ACTIONS_ISSUER}`,
    `    san: ${IDENTITIES.deploy}`,
    `    source-repository: https://github.com/${REPOSITORY}`,
    `  # a fourth identity, in its own protected environment (${BREAK_GLASS_ENVIRONMENT}): time-boxed exceptions`,
    '  break-glass:',
    `    issuer: ${GITHUB_ACTIONS_ISSUER}`,
    `    san: ${IDENTITIES.breakGlass}`,
    `    source-repository: https://github.com/${REPOSITORY}`,
    'review:',
    '  min-approvals: 1',
    '  allow-bots: false',
    'deploy:',
    '  max-age: 30d',
    '  artifacts:',
    `    - ${ARTIFACT}`,
    "  # the deploy job's environment approval: someone other than the change's author, contributors and last pusher",
    '  approvals:',
    '    min: 1',
    '    require-prevent-self-review: true',
    '  # a break-glass stands in for the review only, at most 24 h, approved by someone besides its requester and author',
    '  break-glass:',
    '    max-duration: 24h',
    '    min-approvers: 1',
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
  /** acme/app on the GitHub fake: its environments, its runs' approvals, its attestation store. */
  repository: FakeRepository;
  /** A new workflow run id (each deploy and break-glass run has its own approvals). */
  nextRunId(): string;
  close(): Promise<void>;
}

/** Starts the loopback services with acme/app's GitHub state and writes the policy and trusted root into `out`. */
export async function startPipeline(repoRoot: string, out: string, state: GitHubFakeState): Promise<Pipeline> {
  const issuer = await startOidcIssuer();
  // Like real Fulcio, the loopback one certifies only tokens the issuer signed.
  const stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  const github = await startGitHubFake(state);
  const repository = github.state.repositories.find((r) => `${r.owner.login}/${r.name}` === REPOSITORY);
  if (!repository) throw new Error(`the GitHub state has no ${REPOSITORY}`);
  let runs = 0;
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
    repository,
    nextRunId: () => String(8_100_000_000 + ++runs),
    close: async () => {
      await Promise.all([github.close(), stack.close(), issuer.close()]);
    },
  };
}

/**
 * A scenario's directory: the artifact, `bundles/` (everything the deploy gate is shown), `report.json`, and
 * `deploy/` (what the deploy job signed: the deploy approval it read, its decision record).
 */
export interface ScenarioFiles {
  directory: string;
  artifact: string;
  bundles: string;
  report: string;
  deploy: string;
  /** The deploy job's signed decision record (PASSED or FAILED), once it ran. */
  record: string;
  /** The deploy approval the deploy job read from GitHub and signed, once it ran in its environment. */
  deployApproval: string;
  /** More bundles `twokey verify` is given by hand (another deploy's records), beside `bundles/` and `deploy/`. */
  alsoVerifyWith: string[];
}

export function scenarioFiles(pipeline: Pipeline, name: string): ScenarioFiles {
  const directory = join(pipeline.out, name);
  mkdirSync(join(directory, 'bundles'), { recursive: true });
  const deploy = join(directory, 'deploy');
  return {
    directory,
    artifact: join(directory, ARTIFACT),
    bundles: join(directory, 'bundles'),
    report: join(directory, 'report.json'),
    deploy,
    record: join(deploy, 'decision-record.sigstore.json'),
    deployApproval: join(deploy, 'deploy-approval.sigstore.json'),
    alsoVerifyWith: [],
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
  /** The signed decision record, in the scenario's `deploy/` (the action's `record-path`). */
  record?: string;
  /** The signed deploy approval, in the scenario's `deploy/` (the action's `deploy-approval-path`). */
  deployApproval?: string;
}

/** Who started a deploy (or break-glass) run, and who approved it through its environment. */
export interface RunPeople {
  startedBy: FakeUser;
  approvedBy: FakeUser[];
}

/**
 * The deploy job: acme/app's release calls the platform's deploy workflow, whose job runs in the production
 * environment once `approvedBy` approved it (as GitHub records it for the run); the root action (the deploy gate)
 * judges the artifact from everything in `bundles/`, reads the run's approvals and the earlier decision records from
 * the GitHub API, signs the deploy approval and its decision record, and stores them in acme/app's attestations.
 */
export async function runDeploy(
  pipeline: Pipeline,
  files: ScenarioFiles,
  commit: string,
  people: RunPeople,
): Promise<DeployResult> {
  const job = jobIdentities(commit, { id: pipeline.nextRunId(), actor: people.startedBy.login }).deploy;
  approveRun(pipeline, job, PRODUCTION, people.approvedBy);
  const run = await runAction(pipeline.repoRoot, {
    with: {
      'subject-path': ARTIFACT,
      bundles: 'bundles',
      policy: pipeline.policyPath,
      'trusted-root': pipeline.trustedRootPath,
      'github-token': GITHUB_TOKEN,
      'store-attestations': 'true',
      ...endpointInputs(pipeline),
    },
    identity: job,
    oidc: pipeline.issuer,
    githubApiUrl: pipeline.github.url,
    workspace: files.directory,
    githubToken: GITHUB_TOKEN,
  });
  // What the deploy job signed is its own output, not evidence it was shown: it stays out of `bundles/`.
  mkdirSync(files.deploy, { recursive: true });
  const stage = finish(
    run,
    [
      [run.outputs['deploy-approval-path'], files.deployApproval],
      [run.outputs['record-path'], files.record],
    ],
    false,
  );
  const reportPath = run.outputs['report-path'];
  let report: DeployReport | undefined;
  if (reportPath && existsSync(reportPath)) {
    copyFileSync(reportPath, files.report);
    report = readDeployReport(readFileSync(files.report, 'utf8'), files.report);
  }
  rmSync(run.runnerTemp, { recursive: true, force: true });
  return {
    ...stage,
    verified: run.outputs.verified === 'true',
    ...(report && { report }),
    ...(stage.bundles.includes(files.record) && { record: files.record }),
    ...(stage.bundles.includes(files.deployApproval) && { deployApproval: files.deployApproval }),
  };
}

/** A break-glass: why, the incident, how long it may be used. */
export interface BreakGlassRequest extends RunPeople {
  reason: string;
  incident: string;
  duration: string;
}

/**
 * The break-glass job: acme/app calls the platform's break-glass workflow, whose job runs in its own protected
 * environment once `approvedBy` approved it; the break-glass action signs a time-boxed exception to the review rules
 * over the artifact, as the fourth identity, into `bundles/break-glass.sigstore.json`.
 */
export async function runBreakGlass(
  pipeline: Pipeline,
  files: ScenarioFiles,
  commit: string,
  request: BreakGlassRequest,
): Promise<StageResult & { expiresAt?: string }> {
  const job = jobIdentities(commit, { id: pipeline.nextRunId(), actor: request.startedBy.login }).breakGlass;
  approveRun(pipeline, job, BREAK_GLASS_ENVIRONMENT, request.approvedBy);
  const run = await runAction(join(pipeline.repoRoot, 'actions', 'break-glass'), {
    with: {
      'subject-path': ARTIFACT,
      reason: request.reason,
      incident: request.incident,
      environment: PRODUCTION,
      duration: request.duration,
      'github-token': GITHUB_TOKEN,
      ...endpointInputs(pipeline),
    },
    identity: job,
    oidc: pipeline.issuer,
    githubApiUrl: pipeline.github.url,
    workspace: files.directory,
    githubToken: GITHUB_TOKEN,
  });
  const expiresAt = run.outputs['expires-at'];
  const stage = finish(run, [[run.outputs['bundle-path'], join(files.bundles, 'break-glass.sigstore.json')]]);
  return { ...stage, ...(expiresAt && { expiresAt }) };
}

/** The run's environment approvals, as GitHub records them once its reviewers acted. */
function approveRun(pipeline: Pipeline, job: WorkflowIdentity, environment: string, approvers: FakeUser[]): void {
  pipeline.repository.workflowRunApprovals[job.run_id] = approvers.map((user) => ({
    state: 'approved',
    comment: `Approved for ${environment}`,
    environments: [environment],
    user: { login: user.login, id: user.id, type: user.type },
  }));
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

/**
 * The arguments of the `twokey verify` command for a scenario, with paths as given by `path`: the bundles the gate
 * was shown, what the deploy job signed (its deploy approval and decision record), and any other bundles it names.
 */
export function verifyArguments(pipeline: Pipeline, files: ScenarioFiles, path: (p: string) => string): string[] {
  const signedByDeploy = existsSync(files.deploy) && readdirSync(files.deploy).length > 0 ? [files.deploy] : [];
  return [
    'verify',
    path(files.artifact),
    '--policy',
    path(pipeline.policyPath),
    ...[files.bundles, ...signedByDeploy, ...files.alsoVerifyWith].flatMap((b) => ['--bundle', path(b)]),
    '--trusted-root',
    path(pipeline.trustedRootPath),
  ];
}

/** Runs the `twokey` command (the launcher of the built CLI) with `--json` from the repository root. */
export async function verifyOffline(pipeline: Pipeline, files: ScenarioFiles): Promise<OfflineVerdict> {
  const cli = join(pipeline.repoRoot, 'packages', 'cli', 'bin', 'twokey.cjs');
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
