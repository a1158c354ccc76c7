import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CodedError, withoutTrailingSlashes } from '@twokey/core';
import {
  cacheDirectoryProblem,
  EMBEDDED_TRUSTED_ROOTS,
  embeddedTrustedRootJSON,
  githubTufRootJSON,
  InternalError,
  readBoundedFile,
  SigstoreInputError,
  trustedRootFromJSON,
  twokeyCacheDirectory,
  writeRefreshedTrustedRoot,
} from '@twokey/sigstore';
import { parseCommandArgs } from '../args';
import { type CliIO, EXIT, UsageError } from '../io';

export const TRUSTED_ROOT_USAGE = `Usage: twokey trusted-root [--name public-good|github] [--refresh] [--tuf-url URL --tuf-root FILE]

Prints the trusted roots twokey verifies against as JSON Lines, one trusted_root.json a line, as
gh attestation trusted-root does: public-good (the Sigstore public-good instance) and github (GitHub's instance, which
signs private repositories). --name prints one. Save a line to a file to pin it, or give the name itself to
--trusted-root.

Each is the root embedded in twokey, or the newer copy --refresh last fetched: --refresh updates them through TUF
from each instance's TUF repository (https://tuf-repo-cdn.sigstore.dev, https://tuf-repo.github.com), starting from
the TUF roots embedded in twokey, and keeps what TUF verified in TWOKEY_CACHE_DIR (an absolute path; default
$XDG_CACHE_HOME/twokey or ~/.cache/twokey), which must be yours: no directory on its path may be another user's or
writable by others. The CLI then verifies with the newest verified copy; the actions, and the CLI on a CI machine
(GITHUB_ACTIONS or CI set), never read it. A mirror given with --refresh (--tuf-url) replaces the instance's root for
every later run: refresh from a mirror only if you trust it as much as the instance.

  --name NAME       one instance: public-good or github
  --refresh         update the roots through TUF, keep them, and print them
  --tuf-url URL     a TUF repository other than the instance's own (a mirror); needs --tuf-root, and with --refresh
                    --name, the instance it holds the root of. Without --refresh, prints its trusted root only
  --tuf-root FILE   the TUF root.json to trust for --tuf-url

Exit status: 0 printed; 2 usage error, or a refresh TUF could not verify or fetch (nothing is kept then).
`;

