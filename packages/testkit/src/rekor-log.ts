// A Rekor v1 transparency log that is a real log: every entry is appended to one growing RFC 6962 Merkle tree, and
// each answer carries what Rekor's carries — the entry's index in that tree, its integrated time, a signed entry
// timestamp, and an inclusion proof (the real audit path) against a signed checkpoint of the tree.
// @sigstore/mock builds the entry body (the canonicalized proposed entry); index, proof and signatures are made here.
import { createHash, type KeyObject, randomBytes, sign } from 'node:crypto';
import { initializeTLog } from '@sigstore/mock';
import { MerkleTree } from './merkle';

/** `verification.inclusionProof` of a Rekor v1 log entry: hashes are hex, as Rekor's API gives them. */
export interface RekorInclusionProof {
  logIndex: number;
  /** The root of the tree of `treeSize` leaves, hex. */
  rootHash: string;
  treeSize: number;
  /** The audit path from the entry's leaf to the root, leaf first, hex. */
  hashes: string[];
  /** The signed note of the tree head (origin, size, base64 root), as Rekor writes it. */
  checkpoint: string;
}

/** A Rekor v1 log entry (`LogEntryAnon`), as `POST /api/v1/log/entries` answers it under the entry's UUID. */
export interface RekorLogEntry {
  /** The canonicalized entry, base64. */
  body: string;
  integratedTime: number;
  /** SHA-256 of the log's public key (DER SPKI), hex. */
  logID: string;
  logIndex: number;
  verification: {
    inclusionProof: RekorInclusionProof;
    /** ECDSA by the log's key over the canonical JSON of {body, integratedTime, logID, logIndex}, base64. */
    signedEntryTimestamp: string;
  };
}

/** `GET /api/v1/log`: the log's current tree head. */
export interface RekorLogInfo {
  rootHash: string;
  treeSize: number;
  signedTreeHead: string;
  treeID: string;
  inactiveShards: never[];
}

/** `GET /api/v1/log/proof`: the consistency proof between two tree sizes, hex. */
export interface RekorConsistencyProof {
  rootHash: string;
  hashes: string[];
}

export interface RekorLogOptions {
  /** The log's base URL. Its host names the log in checkpoints, as `rekor.sigstore.dev` names the public-good log. */
  url: string;
  keys: { publicKey: KeyObject; privateKey: KeyObject };
  /** Integrated times are read from it (in whole seconds). Default: the time of each append. */
  clock?: Date;
  /**
   * The log opens with an entry of its own at index 0 unless this is true. No real log is met empty, and the first
   * entry of an empty one is leaf 0 of a one-leaf tree: its bundle's JSON omits `logIndex` and `hashes` (proto3
   * defaults), which some verifiers cannot read.
   */
  startsEmpty?: boolean;
}

interface StoredEntry {
  body: Buffer;
  integratedTime: number;
  signedEntryTimestamp: string;
}

export const REKOR_ENTRIES_PATH = '/api/v1/log/entries';
const REKOR_LOG_PATH = '/api/v1/log';
const REKOR_PROOF_PATH = '/api/v1/log/proof';

export class RekorLog {
  /** The log's public key, DER SPKI. */
  readonly publicKey: Buffer;
  /** SHA-256 of the public key: the log ID of every entry and, in its first 4 bytes, the checkpoint's key hint. */
  readonly logID: Buffer;
  /** The name in the checkpoint's signature line: the log URL's host. */
  readonly name: string;
  /** The tree's ID, as Rekor numbers its Trillian trees. */
  readonly treeID: string;
  /** The checkpoint's first line: `<name> - <treeID>`, as Rekor v1 writes it. */
  readonly origin: string;

  private readonly tree = new MerkleTree();
  private readonly entries: StoredEntry[] = [];
  private readonly indexByUUID = new Map<string, number>();
  private readonly checkpoints = new Map<number, string>();

  private constructor(
    private readonly options: RekorLogOptions,
    private readonly canonicalize: (proposedEntry: object) => Promise<Buffer>,
  ) {
    this.publicKey = options.keys.publicKey.export({ format: 'der', type: 'spki' });
    this.logID = createHash('sha256').update(this.publicKey).digest();
    this.name = new URL(options.url).host;
    this.treeID = (randomBytes(8).readBigUInt64BE() >> 1n).toString();
    this.origin = `${this.name} - ${this.treeID}`;
  }

