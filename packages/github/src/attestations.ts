// GitHub's attestation store, read as `gh attestation verify` reads it: every attestation of a repository for an
// artifact digest (`GET /repos/{owner}/{repo}/attestations/{subject_digest}`), each bundle inline or behind
// `bundle_url` as raw Snappy (the store's blob, fetched without GitHub's token). Paged, concurrent for a release of
// hundreds of artifacts, with the client's retries and rate-limit handling. What comes back is evidence to verify,
// nothing more: every bundle then goes through the same verification as a file.
import { createHash } from 'node:crypto';
import { CodedError } from '@twokey/core';
import { MAX_BUNDLE_BYTES, MAX_JSON_DEPTH } from '@twokey/sigstore';
import { createGitHubClient, type GitHubClient } from './octokit';

/** An entry of the store, read for an artifact digest: its bundle's text, or why its blob could not be read. */
export type StoredAttestation = StoredBundleText | UnreadableStoredBundle;

interface StoreEntry {
  /** The artifact digest it was fetched for (`sha256:HEX`). */
  digest: string;
  /** Its place in the store's answer for that digest (0-based, across pages), copies dropped or not. */
  index: number;
}

export interface StoredBundleText extends StoreEntry {
  /** The bundle's JSON text. */
  text: string;
  via: 'inline' | 'bundle_url';
}

/** A blob behind `bundle_url` that could not be read: rejected evidence for this entry alone, with its reason. */
export interface UnreadableStoredBundle extends StoreEntry {
  via: 'inline' | 'bundle_url';
  /**
   * Why: BUNDLE_MALFORMED when the store sent it whole and it is no bundle (an inline entry nested too deep to read),
   * so what it holds is known; else what it held is unknown (a blob that could not be read or was too large).
   */
  unreadable: { code: 'BUNDLE_UNREADABLE' | 'BUNDLE_TOO_LARGE' | 'BUNDLE_MALFORMED'; reason: string };
}

export interface AttestationQuery {
  apiUrl: string;
  /** GH_TOKEN / GITHUB_TOKEN; empty reads anonymously, which GitHub allows for public repositories only. */
  token: string;
  /** `owner/name`, or an organisation or user alone (`gh attestation verify --owner`: all of its repositories). */
  repository: string;
  /** `sha256:HEX` each. */
  digests: readonly string[];
  /** Digests asked at once (default 8). */
  concurrency?: number;
  client?: GitHubClient;
  /**
   * The repository must be readable with the token (`GET /repos/{owner}/{repo}`) before its store is listed: its
   * store answers 404 both for a digest with no attestation and for a repository the token cannot see (private, or
   * another repository's GITHUB_TOKEN), so an unreadable repository's store would read as empty.
   */
  repositoryMustBeReadable?: boolean;
  /** Time limit of one `bundle_url` download, its body included (default 30 s, as an API request's attempt). */
  blobTimeoutMs?: number;
  /**
   * Time limit of all the `bundle_url` downloads of this read (default 5 min): past it, each blob not yet read is
   * an entry that could not be read, named with the reason, so a slow blob host cannot hold the job for hours.
   */
  blobsDeadlineMs?: number;
}

/** An entry as the store lists it. */
interface ListedAttestation {
  bundle?: unknown;
  bundle_url?: string | null;
}

interface AttestationsPage {
  attestations?: ListedAttestation[];
}

/** The store could not be read, or answered what no bundle is: nothing can be judged from it (exit 2, named). */
export class AttestationStoreError extends CodedError<'ATTESTATIONS_UNREADABLE' | 'ATTESTATIONS_NOT_STORED'> {
  readonly kind = 'usage';
  override readonly name = 'AttestationStoreError';
  constructor(message: string, options?: ErrorOptions & { code?: 'ATTESTATIONS_NOT_STORED' }) {
    super(options?.code ?? 'ATTESTATIONS_UNREADABLE', message, options);
  }
}

const PER_PAGE = 100;
/**
 * A digest with more distinct entries than this is refused, with the reason: a store flooded with junk must not
 * exhaust the verifier. Copies of one bundle count once (any writer can store a genuine bundle again and again), and
 * nothing past the cap is dropped quietly: a flood must not push genuine entries out of view.
 */
