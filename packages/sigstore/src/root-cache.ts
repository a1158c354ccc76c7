// Trusted roots refreshed through TUF (`twokey trusted-root --refresh`), kept in the user's cache and used in place
// of the embedded ones when they are newer. A refreshed root was verified by TUF (signed metadata chained from the
// TUF root embedded in twokey) when it was written; what keeps it trustworthy afterwards is who may write it, so it is
// read only when the current user owns the file and its directories and nobody else can write them (as the CLI's code
// cache is). Only the CLI turns this on, and never on a GitHub Actions runner, where every job of a self-hosted
// runner shares one user and one cache: there a root planted by an earlier job would decide what verifies. The
// actions always use what is embedded or named.
import { lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TrustedRoot } from '@sigstore/protobuf-specs';
import { MAX_TRUST_FILE_BYTES } from './limits';

let cacheDirectory: string | undefined;

/** Where `twokey trusted-root --refresh` keeps what it verified: TWOKEY_CACHE_DIR, else the user's cache directory. */
export function twokeyCacheDirectory(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TWOKEY_CACHE_DIR) return env.TWOKEY_CACHE_DIR;
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'twokey');
}

/** Turns the use of refreshed roots on (a cache directory) or off (undefined, the default). */
export function useRefreshedTrustedRoots(directory: string | undefined): void {
  cacheDirectory = directory;
}

/** The file a refreshed root of an embedded instance is kept in. */
export function refreshedTrustedRootPath(directory: string, name: string): string {
  return join(directory, 'trusted-roots', `${name}.json`);
}

/** Writes a refreshed root (already verified through TUF): 0600 in 0700 directories, replaced atomically. */
export function writeRefreshedTrustedRoot(directory: string, name: string, json: unknown): string {
  const path = refreshedTrustedRootPath(directory, name);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(json)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
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
  try {
    if (!ownedAndPrivate(path, 'file') || !ownedAndPrivate(dirname(path), 'directory')) return undefined;
    const bytes = readFileSync(path);
    if (bytes.length > MAX_TRUST_FILE_BYTES) return undefined;
    return { json: JSON.parse(bytes.toString('utf8')) as unknown, path };
  } catch {
    return undefined;
  }
}

function ownedAndPrivate(path: string, kind: 'file' | 'directory'): boolean {
  const stat = lstatSync(path);
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
