// `npm run demo`, end to end: the demo program as `npm run demo` runs it (after the build), into a temporary output
// directory. It must accept the honest release, refuse the attacks with their reasons, and print `twokey verify`
// commands that, run by hand from the repository root, give the same verdicts.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readDeployReport } from '@twokey/core';
import { type ProcessResult, runProcess } from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../conformance/paths';

const DEMO = join(repoRoot, 'packages', 'testkit', 'bin', 'demo.mjs');
const execFileAsync = promisify(execFile);

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

  it('exits 0: every scenario got the verdict it must, within a minute', () => {
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/✔ every scenario got the verdict it must/);
    expect(seconds).toBeLessThan(60);
  });

  it('shows one accepted and at least three refused artifacts, each with its chain and reasons', () => {
    const accepted = run.stdout.match(/^\s+ACCEPTED /gm) ?? [];
    const refused = run.stdout.match(/^\s+REFUSED /gm) ?? [];
    expect(accepted).toHaveLength(1);
    expect(refused.length).toBeGreaterThanOrEqual(3);
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

  it('names the reason of each refusal', () => {
    const section = (title: string) => {
      const start = run.stdout.indexOf(title);
      expect(start, `no scenario "${title}"`).toBeGreaterThan(-1);
      const end = run.stdout.indexOf('━━ ', start + title.length);
      return run.stdout.slice(start, end === -1 ? undefined : end);
    };
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

  it('leaves the policy, trusted root, artifacts, bundles and reports where it says', () => {
    expect(run.stdout).toContain(`Everything is in ${out}/`);
    for (const file of ['policy.yml', 'trusted_root.json']) expect(existsSync(join(out, file)), file).toBe(true);
    const read = (name: string) => readDeployReport(readFileSync(join(out, name, 'report.json'), 'utf8'), name);
    const honest = read('honest');
    expect(honest.verdict).toBe('pass');
    expect(honest.artifacts[0]!.evidence.map((e) => e.role).sort()).toEqual(['provenance', 'review', 'signature']);
    expect(existsSync(join(out, 'honest', 'decision-record.sigstore.json'))).toBe(true);
    for (const name of ['self-approved', 'approved-after-merge', 'unsigned', 'build-signed-itself', 'tampered']) {
      const report = read(name);
      expect(report.verdict, name).toBe('fail');
      expect(existsSync(join(out, name, 'app.js')), name).toBe(true);
      expect(existsSync(join(out, name, 'decision-record.sigstore.json')), name).toBe(false);
    }
    // The sign action signed nothing for the self-approved change.
    expect(existsSync(join(out, 'self-approved', 'bundles', 'signature.sigstore.json'))).toBe(false);
    expect(existsSync(join(out, 'self-approved', 'bundles', 'review.sigstore.json'))).toBe(false);
  });

  it('prints twokey verify commands that give the same verdicts by hand: exit 0 accepted, 1 refused', async () => {
    const commands = verifyCommands(run.stdout);
    expect(commands.map((c) => c.expected)).toEqual([
      'accepted',
      'refused',
      'refused',
      'refused',
      'refused',
      'refused',
    ]);
    for (const { expected, command } of commands) {
      expect(command).toContain(`--policy ${join(out, 'policy.yml')}`);
      const result = await shell(command);
      expect(result.status, `${command}\n${result.stdout}\n${result.stderr}`).toBe(expected === 'accepted' ? 0 : 1);
      expect(result.stdout).toMatch(expected === 'accepted' ? /^verdict: accepted/m : /^verdict: refused/m);
    }
  }, 60_000);

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
