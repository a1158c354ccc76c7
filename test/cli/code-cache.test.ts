// The `twokey` launcher's V8 code cache (packages/cli/bin/twokey.cjs): made by the build for verify and verify-bundle
// (scripts/build.mjs, makeCodeCache), else once by a run that reaches a verdict; used by the next runs of the same
// bundle, never by another bundle, and every bad cache is only a cache miss.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeEach, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, '..', '..');
const builtBundle = join(repoRoot, 'packages', 'cli', 'dist', 'twokey.cjs');

let install: string;
let launcher: string;
let cacheDir: string;

/** A copy of the built CLI (launcher and bundle) in its own directory, so each test starts without a cache. */
beforeEach(() => {
  if (!existsSync(builtBundle)) throw new Error(`${builtBundle} is missing: run \`npm test\` (it builds first)`);
  install = mkdtempSync(join(tmpdir(), 'twokey-code-cache-'));
  mkdirSync(join(install, 'bin'));
  mkdirSync(join(install, 'dist'));
  launcher = join(install, 'bin', 'twokey.cjs');
  copyFileSync(join(repoRoot, 'packages', 'cli', 'bin', 'twokey.cjs'), launcher);
  copyFileSync(builtBundle, join(install, 'dist', 'twokey.cjs'));
  cacheDir = join(install, 'dist', '.code-cache');
});

async function twokey(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [launcher, ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout: string; stderr: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout, stderr: failed.stderr };
  }
}

function cacheFiles(): string[] {
  return existsSync(cacheDir) ? readdirSync(cacheDir).sort() : [];
}

describe('twokey launcher: V8 code cache', () => {
  it('is made by the first run, for this bundle and command, private to its owner, made again by the next three, then kept', async () => {
    const first = await twokey(['--help']);
    expect(first.code).toBe(0);
    const files = cacheFiles();
    expect(files).toHaveLength(1);
    const digest = createHash('sha256')
      .update(readFileSync(join(install, 'dist', 'twokey.cjs')))
      .digest('hex');
    expect(files[0]).toBe(`${digest}-${process.version}-${process.arch}-default.v8cache`);
    const file = join(cacheDir, files[0]!);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    // The first byte counts how many times the cache was made again; V8's data follows.
    const made = [readFileSync(file)];
    expect(made[0]![0]).toBe(0);
    for (let run = 1; run <= 4; run += 1) {
      expect(await twokey(['--help'])).toEqual(first);
      made.push(readFileSync(file));
    }
    // Used (accepted by V8) and made again by runs 2 to 4, each a new file; from run 5 on, used as it is.
    expect(made.map((bytes) => bytes[0])).toEqual([0, 1, 2, 3, 3]);
    expect(made[4]!.equals(made[3]!)).toBe(true);
  });

  it('keeps one cache per command, and none from a run stopped by a usage error (exit 2)', async () => {
    const usage = await twokey(['verify', '--no-such-flag']);
    expect(usage.code).toBe(2);
    expect(cacheFiles()).toEqual([]);
    const refused = await twokey(['verify', `sha256:${'0'.repeat(64)}`, '--policy', join(install, 'missing.yml')]);
    expect(refused.code).toBe(2);
    expect(cacheFiles()).toEqual([]);
    await twokey(['--help']);
    await twokey(['verify', '--help']);
    expect(cacheFiles().map((f) => f.split('-').at(-1))).toEqual(['default.v8cache', 'verify.v8cache']);
  });

  it('treats a corrupt cache as a miss: same output, and the cache is made again', async () => {
    const honest = await twokey(['--help']);
    const [name] = cacheFiles();
    const file = join(cacheDir, name!);
    writeFileSync(file, Buffer.alloc(4096, 0xa5), { mode: 0o600 });
    const corrupt = await twokey(['--help']);
    expect(corrupt).toEqual(honest);
    // Rejected by V8, so made anew (counted from 0), not made again from it.
    expect(readFileSync(file).equals(Buffer.alloc(4096, 0xa5))).toBe(false);
    expect(readFileSync(file)[0]).toBe(0);
  });

  it('never uses a cache another user could have written', async () => {
    const honest = await twokey(['--help']);
    const [name] = cacheFiles();
    const file = join(cacheDir, name!);
    // A valid cache, but writable by anyone: it is not read (read, V8 would accept it and the run would make it again
    // counting 1), so the run compiles and makes the cache anew, counting 0, private to this user.
    chmodSync(file, 0o666);
    const again = await twokey(['--help']);
    expect(again).toEqual(honest);
    expect(readFileSync(file)[0]).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // The same cache, private: read, and made again from it.
    expect(await twokey(['--help'])).toEqual(honest);
    expect(readFileSync(file)[0]).toBe(1);
  });

  it("never reads a cache through a symbolic link: made anew in its place, the link's target left alone", async () => {
    const honest = await twokey(['--help']);
    const [name] = cacheFiles();
    const file = join(cacheDir, name!);
    // A valid cache, private to this user, but reached through a link (as another user could plant one beside a
    // bundle whose directory they can write): read, V8 would accept it and the run would make it again, counting 1.
    const elsewhere = join(install, 'elsewhere.v8cache');
    renameSync(file, elsewhere);
    symlinkSync(elsewhere, file);
    const target = readFileSync(elsewhere);
    expect(await twokey(['--help'])).toEqual(honest);
    expect(lstatSync(file).isFile()).toBe(true);
    expect(readFileSync(file)[0]).toBe(0);
    expect(readFileSync(elsewhere).equals(target)).toBe(true);
  });

  it('never reads or writes a cache in a directory another user could write', async () => {
    const honest = await twokey(['--help']);
    const [name] = cacheFiles();
    const file = join(cacheDir, name!);
    const made = readFileSync(file);
    chmodSync(cacheDir, 0o777);
    // Read, the cache would be made again from it (counting 1); it is neither read nor written.
    expect(await twokey(['--help'])).toEqual(honest);
    expect(readFileSync(file).equals(made)).toBe(true);
    expect(readFileSync(file)[0]).toBe(0);
    // The directory private again: read, and made again from it.
    chmodSync(cacheDir, 0o700);
    expect(await twokey(['--help'])).toEqual(honest);
    expect(readFileSync(file)[0]).toBe(1);
  });

  it('drops the cache of an earlier bundle when the bundle changes, and never uses it for the new one', async () => {
    await twokey(['--help']);
    const [before] = cacheFiles();
    const bundle = join(install, 'dist', 'twokey.cjs');
    writeFileSync(bundle, `${readFileSync(bundle, 'utf8')}\n// rebuilt\n`);
    const after = await twokey(['--help']);
    expect(after.code).toBe(0);
    const files = cacheFiles();
    expect(files).toHaveLength(1);
    expect(files[0]).not.toBe(before);
  });

  it('is off with TWOKEY_NO_CODE_CACHE=1', async () => {
    const off = await twokey(['--help'], { TWOKEY_NO_CODE_CACHE: '1' });
    expect(off.code).toBe(0);
    expect(existsSync(cacheDir)).toBe(false);
  });

  it('still runs when the cache cannot be written', async () => {
    // A file where the cache directory should be: nothing can be written there, whoever runs the test.
    writeFileSync(cacheDir, 'not a directory');
    const first = await twokey(['--help']);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^Usage: twokey/);
    expect(first.stderr).toBe('');
  });
});

