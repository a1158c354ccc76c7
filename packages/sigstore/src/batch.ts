// Verifies a whole release's evidence at once: each bundle file is read and parsed once, trust material is built
// once per thread, and a large batch is spread over the calling thread and worker threads, one thread per core. What
// is verified is exactly what verifyEvidence verifies; only where it runs changes. Results come back in input order.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import type { VerifiedBundle } from '@twokey/core';
import { readBundleFile } from './bundle';
import type { ArtifactDigest } from './digest';
import { asKnownError, describeCause, type InputErrorCode, InternalError, SigstoreInputError } from './error';
import { type ArtifactFileInput, type RejectedBundle, verifyEvidence } from './evidence';
import {
  loadTrustedRoot,
  publicGoodTrustedRoot,
  type TrustedRootMaterial,
  trustedRootFromJSON,
  trustedRootsFromJSON,
} from './trust';
import { BundleVerifier } from './verify';

export interface EvidenceBatchOptions {
  /**
   * Threads to spread verification over, this one included: 1 = in this thread; n = this thread and n − 1 worker
   * threads. Default: one per core (os.availableParallelism()), and this thread alone for a batch under
   * SERIAL_BATCH_BELOW bundles, where starting a thread costs more than it saves.
   */
  workers?: number;
  /**
   * The files of the artifacts being judged, with their digests: a message signature over one of them is checked
   * against the file (for a small file, by OpenSSL over its bytes) rather than against the digest alone.
   */
  artifactFiles?: readonly ArtifactFile[];
  /**
   * Files found in a directory or by a glob rather than named: one that is JSON but no Sigstore bundle (a report, a
   * policy beside the bundles) is named and skipped (NOT_A_BUNDLE) instead of failing the run. A file that claims to
   * be a bundle (a mediaType) and is malformed still fails it, and so does any file named on its own.
   */
  found?: ReadonlySet<string>;
  /**
   * Files of someone else's choosing (the attestation store's entries, which any writer of the repository can add to):
   * one that does not even read as a bundle is rejected evidence, named with its reason, rather than a failed run —
   * never a pass, and never a veto over the rest.
   */
  untrusted?: ReadonlySet<string>;
}

export interface ArtifactFile {
  file: string;
  digest: ArtifactDigest;
  /** The file's bytes, when the caller read a small one to hash it: used as they are, not read again. */
  content?: Buffer;
}

/** Below this many bundles a batch is verified in the calling thread: a worker's start-up (~0.1 s) would dominate. */
export const SERIAL_BATCH_BELOW = 64;
/** No more threads than one per this many bundles. */
const MIN_BUNDLES_PER_WORKER = 32;
/** Bundles per message to a worker; each worker holds two chunks, so none waits while the other is answered. */
const CHUNK = 8;
const CHUNKS_IN_FLIGHT = 2;
/**
 * A worker's young generation, bounded: V8 grows it to 128 MB under a batch's allocation rate (a bundle's garbage is
 * ~0.4 MB, and almost none of it survives a scavenge), which was most of the batch's peak memory. Measured over the
 * bench corpus (3000 bundles, 2 workers): 32 MB 279–291 MB peak, 16 MB 251–257, 8 MB 224–243 (and no slower), 6 and
 * 4 MB 273–285 (a scavenge that often promotes what was about to die, and the old generation grows instead).
 */
const WORKER_YOUNG_GENERATION_MB = 8;
/** Marks a thread started by verifyEvidenceBatch: the worker entry serves nothing else. */
const WORKER_MARK = 'twokey/evidence-batch/v1';

/** A bundle file that could not be read as a bundle: an input error naming the file, never silently skipped. */
interface UnreadableBundle {
  source: string;
  inputError: { code: InputErrorCode; message: string };
}

/** A file whose reading or verification met an exception no check anticipated: twokey's failure, not the file's. */
interface InternalFailure {
  source: string;
  internalError: { reason: string };
}

type Outcome = VerifiedBundle | RejectedBundle | UnreadableBundle | InternalFailure;

interface WorkerSetup {
  mark: typeof WORKER_MARK;
  /** `public-good`, or the trusted root's JSON (protobuf JSON mapping) and where it came from. */
  trustedRoot: 'public-good' | { json: unknown; source: string; components?: { json: unknown; source: string }[] };
  artifactFiles: readonly ArtifactFile[];
  /** Running from TypeScript sources: the module to load after the source hooks are registered. */
  entry?: string;
}

