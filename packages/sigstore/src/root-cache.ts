// Trusted roots refreshed through TUF (`twokey trusted-root --refresh`), kept in the user's cache and used in place
// of the embedded ones when they are newer. A refreshed root was verified by TUF (signed metadata chained from the
// TUF root embedded in twokey) when it was written; what keeps it trustworthy afterwards is who may write it, so it is
// read only when the current user owns the file and its directory, nobody else can write them, and every directory
// above them is the user's or root's and writable by no one else (a world-writable directory with the sticky bit, as
// /tmp, only above a directory of the user's): another user who owned a directory on the way could swap what is below
// it between the check and the read. The file is opened without following a link and judged by what was opened. Only
// the CLI turns this on, and never on a CI machine (GITHUB_ACTIONS or CI set), where the jobs of a self-hosted runner
// or a shell executor share one user and one cache: there a root planted by an earlier job would decide what
// verifies. The actions always use what is embedded or named.
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readlinkSync,
  readSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, parse, sep } from 'node:path';
import type { TrustedRoot } from '@sigstore/protobuf-specs';
import { MAX_TRUST_FILE_BYTES } from './limits';

let cacheDirectory: string | undefined;

/**
 * Where `twokey trusted-root --refresh` keeps what it verified: TWOKEY_CACHE_DIR, else $XDG_CACHE_HOME/twokey, else
 * ~/.cache/twokey. Only an absolute path is taken: a relative XDG_CACHE_HOME is ignored, as the XDG specification
 * says, and a relative TWOKEY_CACHE_DIR leaves no cache (undefined) — either would put the cache under whatever
 * directory twokey runs in, a checkout of someone else's files.
 */
export function twokeyCacheDirectory(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.TWOKEY_CACHE_DIR) return isAbsolute(env.TWOKEY_CACHE_DIR) ? env.TWOKEY_CACHE_DIR : undefined;
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache'), 'twokey');
}

/**
 * Variables a CI system's jobs are run with, of the systems that do not set CI (Jenkins, Azure Pipelines, TeamCity,
 * AWS CodeBuild, Bamboo, Google Cloud Build's builders, JetBrains Space; found by the review of the trust anchors,
 * where a root an earlier job kept on such an agent decided a later job's verdict).
 */
const CI_VARIABLES = [
  'JENKINS_URL',
  'JENKINS_HOME',
  'TF_BUILD',
  'TEAMCITY_VERSION',
  'CODEBUILD_BUILD_ID',
  'bamboo_buildKey',
  'BUILDER_OUTPUT',
  'JB_SPACE_EXECUTION_NUMBER',
  'RUNNER_TEMP',
  'BUILD_ID',
] as const;

/**
 * Whether this may be a CI machine, where refreshed roots are never used: GITHUB_ACTIONS=true, CI set (not false), or
 * a variable a CI system without CI sets (CI_VARIABLES). A machine this cannot tell uses a kept root, and says so on
 * stderr each run (useRefreshedTrustedRoots).
 */
export function onContinuousIntegration(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = (env.CI ?? '').trim().toLowerCase();
  return (
    env.GITHUB_ACTIONS === 'true' ||
    (ci !== '' && ci !== 'false' && ci !== '0') ||
    CI_VARIABLES.some((name) => (env[name] ?? '') !== '')
  );
}

let onUse: ((path: string) => void) | undefined;
const announced = new Set<string>();

/**
 * Turns the use of refreshed roots on (a cache directory) or off (undefined, the default); `use` is told each kept
 * root a verdict rests on, once (the CLI says it on stderr: a verdict never rests on a kept file unannounced).
 */
export function useRefreshedTrustedRoots(directory: string | undefined, use?: (path: string) => void): void {
  cacheDirectory = directory;
  onUse = use;
}

/** A kept root was chosen over the embedded one. */
export function refreshedTrustedRootUsed(path: string): void {
  if (announced.has(path)) return;
  announced.add(path);
  onUse?.(path);
}

/** The file a refreshed root of an embedded instance is kept in. */
export function refreshedTrustedRootPath(directory: string, name: string): string {
  return join(directory, 'trusted-roots', `${name}.json`);
}

/**
 * Why refreshed roots kept in a directory could be someone else's (a reason naming the path), or undefined when only
 * this user (and root) can change what is there. The directory need not exist yet: what exists of its path is judged.
 */
export function cacheDirectoryProblem(directory: string): string | undefined {
  const walked = walkCacheDirectory(directory);
  return 'problem' in walked ? walked.problem : undefined;
}

/** The most links followed on the way to a cache directory (Linux's own limit is 40). */
const MAX_LINKS = 40;

/**
 * The path to a cache directory resolved one name at a time as the kernel resolves it, judging every directory it goes
 * through, those that hold a link included: each must be this user's or root's and writable by no one else (one others
 * may write with the sticky bit, as /tmp, only on the way: there others add and remove names of their own alone).
 * Whoever could change a directory on the way — before a link, inside one, or after — could make the path lead to
 * files of theirs, however the path reads. Returns where it leads (as far as it exists), or why it is not safe.
 */