  static async create(options: RekorLogOptions): Promise<RekorLog> {
    // The mock's own log gives each entry a random index and a one-leaf tree; only its body is kept.
    const mock = await initializeTLog(options.url, options.keys, options.clock);
    const log = new RekorLog(options, async (proposedEntry) => {
      const [answer] = Object.values(await mock.log(proposedEntry)) as { body: string }[];
      return Buffer.from(answer!.body, 'base64');
    });
    if (!options.startsEmpty) {
      log.appendBody(
        Buffer.from(JSON.stringify({ apiVersion: '0.0.1', kind: 'twokey-log-opened', spec: { origin: log.origin } })),
      );
    }
    return log;
  }

  /** The number of entries: the current tree size. */
  get size(): number {
    return this.tree.size;
  }

  /** Appends a proposed entry (`{kind, apiVersion, spec}`); answers with its UUID and entry, proven in the new tree. */
  async append(proposedEntry: unknown): Promise<{ uuid: string; entry: RekorLogEntry }> {
    if (!isProposedEntry(proposedEntry)) {
      throw new RekorLogError(400, 'a proposed entry is an object with kind, apiVersion and spec');
    }
    const index = this.appendBody(await this.canonicalize(proposedEntry));
    return this.entry(index, index + 1);
  }

  /** Entry `index` with its inclusion proof in the tree of `treeSize` leaves (default: the current tree). */
  entry(index: number, treeSize: number = this.size): { uuid: string; entry: RekorLogEntry } {
    const stored = this.entries[index];
    if (!stored) throw new RekorLogError(404, `no entry at index ${index} in a log of ${this.size}`);
    return {
      uuid: this.tree.leafHash(index).toString('hex'),
      entry: {
        body: stored.body.toString('base64'),
        integratedTime: stored.integratedTime,
        logID: this.logID.toString('hex'),
        logIndex: index,
        verification: {
          inclusionProof: {
            logIndex: index,
            rootHash: this.tree.root(treeSize).toString('hex'),
            treeSize,
            hashes: this.tree.inclusionProof(index, treeSize).map((hash) => hash.toString('hex')),
            checkpoint: this.checkpoint(treeSize),
          },
          signedEntryTimestamp: stored.signedEntryTimestamp,
        },
      },
    };
  }

  /** The index of the entry with this UUID (its leaf hash, hex), if the log holds it. */
  indexOf(uuid: string): number | undefined {
    return this.indexByUUID.get(uuid.toLowerCase());
  }

  /**
   * The signed checkpoint of the tree of `treeSize` leaves: the note `<origin>\n<size>\n<base64 root>\n`, a blank line,
   * and `— <name> <base64(key hint ‖ signature)>\n`, the key hint being the log ID's first 4 bytes. One per size.
   */
  checkpoint(treeSize: number = this.size): string {
    let checkpoint = this.checkpoints.get(treeSize);
    if (checkpoint === undefined) {
      const note = `${this.origin}\n${treeSize}\n${this.tree.root(treeSize).toString('base64')}\n`;
      const signature = sign('sha256', Buffer.from(note, 'utf8'), this.options.keys.privateKey);
      const hintAndSignature = Buffer.concat([this.logID.subarray(0, 4), signature]).toString('base64');
      checkpoint = `${note}\n\u2014 ${this.name} ${hintAndSignature}\n`;
      this.checkpoints.set(treeSize, checkpoint);
    }
    return checkpoint;
  }

  /** The current tree head, as `GET /api/v1/log` answers. */
  info(): RekorLogInfo {
    return {
      rootHash: this.tree.root().toString('hex'),
      treeSize: this.size,
      signedTreeHead: this.checkpoint(),
      treeID: this.treeID,
      inactiveShards: [],
    };
  }

  /** The proof that the tree of `firstSize` leaves is a prefix of the tree of `lastSize`, as `GET /api/v1/log/proof`. */
  consistencyProof(firstSize: number, lastSize: number = this.size): RekorConsistencyProof {
    if (!(firstSize >= 1 && firstSize <= lastSize && lastSize <= this.size)) {
      throw new RekorLogError(
        400,
        `firstSize ${firstSize} and lastSize ${lastSize} are not 1 ≤ first ≤ last ≤ ${this.size}`,
      );
    }
    return {
      rootHash: this.tree.root(lastSize).toString('hex'),
      hashes: this.tree.consistencyProof(firstSize, lastSize).map((hash) => hash.toString('hex')),
    };
  }

