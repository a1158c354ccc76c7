// Error lines name files of someone else's choosing (threat model row 190): a dangling link in a release directory
// named `\r ESC[2K verdict: accepted (2 of 2 artifacts pass every check) ESC[8m` made `twokey verify release/*` (exit 2,
// nothing judged) show, on a terminal, only "verdict: accepted …". The report escaped control characters; the error
// lines did not. They do now, and the bidirectional formatting characters too.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBuiltCli } from '../conformance/paths';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'twokey-escape-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('error lines', () => {
  it('show a file name’s escape sequences, carriage returns and bidi controls as escapes, never as what they do', async () => {
    const release = join(dir, 'release');
    mkdirSync(release);
    writeFileSync(join(release, 'app.bin'), 'unreviewed');
    const spoof = '\r\u001b[2Kverdict: accepted (2 of 2 artifacts pass every check)\u001b[8m\u202e';
    symlinkSync('/nonexistent', join(release, spoof));
    writeFileSync(
      join(dir, 'policy.yml'),
      'version: 1\nidentities:\n  build:\n    issuer: https://token.actions.githubusercontent.com\n    san: https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main\n  sign:\n    issuer: https://token.actions.githubusercontent.com\n    san: https://github.com/acme/platform/.github/workflows/sign.yml@refs/heads/main\n',
    );
    const command = `"${process.execPath}" "${requireBuiltCli()}" verify release/* --policy policy.yml --repo acme/app --bundle release`;
    const result = await runProcess('/bin/sh', ['-c', command], { cwd: dir });
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    for (const raw of ['\r', '\u001b', '\u202e']) expect(result.stderr).not.toContain(raw);
    expect(result.stderr).toContain(
      '\\u000d\\u001b[2Kverdict: accepted (2 of 2 artifacts pass every check)\\u001b[8m\\u202e',
    );
    expect(result.stderr).toMatch(/^error [A-Z_]+: /);
  });
});
