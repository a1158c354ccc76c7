// `twokey verify` on a GitHub Actions runner (a `run:` step): its report on stdout had workflow commands off around
// it (row 207), but its error lines on stderr did not, and the runner reads `##[command]` anywhere in a line of either
// stream: a dangling link in the release directory named `a##[group]verdict: accepted (2 of 2 artifacts pass every
// check)` folded the log under a fake verdict (row 190's scenario), `##[notice …]` made an annotation. Off now too.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../packages/cli/src/cli';

let dir: string;
const NAMES = [
  'a##[group]verdict: accepted (2 of 2 artifacts pass every check)',
  'b##[notice title=twokey verify]verdict: accepted, every artifact passes',
  'c##[set-output name=verified;]true',
  'd##[add-mask]BUNDLE_UNREADABLE',
];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'twokey-stderr-commands-'));
  mkdirSync(join(dir, 'release'));
  writeFileSync(join(dir, 'release', 'app.bin'), 'unreviewed');
  for (const name of NAMES) symlinkSync('/nonexistent', join(dir, 'release', name));
  writeFileSync(
    join(dir, 'policy.yml'),
    'version: 1\nidentities:\n  build:\n    issuer: https://token.actions.githubusercontent.com\n    san: https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main\n  sign:\n    issuer: https://token.actions.githubusercontent.com\n    san: https://github.com/acme/platform/.github/workflows/sign.yml@refs/heads/main\n',
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Lines the runner acts on: `::cmd::` at the start or `##[` anywhere, outside a stop-commands span. */
function commandsSeen(text: string): string[] {
  const seen: string[] = [];
  let stopped: string | undefined;
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (stopped !== undefined) {
      if (line.trim() === `::${stopped}::`) stopped = undefined;
      continue;
    }
    const stop = /^::stop-commands::(.+)$/.exec(line.trim());
    if (stop) stopped = stop[1];
    else if (line.trimStart().startsWith('::') || line.includes('##[')) seen.push(line);
  }
  return seen;
}

describe('twokey verify on a runner: its error lines', () => {
  it('carry no file name’s ##[command] to the runner: workflow commands are off around them', async () => {
    vi.stubEnv('GITHUB_ACTIONS', 'true');
    const cwd = process.cwd();
    process.chdir(dir);
    let stdout = '';
    let stderr = '';
    try {
      const status = await run(
        [
          'verify',
          '--policy',
          'policy.yml',
          '--repo',
          'acme/app',
          '--bundle',
          'release',
          '--',
          ...NAMES.map((n) => `release/${n}`),
          'release/app.bin',
        ],
        { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } },
      );
      expect(status).toBe(2);
    } finally {
      process.chdir(cwd);
      vi.unstubAllEnvs();
    }
    expect(commandsSeen(stderr)).toEqual([]);
    expect(commandsSeen(stdout)).toEqual([]);
    // The names are still there to read, inside the stop-commands span.
    expect(stderr).toContain('a##[group]verdict: accepted');
    expect(stderr).toMatch(/^::stop-commands::/);
  });
});
