// `twokey trusted-root --refresh` (issue 15): the embedded roots are updated through TUF — signed metadata chained
// from a TUF root twokey trusts — into the user's cache, and the CLI then verifies with the newest verified copy.
// A TUF repository here is a real one on loopback: @tufjs/repo-mock's signed metadata (root, timestamp, snapshot,
// targets) served over HTTP to @sigstore/tuf's client, as tuf-repo-cdn.sigstore.dev serves it. Whatever TUF does not
// verify is never kept, and a kept copy someone else could have written is never used.
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// The repository and its handlers only: the package's index installs nock, which would intercept every request of
// this process.
import { tufHandlers } from '@tufjs/repo-mock/dist/handler';
import { initializeTUFRepo } from '@tufjs/repo-mock/dist/repo';
import { type KeylessSigningOptions, signArtifact } from '@twokey/sigstore';
import { identity, type OidcIssuer, type SigstoreStack, startOidcIssuer, startSigstoreStack } from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../conformance/run-cli';

const SHA = 'a'.repeat(40);
const SAN = 'https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';

interface TufRepository {
  url: string;
  /** The repository's TUF root.json, written to a file (what --tuf-root is given). */
  rootPath: string;
  close(): Promise<void>;
}

/** A TUF repository on loopback holding `trusted_root.json`; `serve` may answer a path otherwise (an attacker's mirror). */
async function startTufRepository(
  trustedRoot: string,
  dir: string,
  serve?: (path: string) => string | undefined,
): Promise<TufRepository> {
  const repository = initializeTUFRepo([{ name: 'trusted_root.json', content: trustedRoot }]);
  const handlers = tufHandlers(repository, { metadataPathPrefix: '', targetPathPrefix: '/targets' });
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://tuf').pathname;
    const replaced = serve?.(path);
    const handler = handlers.find((h) => h.path === path);
    if (replaced === undefined && !handler) {
      response.writeHead(404).end();
      return;
    }
    const answer = replaced === undefined ? handler!.fn() : { statusCode: 200, response: replaced };
    response.writeHead(answer.statusCode, { 'content-type': 'application/octet-stream' }).end(answer.response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const rootPath = join(dir, `tuf-root-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(rootPath, JSON.stringify(repository.rootMeta.toJSON()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    rootPath,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let dir: string;
let stack: SigstoreStack;
let issuer: OidcIssuer;
let artifact: string;
let bundle: string;
let tuf: TufRepository;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twokey-tuf-'));
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  const options: KeylessSigningOptions = {
    endpoints: { fulcioURL: stack.fulcioURL, rekorURL: stack.rekorURL, tsaURL: stack.tsaURL },
    identityToken: () =>
      issuer.mint(identity('acme/app', '.github/workflows/build.yml', 'refs/heads/main', SHA), {
        audience: 'sigstore',
      }),
  };
  artifact = join(dir, 'app.tar.gz');
  writeFileSync(artifact, 'the artifact\n');
  bundle = join(dir, 'app.sigstore.json');
  writeFileSync(bundle, JSON.stringify(await signArtifact({ file: artifact }, options)));
  // The instance's TUF repository now publishes a trusted root with the loopback stack's keys: newer than the
  // embedded one, which knows none of them.
  tuf = await startTufRepository(JSON.stringify(stack.trustedRoot), dir);
}, 60_000);

afterAll(async () => {
  await tuf?.close();
  await stack?.close();
  await issuer?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// Not a CI machine (the refreshed roots are never read on one), whatever machine runs the tests.
const env = (cache: string): NodeJS.ProcessEnv => ({
  ...process.env,
  TWOKEY_CACHE_DIR: cache,
  GITHUB_ACTIONS: '',
  CI: '',
});
const verifyBundle = (cache: string, extra: NodeJS.ProcessEnv = {}) =>
  runCli(
    ['verify-bundle', '--bundle', bundle, '--certificate-identity', SAN, '--certificate-oidc-issuer', ISSUER, artifact],
    dir,
    { ...env(cache), ...extra },
  );
const refresh = (cache: string, repository: TufRepository) =>
  runCli(
    [
      'trusted-root',
      '--refresh',
      '--name',
      'public-good',
      '--tuf-url',
      repository.url,
      '--tuf-root',
      repository.rootPath,
    ],
    dir,
    env(cache),
  );

describe('twokey trusted-root --refresh', () => {
  it('keeps the root TUF verified, and the CLI verifies with it from then on', async () => {
    const cache = mkdtempSync(join(dir, 'cache-'));
    // Before: the embedded public-good root knows nothing of this instance.
    const before = await verifyBundle(cache);
    expect(before.status, before.stdout + before.stderr).toBe(1);

    const refreshed = await refresh(cache, tuf);
    expect(refreshed.status, refreshed.stderr).toBe(0);
    expect(JSON.parse(refreshed.stdout)).toEqual(stack.trustedRoot);
    const kept = join(cache, 'trusted-roots', 'public-good.json');
    expect(refreshed.stderr).toContain(`public-good: trusted root refreshed through TUF, kept in ${kept}`);
    expect(JSON.parse(readFileSync(kept, 'utf8'))).toEqual(stack.trustedRoot);
    expect(statSync(kept).mode & 0o777).toBe(0o600);
    expect(statSync(join(cache, 'trusted-roots')).mode & 0o777).toBe(0o700);

    const after = await verifyBundle(cache);
    expect(after.status, after.stdout + after.stderr).toBe(0);
    // `twokey trusted-root` prints the copy verification uses.
    const printed = await runCli(['trusted-root', '--name', 'public-good'], dir, env(cache));
    expect(JSON.parse(printed.stdout)).toEqual(stack.trustedRoot);
    // On a GitHub Actions runner, or any CI machine, the kept copy is never read: another job could have written it.
    const onRunner = await verifyBundle(cache, { GITHUB_ACTIONS: 'true' });
    expect(onRunner.status).toBe(1);
    for (const ci of ['true', '1', 'yes']) expect((await verifyBundle(cache, { CI: ci })).status).toBe(1);
    expect((await verifyBundle(cache, { CI: 'false' })).status).toBe(0);
    // TUF's working files were not left in the cache: only what was kept.
    expect(readdirSync(cache)).toEqual(['trusted-roots']);
  });

  it('never reads a root from a cache under the working directory (a relative TWOKEY_CACHE_DIR or XDG_CACHE_HOME)', async () => {
    // A checkout holding a trusted root of the developer's own stack where a relative cache path would find it: a
    // file the user owns (git wrote it), in directories the user owns, nobody else can write.
    const checkout = mkdtempSync(join(dir, 'checkout-'));
    const home = mkdtempSync(join(dir, 'home-'));
    for (const relative of [join('ci-cache', 'twokey'), 'cache']) {
      mkdirSync(join(checkout, relative, 'trusted-roots'), { recursive: true, mode: 0o700 });
      writeFileSync(join(checkout, relative, 'trusted-roots', 'public-good.json'), JSON.stringify(stack.trustedRoot), {
        mode: 0o600,
      });
    }
    const run = (extra: NodeJS.ProcessEnv) =>
      runCli(
        [
          'verify-bundle',
          '--bundle',
          bundle,
          '--certificate-identity',
          SAN,
          '--certificate-oidc-issuer',
          ISSUER,
          artifact,
        ],
        checkout,
        { ...process.env, GITHUB_ACTIONS: '', CI: '', HOME: home, TWOKEY_CACHE_DIR: '', ...extra },
      );
    // Given absolutely, the same files are a cache the user chose: used.
    expect((await run({ TWOKEY_CACHE_DIR: join(checkout, 'cache') })).status).toBe(0);
    const relativeTwokey = await run({ TWOKEY_CACHE_DIR: 'cache' });
    expect(relativeTwokey.status, relativeTwokey.stdout).toBe(1);
    const relativeXdg = await run({ XDG_CACHE_HOME: 'ci-cache' });
    expect(relativeXdg.status, relativeXdg.stdout).toBe(1);
    // --refresh into a relative TWOKEY_CACHE_DIR is a usage error, before anything is fetched.
    const refreshed = await runCli(
      ['trusted-root', '--refresh', '--name', 'public-good', '--tuf-url', tuf.url, '--tuf-root', tuf.rootPath],
      checkout,
      { ...process.env, GITHUB_ACTIONS: '', CI: '', TWOKEY_CACHE_DIR: 'cache' },
    );
    expect(refreshed.status).toBe(2);
    expect(refreshed.stderr).toContain('TWOKEY_CACHE_DIR: expected an absolute path, found cache');
  });

  it('never reads a root, nor keeps one, below a directory other users can write (they could swap what is below it)', async () => {
    // Another user's directory on the path could be exchanged for one of theirs between twokey's look at the kept file
    // and its read (rename is atomic): a directory others can write stands for it here, as it does in the check.
    const shared = mkdtempSync(join(dir, 'shared-'));
    const cache = join(shared, 'cache');
    mkdirSync(cache, { mode: 0o700 });
    expect((await refresh(cache, tuf)).status).toBe(0);
    expect((await verifyBundle(cache)).status).toBe(0);
    chmodSync(shared, 0o777);
    const below = await verifyBundle(cache);
    expect(below.status, below.stdout).toBe(1);
    const refused = await refresh(cache, tuf);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(`cannot keep trusted roots in ${cache}: ${shared} can be written by other users`);
    // With the sticky bit (as /tmp has), others can only add and remove names of their own: the cache below, this
    // user's, is used again.
    chmodSync(shared, 0o1777);
    expect((await verifyBundle(cache)).status).toBe(0);
    chmodSync(shared, 0o700);
    // A kept root that is a link is never followed, whoever made it.
    const kept = join(cache, 'trusted-roots', 'public-good.json');
    renameSync(kept, join(cache, 'elsewhere.json'));
    symlinkSync(join(cache, 'elsewhere.json'), kept);
    expect((await verifyBundle(cache)).status).toBe(1);
  });

  it('judges the cache path as given, links and all: a link in a directory others can write leads nowhere', async () => {
    // A checkout of someone else's repository, the user's files (git wrote them: 0644 in 0755), holding a trusted root
    // of her own stack; a directory others can write on the cache path holds her link `cache` to it. The path the link
    // leads to is the user's alone, but she could point it anywhere: the directory holding the link is judged too.
    const checkout = mkdtempSync(join(dir, 'checkout-'));
    chmodSync(checkout, 0o755);
    mkdirSync(join(checkout, 'ci', 'trusted-roots'), { recursive: true, mode: 0o755 });
    writeFileSync(join(checkout, 'ci', 'trusted-roots', 'public-good.json'), JSON.stringify(stack.trustedRoot), {
      mode: 0o644,
    });
    const shared = mkdtempSync(join(dir, 'shared-'));
    symlinkSync(join(checkout, 'ci'), join(shared, 'cache'));
    chmodSync(shared, 0o777);
    const through = await verifyBundle(join(shared, 'cache'));
    expect(through.status, through.stdout).toBe(1);
    // The same link in a directory only the user can write: a cache the user chose to put there.
    chmodSync(shared, 0o700);
    expect((await verifyBundle(join(shared, 'cache'))).status).toBe(0);
    // And a link on the way to a directory others can write (the link's target judged as the rest of the path).
    const open = mkdtempSync(join(dir, 'open-'));
    mkdirSync(join(open, 'ci', 'trusted-roots'), { recursive: true, mode: 0o755 });
    writeFileSync(join(open, 'ci', 'trusted-roots', 'public-good.json'), JSON.stringify(stack.trustedRoot), {
      mode: 0o644,
    });
    chmodSync(open, 0o777);
    const mine = mkdtempSync(join(dir, 'mine-'));
    symlinkSync(open, join(mine, 'to-open'));
    expect((await verifyBundle(join(mine, 'to-open', 'ci'))).status).toBe(1);
  });

  it('never uses a kept copy that another user could have written', async () => {
    const cache = mkdtempSync(join(dir, 'cache-'));
    expect((await refresh(cache, tuf)).status).toBe(0);
    chmodSync(join(cache, 'trusted-roots', 'public-good.json'), 0o666);
    expect((await verifyBundle(cache)).status).toBe(1);
    chmodSync(join(cache, 'trusted-roots', 'public-good.json'), 0o600);
    chmodSync(join(cache, 'trusted-roots'), 0o777);
    expect((await verifyBundle(cache)).status).toBe(1);
  });

  it('keeps nothing when the mirror serves a trusted root its signed targets do not name', async () => {
    // An attacker's mirror: genuine signed metadata, but its own trusted_root.json (its own CA) as the target.
    const forged = JSON.stringify({ ...stack.trustedRoot, timestampAuthorities: [] });
    const mirror = await startTufRepository(JSON.stringify(stack.trustedRoot), dir, (path) =>
      path === '/targets/trusted_root.json' ? forged : undefined,
    );
    try {
      const cache = mkdtempSync(join(dir, 'cache-'));
      const result = await refresh(cache, mirror);
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(/^error TUF_REFRESH_FAILED: http:\/\/127\.0\.0\.1:\d+: TUF refresh failed: /);
      expect(result.stdout).toBe('');
      expect(() => statSync(join(cache, 'trusted-roots', 'public-good.json'))).toThrow();
    } finally {
      await mirror.close();
    }
  });

  it('keeps nothing when the metadata is signed by keys the trusted TUF root does not name', async () => {
    // Another repository's metadata (its own keys) behind the first repository's TUF root.
    const other = await startTufRepository(JSON.stringify(stack.trustedRoot), dir);
    try {
      const cache = mkdtempSync(join(dir, 'cache-'));
      const result = await refresh(cache, { ...other, rootPath: tuf.rootPath });
      expect(result.status).toBe(2);
      expect(result.stderr).toContain('TUF_REFRESH_FAILED');
      expect(() => statSync(join(cache, 'trusted-roots', 'public-good.json'))).toThrow();
    } finally {
      await other.close();
    }
  });

  it('refuses a plain-HTTP mirror that is not on this machine, and --tuf-url without --tuf-root', async () => {
    const cache = mkdtempSync(join(dir, 'cache-'));
    const remote = await runCli(
      ['trusted-root', '--refresh', '--name', 'github', '--tuf-url', 'http://tuf.example', '--tuf-root', tuf.rootPath],
      dir,
      env(cache),
    );
    expect(remote.status).toBe(2);
    expect(remote.stderr).toContain('--tuf-url: expected an https URL, found http://tuf.example');
    const alone = await runCli(['trusted-root', '--tuf-url', tuf.url], dir, env(cache));
    expect(alone.status).toBe(2);
    expect(alone.stderr).toContain('--tuf-url and --tuf-root go together');
  });

  it('prints a TUF repository’s trusted root without keeping it (--tuf-url without --refresh, as gh)', async () => {
    const cache = mkdtempSync(join(dir, 'cache-'));
    const result = await runCli(['trusted-root', '--tuf-url', tuf.url, '--tuf-root', tuf.rootPath], dir, env(cache));
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(stack.trustedRoot);
    expect(() => statSync(join(cache, 'trusted-roots'))).toThrow();
  });
});
