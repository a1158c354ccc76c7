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
  readSync,
  realpathSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, parse, sep } from 'node:path';
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

/** Whether this is a CI machine, where refreshed roots are never used: GITHUB_ACTIONS=true, or CI set (not false). */
export function onContinuousIntegration(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = (env.CI ?? '').trim().toLowerCase();
  return env.GITHUB_ACTIONS === 'true' || (ci !== '' && ci !== 'false' && ci !== '0');
}

/** Turns the use of refreshed roots on (a cache directory) or off (undefined, the default). */
export function useRefreshedTrustedRoots(directory: string | undefined): void {
  cacheDirectory = directory;
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
  if (!isAbsolute(directory)) return `${directory} is not an absolute path`;
  let existing = directory;
  for (;;) {
    try {
      existing = realpathSync(existing);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(existing) === existing) {
        return `${existing} cannot be read: ${(error as Error).message}`;
      }
      existing = dirname(existing);
    }
  }
  const uid = process.getuid?.();
  if (uid === undefined) return undefined;
  const { root } = parse(existing);
  const parts = existing.slice(root.length).split(sep).filter(Boolean);
  for (let i = 0; i <= parts.length; i++) {
    const path = root + parts.slice(0, i).join(sep);
    const stat = lstatSync(path);
    if (!stat.isDirectory()) return `${path} is not a directory`;
    if (stat.uid !== uid && stat.uid !== 0) return `${path} belongs to another user (uid ${stat.uid})`;
    const writableByOthers = (stat.mode & 0o022) !== 0;
    const sticky = (stat.mode & 0o1000) !== 0;
    // A directory others can write with the sticky bit (/tmp) may be on the way, never be the cache itself: there
    // others can only add and remove names of their own, and the next directory on the path is judged in turn.
    if (writableByOthers && !(sticky && i < parts.length)) {
      return `${path} can be written by other users`;
    }
  }
  return undefined;
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
    if (cacheDirectoryProblem(dirname(path)) !== undefined || !ownedAndPrivate(lstatSync(dirname(path)), 'directory')) {
      return undefined;
    }
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
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
