// GitHub's attestation store, read as `gh attestation verify` reads it: every attestation of a repository for an
// artifact digest (`GET /repos/{owner}/{repo}/attestations/{subject_digest}`), each bundle inline or behind
// `bundle_url` as raw Snappy (the store's blob, fetched without GitHub's token). Paged, concurrent for a release of
// hundreds of artifacts, with the client's retries and rate-limit handling. What comes back is evidence to verify,
// nothing more: every bundle then goes through the same verification as a file.
import { CodedError } from '@twokey/core';
import { MAX_BUNDLE_BYTES } from '@twokey/sigstore';
import { createGitHubClient, type GitHubClient } from './octokit';

export interface StoredAttestation {
  /** The artifact digest it was fetched for (`sha256:HEX`). */
  digest: string;
  /** Its place in the store's answer for that digest (0-based, across pages). */
  index: number;
  /** The bundle's JSON text. */
  text: string;
  via: 'inline' | 'bundle_url';
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
}

interface AttestationsPage {
  attestations?: { bundle?: unknown; bundle_url?: string | null }[];
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
/** A digest with more attestations than this is refused: a store flooded with junk must not exhaust the verifier. */
export const MAX_ATTESTATIONS_PER_DIGEST = 1000;

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

/** Every stored attestation for each digest, in the store's order, digests in the order given. */
export async function fetchAttestations(query: AttestationQuery): Promise<StoredAttestation[]> {
  const [owner, repo, ...rest] = query.repository.split('/');
  if (!owner || repo === '' || rest.length > 0) {
    throw new AttestationStoreError(`expected a repository as owner/name or an owner, found ${query.repository}`);
  }
  const client = query.client ?? createGitHubClient({ token: query.token, baseUrl: query.apiUrl });
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
  // An organisation's store answers many digests in one request ("List attestations by bulk subject digests").
  if (repo === undefined && query.digests.length > 1) return fetchInBulk(client, owner, query.digests);
  const results: StoredAttestation[][] = new Array(query.digests.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < query.digests.length; i = next++) {
      results[i] = await fetchForDigest(client, owner, repo, query.digests[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(query.concurrency ?? 8, query.digests.length) }, worker));
  return results.flat();
}

/** Digests asked in one bulk request. */
const BULK_DIGESTS = 100;

interface BulkPage {
  attestations_subject_digests?: Record<string, { bundle?: unknown; bundle_url?: string | null }[] | null>;
  page_info?: { has_next?: boolean; next?: string };
}

async function fetchInBulk(
  client: GitHubClient,
  org: string,
  digests: readonly string[],
): Promise<StoredAttestation[]> {
  const found = new Map<string, StoredAttestation[]>(digests.map((d) => [d.toLowerCase(), []]));
  for (let start = 0; start < digests.length; start += BULK_DIGESTS) {
    const chunk = digests.slice(start, start + BULK_DIGESTS);
    let after: string | undefined;
    for (let requests = 0; ; requests++) {
      let data: BulkPage;
      try {
        // The paging parameters are the URL's (a POST's other parameters are its body).
        ({ data } = (await client.request('POST /orgs/{org}/attestations/bulk-list{?per_page,after}', {
          org,
          subject_digests: chunk,
          per_page: PER_PAGE,
          ...(after !== undefined && { after }),
        })) as { data: BulkPage });
      } catch (error) {
        throw new AttestationStoreError(
          `${org}: the attestation store did not answer for ${chunk.length} digests: ${(error as Error).message}`,
          { cause: error },
        );
      }
      for (const [digest, attestations] of Object.entries(data.attestations_subject_digests ?? {})) {
        const list = found.get(digest.toLowerCase());
        // A digest nobody asked for is no evidence about these artifacts: the store's answer is not trusted to say
        // which artifact a bundle is about, and verification will judge it by its own subjects anyway.
        if (!list || !attestations) continue;
        for (const attestation of attestations) {
          if (list.length >= MAX_ATTESTATIONS_PER_DIGEST) {
            throw new AttestationStoreError(
              `${digest}: more than ${MAX_ATTESTATIONS_PER_DIGEST} attestations in ${org}`,
            );
          }
          list.push(await bundleOf(attestation, digest.toLowerCase(), list.length));
        }
      }
      const next = data.page_info?.has_next ? data.page_info.next : undefined;
      if (!next) break;
      if (next === after || requests > (chunk.length * MAX_ATTESTATIONS_PER_DIGEST) / PER_PAGE) {
        throw new AttestationStoreError(`${org}: the attestation store's pages do not end (cursor ${next})`);
      }
      after = next;
    }
  }
  return digests.flatMap((d) => found.get(d.toLowerCase()) ?? []);
}

async function fetchForDigest(
  client: GitHubClient,
  owner: string,
  repo: string | undefined,
  digest: string,
): Promise<StoredAttestation[]> {
  const found: StoredAttestation[] = [];
  const scope = repo === undefined ? owner : `${owner}/${repo}`;
  const query = { subject_digest: digest, per_page: PER_PAGE };
  // "List attestations" pages by cursor (before/after): each next page is the Link header's, as Octokit follows it.
  const pages =
    repo === undefined
      ? client.paginate.iterator('GET /orgs/{org}/attestations/{subject_digest}', { org: owner, ...query })
      : client.paginate.iterator('GET /repos/{owner}/{repo}/attestations/{subject_digest}', { owner, repo, ...query });
  try {
    for await (const response of pages) {
      const attestations = (response.data as AttestationsPage).attestations ?? [];
      for (const attestation of attestations) {
        if (found.length >= MAX_ATTESTATIONS_PER_DIGEST) {
          throw new AttestationStoreError(
            `${digest}: more than ${MAX_ATTESTATIONS_PER_DIGEST} attestations in ${scope}`,
          );
        }
        found.push(await bundleOf(attestation, digest, found.length));
      }
    }
  } catch (error) {
    if (error instanceof AttestationStoreError) throw error;
    // The store answers 404 for a digest it has no attestation of.
    if ((error as { status?: number }).status === 404 && found.length === 0) return found;
    throw new AttestationStoreError(
      `${scope}: the attestation store did not answer for ${digest}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return found;
}

async function bundleOf(
  attestation: { bundle?: unknown; bundle_url?: string | null },
  digest: string,
  index: number,
): Promise<StoredAttestation> {
  if (attestation.bundle !== null && attestation.bundle !== undefined) {
    return { digest, index, text: JSON.stringify(attestation.bundle), via: 'inline' };
  }
  const at = `${digest}: attestation ${index}`;
  if (!attestation.bundle_url) throw new AttestationStoreError(`${at} has neither a bundle nor a bundle_url`);
  // A pre-signed blob URL: GitHub's token is never sent to it.
  let compressed: Uint8Array;
  try {
    const response = await fetch(attestation.bundle_url, { redirect: 'error' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    compressed = new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    throw new AttestationStoreError(`${at}: bundle_url could not be read: ${(error as Error).message}`, {
      cause: error,
    });
  }
  // Read only here: a bundle_url is the one path that needs it (bench/README.md, "Start-up").
  const { uncompress } = await import('snappyjs');
  let bytes: Uint8Array;
  try {
    bytes = uncompress(compressed, MAX_BUNDLE_BYTES);
  } catch (error) {
    throw new AttestationStoreError(`${at}: bundle_url is not a Snappy block of a bundle: ${(error as Error).message}`);
  }
  return { digest, index, text: Buffer.from(bytes).toString('utf8'), via: 'bundle_url' };
}