interface Chunk {
  start: number;
  paths: string[];
}

interface ChunkResult {
  start: number;
  outcomes: Outcome[];
}

/**
 * Reads, parses and verifies every bundle file against one trusted root (`public-good`, a trusted_root.json path,
 * or one already loaded), whoever signed it, as verifyEvidence does. Returns one result per path, in input order.
 * Throws SigstoreInputError for an unusable trusted root, and for the first (in input order) file that is not a
 * well-formed bundle; InternalError, naming the file, for an exception no check anticipated (in any thread).
 */
export async function verifyEvidenceBatch(
  paths: readonly string[],
  trustedRootSource: string | TrustedRootMaterial,
  options: EvidenceBatchOptions = {},
): Promise<(VerifiedBundle | RejectedBundle)[]> {
  const trust = typeof trustedRootSource === 'string' ? trustedRootOf(trustedRootSource) : trustedRootSource;
  // A bundle shipped without its worker entry verifies in this thread: the same verdicts, only slower.
  const threads = workerEntry() ? threadCount(paths.length, options.workers) : 1;
  const artifactFiles = options.artifactFiles ?? [];
  const outcomes =
    threads <= 1
      ? verifyPaths(new BundleVerifier(trust), paths, artifactFileFinder(artifactFiles))
      : await verifyInThreads(paths, trust, threads - 1, artifactFiles);
  return outcomes.map((outcome) => settle(outcome, options.found, options.untrusted));
}

function trustedRootOf(source: string): TrustedRootMaterial {
  return source === 'public-good' ? publicGoodTrustedRoot() : loadTrustedRoot(source);
}

/** Threads to verify in, this one included. */
function threadCount(bundles: number, requested: number | undefined): number {
  if (requested !== undefined) {
    if (!Number.isInteger(requested) || requested < 1) {
      throw new RangeError(`workers: expected a positive integer, found ${requested}`);
    }
    return Math.min(requested, bundles);
  }
  if (bundles < SERIAL_BATCH_BELOW) return 1;
  return Math.max(1, Math.min(availableParallelism(), Math.floor(bundles / MIN_BUNDLES_PER_WORKER)));
}

/** The file, if any, of the artifact with a digest (with its bytes when they were read already). */
function artifactFileFinder(
  files: readonly ArtifactFile[],
): (digest: { algorithm: string; hex: string }) => ArtifactFileInput | undefined {
  const byDigest = new Map(
    files.map((f) => [
      `${f.digest.algorithm}:${f.digest.hex.toLowerCase()}`,
      // Bytes that crossed to a worker thread arrive as a plain Uint8Array.
      f.content
        ? { file: f.file, content: Buffer.from(f.content.buffer, f.content.byteOffset, f.content.byteLength) }
        : { file: f.file },
    ]),
  );
  return (digest) => byDigest.get(`${digest.algorithm}:${digest.hex.toLowerCase()}`);
}

function verifyPaths(
  verifier: BundleVerifier,
  paths: readonly string[],
  artifactFile: (digest: { algorithm: string; hex: string }) => ArtifactFileInput | undefined,
): Outcome[] {
  return paths.map((path): Outcome => {
    try {
      return verifyEvidence(verifier, readBundleFile(path), artifactFile);
    } catch (error) {
      if (error instanceof SigstoreInputError) {
        return { source: path, inputError: { code: error.code, message: error.message } };
      }
      // Sent back as data, so that a worker thread reports it as the calling thread would: naming the file.
      const internal = asKnownError(error, path);
      const reason = internal instanceof InternalError ? internal.reason : describeCause(internal);
      return { source: path, internalError: { reason } };
    }
  });
}

/** The bytes in a SharedArrayBuffer, which a worker receives as a view on the same memory. */
function sharedCopy(bytes: Buffer): Buffer {
  const shared = Buffer.from(new SharedArrayBuffer(bytes.length));
  bytes.copy(shared);
  return shared;
}

/**
 * An unreadable file is an input error (exit 2), an unanticipated exception an internal error (exit 3); a verified
 * bundle's times are Dates again after the thread hop.
 */