export const MAX_ATTESTATIONS_PER_DIGEST = 1000;
/** Entries listed for one digest, copies included: past this the digest is refused before more is downloaded. */
export const MAX_ENTRIES_READ_PER_DIGEST = 10 * MAX_ATTESTATIONS_PER_DIGEST;
/** The longest raw Snappy block of a bundle of MAX_BUNDLE_BYTES (Snappy's MaxCompressedLength: 32 + n + n / 6). */
const MAX_BLOB_BYTES = 32 + MAX_BUNDLE_BYTES + Math.floor(MAX_BUNDLE_BYTES / 6);
const BLOB_TIMEOUT_MS = 30_000;
const BLOBS_DEADLINE_MS = 300_000;

/** The time limits of a read's blob downloads: each download's, and one deadline for them all. */
interface BlobLimits {
  timeoutMs: number;
  deadlineMs: number;
  deadline: AbortSignal;
  /**
   * The distinct bundles this read kept, every digest together, by their text's sha256 (one string each, however
   * many digests list it: a release's provenance and review attestation name every artifact), and their characters
   * (MAX_KEPT_CHARACTERS).
   */
  kept: { characters: number; texts: Map<string, string> };
}

/**
 * The most text of distinct bundles one read of the store keeps, every digest together. Each entry is at most
 * MAX_BUNDLE_BYTES and each digest at most MAX_ATTESTATIONS_PER_DIGEST distinct ones, but a thousand distinct 15 MiB
 * bundles, each a small Snappy blob, held 15 GiB (32 of them: 480 MiB from 22 MiB downloaded): past this the read is
 * refused with the reason — the gate records that refusal — rather than the process running out of memory.
 */
export const MAX_KEPT_CHARACTERS = 256 * 1024 * 1024;

/** Where an action stores what it signs: the repository's attestations, with a token that may write them. */
export interface AttestationStore {
  apiUrl: string;
  /** The job's token (`attestations: write`). */
  token: string;
  /** `owner/name`: the repository the job runs for. */
  repository: string;
  /** GITHUB_SERVER_URL, for the attestation's URL. */
  serverUrl: string;
  client?: GitHubClient;
}

/** A bundle stored: its id in the store and where GitHub shows it (actions/attest's outputs). */
export interface StoredBundle {
  id: string;
  url: string;
}

/** Bundles a stage stores without spacing its requests a second apart (GitHub asks that of many writes). */
const FEW_WRITES = 4;

/**
 * Stores bundles in the repository's attestations (`POST /repos/{owner}/{repo}/attestations`), as actions/attest
 * does, so that `gh attestation verify` and `twokey verify --repo` find them by digest long after the workflow's
 * artifacts expire. A bundle that cannot be stored fails the step: evidence nobody can find is no evidence.
 */
export async function storeAttestations(store: AttestationStore, bundles: readonly object[]): Promise<StoredBundle[]> {
  const [owner, repo] = store.repository.split('/');
  if (!owner || !repo)
    throw new AttestationStoreError(`expected a repository as owner/name, found ${store.repository}`);
  // A decision and its approval, or a review and a few signatures: stored at once. More are spaced a second apart.
  const fewWrites = bundles.length <= FEW_WRITES;
  const client = store.client ?? createGitHubClient({ token: store.token, baseUrl: store.apiUrl, fewWrites });
  const stored: StoredBundle[] = [];
  for (const bundle of bundles) {
    let id: unknown;
    try {
      ({
        data: { id },
      } = (await client.request('POST /repos/{owner}/{repo}/attestations', {
        owner,
        repo,
        bundle: bundle as never,
      })) as { data: { id?: unknown } });
    } catch (error) {
      const status = (error as { status?: number }).status;
      const hint = status === 403 ? ' (the job needs `permissions: attestations: write`)' : '';
      throw new AttestationStoreError(
        `${owner}/${repo}: the attestation store did not take the bundle${hint}: ${(error as Error).message}`,
        { cause: error, code: 'ATTESTATIONS_NOT_STORED' },
      );
    }
    stored.push({ id: String(id), url: `${store.serverUrl}/${owner}/${repo}/attestations/${String(id)}` });
  }
  return stored;
}

