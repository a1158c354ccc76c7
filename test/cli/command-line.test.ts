// The `twokey` command line as a user meets it (the built CLI, a subprocess): --version, help for every command, and
// every mistake in a flag or a command name said in twokey's words, with what was probably meant — never Node's
// parser text, never a stack trace.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nearest } from '../../packages/cli/src/args';
import { VERIFY_BUNDLE_USAGE } from '../../packages/cli/src/commands/verify-bundle';
import { realdataRoot, repoRoot } from '../conformance/paths';
import { type CliResult, runCli } from '../conformance/run-cli';

const cliPackage = JSON.parse(readFileSync(join(repoRoot, 'packages', 'cli', 'package.json'), 'utf8'));
const BUNDLE = join(realdataRoot, 'sigstore-js-2.1.0-bundle.json');

function twokey(...args: string[]): Promise<CliResult> {
  return runCli(args, repoRoot);
}

/** A usage error: exit 2, nothing on stdout, exactly this one line on stderr. */
function expectUsageLine(result: CliResult, line: string): void {
  expect(result.status, result.stderr).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr).toBe(`${line}\n`);
}

describe('twokey --version', () => {
  it("prints the package's version, the runtime and the trusted roots it embeds", async () => {
    for (const flag of ['--version', '-v', 'version']) {
      const result = await twokey(flag);
      expect(result.status, result.stderr).toBe(0);
      const [first, second, ...rest] = result.stdout.trimEnd().split('\n');
      expect(first).toBe(
        `twokey ${cliPackage.version} (@twokey/cli, Node ${process.version}, ${process.platform}-${process.arch})`,
      );
      expect(second).toMatch(
        /^trusted root embedded: Sigstore public-good \(TUF root v\d+, expires \d{4}-\d\d-\d\d\): \d+ certificate authorities, \d+ transparency logs?, \d+ CT logs?, \d+ timestamp authorit(y|ies)$/,
      );
      expect(rest).toEqual([
        'trusted root embedded: GitHub (as published): 6 certificate authorities, 0 transparency logs, 0 CT logs, 6 timestamp authorities',
      ]);
    }
  });
});

describe('twokey help', () => {
  it('lists the commands on stdout (exit 0), and on stderr with exit 2 when no command is given', async () => {
    const help = await twokey('help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: twokey <command> \[options\]\n/);
    for (const name of ['verify ', 'verify-bundle ', 'help [COMMAND]', '--version'])
      expect(help.stdout).toContain(name);
    expect((await twokey('--help')).stdout).toBe(help.stdout);
    const bare = await twokey();
    expect(bare.status).toBe(2);
    expect(bare.stdout).toBe('');
    expect(bare.stderr).toBe(help.stdout);
  });

  it("prints a command's own help for `help CMD`, `CMD --help` and `CMD -h`, wherever the flag is", async () => {
    const expected = VERIFY_BUNDLE_USAGE;
    for (const args of [
      ['help', 'verify-bundle'],
      ['verify-bundle', '--help'],
      ['verify-bundle', '-h'],
      ['verify-bundle', '--bundle', BUNDLE, '--bundel', 'x', '--help'],
    ]) {
      const result = await twokey(...args);
      expect(result.status, args.join(' ')).toBe(0);
      expect(result.stdout, args.join(' ')).toBe(expected);
    }
    const verify = await twokey('help', 'verify');
    expect(verify.status).toBe(0);
    expect(verify.stdout).toMatch(/^Usage: twokey verify /);
    expect((await twokey('verify', '--help')).stdout).toBe(verify.stdout);
  });

  it('names the command it does not know, and the one probably meant', async () => {
    expectUsageLine(await twokey('help', 'verfy'), 'twokey: unknown command "verfy"; did you mean verify?');
    expectUsageLine(
      await twokey('verify-bundel'),
      'twokey: unknown command "verify-bundel"; did you mean verify-bundle?',
    );
    expectUsageLine(
      await twokey('sign'),
      'twokey: unknown command "sign"; the commands are verify, verify-bundle, report, trusted-root, help',
    );
    expectUsageLine(await twokey('--verison'), 'twokey: unknown option --verison; did you mean --version?');
    expectUsageLine(await twokey('--frobnicate'), 'twokey: unknown option --frobnicate; see `twokey help`');
  });
});

describe('flags said wrong', () => {
  const identity = [
    '--certificate-identity',
    'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main',
    '--certificate-oidc-issuer',
    'https://token.actions.githubusercontent.com',
  ];

  it.each([
    ['a transposed pair', ['--bundel', BUNDLE], 'unknown option --bundel; did you mean --bundle?'],
    ['_ for -', ['--trusted_root', 'x'], 'unknown option --trusted_root; did you mean --trusted-root?'],
    [
      "cosign's spelling of another tool",
      ['--certificate-identity-regex', '.*'],
      'unknown option --certificate-identity-regex; did you mean --certificate-identity-regexp?',
    ],
    ['an abbreviation of one option', ['--trusted', 'x'], 'unknown option --trusted; did you mean --trusted-root?'],
    ['a single letter that starts one option', ['-b', BUNDLE], 'unknown option -b; did you mean --bundle?'],
    ['an abbreviation of several', ['--cert', 'x'], 'unknown option --cert; see `twokey help verify-bundle`'],
    ['an unknown letter', ['-x'], 'unknown option -x; see `twokey help verify-bundle`'],
    ['a value for a flag that takes none', ['--help=yes'], '--help takes no value, found --help=yes'],
    ['a flag without its value, last', ['sha256:00', '--bundle'], '--bundle needs a value'],
    [
      'a flag whose value is the next flag',
      ['--bundle', '--key', 'k.pem', 'sha256:00'],
      '--bundle needs a value, found the option --key (write --bundle=--key for a value that starts with a dash)',
    ],
  ])('%s', async (_name, args, problem) => {
    const result = await twokey('verify-bundle', ...identity, ...args);
    expectUsageLine(result, `twokey: verify-bundle: ${problem}`);
    // Node's own wording never reaches the user.
    expect(result.stderr).not.toMatch(/Unknown option|ERR_PARSE_ARGS|To specify an option argument|argument missing/);
  });

  it("says the same in twokey verify: did you mean, never Node's parser text", async () => {
    const result = await twokey('verify', 'app.tar.gz', '--polcy', 'p.yml');
    expectUsageLine(result, 'twokey: verify: unknown option --polcy; did you mean --policy?');
    expect(result.stderr).not.toMatch(/Unknown option|ERR_PARSE_ARGS/);
  });

  it('reads a value that starts with a dash when it is attached with =', async () => {
    const result = await twokey('verify-bundle', '--bundle=-missing.json', ...identity, `sha256:${'0'.repeat(64)}`);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('-missing.json');
    expect(result.stderr).not.toContain('needs a value');
  });
});

describe('nearest: the name a mistyped one most likely meant', () => {
  const names = ['bundle', 'certificate-identity', 'certificate-identity-regexp', 'certificate-oidc-issuer', 'key'];

  it.each([
    ['bundel', 'bundle'],
    ['bundles', 'bundle'],
    ['certificate-oidc-isuer', 'certificate-oidc-issuer'],
    ['certificate-identity-regex', 'certificate-identity-regexp'],
    ['ky', 'key'],
  ])('%s → %s', (typed, meant) => {
    expect(nearest(typed, names)).toBe(meant);
  });

  it.each([['identity'], ['cert'], ['signature'], ['']])(
    '%s → nothing: too far from any, or too short to tell',
    (typed) => {
      expect(nearest(typed, names)).toBeUndefined();
    },
  );
});
