// Evidence for the deploy gate and `twokey verify`: every bundle given (files, directories, globs) is read and
// parsed once, then verified once against the trusted root, whoever signed it. Which policy identity a signer is,
// and which artifact a bundle is about, is decided afterwards by the evaluation in packages/core.
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { VerifiedBundle } from '@twokey/core';
import { globSync, isDynamicPattern } from 'tinyglobby';
import { isJsonLines, jsonLinesAddresses, type ParsedBundle, readBundleFile } from './bundle';
import type { ArtifactDigest } from './digest';
import { asKnownError, BundleVerificationError, SigstoreInputError } from './error';
import { type BundleVerifier, messageDigestOf } from './verify';

/** A bundle that was read but did not verify: it is never evidence, and the report says why. */
export interface RejectedBundle {
  source: string;
  code: string;
  reason: string;
}

/**
 * Expands files, directories (every `*.json` and `*.jsonl` below them) and glob patterns into the bundles they name:
 * a file, or for a JSON Lines file each of its lines (`FILE.jsonl#L3`).
 */
export function bundlePaths(specs: readonly string[], cwd = process.cwd()): string[] {
  return bundleSources(specs, cwd).map((s) => {
    if (s.unreadable) throw s.unreadable;
    return s.path;
  });
}

/** A bundle to read: its path, whether it was found (in a directory, by a glob), and why it cannot be read at all. */
export interface BundleSource {
  path: string;
  found: boolean;
  /**
   * A JSON Lines file that cannot be read into lines (too large, too many lines, not a regular file): the error, for
   * the caller to raise (the user's own files: exit 2) or to count as rejected evidence (files others wrote: a
   * deploy job's, the store's), so that such a file never stops a decision before it is recorded.
   */
  unreadable?: SigstoreInputError;
}

/** bundlePaths, each with whether it was found (in a directory, by a glob) rather than named on its own. */
export function bundleSources(specs: readonly string[], cwd = process.cwd()): BundleSource[] {
  // A path named on its own anywhere counts as named: it is never skipped.
  const sources = new Map<string, boolean>();
  const unreadable = new Map<string, SigstoreInputError>();
  const add = (file: string, found: boolean) => {
    const mark = (path: string) => sources.set(path, (sources.get(path) ?? true) && found);
    if (!isJsonLines(file)) {
      mark(file);
      return;
    }
    let addresses: string[];
    try {
      addresses = jsonLinesAddresses(file);
    } catch (error) {
      if (!(error instanceof SigstoreInputError)) throw error;
      unreadable.set(file, error);
      mark(file);
      return;
    }
    for (const address of addresses) mark(address);
  };
  for (const spec of specs) {
    if (isDynamicPattern(spec)) {
      const matched = globSync(spec, { cwd, absolute: true, onlyFiles: true, dot: true });
      if (matched.length === 0) {
        throw new SigstoreInputError('BUNDLE_UNREADABLE', `${spec}: no bundle file matches this pattern`);
      }
      for (const file of matched.sort()) add(file, true);
      continue;
    }
    const path = resolve(cwd, spec);
    let isDirectory: boolean;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch {
      throw new SigstoreInputError('BUNDLE_UNREADABLE', `${spec}: cannot read bundle: no such file or directory`);
    }
    if (!isDirectory) {
      add(path, false);
      continue;
    }
    for (const file of filesBelow(path)) add(join(path, file), true);
  }
  return [...sources].map(([path, found]) => {
    const error = unreadable.get(path);
    return error ? { path, found, unreadable: error } : { path, found };
  });
}

/**
 * Every `*.json` and `*.jsonl` below a directory, relative to it, sorted. Symbolic links to directories are not
 * followed: one link in an evidence archive (to `/`, `/proc`) would make the run walk and read every JSON file of the
 * machine. A link named `*.json` or `*.jsonl` is listed like a file (a tarball of evidence keeps links), and read as
 * one: readBoundedFile refuses a link to a FIFO, a device or a directory, naming it.
 */
function filesBelow(directory: string): string[] {
  const options = { cwd: directory, dot: true, followSymbolicLinks: false } as const;
  const files = globSync(['**/*.json', '**/*.jsonl'], { ...options, onlyFiles: true });
  // The directories walked (the directory itself, and those below it that are not links), for their links.
  const directories = ['', ...globSync('**', { ...options, onlyDirectories: true })];
  for (const below of directories) {
    for (const entry of readdirSync(join(directory, below), { withFileTypes: true })) {
      if (entry.isSymbolicLink() && /\.jsonl?$/.test(entry.name)) files.push(join(below, entry.name));
    }
  }
  return files.sort();
}

/**
 * Reads and parses every bundle. A file that is not a well-formed bundle (truncated, not JSON, unknown media type)
 * is an input error naming the file: it is never silently skipped.
 */
export function loadBundles(specs: readonly string[], cwd = process.cwd()): ParsedBundle[] {
  return bundlePaths(specs, cwd).map((path) => readBundleFile(path));
}

/** An artifact file, with its bytes when they were already read (small files: hashed and checked from one read). */
export interface ArtifactFileInput {
  file: string;
  content?: Buffer;
}

/**
 * Verifies one bundle cryptographically (signature, certificate chain, transparency log, timestamps) without an
 * expected identity. A message signature is checked against the digest it names; the evaluation then compares
 * that digest with the artifact's. When the caller has the file with that digest (`artifactFile`), the signature is
 * checked against the file instead (the same check; for a small file, by OpenSSL over its bytes).
 */
export function verifyEvidence(
  verifier: BundleVerifier,
  parsed: ParsedBundle,
  artifactFile?: (digest: { algorithm: string; hex: string }) => ArtifactFileInput | undefined,
): VerifiedBundle | RejectedBundle {
  try {
    const named = namedDigest(parsed);
    const file = named && artifactFile?.(named);
    const artifact = file ? file : named ? { digest: named } : undefined;
    return verifier.verify(parsed, { anyIdentity: true, artifact });
  } catch (error) {
    if (error instanceof BundleVerificationError || error instanceof SigstoreInputError) {
      return { source: parsed.source, code: error.code, reason: error.message };
    }
    // Anything else is twokey's failure, not the bundle's: an internal error naming it, never a rejection.
    throw asKnownError(error, parsed.source);
  }
}

/** The digest a message signature names; none when it names no algorithm twokey knows (verify refuses it). */
function namedDigest(parsed: ParsedBundle): ArtifactDigest | undefined {
  const content = parsed.bundle.content;
  if (content.$case !== 'messageSignature' || !content.messageSignature.messageDigest) return undefined;
  try {
    return messageDigestOf(content.messageSignature);
  } catch (error) {
    if (error instanceof BundleVerificationError) return undefined;
    throw error;
  }
}

export function isRejected(result: VerifiedBundle | RejectedBundle): result is RejectedBundle {
  return 'reason' in result && !('signer' in result);
}