function walkCacheDirectory(directory: string): { resolved: string; complete: boolean } | { problem: string } {
  if (!isAbsolute(directory)) return { problem: `${directory} is not an absolute path` };
  const uid = process.getuid?.();
  const judge = (path: string, stat: { uid: number; mode: number }, onTheWay: boolean): string | undefined => {
    if (uid === undefined) return undefined;
    if (stat.uid !== uid && stat.uid !== 0) return `${path} belongs to another user (uid ${stat.uid})`;
    const writableByOthers = (stat.mode & 0o022) !== 0;
    const sticky = (stat.mode & 0o1000) !== 0;
    return writableByOthers && !(sticky && onTheWay) ? `${path} can be written by other users` : undefined;
  };
  const { root } = parse(directory);
  let current = root;
  let pending = directory.slice(root.length).split(sep);
  let links = 0;
  const rootProblem = judge(root, lstatSync(root), true);
  if (rootProblem) return { problem: rootProblem };
  while (pending.length > 0) {
    const name = pending.shift()!;
    if (name === '' || name === '.') continue;
    if (name === '..') {
      current = dirname(current);
      continue;
    }
    const next = join(current, name);
    let stat: ReturnType<typeof lstatSync>;
    try {
      stat = lstatSync(next);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return { resolved: join(next, ...pending), complete: false };
      }
      return { problem: `${next} cannot be read: ${(error as Error).message}` };
    }
    if (stat.isSymbolicLink()) {
      // The directory holding the link was judged on the way here; the link leads on from where it points.
      if (++links > MAX_LINKS) return { problem: `${directory}: more than ${MAX_LINKS} links on the way` };
      const target = readlinkSync(next);
      if (isAbsolute(target)) {
        current = parse(target).root;
        pending = [...target.slice(current.length).split(sep), ...pending];
      } else {
        pending = [...target.split(sep), ...pending];
      }
      continue;
    }
    if (!stat.isDirectory()) return { problem: `${next} is not a directory` };
    const problem = judge(
      next,
      stat,
      pending.some((p) => p !== '' && p !== '.'),
    );
    if (problem) return { problem };
    current = next;
  }
  return { resolved: current, complete: true };
}

/** Writes a refreshed root (already verified through TUF): 0600 in 0700 directories, replaced atomically. */
export function writeRefreshedTrustedRoot(directory: string, name: string, json: unknown): string {
  const path = refreshedTrustedRootPath(directory, name);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const problem = cacheDirectoryProblem(dirname(path));
  if (problem !== undefined) throw new Error(`${dirname(path)}: ${problem}`);
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, `${JSON.stringify(json)}\n`, { mode: 0o600, flag: 'wx' });
    renameSync(temporary, path);
  } catch (error) {
    try {
      unlinkSync(temporary);
    } catch {}
    throw error;
  }
  return path;
}

/**
 * The refreshed root of an embedded instance, when refreshed roots are on and one is kept that only this user can
 * have written; undefined otherwise. A file that is not safe to trust, or not JSON, is ignored (the embedded root is
 * then used), never an error: the cache is an optimisation of freshness, not an input.
 */
export function readRefreshedTrustedRoot(name: string): { json: unknown; path: string } | undefined {
  if (cacheDirectory === undefined) return undefined;
  const path = refreshedTrustedRootPath(cacheDirectory, name);
  let fd: number | undefined;
  try {
    // The file is opened where the judged walk led, never by the path as given: what it reads is what was judged.
    const walked = walkCacheDirectory(dirname(path));
    if (!('resolved' in walked) || !walked.complete) return undefined;
    if (!ownedAndPrivate(lstatSync(walked.resolved), 'directory')) return undefined;
    fd = openSync(
      join(walked.resolved, basename(path)),
      constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK,
    );
    const stat = fstatSync(fd);
    if (!ownedAndPrivate(stat, 'file') || stat.size > MAX_TRUST_FILE_BYTES) return undefined;
    const bytes = Buffer.alloc(stat.size);
    let read = 0;
    while (read < bytes.length) {
      const n = readSync(fd, bytes, read, bytes.length - read, read);
      if (n === 0) break;
      read += n;
    }
    return { json: JSON.parse(bytes.subarray(0, read).toString('utf8')) as unknown, path };
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function ownedAndPrivate(
  stat: { isFile(): boolean; isDirectory(): boolean; uid: number; mode: number },
  kind: 'file' | 'directory',
): boolean {
  if (kind === 'file' ? !stat.isFile() : !stat.isDirectory()) return false;
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) return false;
  return (stat.mode & 0o022) === 0;
}

/**
 * How new a trusted root is: the latest start of any key or certificate authority it lists (a root gains entries
 * as instances rotate keys; none is ever back-dated). Which of two copies of one instance's root is newer.
 */
export function newestValidityStart(root: TrustedRoot): number {
  const starts = [
    ...root.certificateAuthorities.map((ca) => ca.validFor?.start),
    ...root.timestampAuthorities.map((ca) => ca.validFor?.start),
    ...root.tlogs.map((log) => log.publicKey?.validFor?.start),
    ...root.ctlogs.map((log) => log.publicKey?.validFor?.start),
  ];
  return Math.max(0, ...starts.map((start) => start?.getTime() ?? 0));
}
