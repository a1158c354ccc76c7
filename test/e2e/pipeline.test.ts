// The whole pipeline across three identities, as GitHub would run it: the build action in acme/app's build
// workflow, the sign action in the platform team's reusable sign workflow, the deploy gate (the root action.yml) in
// acme/app's deploy workflow — on the loopback Sigstore stack, the OIDC issuer and the GitHub API fake. The honest
// evidence is made once; each attack is built from it the way an attacker would (removing, replacing or adding
// bundle files, signing with the tokens their own workflows can get) and must be refused by the deploy action AND by
// `twokey verify`, with the same per-check verdicts and the right failing check.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import {
  DEPLOY_CHECK_IDS,
  type DeployReport,
  REVIEW_PREDICATE_TYPE,
  readDeployReport,
  TWO_PERSON_RULE_LEVEL,
  VERIFICATION_SUMMARY_PREDICATE_TYPE,
} from '@twokey/core';
import { BundleVerifier, loadTrustedRoot, readBundleFile, signArtifact, signStatement } from '@twokey/sigstore';
import {
  type ActionRun,
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
import { type CliResult, runCli } from '../conformance/run-cli';

const repoRoot = resolve(import.meta.dirname, '..', '..');
const BUILD_ACTION = join(repoRoot, 'actions', 'build');
const SIGN_ACTION = join(repoRoot, 'actions', 'sign');
const ISSUER = 'https://token.actions.githubusercontent.com';
const BUILD_WORKFLOW = 'acme/app/.github/workflows/build.yml@refs/heads/main';
const SIGN_WORKFLOW = 'acme/platform/.github/workflows/sign.yml@refs/heads/main';
const DEPLOY_WORKFLOW = 'acme/app/.github/workflows/deploy.yml@refs/heads/main';
const BUILD_SAN = `https://github.com/${BUILD_WORKFLOW}`;
const SIGN_SAN = `https://github.com/${SIGN_WORKFLOW}`;
const DEPLOY_SAN = `https://github.com/${DEPLOY_WORKFLOW}`;
const ARTIFACT = 'dist/app.tar.gz';
const POLICY = '.twokey/policy.yml';
/** The organisation's shared build workflow, which any of its repositories calls (as they all call the sign one). */
const SHARED_BUILD_WORKFLOW = 'acme/platform/.github/workflows/build.yml@refs/heads/main';
const SHARED_BUILD_SAN = `https://github.com/${SHARED_BUILD_WORKFLOW}`;
/** The policy for the shared workflows, with no source-repository pinned: the README's single-repository form. */
const SHARED_POLICY = '.twokey/shared.yml';
/** What acme/other's release pipeline builds and signs. */
const OTHER_ARTIFACT = 'dist/other.tar.gz';

let issuer: OidcIssuer;
let stack: SigstoreStack;
/** An attacker's own Sigstore: certifies the same tokens, under a trusted root the policy does not name. */
let rogueStack: SigstoreStack;
let github: GitHubFake;
let root: string;
/** The repository checkout every job works in (read-only once set up: each run writes under its RUNNER_TEMP). */
let workspace: string;
/** The honest evidence: provenance, the artifact's signature, the review attestation. */
let honest: string;
let merged: string;
let build: WorkflowIdentity;
let sign: WorkflowIdentity;
let deploy: WorkflowIdentity;
let honestRun: Judged;
/** acme/other's merged, reviewed commit. */
let otherMerged: string;

function sha256(bytes: string | Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function policyText(extra = ''): string {
  return `version: 1
identities:
  build:
    issuer: ${ISSUER}
    san: ${BUILD_SAN}
  sign:
    issuer: ${ISSUER}
    san: ${SIGN_SAN}
    source-repository: https://github.com/acme/app
deploy:
  max-age: 1d
  trusted-root: ${stack.trustedRootPath}
${extra}`;
}

/** The shared workflows' policy: the identities alone, no repository pinned. */
function sharedPolicyText(extra = ''): string {
  return `version: 1
identities:
  build:
    issuer: ${ISSUER}
    san: ${SHARED_BUILD_SAN}
  sign:
    issuer: ${ISSUER}
    san: ${SIGN_SAN}
deploy:
  max-age: 1d
  trusted-root: ${stack.trustedRootPath}
${extra}`;
}

/** A job of acme/app at the merged commit running `workflowPath`; `jobWorkflow` overrides the workflow that runs. */
function job(workflowPath: string, jobWorkflow?: string, overrides: Partial<WorkflowIdentity> = {}): WorkflowIdentity {
  return identity('acme/app', workflowPath, 'refs/heads/main', merged, {
    ...(jobWorkflow && { job_workflow_ref: jobWorkflow }),
    ...overrides,
  });
}

const endpoints = () => ({ 'fulcio-url': stack.fulcioURL, 'rekor-url': stack.rekorURL, 'tsa-url': stack.tsaURL });

async function runBuild(who: WorkflowIdentity, subjectPath = ARTIFACT): Promise<string> {
  const run = await runAction(BUILD_ACTION, {
    with: { 'subject-path': subjectPath, ...endpoints() },
    identity: who,
    oidc: issuer,
    workspace,
  });
  expect(run.exitCode, run.log).toBe(0);
  return run.outputs['bundle-path']!;
}

async function runSign(
  who: WorkflowIdentity,
  provenance: string,
  options: { subjectPath?: string; policy?: string } = {},
): Promise<ActionRun> {
  return runAction(SIGN_ACTION, {
    with: {
      'subject-path': options.subjectPath ?? ARTIFACT,
      provenance,
      policy: options.policy ?? POLICY,
      'trusted-root': stack.trustedRootPath,
      ...endpoints(),
    },
    identity: who,
    oidc: issuer,
    githubApiUrl: github.url,
    githubToken: 'ghs_sign_job_token',
    workspace,
  });
}

/** What an attacker's own workflow run can get: a real OIDC token for its identity, audience sigstore. */
function tokenOf(who: WorkflowIdentity): () => Promise<string> {
  return () => issuer.mint(who, { audience: 'sigstore' });
}

/** Signs a file or digest with `who`'s token and writes the bundle into `dir`. */
async function signArtifactAs(
  who: WorkflowIdentity,
  dir: string,
  name: string,
  artifact: string,
  on = stack,
): Promise<void> {
  const bundle = await signArtifact(
    { file: join(workspace, artifact) },
    { endpoints: { fulcioURL: on.fulcioURL, rekorURL: on.rekorURL, tsaURL: on.tsaURL }, identityToken: tokenOf(who) },
  );
  writeFileSync(join(dir, name), `${JSON.stringify(bundle)}\n`);
}

async function signStatementAs(who: WorkflowIdentity, dir: string, name: string, statement: object, on = stack) {
  const bundle = await signStatement(statement, {
    endpoints: { fulcioURL: on.fulcioURL, rekorURL: on.rekorURL, tsaURL: on.tsaURL },
    identityToken: tokenOf(who),
  });
  writeFileSync(join(dir, name), `${JSON.stringify(bundle)}\n`);
}

/**
 * build → sign as a repository's release pipeline runs them, the evidence kept in `name`: provenance by `builder`,
 * then the sign workflow's signature and review attestation, under `policy` (what the sign workflow reads).
 */
async function releaseChain(
  name: string,
  builder: WorkflowIdentity,
  signer: WorkflowIdentity,
  options: { subjectPath?: string; policy?: string } = {},
): Promise<string> {
  const provenance = await runBuild(builder, options.subjectPath);
  const signed = await runSign(signer, provenance, options);
  expect(signed.exitCode, signed.log).toBe(0);
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  copyFileSync(provenance, join(dir, 'provenance.sigstore.json'));
  copyFileSync(signed.outputs['review-bundle-path']!, join(dir, 'review.sigstore.json'));
  const signatures = signed.outputs['bundle-paths']!.split('\n').filter(
    (p) => p !== signed.outputs['review-bundle-path'],
  );
  expect(signatures).toHaveLength(1);
  copyFileSync(signatures[0]!, join(dir, 'artifact.sig.sigstore.json'));
  return dir;
}

/** The in-toto statement inside a DSSE bundle file. */
function statementIn(path: string): { predicateType: string; subject: unknown[]; predicate: Record<string, unknown> } {
  const json = JSON.parse(readFileSync(path, 'utf8'));
  return JSON.parse(Buffer.from(json.dsseEnvelope.payload, 'base64').toString('utf8'));
}

/** A copy of the honest evidence, with `without` removed: the attacker's starting point. */
function evidence(name: string, without: string[] = []): string {
  const dir = join(root, 'evidence', name);
  mkdirSync(dir, { recursive: true });
  for (const file of readdirSync(honest)) {
    if (!without.includes(file)) copyFileSync(join(honest, file), join(dir, file));
  }
  return dir;
}

interface Judged {
  action: ActionRun;
  /** The deploy action's report (report-path), when it evaluated. */
  actionReport?: DeployReport;
  cli: CliResult;
  /** `twokey verify --json`, when it evaluated. */
  cliReport?: DeployReport;
}

interface JudgeOptions {
  bundles: string;
  /** One artifact, or several (each its own argument of `twokey verify`). */
  artifact?: string | string[];
  policy?: string;
  deployAs?: WorkflowIdentity;
  /** `twokey verify --repo`: the repository whose chain the release manager accepts. */
  repo?: string;
}

/** The deploy action (as the deploy job) and `twokey verify` (offline), on the same files, at the same time. */
async function judge(options: JudgeOptions): Promise<Judged> {
  const artifacts = [options.artifact ?? ARTIFACT].flat();
  const policy = options.policy ?? POLICY;
  const repo = options.repo ? ['--repo', options.repo] : [];
  const [action, cli] = await Promise.all([
    runAction(repoRoot, {
      with: { 'subject-path': artifacts.join('\n'), bundles: options.bundles, policy, ...endpoints() },
      identity: options.deployAs ?? deploy,
      oidc: issuer,
      workspace,
    }),
    runCli(['verify', ...artifacts, '--policy', policy, ...repo, '--bundle', options.bundles, '--json'], workspace),
  ]);
  const reportPath = action.outputs['report-path'];
  return {
    action,
    cli,
    ...(reportPath && { actionReport: readDeployReport(readFileSync(reportPath, 'utf8'), reportPath) }),
    ...(cli.stdout.startsWith('{') && { cliReport: readDeployReport(cli.stdout, 'twokey verify --json') }),
  };
}

/** Each artifact's checks as `id: verdict`, the part of a report that must not depend on who runs it. */
function verdicts(report: DeployReport | undefined): string[][] {
  return (report?.artifacts ?? []).map((a) => a.checks.map((c) => `${c.id}: ${c.verdict}`));
}

/** The checks that did not pass (failed, or could not be evaluated for want of what they need). */
function failedChecks(report: DeployReport | undefined): string[] {
  return (report?.artifacts ?? []).flatMap((a) => a.checks.filter((c) => c.verdict !== 'pass').map((c) => c.id));
}

function reasonOf(report: DeployReport | undefined, id: string, artifact = 0): string {
  return report?.artifacts[artifact]?.checks.find((c) => c.id === id)?.reason ?? '(no such check)';
}

/**
 * Refused by both, for the same reasons: the action fails the step with the check in its error, says verified=false
 * and writes no record; the CLI exits 1; both reports fail `check` with a reason containing `because`.
 */
function expectRefused(judged: Judged, check: string, because: string): void {
  const { action, actionReport, cli, cliReport } = judged;
  expect(action.exitCode, action.log).not.toBe(0);
  expect(action.outputs.verified).toBe('false');
  // A refusal is recorded too: a decision record that says FAILED and names the check.
  const record = statementIn(action.outputs['record-path']!);
  expect(record.predicate.verificationResult).toBe('FAILED');
  expect(JSON.stringify(record.predicate)).toContain(`"id":"${check}"`);
  expect(action.log).toContain('::error::twokey refused the deploy:');
  expect(action.log).toContain(`: ${check} (`);
  expect(action.summary).toContain(`<code>${check}</code> (`);
  expect(cli.status, cli.stderr).toBe(1);
  for (const report of [actionReport, cliReport]) {
    expect(report?.verdict).toBe('fail');
    expect(failedChecks(report)).toContain(check);
    expect(reasonOf(report, check)).toContain(because);
  }
  expect(verdicts(actionReport)).toEqual(verdicts(cliReport));
}

/** Not evaluated by either: the action fails naming the code and the file, the CLI exits 2 with the same code. */
function expectInputError(judged: Judged, code: string, named: string): void {
  const { action, cli } = judged;
  expect(action.exitCode, action.log).not.toBe(0);
  expect(action.outputs.verified).toBe('false');
  expect(action.outputs['report-path']).toBeUndefined();
  expect(action.log).toContain(`::error::${code}: `);
  expect(action.log).toContain(named);
  expect(cli.status, `${cli.stdout}${cli.stderr}`).toBe(2);
  expect(cli.stdout).toBe('');
  expect(cli.stderr).toContain(`error ${code}: `);
  expect(cli.stderr).toContain(named);
}

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  rogueStack = await startSigstoreStack();

  // acme/app: alice opens a pull request, bob (write access) approves its head and merges it.
  const alice = aUser('alice');
  const bob = aUser('bob');
  const repository = aRepository('acme/app', { collaborators: { alice: 'write', bob: 'write' } });
  const first = aCommit({ author: alice, message: 'Add the release notes generator' });
  const head = aCommit({ author: alice, message: 'Handle empty changelogs' });
  const pullRequest = aPullRequest({ author: alice, commits: [first, head], title: 'Release notes generator' });
  pullRequest.reviews.push(aReview({ by: bob, on: head.sha, state: 'APPROVED' }));
  merged = mergePullRequest(repository, pullRequest, { method: 'merge', by: bob });
  // acme/other, another repository of the organisation: carol's change, approved by dave, merged.
  const carol = aUser('carol');
  const dave = aUser('dave');
  const other = aRepository('acme/other', { collaborators: { carol: 'write', dave: 'write' } });
  const otherHead = aCommit({ author: carol, message: 'Ship the other service' });
  const otherPullRequest = aPullRequest({ author: carol, commits: [otherHead], title: 'Other service' });
  otherPullRequest.reviews.push(aReview({ by: dave, on: otherHead.sha, state: 'APPROVED' }));
  otherMerged = mergePullRequest(other, otherPullRequest, { method: 'merge', by: dave });
  github = await startGitHubFake(aGitHubState(repository, other));
  // Pushed straight to main afterwards, reviewed by nobody: what the replay attack ships.
  pushCommit(repository, aCommit({ author: alice, message: 'Sneak in a change', sha: 'e'.repeat(40) }));

  build = job('.github/workflows/build.yml');
  sign = job('.github/workflows/release.yml', SIGN_WORKFLOW);
  deploy = job('.github/workflows/deploy.yml', undefined, { environment: 'production' });

  root = mkdtempSync(join(tmpdir(), 'twokey-e2e-'));
  workspace = join(root, 'workspace');
  mkdirSync(join(workspace, 'dist'), { recursive: true });
  mkdirSync(join(workspace, '.twokey'), { recursive: true });
  writeFileSync(join(workspace, ARTIFACT), `app 1.0 ${'x'.repeat(4096)}\n`);
  writeFileSync(join(workspace, 'dist', 'app-evil.tar.gz'), `app 1.0 with a backdoor ${'x'.repeat(4096)}\n`);
  writeFileSync(join(workspace, OTHER_ARTIFACT), `other 2.0 ${'y'.repeat(4096)}\n`);
  writeFileSync(join(workspace, POLICY), policyText());
  writeFileSync(join(workspace, SHARED_POLICY), sharedPolicyText());

  // build → sign, each as its own workflow.
  honest = await releaseChain('honest', build, sign);

  honestRun = await judge({ bundles: honest });
}, 180_000);