/**
 * Every stored attestation for each digest, in the store's order, digests in the order given: each distinct bundle
 * once (its first entry), and each blob that could not be read as an entry saying why.
 */
export async function fetchAttestations(query: AttestationQuery): Promise<StoredAttestation[]> {
  const [owner, repo, ...rest] = query.repository.split('/');
  if (!owner || repo === '' || rest.length > 0) {
    throw new AttestationStoreError(`expected a repository as owner/name or an owner, found ${query.repository}`);
  }
  // Reads only: the bulk list is a POST, asked one page after the other, not a write to space a second apart.
  const client = query.client ?? createGitHubClient({ token: query.token, baseUrl: query.apiUrl, readsOnly: true });
  if (query.repositoryMustBeReadable && repo !== undefined) {
    try {
      await client.request('GET /repos/{owner}/{repo}', { owner, repo });
    } catch (error) {
      throw new AttestationStoreError(
        `${owner}/${repo}: the repository cannot be read with this token, so neither can its attestation store: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  const deadlineMs = query.blobsDeadlineMs ?? BLOBS_DEADLINE_MS;
  const limits: BlobLimits = {
    timeoutMs: query.blobTimeoutMs ?? BLOB_TIMEOUT_MS,
    deadlineMs,
    deadline: AbortSignal.timeout(deadlineMs),
    kept: { characters: 0, texts: new Map() },
  };
  // An organisation's store answers many digests in one request ("List attestations by bulk subject digests").
  if (repo === undefined && query.digests.length > 1) {
    return fetchInBulk(client, owner, query.digests, limits);
  }
  const results: StoredAttestation[][] = new Array(query.digests.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < query.digests.length; i = next++) {
      const entries = new DigestEntries(query.digests[i]!, repo === undefined ? owner : `${owner}/${repo}`, limits);
      await fetchForDigest(client, owner, repo, entries);
      results[i] = entries.kept;
    }
  };
  await Promise.all(Array.from({ length: Math.min(query.concurrency ?? 8, query.digests.length) }, worker));
  return results.flat();
}

/** Blobs downloaded at once for one digest. */
const BLOBS_AT_ONCE = 8;

/**
 * One digest's entries as the store's pages list them: each distinct bundle kept once, under its place in the store's
 * answer. The same text is the same verdict, so a copy adds nothing to verify; past either cap the digest is refused
 * with the reason, never cut short.
 */
class DigestEntries {
  readonly kept: StoredAttestation[] = [];
  private listed = 0;
  private readonly seen = new Set<string>();

  constructor(
    readonly digest: string,
    /** The repository, or the owner, whose store is read. */
    readonly scope: string,
    private readonly limits: BlobLimits,
  ) {}

  /** Reads one page's entries for this digest, their blobs a few at a time. */
  async add(listed: readonly ListedAttestation[]): Promise<void> {
    if (this.listed + listed.length > MAX_ENTRIES_READ_PER_DIGEST) {
      throw new AttestationStoreError(
        `${this.digest}: more than ${MAX_ENTRIES_READ_PER_DIGEST} entries in ${this.scope}, copies included`,
      );
    }
    for (const [i, attestation] of listed.entries()) {
      if (attestation === null || typeof attestation !== 'object' || Array.isArray(attestation)) {
        throw new AttestationStoreError(`${this.digest}: attestation ${this.listed + i} is no object`);
      }
      if ((attestation.bundle === null || attestation.bundle === undefined) && !attestation.bundle_url) {
        throw new AttestationStoreError(
          `${this.digest}: attestation ${this.listed + i} has neither a bundle nor a bundle_url`,
        );
      }
    }
    for (let start = 0; start < listed.length; start += BLOBS_AT_ONCE) {
      const first = this.listed + start;
      const batch = listed.slice(start, start + BLOBS_AT_ONCE);
      const read = await Promise.all(batch.map((a, i) => readEntry(a, this.digest, first + i, this.limits)));
      for (const entry of read) this.keep(entry);
    }
    this.listed += listed.length;
  }

  private keep(entry: StoredAttestation): void {
    let kept = entry;
    if ('text' in entry) {
      const key = createHash('sha256').update(entry.text).digest('hex');
      if (this.seen.has(key)) return;
      this.seen.add(key);
      // Another digest's entry of the same text: the one string kept for it, counted once (a caller writes it once).
      const known = this.limits.kept.texts.get(key);
      if (known !== undefined) kept = { ...entry, text: known };
      else {
        this.limits.kept.characters += entry.text.length;
        if (this.limits.kept.characters > MAX_KEPT_CHARACTERS) {
          throw new AttestationStoreError(
            `${this.digest}: more than ${MAX_KEPT_CHARACTERS / (1024 * 1024)} Mi characters of distinct bundles in ${this.scope} (with the other digests read)`,
          );
        }
        this.limits.kept.texts.set(key, entry.text);
      }
    }
    if (this.kept.length >= MAX_ATTESTATIONS_PER_DIGEST) {
      throw new AttestationStoreError(
        `${this.digest}: more than ${MAX_ATTESTATIONS_PER_DIGEST} distinct attestations in ${this.scope}`,
      );
    }
    this.kept.push(kept);
  }
}

/** Digests asked in one bulk request. */
const BULK_DIGESTS = 100;

interface BulkPage {
  attestations_subject_digests?: Record<string, ListedAttestation[] | null>;
  page_info?: { has_next?: boolean; next?: string };
}

async function fetchInBulk(
  client: GitHubClient,
  org: string,
  digests: readonly string[],
  limits: BlobLimits,
): Promise<StoredAttestation[]> {
  const found = new Map(digests.map((d) => [d.toLowerCase(), new DigestEntries(d.toLowerCase(), org, limits)]));
  for (let start = 0; start < digests.length; start += BULK_DIGESTS) {
    const chunk = digests.slice(start, start + BULK_DIGESTS);
    const cursors = new Set<string>();
    let after: string | undefined;
    for (let requests = 0; ; requests++) {
      let response: { status: number; data: unknown; headers: { link?: string } };
      try {
        // The paging parameters are the URL's (a POST's other parameters are its body).
        response = await client.request('POST /orgs/{org}/attestations/bulk-list{?per_page,after}', {
          org,
          subject_digests: chunk,
          per_page: PER_PAGE,
          ...(after !== undefined && { after }),
        });
      } catch (error) {
        throw new AttestationStoreError(
          `${org}: the attestation store did not answer for ${chunk.length} digests: ${(error as Error).message}`,
          { cause: error },
        );
      }
      if (response.status !== 200) {
        throw new AttestationStoreError(
          `${org}: the attestation store answered ${chunk.length} digests with HTTP ${response.status}, expected 200`,
        );
      }
      const { listed, next } = bulkPage(response, chunk, client.request.endpoint.DEFAULTS.baseUrl, org);
      // The store's answer is not trusted to say which artifact a bundle is about: verification judges each by its
      // own subjects.
      for (const [digest, attestations] of listed) await found.get(digest)!.add(attestations);
      if (next === undefined) break;
      if (cursors.has(next) || requests >= (chunk.length * MAX_ENTRIES_READ_PER_DIGEST) / PER_PAGE) {
        throw new AttestationStoreError(`${org}: the attestation store's pages do not end (cursor ${next})`);
      }
      cursors.add(next);
      after = next;
    }
  }
  return digests.flatMap((d) => found.get(d.toLowerCase())?.kept ?? []);
}

