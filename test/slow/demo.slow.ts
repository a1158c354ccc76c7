// `npm run demo`, end to end: the demo program as `npm run demo` runs it (after the build), into a temporary output
// directory. It must accept the honest release (its deploy approved by an independent person), refuse the attacks and
// a deploy approved by the change's own author with their reasons, accept an unreviewed hotfix under a break-glass,
// flagged, and refuse the same break-glass a second time; leave a signed decision record for every deploy, a refusal
// too; and print `twokey verify` commands that, run by hand from the repository root, give the verdicts it announces
// and list those records.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type DeployReport, readDecisionRecord, readDeployReport } from '@twokey/core';
import { type ProcessResult, runProcess } from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../conformance/paths';
import { checkVerifyExample, verifyExamples } from '../readme/readme-examples';

const DEMO = join(repoRoot, 'packages', 'testkit', 'bin', 'demo.mjs');
const execFileAsync = promisify(execFile);
const DEPLOY_IDENTITY = 'https://github.com/acme/platform/.github/workflows/deploy.yml@refs/heads/main';
const FLAG = 'BREAK-GLASS: ACCEPTED WITHOUT AN INDEPENDENT REVIEW';
/** Every scenario, in order, with the deploy gate's verdict. */
const SCENARIOS: [string, 'accepted' | 'refused'][] = [
  ['honest', 'accepted'],
  ['self-approved', 'refused'],
  ['approved-after-merge', 'refused'],
  ['unsigned', 'refused'],
  ['build-signed-itself', 'refused'],
  ['tampered', 'refused'],
  ['deploy-approved-by-author', 'refused'],
  ['break-glass', 'accepted'],
  ['break-glass-again', 'refused'],
];

