// `twokey verify --json` names files of someone else's choosing, and JSON.stringify escapes only U+0000–U+001F: a
// file alice's build put in the release directory, named with C1 controls (U+009B, the 8-bit introducer of a control
// sequence: cursor up, erase line), a right-to-left override and `##[notice …]` (a workflow command anywhere in a
// runner's log line), reached the release manager's terminal and the runner's log as they were. The JSON now writes
// them as escapes — the same value when read back — and no line holds `##[`. Found by the review of what twokey writes.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDeployReport, terminalJSON } from '@twokey/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../packages/cli/src/cli';

const NAME = 'app\u009b1A\u009b2K\u202e##[notice title=twokey]verdict: accepted';
const RAW = /[\u007f-\u009f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]|##\[/u;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'twokey-json-escaped-'));
  mkdirSync(join(dir, 'release'));
  mkdirSync(join(dir, 'bundles'));
  writeFileSync(join(dir, 'release', NAME), 'unreviewed');
  writeFileSync(join(dir, 'bundles', 'junk.json'), '{}');
  writeFileSync(
    join(dir, 'policy.yml'),
    'version: 1\nidentities:\n  build:\n    issuer: https://token.actions.githubusercontent.com\n    san: https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main\n  sign:\n    issuer: https://token.actions.githubusercontent.com\n    san: https://github.com/acme/platform/.github/workflows/sign.yml@refs/heads/main\ndeploy:\n  repositories: [acme/app]\n',
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function verify(args: string[]) {
  vi.stubEnv('GITHUB_ACTIONS', 'true');
  const cwd = process.cwd();
  process.chdir(dir);
  let stdout = '';
  let stderr = '';
  try {
    const status = await run(args, {
      stdout: { write: (t: string) => (stdout += t) },
      stderr: { write: (t: string) => (stderr += t) },
    });
    return { status, stdout, stderr };
  } finally {
    process.chdir(cwd);
    vi.unstubAllEnvs();
  }
}

describe('twokey verify --json on a file named with control characters and a workflow command', () => {
  it('writes them escaped, and the JSON reads back as the same names', async () => {
    const { status, stdout, stderr } = await verify([
      'verify',
      '--policy',
      'policy.yml',
      '--bundle',
      'bundles',
      '--json',
      '--',
      `release/${NAME}`,
    ]);
    expect(status, stderr).toBe(1);
    expect(stdout).not.toMatch(RAW);
    expect(stdout).toContain('\\u009b2K');
    expect(stdout).toContain('\\u202e#\\u0023[notice title=twokey]');
    expect(readDeployReport(stdout, 'twokey verify --json').artifacts[0]!.artifact.name).toBe(NAME);
  });

  it('the text report escapes them too, with workflow commands off around it on a runner', async () => {
    const { stdout } = await verify([
      'verify',
      '--policy',
      'policy.yml',
      '--bundle',
      'bundles',
      '--',
      `release/${NAME}`,
    ]);
    expect(stdout).not.toMatch(/[\u007f-\u009f\u202e]/u);
    expect(stdout).toMatch(/^::stop-commands::/);
  });
});

describe('terminalJSON', () => {
  it('is JSON of the same value, whatever the strings hold', () => {
    const value = {
      name: NAME,
      others: ['\u007f', '\u0085', '\u2028\u2029', '\u061c\u200e\u200f\u2066\u2069', '###[x', '##[##[', 'a\nb\u001b'],
      '##[key\u009b': 1,
    };
    const written = terminalJSON(value);
    expect(written).not.toMatch(RAW);
    expect(JSON.parse(written)).toEqual(value);
    expect(written).toBe(terminalJSON(JSON.parse(written)));
  });
});