function settle(
  outcome: Outcome,
  found?: ReadonlySet<string>,
  untrusted?: ReadonlySet<string>,
): VerifiedBundle | RejectedBundle {
  if ('inputError' in outcome && outcome.inputError.code === 'NOT_A_BUNDLE' && found?.has(outcome.source)) {
    return { source: outcome.source, code: 'NOT_A_BUNDLE', reason: `${outcome.inputError.message}: skipped` };
  }
  if ('inputError' in outcome && untrusted?.has(outcome.source)) {
    return { source: outcome.source, code: outcome.inputError.code, reason: outcome.inputError.message };
  }
  if ('inputError' in outcome) {
    throw new SigstoreInputError(outcome.inputError.code, outcome.inputError.message);
  }
  if ('internalError' in outcome) throw new InternalError(outcome.internalError.reason, outcome.source);
  if ('signer' in outcome) {
    return { ...outcome, signedAt: outcome.signedAt.map((t) => (t instanceof Date ? t : new Date(t))) };
  }
  return outcome;
}

/**
 * Verifies in this thread and `count` worker threads, a chunk at a time, each taking the next chunk when it is done.
 * This thread verifies all along, between handing out chunks and collecting results: it has its code compiled and its
 * trust material built already, where a worker needs ~0.1–0.3 s to start — one worker fewer than the cores is one
 * start fewer, and no thread more than the cores competing for them (measured over the bench corpus, 3000 bundles on
 * 2 cores: 3.8–4.2 s against 4.1–4.5 s with two workers, peak memory 280–300 MB against 270–280).
 */
function verifyInThreads(
  paths: readonly string[],
  trust: TrustedRootMaterial,
  count: number,
  artifactFiles: readonly ArtifactFile[],
): Promise<Outcome[]> {
  const setup: WorkerSetup = {
    mark: WORKER_MARK,
    // Kept artifact bytes go to the workers in shared memory: one copy for them all, not one per worker.
    artifactFiles: artifactFiles.map((f) => (f.content ? { ...f, content: sharedCopy(f.content) } : f)),
    // The embedded root by name (each worker has it); a refreshed copy, as any other, by its content.
    trustedRoot:
      trust.source === 'public-good' && trust.refreshed === undefined
        ? 'public-good'
        : {
            json: TrustedRoot.toJSON(trust.root),
            source: trust.source,
            ...(trust.components && {
              components: trust.components.map((c) => ({ json: TrustedRoot.toJSON(c.root), source: c.source })),
            }),
          },
  };
  const outcomes: Outcome[] = new Array(paths.length);
  const workers: Worker[] = [];
  let next = 0;
  let done = 0;

  const finished = new Promise<Outcome[]>((resolve, reject) => {
    let settled = false;
    const fail = (error: InternalError) => {
      if (settled) return;
      settled = true;
      reject(error);
    };
    const take = (): Chunk | undefined => {
      if (next >= paths.length) return undefined;
      const start = next;
      next = Math.min(paths.length, next + CHUNK);
      return { start, paths: paths.slice(start, next) };
    };
    const record = (result: ChunkResult): boolean => {
      result.outcomes.forEach((outcome, j) => {
        outcomes[result.start + j] = outcome;
      });
      done += result.outcomes.length;
      if (done !== paths.length || settled) return false;
      settled = true;
      resolve(outcomes);
      return true;
    };
    const dispatch = (worker: Worker) => {
      const chunk = take();
      if (chunk) worker.postMessage(chunk);
    };
    // This thread takes a chunk, verifies it, and yields to the workers' messages before the next.
    const verifier = new BundleVerifier(trust);
    const artifactFile = artifactFileFinder(artifactFiles);
    const verifyHere = () => {
      if (settled) return;
      const chunk = take();
      if (!chunk) return;
      if (!record({ start: chunk.start, outcomes: verifyPaths(verifier, chunk.paths, artifactFile) })) {
        setImmediate(verifyHere);
      }
    };
    for (let i = 0; i < count; i += 1) {
      const worker = startWorker(setup);
      workers.push(worker);
      worker.on('message', (result: ChunkResult) => {
        if (!record(result)) dispatch(worker);
      });
      worker.on('error', (error) => {
        fail(
          new InternalError(`evidence verification worker failed: ${describeCause(error)}`, undefined, {
            cause: error,
          }),
        );
      });
      worker.on('exit', (code) => {
        fail(new InternalError(`evidence verification worker exited (code ${code}) before the end`));
      });
      for (let k = 0; k < CHUNKS_IN_FLIGHT; k += 1) dispatch(worker);
    }
    setImmediate(verifyHere);
  });
  return finished.finally(() => Promise.all(workers.map((worker) => worker.terminate())));
}

