// What a bundle directory may hold that is not a bundle file, and must still end the run with a clear answer: a
// symlink named *.json pointing at a FIFO (tinyglobby's onlyFiles skips a FIFO itself but follows a link to one; a
// tarball of evidence keeps links) or at a device, which reading could block on forever, and a .jsonl of newlines
// under the size limit, whose lines an array cannot hold. Each is exit 2 naming the file; never a hang or an abort.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACME_POLICY } from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../conformance/run-cli';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'twokey-bundle-kinds-'));
  writeFileSync(join(dir, 'policy.yml'), ACME_POLICY);
  writeFileSync(join(dir, 'app.tar.gz'), 'app 1.0\n');
  expect(spawnSync('mkfifo', [join(dir, 'pipe')]).status).toBe(0);
  mkdirSync(join(dir, 'plain'));
  expect(spawnSync('mkfifo', [join(dir, 'plain', 'x.json')]).status).toBe(0);
  mkdirSync(join(dir, 'to-fifo'));
  symlinkSync(join(dir, 'pipe'), join(dir, 'to-fifo', 'x.json'));
  mkdirSync(join(dir, 'to-device'));
  symlinkSync('/dev/null', join(dir, 'to-device', 'x.json'));
  mkdirSync(join(dir, 'newlines'));
  // 135,000,000 newlines: under MAX_JSONL_BYTES, over the lines an array holds (2^27).
  // A bundle directory holding a link to the root of the machine, beside nothing else.
  mkdirSync(join(dir, 'to-root'));
  symlinkSync('/', join(dir, 'to-root', 'everything'));
  // Artifacts that are no files: a FIFO nobody writes to, and a device that never ends.
  expect(spawnSync('mkfifo', [join(dir, 'waiting.tar.gz')]).status).toBe(0);
  symlinkSync('/dev/zero', join(dir, 'endless.tar.gz'));
  // Regular files of size 0 that give bytes (procfs): /proc/self/pagemap reads ~256 GiB, for minutes.
  symlinkSync('/proc/self/pagemap', join(dir, 'pagemap.tar.gz'));
  symlinkSync('/proc/self/maps', join(dir, 'maps.tar.gz'));
  const fd = openSync(join(dir, 'newlines', 'store.jsonl'), 'w');
  const chunk = Buffer.alloc(15_000_000, '\n');
  for (let i = 0; i < 9; i++) writeSync(fd, chunk);
  closeSync(fd);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const verify = (bundle: string) =>
  runCli(['verify', 'app.tar.gz', '--policy', 'policy.yml', '--repo', 'acme/app', '--bundle', bundle], dir);

describe('a bundle directory’s files that are not bundle files', () => {
  it('skips a FIFO itself: the run ends, refused for want of evidence', async () => {
    expect((await verify('plain')).status).toBe(1);
  });

  it('refuses a symlink to a FIFO, naming it (exit 2), without waiting for a writer', async () => {
    const run = await verify('to-fifo');
    expect(run.status, run.stderr).toBe(2);
    expect(run.stderr).toContain('to-fifo/x.json: cannot read bundle: it is not a regular file (a FIFO or a device)');
  });

  it('refuses a symlink to a device, naming it (exit 2)', async () => {
    const run = await verify('to-device');
    expect(run.status, run.stderr).toBe(2);
    expect(run.stderr).toContain('to-device/x.json: cannot read bundle: it is not a regular file (a FIFO or a device)');
  });

  it('refuses a .jsonl of more lines than a JSON Lines file of bundles holds (exit 2), never aborts', async () => {
    const run = await verify('newlines');
    expect(run.status, run.stderr).toBe(2);
    expect(run.stderr).toContain(
      'newlines/store.jsonl: more than 1048576 lines; a JSON Lines file of bundles holds a bundle a line',
    );
  }, 120_000);
});

describe('inputs that are not files, and links out of a bundle directory: an answer, never a hang', () => {
  it('does not follow a link to a directory inside a bundle directory (to /: every *.json of the machine)', async () => {
    const run = await verify('to-root');
    // Nothing in the directory but the link: refused for want of evidence, at once.
    expect(run.status, run.stderr).toBe(1);
  }, 30_000);

  it.each([
    ['a FIFO nobody writes to', 'waiting.tar.gz'],
    ['a link to /dev/zero', 'endless.tar.gz'],
  ])(
    'refuses an artifact that is %s, naming it (exit 2), in verify and verify-bundle',
    async (_what, file) => {
      const gate = await runCli(['verify', file, '--policy', 'policy.yml', '--repo', 'acme/app'], dir);
      expect(gate.status, gate.stderr).toBe(2);
      expect(gate.stderr).toContain(
        `${file}: cannot read artifact: it is not a regular file (a FIFO, a socket or a device)`,
      );
      const one = await runCli(
        [
          'verify-bundle',
          '--bundle',
          join(dir, 'plain', 'none.json'),
          '--certificate-identity',
          'https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main',
          '--certificate-oidc-issuer',
          'https://token.actions.githubusercontent.com',
          file,
        ],
        dir,
      );
      expect(one.status, one.stderr).toBe(2);
    },
    30_000,
  );

  it('refuses an artifact that reads more than its size (a /proc file), naming it (exit 2), at once', async () => {
    const maps = await runCli(['verify', 'maps.tar.gz', '--policy', 'policy.yml', '--repo', 'acme/app'], dir);
    expect(maps.status, maps.stderr).toBe(2);
    expect(maps.stderr).toContain('maps.tar.gz: cannot read artifact: it gives more than its 0 bytes');
    const pagemap = await runCli(['verify', 'pagemap.tar.gz', '--policy', 'policy.yml', '--repo', 'acme/app'], dir);
    expect(pagemap.status, pagemap.stderr).toBe(2);
    expect(pagemap.stderr).toContain('error ARTIFACT_UNREADABLE: ');
    expect(pagemap.stderr).toContain('pagemap.tar.gz: cannot read artifact');
  }, 30_000);

  it.each([
    ['a FIFO nobody writes to', 'pipe'],
    ['/dev/zero', '/dev/zero'],
  ])(
    'refuses a deployments file that is %s (exit 2), never reading without end',
    async (_what, file) => {
      const run = await runCli(['report', '--policy', 'policy.yml', '--bundle', 'plain', '--deployments', file], dir);
      expect(run.status, run.stderr).toBe(2);
      expect(run.stderr).toContain('it is not a regular file (a FIFO or a device)');
    },
    30_000,
  );
});
