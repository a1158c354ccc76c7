// Error lines name files of someone else's choosing (threat model row 190): a dangling link in a release directory
// named `\r ESC[2K verdict: accepted (2 of 2 artifacts pass every check) ESC[8m` made `twokey verify release/*` (exit 2,
// nothing judged) show, on a terminal, only "verdict: accepted …". The report escaped control characters; the error
// lines did not. They do now, and the bidirectional formatting characters too.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { internalErrorLine } from '../../packages/cli/src/io';
import { realdataRoot, requireBuiltCli } from '../conformance/paths';

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

  it('verify-bundle shows the bundle’s name and the certificate’s values escaped too', async () => {
    const named = join(dir, 'bundle\u001b[2K\r\u202e.json');
    copyFileSync(join(realdataRoot, 'sigstore-js-2.1.0-bundle.json'), named);
    const result = await runProcess(
      process.execPath,
      [
        requireBuiltCli(),
        'verify-bundle',
        '--bundle',
        named,
        '--certificate-identity',
        'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main',
        '--certificate-oidc-issuer',
        'https://token.actions.githubusercontent.com',
        'sha512:90f223f992e4c88dd068cd2a5fc57f9d2b30798343dd6e38f29c240e04ba090ef831f84490847c4e82b9232c78e8a258463b1e55c0f7469f730265008fa6633f',
      ],
      { cwd: dir },
    );
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('Verified OK: ');
    expect(result.stdout).toContain('bundle\\u001b[2K\\u000d\\u202e.json');
    for (const raw of ['\r', '\u001b', '\u202e']) expect(result.stdout).not.toContain(raw);
  });

  it('escapes the internal-error line too, which may name a file of a directory someone else writes', () => {
    const line = internalErrorLine('while reading release/x\r\u001b[2Kverdict: accepted\u202e.json');
    for (const raw of ['\r', '\u001b', '\u202e']) expect(line).not.toContain(raw);
    expect(line).toContain('x\\u000d\\u001b[2Kverdict: accepted\\u202e.json');
    expect(line.endsWith('\n')).toBe(true);
  });
});
