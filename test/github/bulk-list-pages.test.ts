// An organisation's attestation store read in bulk (`twokey verify --owner`, `twokey report --owner`, the gate's reads
// of a break-glass's sibling subjects: "List attestations by bulk subject digests", POST /orgs/{org}/attestations/
// bulk-list, paged by `page_info`). A page that said more pages follow but gave no cursor to them ended the read, and
// so did a 200 answer without its `attestations_subject_digests`: what the later pages held (an earlier use of a
// break-glass, a PASSED decision record) went unread and unsaid, the store taken as read whole — while the one-digest
// read refuses such an answer (found by the fail-closed review). Now each is a store that could not be read.
// GitHub's answer is the fake's, changed on its way by a proxy in front of it, as GitHub might send it.
import { createServer, type Server } from 'node:http';
import { type AttestationStoreError, fetchAttestations } from '@twokey/github';
import { aGitHubState, aRepository, type GitHubFake, startGitHubFake } from '@twokey/testkit';
import { afterEach, describe, expect, it } from 'vitest';

const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const A = digest(7);
const B = digest(8);
const bundle = (marker: number) => ({
  mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
  verificationMaterial: { marker },
  dsseEnvelope: {},
});

type Page = { attestations_subject_digests?: unknown; page_info?: Record<string, unknown> };

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/**
 * The fake organisation store (acme/app holds two entries for A, none for B), behind a proxy that asks it one entry a
 * page and passes each bulk-list page through `change`.
 */
async function store(change: (page: Page) => Page): Promise<{ url: string; requests: string[] }> {
  const app = aRepository('acme/app');
  app.attestations = [
    { subjects: [A], bundle: bundle(1) as never },
    { subjects: [A], bundle: bundle(2) as never },
  ];
  const fake: GitHubFake = await startGitHubFake(aGitHubState(app));
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      void (async () => {
        const url = new URL(req.url!, fake.url);
        const bulk = url.pathname.endsWith('/attestations/bulk-list');
        if (bulk) url.searchParams.set('per_page', '1');
        requests.push(`${req.method} ${url.pathname}${url.search}`);
        const upstream = await fetch(url, {
          method: req.method,
          headers: {
            authorization: req.headers.authorization ?? '',
            accept: req.headers.accept ?? '',
            'content-type': req.headers['content-type'] ?? 'application/json',
          },
          ...(req.method === 'POST' && { body }),
        });
        let text = await upstream.text();
        if (bulk && upstream.status === 200) text = JSON.stringify(change(JSON.parse(text) as Page));
        res.writeHead(upstream.status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(text);
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () => new Promise<void>((resolve) => server.close(() => resolve())),
    () => fake.close(),
  );
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, requests };
}

const read = (apiUrl: string) => fetchAttestations({ apiUrl, token: 'ghs_x', repository: 'acme', digests: [A, B] });
const markers = (entries: Awaited<ReturnType<typeof read>>) =>
  entries.map((e) => ('text' in e ? JSON.parse(e.text).verificationMaterial.marker : 'unreadable'));

async function refusal(apiUrl: string): Promise<AttestationStoreError> {
  const error = await read(apiUrl).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, 'the read must be refused').toBeInstanceOf(Error);
  expect((error as Error).name).toBe('AttestationStoreError');
  return error as AttestationStoreError;
}

describe("the organisation store's bulk list, page after page", () => {
  it('reads every page as GitHub gives them (the control)', async () => {
    const { url, requests } = await store((page) => page);
    expect(markers(await read(url))).toEqual([1, 2]);
    expect(requests.filter((r) => r.includes('bulk-list'))).toHaveLength(2);
  });

  it('refuses a page that says more pages follow but gives no cursor to them, never ending the list there', async () => {
    const { url } = await store((page) => {
      if (page.page_info?.has_next) delete page.page_info.next;
      return page;
    });
    expect((await refusal(url)).message).toBe(
      "acme: the attestation store's answer for 2 digests says more pages follow but gives no cursor to them (page_info.next)",
    );
  });

  it('refuses an answer that lists no attestations, or does not say whether more pages follow', async () => {
    for (const [change, says] of [
      [
        (page: Page) => ({ page_info: page.page_info }),
        'lists no attestations (no attestations_subject_digests object)',
      ],
      [
        (page: Page) => ({ ...page, attestations_subject_digests: [] }),
        'lists no attestations (no attestations_subject_digests object)',
      ],
      [
        (page: Page) => ({ ...page, attestations_subject_digests: { [A]: 'none', [B]: null } }),
        `lists ${A}'s attestations as neither a list nor null`,
      ],
      [
        (page: Page) => ({ attestations_subject_digests: page.attestations_subject_digests }),
        'does not say whether more pages follow (no page_info.has_next)',
      ],
    ] as const) {
      const { url } = await store(change);
      expect((await refusal(url)).message).toBe(`acme: the attestation store's answer for 2 digests ${says}`);
    }
  });
});
