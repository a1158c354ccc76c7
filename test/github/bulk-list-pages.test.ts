// An organisation's attestation store read in bulk (`twokey verify --owner`, `twokey report --owner`, the gate's reads
// of a break-glass's sibling subjects: "List attestations by bulk subject digests", POST /orgs/{org}/attestations/
// bulk-list, paged by a Link header and, in its OpenAPI description, a `page_info` in the body). A page that said more pages follow but gave no cursor to them ended the read, and
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
 * page and passes each bulk-list page through `change`, which may also give the answer a Link header.
 */
async function store(
  change: (page: Page, proxy: string) => { page: unknown; link?: string },
): Promise<{ url: string; requests: string[] }> {
  const app = aRepository('acme/app');
  app.attestations = [
    { subjects: [A], bundle: bundle(1) as never },
    { subjects: [A], bundle: bundle(2) as never },
  ];
  const fake: GitHubFake = await startGitHubFake(aGitHubState(app));
  const requests: string[] = [];
  let proxy = '';
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
        const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
        if (bulk && upstream.status === 200) {
          const changed = change(JSON.parse(text) as Page, proxy);
          text = JSON.stringify(changed.page);
          if (changed.link) headers.link = changed.link;
        }
        res.writeHead(upstream.status, headers);
        res.end(text);
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () => new Promise<void>((resolve) => server.close(() => resolve())),
    () => fake.close(),
  );
  proxy = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { url: proxy, requests };
}

/** The page as GitHub's other store lists page: its cursor in a Link header, no page_info in the body. */
function linked(page: Page, proxy: string): { page: unknown; link?: string } {
  const { page_info: info, ...rest } = page;
  const next = info?.has_next ? (info.next as string) : undefined;
  return {
    page: rest,
    ...(next && { link: `<${proxy}/orgs/acme/attestations/bulk-list?per_page=100&after=${next}>; rel="next"` }),
  };
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
  it('reads every page as GitHub gives them, paged in the body or by a Link header (the control)', async () => {
    for (const change of [(page: Page) => ({ page }), linked]) {
      const { url, requests } = await store(change);
      expect(markers(await read(url))).toEqual([1, 2]);
      expect(requests.filter((r) => r.includes('bulk-list'))).toHaveLength(2);
    }
  });

  it("reads the digests' maps listed in an array, as GitHub's documentation shows the answer", async () => {
    const { url } = await store((page) => ({
      page: {
        ...page,
        attestations_subject_digests: Object.entries(page.attestations_subject_digests as object).map(([d, l]) => ({
          [d]: l,
        })),
      },
    }));
    expect(markers(await read(url))).toEqual([1, 2]);
  });

  it('refuses a page that says more pages follow but gives no cursor to them, never ending the list there', async () => {
    const { url } = await store((page) => {
      if (page.page_info?.has_next) delete page.page_info.next;
      return { page };
    });
    expect((await refusal(url)).message).toBe(
      "acme: the attestation store's answer for 2 digests says more pages follow but gives no cursor to them (page_info.next)",
    );
  });

  it('ends the list where page_info says no page follows, whatever cursor it gives (an end cursor on every page)', async () => {
    const { url, requests } = await store((page) => ({
      page: { ...page, page_info: { ...page.page_info, has_next: false } },
    }));
    expect(markers(await read(url))).toEqual([1]);
    expect(requests.filter((r) => r.includes('bulk-list'))).toHaveLength(1);
  });

  it('refuses a Link header that pages on otherwise than page_info, or names its next page in a way it cannot read', async () => {
    for (const [change, says] of [
      [
        (page: Page, proxy: string) => ({
          page: { ...page, page_info: { has_next: false } },
          link: `<${proxy}/orgs/acme/attestations/bulk-list?after=MQ>; rel="next"`,
        }),
        "acme: the attestation store's answer for 2 digests pages on in its Link header otherwise than in its page_info",
      ],
      [
        (page: Page, proxy: string) => {
          const { page_info: info, ...rest } = page;
          return { page: rest, link: `<${proxy}/orgs/acme/attestations/bulk-list?after=${info?.next}>; rel=next` };
        },
        'Link header names a next page it cannot be read from',
      ],
    ] as const) {
      const { url } = await store(change);
      expect((await refusal(url)).message).toContain(says);
    }
  });

  it('refuses an answer that lists no attestations, a list that is none, or entries under a digest not asked for', async () => {
    for (const [change, says] of [
      [
        (page: Page) => ({ page: { page_info: page.page_info } }),
        'lists no attestations (no attestations_subject_digests map of digests)',
      ],
      [
        (page: Page) => ({ page: { ...page, attestations_subject_digests: 'none' } }),
        'lists no attestations (no attestations_subject_digests map of digests)',
      ],
      [
        (page: Page) => ({ page: { ...page, attestations_subject_digests: { [A]: 'none', [B]: null } } }),
        `lists ${A}'s attestations as neither a list nor null`,
      ],
      [
        // The digest named without its algorithm: A's entries would be no one's, and A would read as having none.
        (page: Page) => ({
          page: {
            ...page,
            attestations_subject_digests: Object.fromEntries(
              Object.entries(page.attestations_subject_digests as object).map(([d, l]) => [
                d.replace('sha256:', ''),
                l,
              ]),
            ),
          },
        }),
        `lists attestations under "${A.replace('sha256:', '')}", which it was not asked for`,
      ],
      [
        (page: Page) => ({ page: { ...page, page_info: { has_previous: false } } }),
        'gives a page_info without has_next',
      ],
    ] as const) {
      const { url } = await store(change);
      expect((await refusal(url)).message).toBe(`acme: the attestation store's answer for 2 digests ${says}`);
    }
  });

  it('refuses an entry that is no object, as a store it could not read (never an internal error)', async () => {
    const { url } = await store((page) => ({ page: { ...page, attestations_subject_digests: { [A]: [null] } } }));
    expect((await refusal(url)).message).toBe(`${A}: attestation 0 is no object`);
  });
});
