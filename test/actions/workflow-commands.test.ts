// The deploy gate's log names files, pull requests and bundles of others' choosing. The runner acts on a workflow
// command at the start of a line (`::stop-commands::…`, escaped in that text: terminalText) and on the older
// `##[command]` form anywhere in a line, which nothing escaped: an artifact named `app##[stop-commands]pause` turned
// off the step's own `::error::` annotation, and a file a job of the run put among the bundles,
// `##[set-output name=deploy-approval-path;]…`, set an output the gate never wrote (which the reusable deploy workflow
// uploads). The gate now writes that text with workflow commands turned off around it (`::stop-commands::TOKEN`, a
// fresh random token, … `::TOKEN::`), and its own commands outside.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repository = resolve(import.meta.dirname, '..', '..');
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'twokey-wfcmd-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The deploy action's bundle run as the runner runs it, over these files of the workspace. */
function runGate(name: string, files: Record<string, string>) {
  const temp = join(dir, name);
  const workspace = join(temp, 'workspace');
  mkdirSync(join(workspace, 'artifacts'), { recursive: true });
  mkdirSync(join(workspace, 'bundles'), { recursive: true });
  copyFileSync(join(repository, '.twokey', 'org-policy.yml'), join(workspace, 'policy.yml'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(workspace, path)), { recursive: true });
    writeFileSync(join(workspace, path), content);
  }
  const runnerFiles = {
    GITHUB_OUTPUT: join(temp, 'output'),
    GITHUB_STEP_SUMMARY: join(temp, 'summary'),
    GITHUB_EVENT_PATH: join(temp, 'event.json'),
  };
  for (const file of Object.values(runnerFiles)) writeFileSync(file, '');
  writeFileSync(runnerFiles.GITHUB_EVENT_PATH, '{}');
  const run = spawnSync(process.execPath, [join(repository, 'actions', 'deploy', 'dist', 'index.js')], {
    cwd: workspace,
    encoding: 'utf8',
    timeout: 60_000,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      RUNNER_TEMP: temp,
      GITHUB_WORKSPACE: workspace,
      GITHUB_REPOSITORY: 'twokey-dev/twokey',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_API_URL: 'http://127.0.0.1:9',
      ...runnerFiles,
      'INPUT_SUBJECT-PATH': 'artifacts/*',
      INPUT_BUNDLES: 'bundles',
      INPUT_POLICY: 'policy.yml',
      INPUT_RECORD: 'false',
    },
  });
  return { ...run, outputs: readFileSync(runnerFiles.GITHUB_OUTPUT, 'utf8') };
}

/**
 * The lines the runner would read as commands: `::…` at a line's start, or `##[` anywhere, outside a
 * `::stop-commands::TOKEN` … `::TOKEN::` span; and whether each such span was closed.
 */
function commandsSeen(stdout: string) {
  const seen: string[] = [];
  let stopped: string | undefined;
  for (const line of stdout.split(/\r\n|\r|\n/)) {
    if (stopped !== undefined) {
      if (line.trim() === `::${stopped}::`) stopped = undefined;
      continue;
    }
    const stop = /^::stop-commands::(.+)$/.exec(line.trim());
    if (stop) stopped = stop[1];
    else if (line.trimStart().startsWith('::') || line.includes('##[')) seen.push(line);
  }
  return { seen, closed: stopped === undefined };
}

describe('workflow commands in the deploy gate’s log', () => {
  it('an artifact named app##[stop-commands]pause: written with commands off; the refusal’s annotation stands', () => {
    const run = runGate('stop', { 'artifacts/app##[stop-commands]pause': 'hello' });
    expect(run.status, run.stderr).toBe(1);
    expect(run.stdout).toMatch(/^REFUSED {2}app##\[stop-commands\]pause sha256:[0-9a-f]{64}$/m);
    const { seen, closed } = commandsSeen(run.stdout);
    expect(closed).toBe(true);
    // What the runner still acts on is the gate's own: its error annotation, escaped by @actions/core.
    expect(seen.length).toBeGreaterThan(0);
    for (const line of seen) expect(line).toMatch(/^::(error|warning)::/);
    expect(seen.some((line) => line.startsWith('::error::twokey refused the deploy'))).toBe(true);
  });

  it('a file named ##[set-output name=deploy-approval-path;]… among the bundles sets no output', () => {
    const planted = 'bundles/twokey-evil/##[set-output name=deploy-approval-path;]secret%0Aignored.json';
    const run = runGate('output', { 'artifacts/app': 'hello', [planted]: '{"not":"a bundle"}' });
    expect(run.stdout).toContain(planted);
    const { seen, closed } = commandsSeen(run.stdout);
    expect(closed).toBe(true);
    for (const line of seen) expect(line).toMatch(/^::(error|warning)::/);
    expect(run.outputs).not.toContain('deploy-approval-path');
    expect(run.outputs).toMatch(/^verified<<ghadelimiter_[\w-]+\nfalse\n/m);
  });
});

describe('workflow commands in `twokey verify`’s report, run in a step of a workflow', () => {
  it('is written with commands off on a runner (GITHUB_ACTIONS=true), and as it is elsewhere', () => {
    const work = join(dir, 'cli');
    mkdirSync(join(work, 'release'), { recursive: true });
    writeFileSync(join(work, 'release', 'app##[stop-commands]pause'), 'unreviewed');
    writeFileSync(
      join(work, 'policy.yml'),
      'version: 1\nidentities:\n  build:\n    issuer: https://token.actions.githubusercontent.com\n    san: https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main\n  sign:\n    issuer: https://token.actions.githubusercontent.com\n    san: https://github.com/acme/platform/.github/workflows/sign.yml@refs/heads/main\n',
    );
    const verify = (env: NodeJS.ProcessEnv) =>
      spawnSync(
        process.execPath,
        [
          join(repository, 'packages', 'cli', 'bin', 'twokey.cjs'),
          'verify',
          '--policy',
          'policy.yml',
          '--repo',
          'acme/app',
          '--bundle',
          'release',
          '--',
          'release/app##[stop-commands]pause',
        ],
        { cwd: work, encoding: 'utf8', timeout: 60_000, env: { ...process.env, CI: '', ...env } },
      );
    const onRunner = verify({ GITHUB_ACTIONS: 'true' });
    expect(onRunner.status, onRunner.stderr).toBe(1);
    expect(onRunner.stdout).toContain('app##[stop-commands]pause');
    const { seen, closed } = commandsSeen(onRunner.stdout);
    expect(closed).toBe(true);
    expect(seen).toEqual([]);
    const elsewhere = verify({ GITHUB_ACTIONS: '' });
    expect(elsewhere.stdout).not.toContain('::stop-commands::');
    expect(elsewhere.stdout).toContain('app##[stop-commands]pause');
  });
});