  private appendBody(body: Buffer): number {
    const index = this.tree.append(body);
    const clock = this.options.clock?.getTime() ?? Date.now();
    const integratedTime = Math.floor(clock / 1000);
    // Rekor's SET payload: the canonical (RFC 8785) JSON of these four, keys in code-unit order.
    const payload = JSON.stringify({
      body: body.toString('base64'),
      integratedTime,
      logID: this.logID.toString('hex'),
      logIndex: index,
    });
    const signedEntryTimestamp = sign('sha256', Buffer.from(payload, 'utf8'), this.options.keys.privateKey);
    this.entries.push({ body, integratedTime, signedEntryTimestamp: signedEntryTimestamp.toString('base64') });
    this.indexByUUID.set(this.tree.leafHash(index).toString('hex'), index);
    return index;
  }
}

/** A refusal by the log, with the HTTP status Rekor gives it. */
export class RekorLogError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'RekorLogError';
  }
}

export interface RekorHTTPAnswer {
  statusCode: number;
  body: string;
  headers: Record<string, string>;
}

/**
 * Rekor v1's API over the log: `POST /api/v1/log/entries`, `GET /api/v1/log/entries?logIndex=N`,
 * `GET /api/v1/log/entries/{uuid}`, `GET /api/v1/log` and `GET /api/v1/log/proof?firstSize=&lastSize=`.
 * Undefined for any other request.
 */
export async function answerRekorRequest(
  log: RekorLog,
  request: { method: string; url: URL; body: string },
): Promise<RekorHTTPAnswer | undefined> {
  const { method, url } = request;
  const path = url.pathname;
  try {
    if (method === 'POST' && path === REKOR_ENTRIES_PATH) {
      let proposed: unknown;
      try {
        proposed = JSON.parse(request.body);
      } catch {
        throw new RekorLogError(400, 'the proposed entry is not JSON');
      }
      const { uuid, entry } = await log.append(proposed);
      return json(201, { [uuid]: entry }, { location: `${REKOR_ENTRIES_PATH}/${uuid}`, etag: uuid });
    }
    if (method !== 'GET') return undefined;
    if (path === REKOR_ENTRIES_PATH) {
      const { uuid, entry } = log.entry(count(url.searchParams.get('logIndex'), 'logIndex'));
      return json(200, { [uuid]: entry });
    }
    if (path.startsWith(`${REKOR_ENTRIES_PATH}/`)) {
      const uuid = path.slice(REKOR_ENTRIES_PATH.length + 1);
      const index = log.indexOf(uuid);
      if (index === undefined) throw new RekorLogError(404, `no entry with UUID ${uuid}`);
      const { entry } = log.entry(index);
      return json(200, { [uuid]: entry });
    }
    if (path === REKOR_LOG_PATH) return json(200, log.info());
    if (path === REKOR_PROOF_PATH) {
      const firstSize = count(url.searchParams.get('firstSize') ?? '1', 'firstSize');
      const lastSize = count(url.searchParams.get('lastSize'), 'lastSize');
      return json(200, log.consistencyProof(firstSize, lastSize));
    }
    return undefined;
  } catch (error) {
    if (error instanceof RekorLogError)
      return json(error.statusCode, { code: error.statusCode, message: error.message });
    throw error;
  }
}

function json(statusCode: number, value: unknown, headers: Record<string, string> = {}): RekorHTTPAnswer {
  return { statusCode, body: JSON.stringify(value), headers: { 'content-type': 'application/json', ...headers } };
}

function count(value: string | null, name: string): number {
  if (value === null || !/^\d{1,15}$/.test(value))
    throw new RekorLogError(400, `${name}: expected a count, found ${value}`);
  return Number(value);
}

function isProposedEntry(value: unknown): value is { kind: string; apiVersion: string; spec: object } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { kind, apiVersion, spec } = value as Record<string, unknown>;
  return typeof kind === 'string' && typeof apiVersion === 'string' && typeof spec === 'object' && spec !== null;
}
