// The evidence of `twokey report`, read with bounded memory: the bundles given (files, directories, JSON Lines) are
// verified a slice at a time by the batch verifier (worker threads, one per core), each result read into the ledger
// as a compact fact and dropped; then, with --repo or --owner, what GitHub's attestation store holds for the
// artifacts that evidence names, verified the same way. Nothing counts before it verified against the trusted root.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EvidenceLedger, VerifiedBundle } from '@twokey/core';
import { relativePath } from '@twokey/gate';
import { fetchAttestations } from '@twokey/github';
import {
  bundleSources,
  isRejected,
  jsonLineText,
  MAX_BUNDLE_BYTES,
  type RejectedBundle,
  readBoundedFile,
  SigstoreInputError,
  type TrustedRootMaterial,
  verifyEvidenceBatch,
} from '@twokey/sigstore';

/** Bundles verified per slice: enough to keep every worker busy, few enough that a slice's results stay small. */
export const REPORT_SLICE = 2048;

export interface ReportEvidenceRequest {
  bundles: readonly string[];
  cwd: string;
  trust: TrustedRootMaterial;
  ledger: EvidenceLedger;
  /** GitHub's attestation store, for the artifacts the evidence names. */
  store?: { repository: string; apiUrl: string; token: string };
  /** Worker threads (default: one per core). */
  workers?: number;
  /** Called after each slice: bundles done, bundles known so far. */
  onProgress?: (done: number, total: number) => void;
}

/** Reads every bundle into the ledger; returns how many bundles were read from the attestation store. */
export async function readReportEvidence(request: ReportEvidenceRequest): Promise<{ fromStore: number }> {
  const { cwd, ledger } = request;
  const sources = bundleSources(request.bundles, cwd);
  // The report's files are its user's: a JSON Lines file that cannot be read at all is an input error (exit 2).
  for (const source of sources) if (source.unreadable) throw source.unreadable;
  const found = new Set(sources.filter((s) => s.found).map((s) => s.path));
  const paths = sources.map((s) => s.path);
  await verifyInSlices(paths, request, found, new Map());
  if (!request.store) return { fromStore: 0 };

  // The store answers by artifact digest: every artifact a record, an approval or a break-glass names.
  const digests = [...ledger.artifactDigests()].sort().map((hex) => `sha256:${hex}`);
  if (digests.length === 0) return { fromStore: 0 };
  // A slice of digests at a time, its bundles written and verified before the next is read: one read of the store
  // keeps at most MAX_KEPT_CHARACTERS of distinct bundles, which an organisation's whole evidence passes.
  let fromStore = 0;
  let offset = paths.length;
  // The SHA-256 of each text written so far, across slices: a text listed under many digests is written once.
  const written = new Set<string>();
  for (let start = 0; start < digests.length; start += REPORT_STORE_DIGESTS) {
    const read = await readStoreSlice(request, digests.slice(start, start + REPORT_STORE_DIGESTS), offset, written);
    fromStore += read.fromStore;
    offset += read.fromStore;
  }
  return { fromStore };
}

/** Digests whose store entries one read of the store answers for the report. */
export const REPORT_STORE_DIGESTS = 512;

/**
 * One slice of the report's digests: their store entries read, each distinct text written to a file once, verified
 * into the ledger. A release's provenance, review and decision records name every artifact and are listed under each
 * digest (the store's reader keeps one string for them); written for each, a few large bundles naming many artifacts
 * were a copy per digest on the auditor's disk, and verified as many times (row 246). The ledger counts a signed event
 * once whatever carried it, so the indicators are the same; its evidence counts read such a text once, not once per
 * digest (no `duplicates` for it).
 */