const OPTIONS = {
  name: { type: 'string' },
  refresh: { type: 'boolean' },
  'tuf-url': { type: 'string' },
  'tuf-root': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type InstanceName = (typeof EMBEDDED_TRUSTED_ROOTS)[number];

/** Each instance's TUF repository, as gh and sigstore-js name them. */
const TUF_REPOSITORIES: Record<InstanceName, string> = {
  'public-good': 'https://tuf-repo-cdn.sigstore.dev',
  github: 'https://tuf-repo.github.com',
};

/** A trusted root TUF would not give: unreachable, or metadata or target that did not verify (exit 2). */
export class TrustedRootRefreshError extends CodedError<'TUF_REFRESH_FAILED'> {
  readonly kind = 'usage';
  override readonly name = 'TrustedRootRefreshError';
  constructor(message: string, options?: ErrorOptions) {
    super('TUF_REFRESH_FAILED', message, options);
  }
}

export async function trustedRootCommand(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs('trusted-root', args, OPTIONS);
  if (values.help) {
    io.stdout.write(TRUSTED_ROOT_USAGE);
    return EXIT.ok;
  }
  if (positionals.length > 0) throw new UsageError(`trusted-root takes no arguments, got ${positionals.join(' ')}`);
  const tufUrl = values['tuf-url'];
  const tufRoot = values['tuf-root'];
  if ((tufUrl === undefined) !== (tufRoot === undefined)) {
    throw new UsageError('trusted-root: --tuf-url and --tuf-root go together (a TUF repository and the root to trust)');
  }
  if (values.name !== undefined && !isEmbedded(values.name)) {
    throw new UsageError(`trusted-root: --name: expected ${EMBEDDED_TRUSTED_ROOTS.join(' or ')}, found ${values.name}`);
  }
  const custom = tufUrl !== undefined && tufRoot !== undefined ? { url: tufUrl, root: tufRoot } : undefined;
  if (custom) checkUrl(custom.url);
  if (custom && !values.refresh) {
    // As gh attestation trusted-root --tuf-url: the repository's trusted root, printed, kept nowhere.
    const tufCache = mkdtempSync(join(tmpdir(), 'twokey-tuf-'));
    let json: unknown;
    try {
      json = await fetchThroughTuf(custom.url, custom.root, tufCache, true);
    } finally {
      rmSync(tufCache, { recursive: true, force: true });
    }
    io.stdout.write(`${JSON.stringify(json)}\n`);
    return EXIT.ok;
  }
  if (custom && values.name === undefined) {
    throw new UsageError('trusted-root: --refresh with --tuf-url needs --name: which instance the repository holds');
  }
  const names: InstanceName[] = values.name === undefined ? [...EMBEDDED_TRUSTED_ROOTS] : [values.name];
  if (!values.refresh) {
    for (const name of names) io.stdout.write(`${JSON.stringify(embeddedTrustedRootJSON(name))}\n`);
    return EXIT.ok;
  }
  const cache = twokeyCacheDirectory();
  if (cache === undefined) {
    throw new UsageError(
      `trusted-root --refresh: TWOKEY_CACHE_DIR: expected an absolute path, found ${process.env.TWOKEY_CACHE_DIR}`,
    );
  }
  // Checked before anything is fetched: a root kept where another user can change it would never be used.
  const problem = cacheDirectoryProblem(cache);
  if (problem !== undefined) {
    throw new UsageError(
      `trusted-root --refresh: cannot keep trusted roots in ${cache}: ${problem} (set TWOKEY_CACHE_DIR to a directory only you can write)`,
    );
  }
  // Every instance is fetched and verified before any is kept: a refresh is all or nothing. TUF's own working files go
  // to a new private directory, removed after: one in the cache would be read back (its root.json first) by path.
  const refreshed: { name: InstanceName; json: unknown }[] = [];
  const tufCache = mkdtempSync(join(tmpdir(), 'twokey-tuf-'));
  try {
    for (const name of names) {
      const repository = custom ?? { url: TUF_REPOSITORIES[name], root: undefined };
      refreshed.push({ name, json: await refreshInstance(name, repository, tufCache) });
    }
  } finally {
    rmSync(tufCache, { recursive: true, force: true });
  }
  for (const { name, json } of refreshed) {
    const path = writeRefreshedTrustedRoot(cache, name, json);
    io.stderr.write(`twokey: ${name}: trusted root refreshed through TUF, kept in ${path}\n`);
    io.stdout.write(`${JSON.stringify(json)}\n`);
  }
  return EXIT.ok;
}

async function refreshInstance(
  name: InstanceName,
  repository: { url: string; root: string | undefined },
  tufCache: string,
): Promise<unknown> {
  // Always from the TUF root embedded in twokey (or given), in a working directory made for this refresh: never from
  // a root.json left anywhere, which would be the start of the chain.
  if (repository.root !== undefined) return fetchThroughTuf(repository.url, repository.root, tufCache, true);
  if (name === 'public-good') return fetchThroughTuf(repository.url, undefined, tufCache, true);
  // GitHub's TUF root as GitHub publishes it (gh embeds the same): the chain of newer roots is followed from it.
  const seed = mkdtempSync(join(tmpdir(), 'twokey-tuf-root-'));
  try {
    const path = join(seed, 'root.json');
    writeFileSync(path, JSON.stringify(githubTufRootJSON()));
    return await fetchThroughTuf(repository.url, path, tufCache, true);
  } finally {
    rmSync(seed, { recursive: true, force: true });
  }
}

/**
 * The trusted root a TUF repository holds (its `trusted_root.json` target), verified by @sigstore/tuf from the given
 * TUF root (or sigstore-js's seed for the public-good repository), then checked as a trusted root twokey can use.
 */
async function fetchThroughTuf(
  url: string,
  rootPath: string | undefined,
  cachePath: string,
  forceInit: boolean,
): Promise<unknown> {
  if (rootPath !== undefined) {
    // Read here first, so that a missing or oversized root is named as an input (exit 2) before any network use.
    readBoundedFile(rootPath, 1024 * 1024, 'TRUSTED_ROOT_UNREADABLE', 'TUF root');
  }
  const { initTUF } = loadTufClient();
  let text: string;
  try {
    const tuf = await initTUF({
      mirrorURL: withoutTrailingSlashes(url),
      cachePath,
      ...(rootPath !== undefined && { rootPath }),
      forceInit,
      timeout: 10_000,
      retry: { retries: 2 },
    });
    text = await tuf.getTarget('trusted_root.json');
  } catch (error) {
    throw new TrustedRootRefreshError(`${url}: TUF refresh failed: ${(error as Error).message}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
    trustedRootFromJSON(json, `${url} trusted_root.json`);
  } catch (error) {
    const reason = error instanceof SigstoreInputError ? error.message : (error as Error).message;
    throw new TrustedRootRefreshError(
      `${url}: the TUF target trusted_root.json is not a usable trusted root: ${reason}`,
    );
  }
  return json;
}

/**
 * @sigstore/tuf and its HTTP client, read only for a refresh: in the CLI's bundle, from tuf.cjs beside it
 * (scripts/build.mjs bundles it apart, so a verification never parses it), and from nowhere else; from the sources
 * (import.meta.url a .ts file), the package itself. A bundle without its tuf.cjs is a broken install: an internal
 * error, never a package found at run time in whatever node_modules is above the bundle (or on NODE_PATH), which the
 * build's checks of what a bundle loads cannot see.
 */
function loadTufClient(): typeof import('../tuf') {
  // Not named `require`, so that esbuild leaves these calls to run time rather than bundle what they name.
  const load = createRequire(import.meta.url);
  if (new URL(import.meta.url).pathname.endsWith('.ts')) return load('@sigstore/tuf') as typeof import('../tuf');
  try {
    return load('./tuf.cjs') as typeof import('../tuf');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
    throw new InternalError(
      `the TUF client tuf.cjs beside the CLI's bundle cannot be loaded (${(error as Error).message.split('\n')[0]}): reinstall @twokey/cli`,
      undefined,
      { cause: error },
    );
  }
}

function checkUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`trusted-root: --tuf-url: expected an https URL, found ${url}`);
  }
  const loopback = parsed.hostname === '127.0.0.1' || parsed.hostname === 'localhost' || parsed.hostname === '[::1]';
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && loopback)) {
    throw new UsageError(`trusted-root: --tuf-url: expected an https URL, found ${url}`);
  }
}

function isEmbedded(name: string): name is InstanceName {
  return (EMBEDDED_TRUSTED_ROOTS as readonly string[]).includes(name);
}