afterAll(async () => {
  await Promise.all([stack?.close(), rogueStack?.close(), issuer?.close(), github?.close()]);
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('the honest pipeline: build → sign → deploy under three identities', () => {
  it('is accepted by the deploy action and by twokey verify, check for check', () => {
    const { action, actionReport, cli, cliReport } = honestRun;
    expect(action.exitCode, action.log).toBe(0);
    expect(action.outputs.verified).toBe('true');
    expect(cli.status, cli.stderr).toBe(0);
    for (const report of [actionReport, cliReport]) {
      expect(report?.verdict).toBe('pass');
      expect(report?.artifacts[0]?.checks.map((c) => c.id)).toEqual([...DEPLOY_CHECK_IDS]);
      expect(failedChecks(report)).toEqual([]);
      expect(report?.artifacts[0]?.chain).toMatchObject({
        repository: 'acme/app',
        commit: merged,
        author: 'alice',
        approvers: ['bob'],
        buildIdentity: BUILD_SAN,
        signIdentity: SIGN_SAN,
      });
    }
    expect(verdicts(actionReport)).toEqual(verdicts(cliReport));
    // The same report model, its files named relative to the workspace (readDeployReport checked the schema).
    for (const report of [actionReport, cliReport]) {
      expect(report?.schemaVersion).toBe(1);
      expect(report?.policy.source).toBe(POLICY);
      expect(report?.artifacts[0]?.evidence.map((e) => e.source).sort()).toEqual(
        readdirSync(honest)
          .map((file) => relative(workspace, join(honest, file)))
          .sort(),
      );
    }
    // Only the deploy job knows who it is: the action checked that it is neither build nor sign.
    expect(reasonOf(actionReport, 'distinct-identities')).toContain(`deploy ${DEPLOY_SAN}`);
    expect(reasonOf(cliReport, 'distinct-identities')).toContain('evaluated offline');
  });

  it('draws the chain in the step summary and in the terminal', async () => {
    const { summary } = honestRun.action;
    expect(summary).toContain('## twokey deploy gate: accepted');
    for (const part of ['alice', 'bob', 'Release notes generator', merged, 'acme/platform']) {
      expect(summary).toContain(part);
    }
    const human = await runCli(['verify', ARTIFACT, '--policy', POLICY, '--bundle', honest], workspace);
    expect(human.status, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^ACCEPTED app\.tar\.gz sha256:[0-9a-f]{64}$/m);
    expect(human.stdout).toContain(`  approvers     bob`);
    expect(human.stdout).toContain(`  build         ${BUILD_SAN}`);
    expect(human.stdout).toContain(`  sign          ${SIGN_SAN}`);
    expect(human.stdout).toContain('verdict: accepted (1 of 1 artifacts pass every check)');
  });

  it('records the decision: a SLSA verification summary signed and logged by the deploy identity', () => {
    const recordPath = honestRun.action.outputs['record-path']!;
    expect(recordPath.startsWith(honestRun.action.runnerTemp)).toBe(true);
    const verifier = new BundleVerifier(loadTrustedRoot(stack.trustedRootPath));
    const verified = verifier.verify(readBundleFile(recordPath), { identity: { san: DEPLOY_SAN, issuer: ISSUER } });
    expect(verified.signedAt.length).toBeGreaterThan(0);

    const vsa = statementIn(recordPath);
    const report = honestRun.actionReport!;
    expect(vsa.predicateType).toBe(VERIFICATION_SUMMARY_PREDICATE_TYPE);
    expect(vsa.subject).toEqual([
      { name: 'app.tar.gz', digest: { sha256: sha256(readFileSync(join(workspace, ARTIFACT))) } },
    ]);
    const consumed = readdirSync(honest).map((file) => sha256(readFileSync(join(honest, file))));
    expect(vsa.predicate).toMatchObject({
      verifier: { id: DEPLOY_SAN },
      timeVerified: report.evaluatedAt,
      resourceUri: 'https://github.com/acme/app/deployments/production',
      policy: { digest: { sha256: sha256(readFileSync(join(workspace, POLICY))) } },
      verificationResult: 'PASSED',
      verifiedLevels: ['SLSA_BUILD_LEVEL_2', TWO_PERSON_RULE_LEVEL],
    });
    const inputs = vsa.predicate.inputAttestations as { uri: string; digest: { sha256: string } }[];
    expect(inputs.map((i) => i.digest.sha256).sort()).toEqual(consumed.sort());
    expect(honestRun.action.summary).toContain('Decision record');
  });
});

describe.concurrent('refused by the deploy action and by twokey verify, with the reason', () => {
  it('an unsigned artifact', async () => {
    const dir = evidence('unsigned', ['artifact.sig.sigstore.json']);
    expectRefused(await judge({ bundles: dir }), 'artifact-signature', 'found none');
  });

  it('a missing review attestation', async () => {
    const dir = evidence('unreviewed', ['review.sigstore.json']);
    expectRefused(
      await judge({ bundles: dir }),
      'review-attestation',
      `(${REVIEW_PREDICATE_TYPE}) by the sign identity`,
    );
  });

  it('missing provenance', async () => {
    const dir = evidence('no-provenance', ['provenance.sigstore.json']);
    expectRefused(await judge({ bundles: dir }), 'build-provenance', 'SLSA provenance');
  });

  it('an artifact signed by the build identity instead of the sign identity', async () => {
    const dir = evidence('signed-by-build', ['artifact.sig.sigstore.json']);
    await signArtifactAs(build, dir, 'artifact.sig.sigstore.json', ARTIFACT);
    expectRefused(await judge({ bundles: dir }), 'artifact-signature', `found a signature by ${BUILD_SAN}`);
  });

  it('a review attestation for another commit: an approval replayed onto an unreviewed build', async () => {
    // The build workflow runs on a commit pushed straight to main; the attacker ships its provenance with the
    // signature and review attestation of the earlier, reviewed run.
    const dir = evidence('replayed-review', ['provenance.sigstore.json']);
    const unreviewed = job('.github/workflows/build.yml', undefined, { sha: 'e'.repeat(40) });
    copyFileSync(await runBuild(unreviewed), join(dir, 'provenance.sigstore.json'));
    expectRefused(await judge({ bundles: dir }), 'same-commit', `found a review of ${merged}`);
  });

  it('a review attestation for another artifact', async () => {
    const dir = evidence('review-of-another-artifact');
    copyFileSync(await runBuild(build, 'dist/app-evil.tar.gz'), join(dir, 'evil-provenance.sigstore.json'));
    const judged = await judge({ bundles: dir, artifact: 'dist/app-evil.tar.gz' });
    expectRefused(judged, 'review-attestation', 'whose subjects do not include');
    expect(failedChecks(judged.cliReport)).not.toContain('build-provenance');
  });

  it('build and sign under one identity, where a loose policy lets one workflow match both', async () => {
    const loose = join(workspace, '.twokey', 'loose.yml');
    writeFileSync(
      loose,
      policyText()
        .replace(`san: ${BUILD_SAN}`, 'san-pattern: https://github\\.com/acme/app/\\.github/workflows/.*')
        .replace(
          `san: ${SIGN_SAN}\n    source-repository: https://github.com/acme/app`,
          'san-pattern: https://github\\.com/acme/.*sign.*',
        ),
    );
    const both = job('.github/workflows/build-and-sign.yml');
    const dir = join(root, 'evidence', 'one-identity');
    mkdirSync(dir, { recursive: true });
    copyFileSync(await runBuild(both), join(dir, 'provenance.sigstore.json'));
    await signArtifactAs(both, dir, 'artifact.sig.sigstore.json', ARTIFACT);
    await signStatementAs(both, dir, 'review.sigstore.json', statementIn(join(honest, 'review.sigstore.json')));
    const judged = await judge({ bundles: dir, policy: '.twokey/loose.yml', repo: 'acme/app' });
    expectRefused(judged, 'artifact-signature', 'which is both the build and the sign identity of the policy');
    expect(failedChecks(judged.cliReport)).toEqual(
      expect.arrayContaining(['build-provenance', 'review-attestation', 'distinct-identities']),
    );
  });

  it('a sign workflow run from a lookalike branch (…@refs/heads/main-evil)', async () => {
    const dir = evidence('main-evil', ['artifact.sig.sigstore.json', 'review.sigstore.json']);
    const evil = job('.github/workflows/release.yml', `${SIGN_WORKFLOW}-evil`);
    await signArtifactAs(evil, dir, 'artifact.sig.sigstore.json', ARTIFACT);
    await signStatementAs(evil, dir, 'review.sigstore.json', statementIn(join(honest, 'review.sigstore.json')));
    const judged = await judge({ bundles: dir });
    expectRefused(judged, 'artifact-signature', `${SIGN_SAN}-evil, expected the sign identity ${SIGN_SAN}`);
    expect(failedChecks(judged.cliReport)).toContain('review-attestation');
  });

  it('provenance from a lookalike repository (acme/app-fork)', async () => {
    const dir = evidence('fork', ['provenance.sigstore.json']);
    const fork = identity('acme/app-fork', '.github/workflows/build.yml', 'refs/heads/main', merged);
    copyFileSync(await runBuild(fork), join(dir, 'provenance.sigstore.json'));
    const judged = await judge({ bundles: dir });
    expectRefused(judged, 'build-provenance', 'https://github.com/acme/app-fork/.github/workflows/build.yml');
  });

  it('an artifact changed after signing', async () => {
    mkdirSync(join(workspace, 'changed'), { recursive: true });
    const bytes = readFileSync(join(workspace, ARTIFACT));
    bytes[3] = bytes[3]! ^ 0x01;
    writeFileSync(join(workspace, 'changed', 'app.tar.gz'), bytes);
    const judged = await judge({ bundles: honest, artifact: 'changed/app.tar.gz' });
    expectRefused(judged, 'artifact-signature', 'not this artifact');
    expect(failedChecks(judged.cliReport)).toEqual(expect.arrayContaining(['review-attestation', 'build-provenance']));
  });

  it('evidence older than max-age', async () => {
    writeFileSync(join(workspace, '.twokey', 'max-age-1s.yml'), policyText().replace('max-age: 1d', 'max-age: 1s'));
    // The stack stamps times up to 2 s ahead: wait until even the newest piece is over a second old.
    const newest = Math.max(...honestRun.cliReport!.artifacts[0]!.evidence.flatMap((e) => e.signedAt.map(Date.parse)));
    await new Promise((done) => setTimeout(done, Math.max(0, newest + 2_000 - Date.now())));
    const judged = await judge({ bundles: honest, policy: '.twokey/max-age-1s.yml' });
    expectRefused(judged, 'fresh', 'older than max-age 1s');
    expect(failedChecks(judged.cliReport)).toEqual(['fresh']);
  });

  it("bundles signed under a trusted root other than the policy's", async () => {
    // The attacker's own Sigstore certifies the sign workflow's identity for them; the policy's root does not.
    const dir = evidence('rogue-root', ['artifact.sig.sigstore.json', 'review.sigstore.json']);
    await signArtifactAs(sign, dir, 'artifact.sig.sigstore.json', ARTIFACT, rogueStack);
    await signStatementAs(
      sign,
      dir,
      'review.sigstore.json',
      statementIn(join(honest, 'review.sigstore.json')),
      rogueStack,
    );
    const judged = await judge({ bundles: dir });
    expectRefused(judged, 'artifact-signature', 'did not verify');
    // Named as the deploy job and the release manager gave them: relative to the workspace.
    const named = [join(dir, 'artifact.sig.sigstore.json'), join(dir, 'review.sigstore.json')];
    for (const report of [judged.actionReport, judged.cliReport]) {
      expect(report?.rejected.map((r) => r.source).sort()).toEqual(named.map((p) => relative(workspace, p)).sort());
    }
  });

  it('a policy with an unknown key (not evaluated: exit 2, the key named)', async () => {
    writeFileSync(join(workspace, '.twokey', 'unknown-key.yml'), policyText('  require-two-keys: true\n'));
    const judged = await judge({ bundles: honest, policy: '.twokey/unknown-key.yml' });
    expectInputError(judged, 'POLICY_INVALID', 'deploy.require-two-keys');
  });

  it('a truncated bundle in the bundle directory: twokey verify stops on its user’s file (exit 2, named); the deploy action, whose files are the build run’s, rejects it and decides on the rest', async () => {
    const dir = evidence('truncated');
    const text = readFileSync(join(honest, 'review.sigstore.json'), 'utf8');
    writeFileSync(join(dir, 'review-copy.sigstore.json'), text.slice(0, text.length / 2));
    const { action, actionReport, cli } = await judge({ bundles: dir });
    expect(cli.status, `${cli.stdout}${cli.stderr}`).toBe(2);
    expect(cli.stdout).toBe('');
    expect(cli.stderr).toContain('error BUNDLE_NOT_JSON: ');
    expect(cli.stderr).toContain(join(dir, 'review-copy.sigstore.json'));
    // A build job could put any file among the artifacts the deploy downloads: it never stops the decision (nor its
    // record), and it is never evidence.
    expect(action.exitCode, action.log).toBe(0);
    expect(action.outputs.verified).toBe('true');
    expect(actionReport?.rejected).toEqual([
      expect.objectContaining({
        source: expect.stringMatching(/review-copy\.sigstore\.json$/),
        code: 'BUNDLE_NOT_JSON',
      }),
    ]);
  });
});

describe('refused by the deploy action alone: only the deploy job knows its own identity', () => {
  it('a deploy running under the sign identity', async () => {
    const judged = await judge({ bundles: honest, deployAs: job('.github/workflows/deploy.yml', SIGN_WORKFLOW) });
    expect(judged.action.exitCode, judged.action.log).not.toBe(0);
    expect(judged.action.outputs.verified).toBe('false');
    expect(failedChecks(judged.actionReport)).toEqual(['distinct-identities']);
    expect(reasonOf(judged.actionReport, 'distinct-identities')).toContain(`found it runs as ${SIGN_SAN}`);
    expect(judged.cli.status).toBe(0);
  });
});

describe("another repository's chain: shared build and sign workflows, no source-repository pinned", () => {
  /** acme/other's own release: the shared build workflow run in acme/other, the shared sign workflow run for it. */
  let otherChain: string;
  /** acme/app's release under the same shared workflows. */
  let appChain: string;
  /** acme/other's deploy job, and a deployment repository's, which ships both applications. */
  let otherDeploy: WorkflowIdentity;
  let fleetDeploy: WorkflowIdentity;

  beforeAll(async () => {
    const shared = (repository: string, commit: string, jobWorkflow: string) =>
      identity(repository, '.github/workflows/release.yml', 'refs/heads/main', commit, {
        job_workflow_ref: jobWorkflow,
      });
    [otherChain, appChain] = await Promise.all([
      releaseChain(
        'acme-other-chain',
        shared('acme/other', otherMerged, SHARED_BUILD_WORKFLOW),
        shared('acme/other', otherMerged, SIGN_WORKFLOW),
        { subjectPath: OTHER_ARTIFACT, policy: SHARED_POLICY },
      ),
      releaseChain(
        'acme-app-chain',
        shared('acme/app', merged, SHARED_BUILD_WORKFLOW),
        shared('acme/app', merged, SIGN_WORKFLOW),
        { policy: SHARED_POLICY },
      ),
    ]);
    otherDeploy = identity('acme/other', '.github/workflows/deploy.yml', 'refs/heads/main', otherMerged, {
      environment: 'production',
    });
    fleetDeploy = identity('acme/deploy', '.github/workflows/deploy.yml', 'refs/heads/main', 'd'.repeat(40), {
      environment: 'production',
    });
  }, 180_000);

  it("refuses acme/other's valid chain in acme/app's deploy (GITHUB_REPOSITORY) and in twokey verify --repo acme/app", async () => {
    const judged = await judge({
      bundles: otherChain,
      artifact: OTHER_ARTIFACT,
      policy: SHARED_POLICY,
      repo: 'acme/app',
    });
    const found =
      'found a chain of acme/other: its provenance, review attestation and signature name https://github.com/acme/other';
    expectRefused(judged, 'same-repository', found);
    // Every other link holds: only the repository gives it away.
    expect(failedChecks(judged.actionReport)).toEqual(['same-repository']);
    expect(reasonOf(judged.actionReport, 'same-repository')).toBe(
      `expected a chain of acme/app (bound by GITHUB_REPOSITORY), ${found}`,
    );
    expect(reasonOf(judged.cliReport, 'same-repository')).toBe(
      `expected a chain of acme/app (bound by --repo), ${found}`,
    );
  });

  it("is a valid chain all the same: acme/other's own deploy and twokey verify --repo acme/other accept it", async () => {
    const judged = await judge({
      bundles: otherChain,
      artifact: OTHER_ARTIFACT,
      policy: SHARED_POLICY,
      deployAs: otherDeploy,
      repo: 'acme/other',
    });
    expect(judged.action.exitCode, judged.action.log).toBe(0);
    expect(judged.cli.status, judged.cli.stdout).toBe(0);
    expect(judged.actionReport?.artifacts[0]?.chain.repository).toBe('acme/other');
  });

  it('twokey verify without --repo, under a policy that names no repository: a usage error (exit 2) saying so', async () => {
    const cli = await runCli(['verify', OTHER_ARTIFACT, '--policy', SHARED_POLICY, '--bundle', otherChain], workspace);
    expect(cli.status, cli.stderr).toBe(2);
    expect(cli.stdout).toBe('');
    expect(cli.stderr).toBe(
      `error REPOSITORY_UNBOUND: --repo OWNER/NAME is required: ${SHARED_POLICY} pins no source-repository and names no deploy.repositories, so nothing says whose build → sign chain to accept\n`,
    );
  });

  it("accepts acme/app's own chain under the same shared workflows, in its deploy and in twokey verify --repo acme/app", async () => {
    const { action, actionReport, cli, cliReport } = await judge({
      bundles: appChain,
      policy: SHARED_POLICY,
      repo: 'acme/app',
    });
    expect(action.exitCode, action.log).toBe(0);
    expect(action.outputs.verified).toBe('true');
    expect(cli.status, cli.stdout).toBe(0);
    expect(verdicts(actionReport)).toEqual(verdicts(cliReport));
    expect(reasonOf(actionReport, 'same-repository')).toBe(
      'the provenance, review attestation and signature name https://github.com/acme/app, a repository bound by GITHUB_REPOSITORY',
    );
  });

  it('a deployment repository names the applications it ships (deploy.repositories): each chain bound to its own', async () => {
    const both = join(root, 'evidence', 'fleet');
    mkdirSync(both, { recursive: true });
    for (const [prefix, dir] of [
      ['app', appChain],
      ['other', otherChain],
    ] as const) {
      for (const file of readdirSync(dir)) copyFileSync(join(dir, file), join(both, `${prefix}-${file}`));
    }
    writeFileSync(
      join(workspace, '.twokey', 'fleet.yml'),
      sharedPolicyText('  repositories: [acme/app, acme/other]\n'),
    );
    const judged = await judge({
      bundles: both,
      artifact: [ARTIFACT, OTHER_ARTIFACT],
      policy: '.twokey/fleet.yml',
      deployAs: fleetDeploy,
    });
    expect(judged.action.exitCode, judged.action.log).toBe(0);
    expect(judged.cli.status, judged.cli.stdout).toBe(0);
    for (const report of [judged.actionReport, judged.cliReport]) {
      expect(report?.artifacts.map((a) => [a.verdict, a.chain.repository])).toEqual([
        ['pass', 'acme/app'],
        ['pass', 'acme/other'],
      ]);
      // Each chain is one repository's: acme/app's artifact was judged on acme/app's bundles, not acme/other's.
      expect(report?.artifacts[0]?.evidence.map((e) => basename(e.source)).sort()).toEqual([
        'app-artifact.sig.sigstore.json',
        'app-provenance.sigstore.json',
        'app-review.sigstore.json',
      ]);
    }

    // A deployment repository that ships acme/app alone refuses acme/other's chain; so does --repo acme/app.
    writeFileSync(join(workspace, '.twokey', 'fleet-app.yml'), sharedPolicyText('  repositories: [acme/app]\n'));
    const appOnly = await judge({
      bundles: both,
      artifact: OTHER_ARTIFACT,
      policy: '.twokey/fleet-app.yml',
      deployAs: fleetDeploy,
    });
    expectRefused(
      appOnly,
      'same-repository',
      'expected a chain of acme/app (bound by deploy.repositories in .twokey/fleet-app.yml), found a chain of acme/other',
    );
    const narrowed = await judge({
      bundles: both,
      artifact: OTHER_ARTIFACT,
      policy: '.twokey/fleet.yml',
      deployAs: fleetDeploy,
      repo: 'acme/app',
    });
    expect(narrowed.action.exitCode, narrowed.action.log).toBe(0);
    expect(narrowed.cli.status).toBe(1);
    expect(reasonOf(narrowed.cliReport, 'same-repository')).toContain(
      'expected a chain of acme/app (bound by --repo, one of deploy.repositories in .twokey/fleet.yml), found a chain of acme/other',
    );
  });
});

describe('a digest judged under deploy.artifacts by its name: the action (subject-digest, subject-name) and twokey verify (NAME=sha256:HEX, --name)', () => {
  it('accepts the honest artifact under the name deploy.artifacts lists, and refuses it under another', async () => {
    writeFileSync(join(workspace, '.twokey', 'named.yml'), policyText('  artifacts: [app.tar.gz]\n'));
    const digest = `sha256:${sha256(readFileSync(join(workspace, ARTIFACT)))}`;
    const policy = '.twokey/named.yml';
    const action = (name: string) =>
      runAction(repoRoot, {
        with: { 'subject-digest': digest, 'subject-name': name, bundles: honest, policy, ...endpoints() },
        identity: deploy,
        oidc: issuer,
        workspace,
      });
    const cli = (...artifact: string[]) =>
      runCli(['verify', ...artifact, '--policy', policy, '--bundle', honest, '--json'], workspace);
    const [accepted, refused, named, byFlag, nameless] = await Promise.all([
      action('app.tar.gz'),
      action('evil.tar.gz'),
      cli(`app.tar.gz=${digest}`),
      cli(digest, '--name', 'app.tar.gz'),
      cli(digest),
    ]);
    expect(accepted.exitCode, accepted.log).toBe(0);
    expect(accepted.outputs.verified).toBe('true');
    for (const run of [named, byFlag]) expect(run.status, run.stdout).toBe(0);
    const acceptedReport = readDeployReport(readFileSync(accepted.outputs['report-path']!, 'utf8'), 'report-path');
    expect(verdicts(readDeployReport(named.stdout, 'twokey verify --json'))).toEqual(verdicts(acceptedReport));
    expect(verdicts(readDeployReport(byFlag.stdout, 'twokey verify --json'))).toEqual(verdicts(acceptedReport));

    expect(refused.exitCode).not.toBe(0);
    expect(refused.log).toContain(': covered-by-policy (fail): expected evil.tar.gz to match deploy.artifacts');
    // A digest alone has no name to judge: not evaluated, so refused.
    expect(nameless.status).toBe(1);
    const covered = readDeployReport(nameless.stdout, 'twokey verify --json').artifacts[0]!.checks[0]!;
    expect([covered.id, covered.verdict]).toEqual(['covered-by-policy', 'not-evaluated']);
  });
});