/**
 * A page of "List attestations by bulk subject digests", as far as it can be read: its digests' lists and the cursor
 * of the next page. GitHub describes the answer more than one way — its OpenAPI description maps each digest to a list
 * (or null) with a `page_info` in the body, its documentation's example lists the digests' maps in an array, and the
 * endpoint's own `after` is "a cursor, as given in the Link header" — so each is read, and where the Link header and
 * `page_info` say different things the answer is refused. An answer that lists nothing, a list that is no list, an
 * entry under a digest nobody asked for, or a page that says more follow but gives no cursor to them is a store that
 * could not be read — never an end of the list, which would leave the later pages' entries (an earlier use of a
 * break-glass, a decision record) unread and unsaid. A page that gives neither a Link to a next page nor a `page_info`
 * saying one follows is the last, as GitHub's last page is.
 */
function bulkPage(
  response: { data: unknown; headers: { link?: string } },
  asked: readonly string[],
  api: string,
  org: string,
): { listed: [string, ListedAttestation[]][]; next: string | undefined } {
  const page = (response.data ?? {}) as BulkPage;
  const fail = (what: string) =>
    new AttestationStoreError(`${org}: the attestation store's answer for ${asked.length} digests ${what}`);
  const isMap = (value: unknown): value is Record<string, unknown> =>
    value !== null && typeof value === 'object' && !Array.isArray(value);
  const lists = page.attestations_subject_digests as unknown;
  const maps = isMap(lists) ? [lists] : Array.isArray(lists) && lists.every(isMap) ? lists : undefined;
  if (maps === undefined) throw fail('lists no attestations (no attestations_subject_digests map of digests)');
  const wanted = new Set(asked.map((d) => d.toLowerCase()));
  const listed: [string, ListedAttestation[]][] = [];
  for (const [digest, list] of maps.flatMap((map) => Object.entries(map))) {
    if (list === null) continue;
    if (!Array.isArray(list)) throw fail(`lists ${digest}'s attestations as neither a list nor null`);
    if (list.length === 0) continue;
    // Entries under a digest nobody asked for: the answer names its digests otherwise than they were asked (no
    // `sha256:`, blanks), and the one asked for would read as having none.
    if (!wanted.has(digest.toLowerCase()))
      throw fail(`lists attestations under ${JSON.stringify(digest)}, which it was not asked for`);
    listed.push([digest.toLowerCase(), list as ListedAttestation[]]);
  }
  // The Link header's next page, on the API the client reads (nextPage), gives its cursor as `after`.
  const link = nextPage(response.headers.link, api, org);
  const linked = link === undefined ? undefined : (link.searchParams.get('after') ?? '');
  if (linked === '') throw fail('links a next page without an after cursor');
  const info = page.page_info as unknown;
  if (info === undefined || info === null) return { listed, next: linked };
  if (!isMap(info) || typeof info.has_next !== 'boolean') throw fail('gives a page_info without has_next');
  const next = info.next;
  if (info.has_next && (typeof next !== 'string' || next === '')) {
    throw fail('says more pages follow but gives no cursor to them (page_info.next)');
  }
  // `has_next: false` ends the list whatever `next` holds: a cursor service may give its end cursor on every page.
  const paged = info.has_next ? (next as string) : undefined;
  if (linked !== undefined && linked !== paged)
    throw fail('pages on in its Link header otherwise than in its page_info');
  return { listed, next: paged };
}

