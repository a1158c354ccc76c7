// Reading the evidence: every bundle given (files, directories, globs) verified once against the trusted root,
// whoever signed it — which policy identity a signer is, and which artifact a bundle is about, is the evaluation's
// business. Each signed event is evidence once, and every file is named relative to the working directory.
import { relative, resolve } from 'node:path';
import type { RejectedEvidence, VerifiedBundle } from '@twokey/core';
import { bundleSources, isRejected, type TrustedRootMaterial, verifyEvidenceBatch } from '@twokey/sigstore';
import type { ArtifactInput } from './artifacts';

export interface Evidence {
  /** Every bundle that verified, each signed event once (the first file that carries it), in the order given. */
  verified: VerifiedBundle[];
  /** Bundles that were read but did not verify. */
  rejected: RejectedEvidence[];
}

/**
 * Verifies every bundle once (a malformed file is an input error naming it, never skipped). A signature over an
 * artifact whose bytes were kept is checked over those bytes; any other against the digest it names, which the
 * evaluation then compares with the artifact's (a large file is hashed once, not per signature).
 */
export async function readEvidence(
  bundles: readonly string[],
  artifacts: readonly ArtifactInput[],
  trust: TrustedRootMaterial,
  cwd: string,
  /** What to call a bundle read from somewhere other than the caller's files (the attestation store), by its path. */
  names: ReadonlyMap<string, string> = new Map(),
  /** Whether the files given are others' too (the deploy job's, downloaded from the build run). */
  untrustedFiles = false,
): Promise<Evidence> {
  const artifactFiles = artifacts.flatMap((a) =>
    a.file && a.content ? [{ file: a.file, digest: a.digest, content: a.content }] : [],
  );
  const all = bundleSources(bundles, cwd);
  // The attestation store's entries are anyone's (a writer can add one), and so are the deploy job's files (the
  // build run's artifacts): one that does not read as a bundle is rejected evidence, never a failed run.
  const isUntrusted = (path: string) => untrustedFiles || names.has(path);
  const rejected: RejectedEvidence[] = [];
  // A JSON Lines file that cannot be split into bundles at all: the caller's own is an input error; another's, rejected.
  for (const source of all) {
    if (!source.unreadable) continue;
    if (!isUntrusted(source.path)) throw source.unreadable;
    rejected.push({
      source: names.get(source.path) ?? relativePath(cwd, source.path),
      code: source.unreadable.code,
      reason: withoutFileName({ source: source.path, reason: source.unreadable.message }),
    });
  }
  const sources = all.filter((s) => !s.unreadable);
  const found = new Set(sources.filter((s) => s.found).map((s) => s.path));
  const untrusted = new Set(sources.filter((s) => isUntrusted(s.path)).map((s) => s.path));
  const results = await verifyEvidenceBatch(
    sources.map((s) => s.path),
    trust,
    { artifactFiles, found, untrusted },
  );
  const verified: VerifiedBundle[] = [];
  // Each signed event is evidence once, however many files carry it and in whatever bytes: the first file stands.
  const seen = new Set<string>();
  for (const result of results) {
    const source = names.get(result.source) ?? relativePath(cwd, result.source);
    if (isRejected(result)) rejected.push({ source, code: result.code, reason: withoutFileName(result) });
    else if (result.evidenceKey === undefined || !seen.has(result.evidenceKey)) {
      if (result.evidenceKey !== undefined) seen.add(result.evidenceKey);
      verified.push({ ...result, source });
    }
  }
  return { verified, rejected };
}

/** A path as reports name it: relative to the working directory (`../…` when outside it), never absolute. */
export function relativePath(cwd: string, path: string): string {
  return relative(resolve(cwd), resolve(cwd, path)) || '.';
}

/** A rejection's reason without the file name the verifier put first: the report names the file beside it. */
function withoutFileName({ source, reason }: { source: string; reason: string }): string {
  return reason.startsWith(`${source}: `) ? reason.slice(source.length + 2) : reason;
}