describe('twokey launcher: the code cache the build made', () => {
  const training = join(repoRoot, 'packages', 'cli', '__fixtures__', 'code-cache-release');
  const release = (name: string) => join(training, name);
  // The training release's gate (scripts/build.mjs, makeCodeCache), judged as of just after it was signed.
  const gate = [
    'verify',
    release('app-0000.tar.gz'),
    '--policy',
    release('policy.yml'),
    '--repo',
    'acme/app',
    '--at',
    '2026-12-07T01:00:00Z',
    ...['app-0000.provenance.sigstore.json', 'app-0000.sigstore.json', 'app-0000.review.sigstore.json'].flatMap((b) => [
      '--bundle',
      release(b),
    ]),
  ];

  it('is there after a build: verify and verify-bundle, for this bundle, Node and architecture, private, final', () => {
    const digest = createHash('sha256').update(readFileSync(builtBundle)).digest('hex');
    const built = join(repoRoot, 'packages', 'cli', 'dist', '.code-cache');
    for (const command of ['verify', 'verify-bundle']) {
      const file = join(built, `${digest}-${process.version}-${process.arch}-${command}.v8cache`);
      expect(existsSync(file), `${file}: run \`node scripts/build.mjs --cli\``).toBe(true);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      // Made again by its three training runs after the first: final, never made again by a user's run.
      expect(readFileSync(file)[0]).toBe(3);
    }
    expect(statSync(built).mode & 0o777).toBe(0o700);
  });

  it('is used by the first run of a copy of the build, as it is (V8 accepts it: nothing is made again)', async () => {
    cpSync(join(repoRoot, 'packages', 'cli', 'dist', '.code-cache'), cacheDir, { recursive: true });
    const before = Object.fromEntries(cacheFiles().map((f) => [f, readFileSync(join(cacheDir, f))]));
    const first = await twokey(gate);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^verdict: accepted AS OF 2026-12-07T01:00:00\.000Z/m);
    // A cache V8 rejected would have been made anew (counting 0); one used as it is stays byte for byte.
    expect(Object.fromEntries(cacheFiles().map((f) => [f, readFileSync(join(cacheDir, f))]))).toEqual(before);
    // The same report without it (but for the moment it was evaluated at).
    const evaluatedAt = (stdout: string) => stdout.replace(/evaluated at \S+/, 'evaluated at T');
    const plain = await twokey(gate, { TWOKEY_NO_CODE_CACHE: '1' });
    expect(evaluatedAt(plain.stdout)).toBe(evaluatedAt(first.stdout));
  });

  // Changing a file's owner takes root: elsewhere this is left to the rule's reading in bin/twokey.cjs.
  it.runIf(process.getuid?.() === 0)(
    "uses a cache another user wrote only when that user owns the bundle (the build's cache in another user's installation)",
    async () => {
      expect((await twokey(['--help'])).code).toBe(0);
      const [name] = cacheFiles();
      const file = join(cacheDir, name!);
      const bundle = join(install, 'dist', 'twokey.cjs');
      const other = 4242;
      // Another user's cache beside this user's bundle: not read, made anew (counting 0) by this user.
      chownSync(file, other, other);
      await twokey(['--help']);
      expect(readFileSync(file)[0]).toBe(0);
      expect(statSync(file).uid).toBe(process.getuid!());
      // The bundle's owner's cache: read (and made again from it, counting 1).
      chownSync(file, other, other);
      chownSync(bundle, other, other);
      await twokey(['--help']);
      expect(readFileSync(file)[0]).toBe(1);
    },
  );
});