/**
 * Where a worker thread starts: the batch's own entry (batch-worker.ts), never the entry that imported this module,
 * whose main must run once. Bundled (the CLI, the deploy action), it is the file esbuild made of batch-worker.ts next
 * to the bundle, with the bundle's extension (scripts/build.mjs); from TypeScript sources (vitest), batch-worker.ts.
 * Undefined when a bundle has none beside it.
 */
function workerEntry(): URL | undefined {
  const self = new URL(import.meta.url);
  const entry = new URL(`./batch-worker${extname(self.pathname)}`, self);
  return existsSync(fileURLToPath(entry)) ? entry : undefined;
}

/**
 * node:worker_threads, loaded when a batch first needs it: imported at the top, it was loaded (~2 ms) by every start
 * of the CLI and of the deploy action, which verify a few bundles in this thread.
 */
function workerThreads(): typeof import('node:worker_threads') {
  return process.getBuiltinModule('node:worker_threads');
}

function startWorker(setup: WorkerSetup): Worker {
  const { Worker } = workerThreads();
  const entry = workerEntry()!;
  const resourceLimits = { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB };
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { workerData: setup, resourceLimits });
  return new Worker(SOURCE_BOOTSTRAP, { eval: true, resourceLimits, workerData: { ...setup, entry: entry.href } });
}

// CommonJS, evaluated in the worker when running from sources: Node 24 can strip types but not resolve the
// extensionless imports bundlers accept, nor import JSON without an attribute (as @sigstore/tuf/seeds.json is).
const SOURCE_BOOTSTRAP = `
const { registerHooks, stripTypeScriptTypes } = require('node:module');
const { readFileSync } = require('node:fs');
const { fileURLToPath } = require('node:url');
const { workerData } = require('node:worker_threads');
process.removeAllListeners('warning');
const fromSource = (url) => typeof url === 'string' && url.startsWith('file:') && url.endsWith('.ts');
registerHooks({
  resolve(specifier, context, nextResolve) {
    let resolved;
    try {
      resolved = nextResolve(specifier, context);
    } catch (error) {
      if (!fromSource(context.parentURL) || !/^\\.\\.?\\//.test(specifier)) throw error;
      resolved = undefined;
      for (const suffix of ['.ts', '/index.ts']) {
        try { resolved = nextResolve(specifier + suffix, context); break; } catch {}
      }
      if (!resolved) throw error;
    }
    if (fromSource(context.parentURL) && resolved.url.endsWith('.json') && !context.importAttributes?.type) {
      return { ...resolved, importAttributes: { ...context.importAttributes, type: 'json' } };
    }
    return resolved;
  },
  load(url, context, nextLoad) {
    if (!fromSource(url)) return nextLoad(url, context);
    const source = stripTypeScriptTypes(readFileSync(fileURLToPath(url), 'utf8'), { mode: 'transform', sourceUrl: url });
    return { format: 'module', source, shortCircuit: true };
  },
});
import(workerData.entry);
`;

/**
 * The worker's side (batch-worker.ts runs it): build the trust material once, then verify each chunk it is sent.
 * Returns false, serving nothing, in a thread verifyEvidenceBatch did not start.
 */
export function serveBatch(data: unknown): boolean {
  const setup = data as Partial<WorkerSetup> | null;
  if (!workerThreads().parentPort || setup?.mark !== WORKER_MARK) return false;
  serveChunks(setup as WorkerSetup);
  return true;
}

function serveChunks(setup: WorkerSetup): void {
  const trust =
    setup.trustedRoot === 'public-good'
      ? publicGoodTrustedRoot()
      : setup.trustedRoot.components
        ? trustedRootsFromJSON(setup.trustedRoot.components, setup.trustedRoot.source)
        : trustedRootFromJSON(setup.trustedRoot.json, setup.trustedRoot.source);
  const verifier = new BundleVerifier(trust);
  const artifactFile = artifactFileFinder(setup.artifactFiles);
  const port = workerThreads().parentPort!;
  port.on('message', (chunk: Chunk) => {
    const outcomes = verifyPaths(verifier, chunk.paths, artifactFile);
    port.postMessage({ start: chunk.start, outcomes } satisfies ChunkResult);
  });
}