/** What a signed decision record (a Sigstore bundle of a SLSA verification summary) says. */
function recordResult(path: string): string | undefined {
  const bundle = JSON.parse(readFileSync(path, 'utf8'));
  return readDecisionRecord(JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8')))?.result;
}

function runDemo(args: string[]): Promise<ProcessResult> {
  // As a pipe, not a TTY: no colors, whatever the environment asks.
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.FORCE_COLOR;
  return runProcess(process.execPath, [DEMO, ...args], { cwd: repoRoot, env });
}

/** The printed `npx twokey verify …` commands, each with the verdict the comment above it announces. */
function verifyCommands(stdout: string): { expected: string; command: string }[] {
  const lines = stdout.split('\n');
  const commands: { expected: string; command: string }[] = [];
  for (const [i, line] of lines.entries()) {
    const command = line.trim();
    if (!command.startsWith('npx twokey verify ')) continue;
    const comment = /^\s*# .*: (accepted|refused)$/.exec(lines[i - 1] ?? '');
    commands.push({ expected: comment?.[1] ?? '(no comment)', command });
  }
  return commands;
}

async function shell(command: string): Promise<ProcessResult> {
  try {
    const { stdout, stderr } = await execFileAsync('bash', ['-c', command], { cwd: repoRoot });
    return { status: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { status: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('npm run demo', () => {
  let out: string;
  let run: ProcessResult;
  let seconds: number;

  beforeAll(async () => {
    out = join(mkdtempSync(join(tmpdir(), 'twokey-demo-test-')), 'demo-output');
    const started = Date.now();
    run = await runDemo(['--out', out]);
    seconds = (Date.now() - started) / 1000;
  }, 180_000);

  afterAll(() => {
    if (out) rmSync(join(out, '..'), { recursive: true, force: true });
  });

  it('exits 0: every scenario got the verdict it must, within a minute and a half', () => {
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/✔ every scenario got the verdict it must/);
    expect(seconds).toBeLessThan(90);
  });

  it('shows two accepted and seven refused artifacts, each with its chain and reasons', () => {
    const accepted = run.stdout.match(/^\s+ACCEPTED /gm) ?? [];
    const refused = run.stdout.match(/^\s+REFUSED /gm) ?? [];
    expect(accepted).toHaveLength(2);
    expect(refused).toHaveLength(7);
    for (const label of ['commit', 'pull request', 'author', 'approvers', 'build', 'sign', 'verdict']) {
      expect(run.stdout).toMatch(new RegExp(`^\\s+${label} +\\S`, 'm'));
    }
    // The chain of the honest release: alice's PR, approved by bob, built and signed by two different identities.
    expect(run.stdout).toMatch(/pull request +#1 Greet in French/);
    expect(run.stdout).toMatch(/approvers +bob$/m);
    // No colors into a pipe, no stack traces, no JSON dumps.
    expect(run.stdout).not.toContain(`${String.fromCharCode(27)}[`);
    expect(run.stdout).not.toMatch(/^\s+at .*\(.*:\d+:\d+\)$/m);
    expect(run.stdout).not.toMatch(/^\s*[{[]\s*$/m);
  });

  const section = (title: string) => {
    const start = run.stdout.indexOf(`  ${title} ━`);
    expect(start, `no scenario "${title}"`).toBeGreaterThan(-1);
    const end = run.stdout.indexOf('━━ ', start + title.length);
    return run.stdout.slice(start, end === -1 ? undefined : end);
  };

  it('names the reason of each refusal', () => {
    const selfApproved = section('A self-approved change');
    expect(selfApproved).toMatch(/sign +✘ refused to sign/);
    expect(selfApproved).toMatch(/✗ reviewer-not-author: mallory is the author of pull request #2/);
    expect(selfApproved).toMatch(
      /✗ artifact-signature \(fail\): expected a signature over sha256:[0-9a-f]{64} by the sign/,
    );
    expect(selfApproved).toMatch(/✗ review-attestation \(fail\): expected a review attestation/);

    const late = section('A change approved only after it was merged');
    expect(late).toMatch(/sign +✘ refused to sign/);
    expect(late).toMatch(
      /✗ approval-before-merge: bob approved at .*, after the merge at .*: an approval given after the merge never counts/,
    );

    const unsigned = section('An unsigned artifact');
    expect(unsigned).toMatch(/sign +– never ran/);
    expect(unsigned).toMatch(/✗ artifact-signature \(fail\): expected a signature .*, found none/);

    const selfSigned = section('A build that signed itself');
    expect(selfSigned).toMatch(
      /✗ artifact-signature \(fail\): .*found a signature by https:\/\/github\.com\/acme\/app\/\.github\/workflows\/build\.yml@refs\/heads\/main, expected the sign identity/,
    );
    expect(selfSigned).toMatch(
      /✗ review-attestation \(fail\): .*found a review attestation by https:\/\/github\.com\/acme\/app\//,
    );

    const tampered = section('An artifact changed after signing');
    expect(tampered).toMatch(/✗ artifact-signature \(fail\): .*signs sha256:[0-9a-f]{64}, not this artifact/);
    expect(tampered).toMatch(/✗ build-provenance \(fail\): .*whose subjects do not include/);
  });

  it("shows a deploy approved through its environment: by an independent person accepted, by the change's author refused", () => {
    const honest = section('An honestly reviewed change');
    expect(honest).toMatch(
      /approve +✔ alice starts the deploy; carol approves its job through the production environment/,
    );
    expect(honest).toMatch(/deploy by +carol for production$/m);
    expect(honest).toContain(`deploy approval (who approved this run through production) signed as ${DEPLOY_IDENTITY}`);
    expect(honest).toContain('honest/deploy/deploy-approval.sigstore.json');

    const byAuthor = section("A deploy approved by the change's own author");
    expect(byAuthor).toMatch(
      /approve +⚠ bob starts the deploy; alice approves its job through the production environment/,
    );
    expect(byAuthor).toMatch(/deploy +✘ refused/);
    expect(byAuthor).toMatch(
      /✗ deploy-approval \(fail\): expected 1 approval of the environment production .*not counted: alice \(the change's author\)/,
    );
    // The review itself holds: the deploy approval is the one check that refuses.
    expect(byAuthor.match(/^\s+✗ [a-z-]+ \((?:fail|not-evaluated)\)/gm)).toHaveLength(1);
  });

  it('shows a break-glass accepted once, flagged in capitals, and refused the second time', () => {
    const glass = section('An unreviewed hotfix under a break-glass');
    expect(glass).toMatch(/sign +✘ refused to sign/);
    expect(glass).toMatch(
      /break +⚠ erin runs the platform's break-glass workflow; dave approves it through twokey-break-glass/,
    );
    expect(glass).toContain('https://github.com/acme/platform/.github/workflows/break-glass.yml@refs/heads/main');
    expect(glass).toMatch(/deploy +✔ accepted, FLAGGED: under a break-glass/);
    expect(glass).toMatch(
      new RegExp(
        `^\\s+${FLAG}, under the break-glass bundles/break-glass\\.sigstore\\.json requested by erin, approved by dave, for production`,
        'm',
      ),
    );
    expect(glass).toMatch(/decision record PASSED UNDER A BREAK-GLASS at /);
    expect(glass).toContain(`and says ${FLAG}`);

    const again = section('The same break-glass used a second time');
    expect(again).toMatch(/deploy +✘ refused/);
    expect(again).toMatch(
      /✗ break-glass \(fail\): .*it was already used for this artifact in production \(github:acme\/app\/attestations\/sha256:[0-9a-f]{64}#\d+\): a break-glass is used once/,
    );
    expect(again).toMatch(
      /twokey verify says accepted \(exit 0\): it judges the artifact, deployed once under the break-glass/,
    );
    expect(run.stdout).toMatch(/✔ An unreviewed hotfix under a break-glass +accepted, FLAGGED \(break-glass\)$/m);
  });

  it('says that each refused deploy left a signed FAILED decision record, and twokey verify lists it', () => {
    expect(run.stdout).toContain('Each of the 7 refused deploys left a signed FAILED record.');
    const titles: Record<string, string> = {
      'self-approved': 'A self-approved change',
      'approved-after-merge': 'A change approved only after it was merged',
      unsigned: 'An unsigned artifact',
      'build-signed-itself': 'A build that signed itself',
      tampered: 'An artifact changed after signing',
      'deploy-approved-by-author': "A deploy approved by the change's own author",
      'break-glass-again': 'The same break-glass used a second time',
    };
    for (const [name, title] of Object.entries(titles)) {
      const text = section(title);
      expect(text, name).toContain(
        `decision record FAILED (SLSA verification summary) signed as ${DEPLOY_IDENTITY}: ${name}/deploy/decision-record.sigstore.json — a refusal is on record too`,
      );
      expect(text, name).toMatch(
        new RegExp(
          `decision record FAILED at \\S+ for production by \\S+ in https://\\S+ \\(\\S*${name}/deploy/decision-record\\.sigstore\\.json\\): refused on `,
        ),
      );
    }
    expect(section("A deploy approved by the change's own author")).toMatch(
      /decision record FAILED at .*deploy-approved-by-author\/deploy\/decision-record\.sigstore\.json\): refused on deploy-approval$/m,
    );
  });

  it('leaves the policy, trusted root, artifacts, bundles, reports and signed records where it says', () => {
    expect(run.stdout).toContain(`Everything is in ${out}/`);
    for (const file of ['policy.yml', 'trusted_root.json']) expect(existsSync(join(out, file)), file).toBe(true);
    // The policy names the four identities, requires a deploy approval and sets how a break-glass is used.
    const policy = readFileSync(join(out, 'policy.yml'), 'utf8');
    for (const key of ['  deploy:', '  break-glass:', '  approvals:', '    min: 1', '    max-duration: 24h']) {
      expect(policy).toContain(`\n${key}\n`);
    }
    const read = (name: string): DeployReport =>
      readDeployReport(readFileSync(join(out, name, 'report.json'), 'utf8'), name);
    const honest = read('honest');
    expect(honest.verdict).toBe('pass');
    expect(honest.artifacts[0]!.evidence.map((e) => e.role).sort()).toEqual(['provenance', 'review', 'signature']);
    expect(honest.artifacts[0]!.deployApproval).toEqual({
      source: 'live',
      environment: 'production',
      approvers: ['carol'],
    });
    expect(existsSync(join(out, 'honest', 'deploy', 'deploy-approval.sigstore.json'))).toBe(true);
    for (const [name, verdict] of SCENARIOS) {
      const report = read(name);
      expect(report.verdict, name).toBe(verdict === 'accepted' ? 'pass' : 'fail');
      expect(existsSync(join(out, name, 'app.js')), name).toBe(true);
      // Every deploy signed a decision record, a refusal too.
      const record = join(out, name, 'deploy', 'decision-record.sigstore.json');
      expect(recordResult(record), name).toBe(verdict === 'accepted' ? 'PASSED' : 'FAILED');
    }
    const checkOf = (report: DeployReport, id: string) => report.artifacts[0]!.checks.find((c) => c.id === id);
    expect(checkOf(read('deploy-approved-by-author'), 'deploy-approval')?.verdict).toBe('fail');
    const glass = read('break-glass').artifacts[0]!;
    expect(glass.breakGlass).toMatchObject({ requester: { login: 'erin' }, approvers: [{ login: 'dave' }] });
    expect(glass.checks.find((c) => c.id === 'review-attestation')?.verdict).toBe('waived');
    expect(checkOf(read('break-glass-again'), 'break-glass')?.reason).toContain('already used for this artifact');
    // The sign action signed nothing for the self-approved change.
    expect(existsSync(join(out, 'self-approved', 'bundles', 'signature.sigstore.json'))).toBe(false);
    expect(existsSync(join(out, 'self-approved', 'bundles', 'review.sigstore.json'))).toBe(false);
  });

  it('prints twokey verify commands that give the verdicts it announces by hand, listing the decision records', async () => {
    const commands = verifyCommands(run.stdout);
    // The same break-glass used a second time: the deploy gate refused that deploy; twokey verify judges the
    // artifact, deployed once under the break-glass, and lists both records.
    expect(commands.map((c) => c.expected)).toEqual([
      ...SCENARIOS.slice(0, -1).map(([, verdict]) => verdict),
      'accepted',
    ]);
    for (const [i, { expected, command }] of commands.entries()) {
      const [name, verdict] = SCENARIOS[i]!;
      expect(command).toContain(`--policy ${join(out, 'policy.yml')}`);
      expect(command).toContain(`--bundle ${join(out, name, 'deploy')}`);
      const result = await shell(command);
      expect(result.status, `${command}\n${result.stdout}\n${result.stderr}`).toBe(expected === 'accepted' ? 0 : 1);
      expect(result.stdout).toMatch(expected === 'accepted' ? /^verdict: accepted/m : /^verdict: refused/m);
      // Its own decision record, listed under the artifact.
      const record = verdict === 'accepted' ? 'PASSED' : 'FAILED';
      expect(result.stdout, name).toMatch(
        new RegExp(
          `^  decision record ${record}(?: UNDER A BREAK-GLASS)? at .*${name}/deploy/decision-record\\.sigstore\\.json\\)`,
          'm',
        ),
      );
      if (name.startsWith('break-glass')) expect(result.stdout, name).toContain(FLAG);
    }
    // The honest release's deploy approval (carol's) verifies offline under the same rules.
    expect(commands[0]!.command).toContain(`--bundle ${join(out, 'honest', 'deploy')}`);
    const honest = await shell(`${commands[0]!.command} --json`);
    expect(readDeployReport(honest.stdout, 'twokey verify --json').artifacts[0]!.deployApproval).toEqual({
      source: expect.stringMatching(/honest\/deploy\/deploy-approval\.sigstore\.json$/),
      environment: 'production',
      approvers: ['carol'],
    });
  }, 90_000);

  // The README's `twokey verify` examples, on this output (README: "after `npm run demo`").
  it('gives the README’s twokey verify examples, accepted and refused', () => {
    expect(verifyExamples.map((e) => e.exit)).toEqual(expect.arrayContaining([0, 1]));
  });

  it.each(verifyExamples.map((e) => [e.command, e] as const))('README: %s', async (_name, example) => {
    await checkVerifyExample(example, out);
  });

  it('refuses to empty an --out directory it did not make', async () => {
    const precious = mkdtempSync(join(tmpdir(), 'twokey-demo-precious-'));
    writeFileSync(join(precious, 'notes.txt'), 'mine\n');
    try {
      const refused = await runDemo(['--out', precious]);
      expect(refused.status).toBe(2);
      expect(refused.stderr).toMatch(/is not empty and was not made by the demo/);
      expect(readFileSync(join(precious, 'notes.txt'), 'utf8')).toBe('mine\n');
    } finally {
      rmSync(precious, { recursive: true, force: true });
    }
  });
});