async function readStoreSlice(
  request: ReportEvidenceRequest,
  digests: string[],
  offset: number,
  written: Set<string>,
): Promise<{ fromStore: number }> {
  const { ledger } = request;
  const attestations = await fetchAttestations({ ...request.store!, digests });
  const directory = mkdtempSync(join(tmpdir(), 'twokey-report-'));
  try {
    const names = new Map<string, string>();
    const aliases = new Map<string, string[]>();
    const stored = attestations.flatMap((attestation, i) => {
      const name = `github:${request.store!.repository}/attestations/${attestation.digest}#${attestation.index}`;
      // A blob that could not be read: that entry's rejection, as one that is no bundle is.
      if ('unreadable' in attestation) {
        ledger.addRejected({ source: name, ...attestation.unreadable });
        return [];
      }
      const sha256 = createHash('sha256').update(attestation.text).digest('hex');
      if (written.has(sha256)) return [];
      written.add(sha256);
      const path = join(directory, `${i}.json`);
      writeFileSync(path, attestation.text, { mode: 0o600 });
      names.set(path, name);
      aliases.set(path, writtenAsTheActionsWriteIt(attestation.text));
      return [path];
    });
    await verifyInSlices(stored, request, new Set(stored), names, offset, aliases);
    return { fromStore: stored.length };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

async function verifyInSlices(
  paths: readonly string[],
  request: ReportEvidenceRequest,
  found: ReadonlySet<string>,
  names: ReadonlyMap<string, string>,
  before = 0,
  aliases: ReadonlyMap<string, string[]> = new Map(),
): Promise<void> {
  const { ledger, cwd } = request;
  for (let start = 0; start < paths.length; start += REPORT_SLICE) {
    const slice = paths.slice(start, start + REPORT_SLICE);
    const results = await verifySlice(slice, request, found);
    for (const result of results) {
      const source = names.get(result.source) ?? relativePath(cwd, result.source);
      if (!isRejected(result)) ledger.addVerified({ ...result, source }, aliases.get(result.source));
      else if (result.code === 'NOT_A_BUNDLE') ledger.addSkipped();
      else {
        const reason = result.reason.startsWith(`${result.source}: `)
          ? result.reason.slice(result.source.length + 2)
          : result.reason;
        ledger.addRejected({ source, code: result.code, reason }, bytesDigest(result.source));
      }
    }
    request.onProgress?.(before + start + slice.length, before + paths.length);
  }
}

/**
 * A slice's results. A file that cannot be read as a bundle (truncated, malformed) stops a deploy's verification; in
 * an organisation's archive it is one more bundle that does not verify: the slice is verified again a file at a time
 * and each such file is a rejection naming why.
 */
async function verifySlice(
  slice: readonly string[],
  request: ReportEvidenceRequest,
  found: ReadonlySet<string>,
): Promise<(VerifiedBundle | RejectedBundle)[]> {
  const options = { found, ...(request.workers !== undefined && { workers: request.workers }) };
  try {
    return await verifyEvidenceBatch(slice, request.trust, options);
  } catch (error) {
    if (!(error instanceof SigstoreInputError)) throw error;
  }
  const results: (VerifiedBundle | RejectedBundle)[] = [];
  for (const path of slice) {
    try {
      results.push(...(await verifyEvidenceBatch([path], request.trust, { found, workers: 1 })));
    } catch (error) {
      if (!(error instanceof SigstoreInputError)) throw error;
      results.push({ source: path, code: error.code, reason: error.message });
    }
  }
  return results;
}

/**
 * The store gives a bundle back in its own bytes, not in those the deploy job hashed into its decision record: the
 * actions write a bundle as its JSON and a newline. Equal digests mean equal bytes, so a record that names this
 * digest rests on exactly this bundle.
 */
function writtenAsTheActionsWriteIt(text: string): string[] {
  try {
    return [
      createHash('sha256')
        .update(`${JSON.stringify(JSON.parse(text))}\n`)
        .digest('hex'),
    ];
  } catch {
    return [];
  }
}

/**
 * The sha256 of a rejected bundle's bytes (a JSON Lines bundle: its line), so a record resting on it is found. A
 * JSON Lines file is read once for all its lines (jsonLineText), never once a rejected line; each file within the
 * bundle size limit.
 */
function bytesDigest(path: string): string | undefined {
  try {
    const line = /^(.*\.jsonl)#L([1-9][0-9]*)$/.exec(path);
    const bytes = line
      ? Buffer.from(jsonLineText(line[1]!, Number(line[2])) ?? '', 'utf8')
      : readBoundedFile(path, MAX_BUNDLE_BYTES, 'BUNDLE_UNREADABLE', 'bundle');
    return createHash('sha256').update(bytes).digest('hex');
  } catch {
    return undefined;
  }
}
