// Reading the attestation store (packages/github/src/attestations.ts) when its writers, or what answers in its place,
// try to stop a reader or mislead it: a flood of copies of one bundle, blobs that cannot be read, pages that point
// elsewhere or never end, answers other than 200. Each is refused with its reason or neutralised; the genuine entries
// are still read.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AttestationStoreError,
  createGitHubClient,
  fetchAttestations,
  MAX_ATTESTATIONS_PER_DIGEST,
  MAX_ENTRIES_READ_PER_DIGEST,
  type StoredAttestation,
} from '@twokey/github';
import { aGitHubState, aRepository, type FakeAttestation, type GitHubFake, startGitHubFake } from '@twokey/testkit';
import { afterEach, describe, expect, it } from 'vitest';

const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const DIGEST = digest(7);
/** A stored entry: its marker tells which it is; nothing here is verified, only fetched. */
const entry = (subject: string, marker: number, viaUrl = false): FakeAttestation => ({
  subjects: [subject],
  bundle: { mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', marker },
  viaUrl,
});
const markerOf = (a: StoredAttestation) =>
  'text' in a ? (JSON.parse(a.text) as { marker: number }).marker : `unreadable: ${a.unreadable.reason}`;

let github: GitHubFake | undefined;
const servers: { close: () => Promise<void> }[] = [];
afterEach(async () => {
  await github?.close();
  github = undefined;
  for (const server of servers.splice(0)) await server.close();
});

/** A server answering as the handler says: a hostile or broken store, a blob host. */
async function serve(
  handler: (request: IncomingMessage, response: ServerResponse, base: string) => void,
): Promise<{ base: string; requests: IncomingMessage[] }> {
  let base = '';
  const requests: IncomingMessage[] = [];
  const server = createServer((request, response) => {
    requests.push(request);
    handler(request, response, base);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  servers.push({
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return { base, requests };
}

const json = (response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
};
const INLINE = { bundle: { mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', marker: 1 }, repository_id: 1 };
/** One try per request: a store's refusal is seen at once, not after the client's back-off. */
const readOnce = (apiUrl: string) => ({
  apiUrl,
  token: 't',
  client: createGitHubClient({ token: 't', baseUrl: apiUrl, retries: 0 }),
});

describe('a flood of copies (a writer stores one bundle again and again)', () => {
  it('reads 1001 copies of a stored bundle as the one bundle they are: the genuine entries are all read', async () => {
    const app = aRepository('acme/app');
    app.attestations = [
      entry(DIGEST, 1),
      entry(DIGEST, 2, true),
      entry(DIGEST, 3),
      ...Array.from({ length: MAX_ATTESTATIONS_PER_DIGEST + 1 }, (_, i) => entry(DIGEST, 2, i % 2 === 0)),
    ];
    github = await startGitHubFake(aGitHubState(app));
    const found = await fetchAttestations({
      apiUrl: github.url,
      token: 't',
      repository: 'acme/app',
      digests: [DIGEST],
    });
    expect(found.map(markerOf)).toEqual([1, 2, 3]);
    // Each keeps its place in the store's answer: `github:acme/app/attestations/DIGEST#N` names that entry.
    expect(found.map((a) => a.index)).toEqual([0, 1, 2]);
  });

  it('reads copies stored in another repository of the organisation as one bundle too (--owner, bulk)', async () => {
    const app = aRepository('acme/app');
    app.attestations = [entry(DIGEST, 1), entry(DIGEST, 2, true), entry(digest(8), 8)];
    const sandbox = aRepository('acme/sandbox');
    sandbox.attestations = Array.from({ length: MAX_ATTESTATIONS_PER_DIGEST + 1 }, () => entry(DIGEST, 2, true));
    github = await startGitHubFake(aGitHubState(app, sandbox));
    const found = await fetchAttestations({
      apiUrl: github.url,
      token: 't',
      repository: 'acme',
      digests: [DIGEST, digest(8)],
    });
    expect(found.map((a) => [a.digest, markerOf(a)])).toEqual([
      [DIGEST, 1],
      [DIGEST, 2],
      [digest(8), 8],
    ]);
  });

  it(`still refuses more than ${MAX_ATTESTATIONS_PER_DIGEST} distinct entries for a digest, saying so: never a quiet truncation`, async () => {
    const app = aRepository('acme/app');
    app.attestations = Array.from({ length: MAX_ATTESTATIONS_PER_DIGEST + 1 }, (_, i) => entry(DIGEST, i));
    github = await startGitHubFake(aGitHubState(app));
    const read = fetchAttestations({ apiUrl: github.url, token: 't', repository: 'acme/app', digests: [DIGEST] });
    await expect(read).rejects.toThrow(
      new RegExp(`^${DIGEST}: more than ${MAX_ATTESTATIONS_PER_DIGEST} distinct attestations in acme/app`),
    );
  });

  it(`refuses a digest with more than ${MAX_ENTRIES_READ_PER_DIGEST} entries, copies included, before reading them all`, async () => {
    const app = aRepository('acme/app');
    app.attestations = [
      entry(DIGEST, 1),
      ...Array.from({ length: MAX_ENTRIES_READ_PER_DIGEST }, () => entry(DIGEST, 2)),
    ];
    github = await startGitHubFake(aGitHubState(app));
    const read = fetchAttestations({ apiUrl: github.url, token: 't', repository: 'acme/app', digests: [DIGEST] });
    await expect(read).rejects.toThrow(
      new RegExp(`^${DIGEST}: more than ${MAX_ENTRIES_READ_PER_DIGEST} entries in acme/app`),
    );
    const pages = github.requests.filter((r) => r.route === 'GET /repos/{owner}/{repo}/attestations/{subject_digest}');
    expect(pages.length).toBe(MAX_ENTRIES_READ_PER_DIGEST / 100 + 1);
  });
});

describe('a blob behind bundle_url that cannot be read is rejected evidence for its entry alone', () => {
  async function storeWithBlobs(
    blobs: Record<string, (response: ServerResponse) => void>,
    timeoutMs?: number,
    deadlineMs?: number,
  ) {
    const host = await serve((request, response) => blobs[request.url!.slice(1)]!(response));
    const api = await serve((_request, response) =>
      json(response, 200, {
        attestations: [
          INLINE,
          ...Object.keys(blobs).map((name) => ({ bundle: null, bundle_url: `${host.base}/${name}`, repository_id: 1 })),
        ],
      }),
    );
    return fetchAttestations({
      ...readOnce(api.base),
      repository: 'acme/app',
      digests: [DIGEST],
      ...(timeoutMs !== undefined && { blobTimeoutMs: timeoutMs }),
      ...(deadlineMs !== undefined && { blobsDeadlineMs: deadlineMs }),
    });
  }
  /** A raw Snappy block of a small bundle: its length, then the bytes as one literal (at most 60 of them). */
  const bundleBlob = (marker: number) => {
    const bytes = Buffer.from(JSON.stringify({ marker }));
    return Buffer.concat([Buffer.from([bytes.length, (bytes.length - 1) << 2]), bytes]);
  };

  it('names each bad blob with its reason (HTTP error, not Snappy, over 16 MiB) and reads the others', async () => {
    // Snappy's header declares the bundle's length first: 17 MiB, over the 16 MiB a bundle may have.
    const declares17MiB = Buffer.from([0x80, 0x80, 0xc0, 0x08, 0x00]);
    const found = await storeWithBlobs({
      good: (r) => r.end(bundleBlob(2)),
      gone: (r) => {
        r.writeHead(500);
        r.end();
      },
      garbage: (r) => r.end('this is no Snappy block'),
      huge: (r) => r.end(declares17MiB),
    });
    expect(found.map((a) => [a.index, a.via, 'text' in a ? markerOf(a) : a.unreadable])).toEqual([
      [0, 'inline', 1],
      [1, 'bundle_url', 2],
      [2, 'bundle_url', { code: 'BUNDLE_UNREADABLE', reason: 'bundle_url could not be read: HTTP 500' }],
      [
        3,
        'bundle_url',
        { code: 'BUNDLE_UNREADABLE', reason: expect.stringMatching(/^bundle_url is not a Snappy block/) },
      ],
      [
        4,
        'bundle_url',
        {
          code: 'BUNDLE_TOO_LARGE',
          reason: `bundle_url holds a bundle of ${17 * 2 ** 20} bytes, over the limit of ${16 * 2 ** 20} bytes`,
        },
      ],
    ]);
  });

  it('stops a blob that drips within its time limit: rejected, the read goes on', async () => {
    const dripping: NodeJS.Timeout[] = [];
    const started = performance.now();
    const found = await storeWithBlobs(
      {
        drip: (r) => {
          r.writeHead(200);
          dripping.push(setInterval(() => r.write(Buffer.from([0])), 50));
        },
        good: (r) => r.end(bundleBlob(2)),
      },
      300,
    );
    for (const timer of dripping) clearInterval(timer);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(found.map((a) => ('text' in a ? markerOf(a) : a.unreadable))).toEqual([
      1,
      { code: 'BUNDLE_UNREADABLE', reason: 'bundle_url could not be read: no answer within 0.3 s' },
      2,
    ]);
  });

  it('stops all the downloads of a read at its deadline: a host that drips every blob cannot hold the job for hours', async () => {
    // Each blob within its own limit, one after the other: 20 blobs, 8 at a time, would hold the read for 3 × the
    // per-blob limit (at 30 s a blob and 10,000 entries a digest, for hours). The read's deadline ends them all.
    const dripping: NodeJS.Timeout[] = [];
    const drip = (r: ServerResponse) => {
      r.writeHead(200);
      dripping.push(setInterval(() => r.write(Buffer.from([0])), 50));
    };
    const started = performance.now();
    const found = await storeWithBlobs(
      {
        good: (r) => r.end(bundleBlob(2)),
        ...Object.fromEntries(Array.from({ length: 19 }, (_, i) => [`drip-${i}`, drip])),
      },
      2000,
      700,
    );
    for (const timer of dripping) clearInterval(timer);
    expect(performance.now() - started).toBeLessThan(2000);
    const pastDeadline = {
      code: 'BUNDLE_UNREADABLE',
      reason:
        "bundle_url could not be read: the store's blobs were not all read within 0.7 s, and this one was not among them",
    };
    expect(found.map((a) => ('text' in a ? markerOf(a) : a.unreadable))).toEqual([
      1,
      2,
      ...Array.from({ length: 19 }, () => pastDeadline),
    ]);
  });

  it('stops reading a blob longer than any Snappy block of a 16 MiB bundle, whatever it says of its length', async () => {
    let sent = 0;
    const chunk = Buffer.alloc(2 ** 20, 0x41);
    const found = await storeWithBlobs({
      endless: (r) => {
        r.writeHead(200);
        const pump = () => {
          while (sent < 160 * 2 ** 20 && !r.destroyed) {
            sent += chunk.length;
            if (!r.write(chunk)) return void r.once('drain', pump);
          }
          r.end();
        };
        r.on('error', () => {});
        pump();
      },
      declared: (r) => {
        r.writeHead(200, { 'content-length': String(100 * 2 ** 20) });
        r.end();
      },
    });
    expect(found.slice(1).map((a) => ('text' in a ? markerOf(a) : a.unreadable))).toEqual([
      { code: 'BUNDLE_TOO_LARGE', reason: expect.stringMatching(/^bundle_url is over \d+ bytes/) },
      { code: 'BUNDLE_TOO_LARGE', reason: expect.stringMatching(/^bundle_url is 104857600 bytes, over \d+/) },
    ]);
    expect(sent).toBeLessThan(40 * 2 ** 20);
  });
});

describe('the listing’s pages: followed by hand, never off the API, never in a loop', () => {
  it('refuses a next page on another host: GitHub’s token is never sent there', async () => {
    const elsewhere = await serve((_request, response) => json(response, 200, { attestations: [] }));
    const api = await serve((_request, response) =>
      json(
        response,
        200,
        { attestations: [INLINE] },
        { link: `<${elsewhere.base.replace('127.0.0.1', 'localhost')}/steal?after=x>; rel="next"` },
      ),
    );
    const read = fetchAttestations({ ...readOnce(api.base), repository: 'acme/app', digests: [DIGEST] });
    await expect(read).rejects.toThrow(
      /acme\/app: the attestation store's next page is not on .*: http:\/\/localhost:/,
    );
    expect(elsewhere.requests).toEqual([]);
  });

  it('refuses a page whose next page is itself, at once: never read as "no attestations"', async () => {
    const api = await serve((_request, response, base) =>
      json(
        response,
        200,
        { attestations: [] },
        { link: `<${base}/repos/acme/app/attestations/${DIGEST}?per_page=100&after=c2FtZQ>; rel="next"` },
      ),
    );
    const read = fetchAttestations({ ...readOnce(api.base), repository: 'acme/app', digests: [DIGEST] });
    await expect(read).rejects.toThrow(/acme\/app: the attestation store's pages do not end \(cursor c2FtZQ again\)/);
    expect(api.requests.length).toBe(2);
  });

  it('refuses pages that never end under new cursors, after as many requests as the entries allowed need', async () => {
    const api = await serve((_request, response, base) =>
      json(
        response,
        200,
        { attestations: [] },
        {
          link: `<${base}/repos/acme/app/attestations/${DIGEST}?per_page=100&after=${api.requests.length}>; rel="next"`,
        },
      ),
    );
    const read = fetchAttestations({ ...readOnce(api.base), repository: 'acme/app', digests: [DIGEST] });
    await expect(read).rejects.toThrow(/acme\/app: the attestation store's pages do not end/);
    expect(api.requests.length).toBe(MAX_ENTRIES_READ_PER_DIGEST / 100 + 1);
  });
});

describe('an answer other than 200 is the store unread, never an empty or shorter list', () => {
  it('refuses a 409 on the second page, and on the first', async () => {
    for (const failing of [2, 1]) {
      const api = await serve((_request, response, base) => {
        if (api.requests.length === failing) return json(response, 409, { message: 'Conflict' });
        json(
          response,
          200,
          { attestations: [INLINE] },
          { link: `<${base}/repos/acme/app/attestations/${DIGEST}?after=p${api.requests.length}>; rel="next"` },
        );
      });
      const read = fetchAttestations({ ...readOnce(api.base), repository: 'acme/app', digests: [DIGEST] });
      await expect(read).rejects.toBeInstanceOf(AttestationStoreError);
      await expect(read).rejects.toThrow(/acme\/app: the attestation store did not answer for sha256:0+7: Conflict/);
    }
  });

  it('refuses a 2xx answer that is not 200, and a 404 after the first page', async () => {
    const partial = await serve((_request, response) => json(response, 203, { attestations: [INLINE] }));
    await expect(
      fetchAttestations({ ...readOnce(partial.base), repository: 'acme/app', digests: [DIGEST] }),
    ).rejects.toThrow(/acme\/app: the attestation store answered sha256:0+7 with HTTP 203, expected 200/);
    const vanishing = await serve((_request, response, base) => {
      if (vanishing.requests.length === 2) return json(response, 404, { message: 'Not Found' });
      json(
        response,
        200,
        { attestations: [INLINE] },
        { link: `<${base}/repos/acme/app/attestations/${DIGEST}?after=p1>; rel="next"` },
      );
    });
    await expect(
      fetchAttestations({ ...readOnce(vanishing.base), repository: 'acme/app', digests: [DIGEST] }),
    ).rejects.toThrow(/acme\/app: the attestation store did not answer for sha256:0+7: Not Found/);
  });

  it('refuses a bulk answer (--owner) that is not 200', async () => {
    const api = await serve((request, response) => {
      request.resume();
      request.on('end', () =>
        json(response, 203, { attestations_subject_digests: {}, page_info: { has_next: false } }),
      );
    });
    await expect(
      fetchAttestations({ ...readOnce(api.base), repository: 'acme', digests: [DIGEST, digest(8)] }),
    ).rejects.toThrow(/acme: the attestation store answered 2 digests with HTTP 203, expected 200/);
  });
});