/**
 * One digest's entries in a repository's (or an owner's) store, page after page. "List attestations" pages by
 * cursor (`before`/`after`), each next page the Link header's. Followed by hand, not by Octokit's paginate, which
 * follows a Link to any host (GitHub's token with it) and round in circles, and reads a 409 as an empty last page.
 */
async function fetchForDigest(
  client: GitHubClient,
  owner: string,
  repo: string | undefined,
  entries: DigestEntries,
): Promise<void> {
  const { digest, scope } = entries;
  const read = new Set<string>();
  let next: string | undefined;
  for (let requests = 0; ; requests++) {
    let response: { status: number; data: unknown; headers: { link?: string } };
    try {
      const query = { subject_digest: digest, per_page: PER_PAGE };
      response =
        next !== undefined
          ? await client.request({ method: 'GET', url: next })
          : repo === undefined
            ? await client.request('GET /orgs/{org}/attestations/{subject_digest}', { org: owner, ...query })
            : await client.request('GET /repos/{owner}/{repo}/attestations/{subject_digest}', {
                owner,
                repo,
                ...query,
              });
    } catch (error) {
      // The store answers 404 for a digest it has no attestation of; a later page's 404 is a store that changed.
      if ((error as { status?: number }).status === 404 && requests === 0) return;
      throw new AttestationStoreError(
        `${scope}: the attestation store did not answer for ${digest}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    if (response.status !== 200) {
      throw new AttestationStoreError(
        `${scope}: the attestation store answered ${digest} with HTTP ${response.status}, expected 200`,
      );
    }
    const listed = (response.data as AttestationsPage | null)?.attestations;
    if (!Array.isArray(listed)) {
      throw new AttestationStoreError(`${scope}: the attestation store's answer for ${digest} lists no attestations`);
    }
    await entries.add(listed);
    const page = nextPage(response.headers.link, client.request.endpoint.DEFAULTS.baseUrl, scope);
    if (page === undefined) return;
    // A cursor read before is a loop; more pages than the entries a digest may have is a store that does not end.
    const cursor = page.searchParams.get('after') ?? page.searchParams.get('before') ?? page.href;
    if (read.has(cursor)) {
      throw new AttestationStoreError(`${scope}: the attestation store's pages do not end (cursor ${cursor} again)`);
    }
    if (requests >= MAX_ENTRIES_READ_PER_DIGEST / PER_PAGE) {
      throw new AttestationStoreError(
        `${scope}: the attestation store's pages do not end (more than ${requests + 1} pages for ${digest})`,
      );
    }
    read.add(cursor);
    next = page.href;
  }
}

/** The Link header's next page, which must be on the API the client reads (the token is sent with it). */
function nextPage(link: string | undefined, api: string, scope: string): URL | undefined {
  const next = /<([^<>]*)>\s*;\s*rel="next"/.exec(link ?? '')?.[1];
  if (next === undefined) {
    // A next page named otherwise than GitHub names it (`rel=next`, `rel="Next"`, another parameter first) would be
    // read as the last page: the list cut short without a word.
    if (/rel\s*=\s*"?[^";,]*\bnext\b/i.test((link ?? '').replace(/<[^<>]*>/g, ''))) {
      throw new AttestationStoreError(
        `${scope}: the attestation store's Link header names a next page it cannot be read from: ${link}`,
      );
    }
    return undefined;
  }
  const base = new URL(api);
  const url = URL.canParse(next) ? new URL(next) : undefined;
  if (url?.origin !== base.origin || !url.pathname.startsWith(base.pathname.replace(/\/*$/, '/'))) {
    throw new AttestationStoreError(`${scope}: the attestation store's next page is not on ${api}: ${next}`);
  }
  return url;
}

type Unreadable = UnreadableStoredBundle['unreadable'];

/**
 * An entry's bundle: inline, or the raw Snappy blob behind its bundle_url. A blob that cannot be read is that entry's
 * rejection, as an inline entry that is no bundle is (row 144), never the whole store unread.
 */
async function readEntry(
  attestation: ListedAttestation,
  digest: string,
  index: number,
  limits: BlobLimits,
): Promise<StoredAttestation> {
  if (attestation.bundle !== null && attestation.bundle !== undefined) {
    // Written back as text for the one bundle reader, which refuses what nests too deep: JSON.stringify recurses, and
    // an entry nested thousands of levels (a writer's unknown field, ~10 KB) overflowed the stack there — every
    // reader of the store failed (exit 3, no decision record) before that reader could refuse the one entry.
    if (nestedDeeperThan(attestation.bundle, MAX_JSON_DEPTH)) {
      return {
        digest,
        index,
        via: 'inline',
        unreadable: { code: 'BUNDLE_MALFORMED', reason: `nested deeper than ${MAX_JSON_DEPTH} levels: no bundle` },
      };
    }
    return { digest, index, text: JSON.stringify(attestation.bundle), via: 'inline' };
  }
  const unreadable = (why: Unreadable): UnreadableStoredBundle => ({
    digest,
    index,
    via: 'bundle_url',
    unreadable: why,
  });
  const blob = await downloadBlob(attestation.bundle_url!, limits);
  if (!(blob instanceof Uint8Array)) return unreadable(blob);
  const length = declaredLength(blob);
  if (length !== undefined && length > MAX_BUNDLE_BYTES) {
    return unreadable({
      code: 'BUNDLE_TOO_LARGE',
      reason: `bundle_url holds a bundle of ${length} bytes, over the limit of ${MAX_BUNDLE_BYTES} bytes`,
    });
  }
  // Read only here: a bundle_url is the one path that needs it (bench/README.md, "Start-up").
  const { uncompress } = await import('snappyjs');
  try {
    return { digest, index, text: Buffer.from(uncompress(blob, MAX_BUNDLE_BYTES)).toString('utf8'), via: 'bundle_url' };
  } catch (error) {
    return unreadable({
      code: 'BUNDLE_UNREADABLE',
      reason: `bundle_url is not a Snappy block of a bundle: ${(error as Error).message}`,
    });
  }
}

/**
 * Whether a parsed JSON value nests deeper than `max` levels, walked with one frame per open container (never
 * recursion, and never a frame per value: a wide array of numbers costs nothing more than its own reading).
 */
function nestedDeeperThan(root: unknown, max: number): boolean {
  if (typeof root !== 'object' || root === null) return false;
  const frames: { children: unknown[]; next: number }[] = [
    { children: Array.isArray(root) ? root : Object.values(root), next: 0 },
  ];
  while (frames.length > 0) {
    const frame = frames[frames.length - 1]!;
    if (frame.next === frame.children.length) {
      frames.pop();
      continue;
    }
    const child = frame.children[frame.next++];
    if (typeof child !== 'object' || child === null) continue;
    if (frames.length >= max) return true;
    frames.push({ children: Array.isArray(child) ? child : Object.values(child), next: 0 });
  }
  return false;
}

/**
 * A blob's bytes, read within its time limit and the read's deadline, and never past the longest blob a bundle can
 * have.
 */
async function downloadBlob(url: string, limits: BlobLimits): Promise<Uint8Array | Unreadable> {
  const failed = (reason: string): Unreadable => ({
    code: 'BUNDLE_UNREADABLE',
    reason: `bundle_url could not be read: ${reason}`,
  });
  const tooLarge = (size: string): Unreadable => ({
    code: 'BUNDLE_TOO_LARGE',
    reason: `bundle_url is ${size} bytes, over ${MAX_BLOB_BYTES} (the longest Snappy block of a bundle)`,
  });
  const pastDeadline = (): Unreadable =>
    failed(`the store's blobs were not all read within ${limits.deadlineMs / 1000} s, and this one was not among them`);
  if (limits.deadline.aborted) return pastDeadline();
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  const signal = AbortSignal.any([timeout, limits.deadline]);
  try {
    // A pre-signed blob URL: GitHub's token is never sent to it.
    const response = await fetch(url, { redirect: 'error', signal });
    const declared = Number(response.headers.get('content-length') ?? 0);
    if (response.status !== 200 || declared > MAX_BLOB_BYTES) {
      await response.body?.cancel();
      return response.status !== 200 ? failed(`HTTP ${response.status}`) : tooLarge(String(declared));
    }
    const reader = response.body?.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (let chunk = await reader?.read(); chunk && !chunk.done; chunk = await reader?.read()) {
      total += chunk.value.byteLength;
      if (total > MAX_BLOB_BYTES) {
        await reader?.cancel();
        return tooLarge(`over ${MAX_BLOB_BYTES}`);
      }
      chunks.push(chunk.value);
    }
    return Buffer.concat(chunks);
  } catch (error) {
    if (timeout.aborted) return failed(`no answer within ${limits.timeoutMs / 1000} s`);
    if (limits.deadline.aborted) return pastDeadline();
    const cause = (error as Error).cause;
    return failed(cause instanceof Error ? `${(error as Error).message} (${cause.message})` : (error as Error).message);
  }
}

/** The length a raw Snappy block says its content has: its first field, a little-endian base-128 number. */
function declaredLength(block: Uint8Array): number | undefined {
  let length = 0;
  for (let i = 0; i < 5 && i < block.length; i++) {
    length += (block[i]! & 0x7f) * 2 ** (7 * i);
    if (block[i]! < 0x80) return length;
  }
  return undefined;
}
