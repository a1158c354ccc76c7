// The attestation store's client (packages/github/src/attestations.ts) against the testkit's GitHub, shaped as GitHub
// answers: an organisation's bulk list pages by cursor across many digests, a bundle is found under the digest it was
// asked for and never under another, an anonymous reader sees public repositories only, and a store whose pages do
// not end is an error, never a quiet truncation.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetchAttestations, type StoredAttestation } from '@twokey/github';
import { aGitHubState, aRepository, type GitHubFake, startGitHubFake } from '@twokey/testkit';
import { afterEach, describe, expect, it } from 'vitest';

const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
/** A stored entry: its marker tells which it is; nothing here is verified, only fetched. */
const entry = (subject: string, marker: number, viaUrl = false) => ({
  subjects: [subject],
  bundle: { mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', marker },
  viaUrl,
});
/** Which stored entry it is; every blob here reads. */
const markerOf = (a: StoredAttestation) => {
  if (!('text' in a)) throw new Error(a.unreadable.reason);
  return (JSON.parse(a.text) as { marker: number }).marker;
};

let github: GitHubFake | undefined;
afterEach(async () => {
  await github?.close();
  github = undefined;
});

describe('a repository’s store, one digest (GET /repos/{owner}/{repo}/attestations/{subject_digest})', () => {
  it('follows the Link header’s cursor (after), as GitHub pages it, to the last of 230 attestations', async () => {
    const app = aRepository('acme/app');
    app.attestations = Array.from({ length: 230 }, (_, i) => entry(digest(7), i, i % 50 === 0));
    github = await startGitHubFake(aGitHubState(app));

    const found = await fetchAttestations({
      apiUrl: github.url,
      token: 't',
      repository: 'acme/app',
      digests: [digest(7)],
    });

    expect(found.map(markerOf)).toEqual(Array.from({ length: 230 }, (_, i) => i));
    const reads = github.requests.filter((r) => r.route === 'GET /repos/{owner}/{repo}/attestations/{subject_digest}');
    expect(reads.map((r) => [r.query.page, r.query.after === undefined])).toEqual([
      [undefined, true],
      [undefined, false],
      [undefined, false],
    ]);
  });
});

describe('an organisation’s store, many digests at once (POST /orgs/{org}/attestations/bulk-list)', () => {
  it('follows the cursor to the end and gives each digest its attestations in the store’s order', async () => {
    const app = aRepository('acme/app');
    const lib = aRepository('acme/lib');
    // 130 attestations for the first digest (in two repositories), 45 for the second, none for the third: the answer
    // spans two pages of 100.
    app.attestations = Array.from({ length: 100 }, (_, i) => entry(digest(1), i, i % 3 === 0));
    lib.attestations = [
      ...Array.from({ length: 30 }, (_, i) => entry(digest(1), 100 + i)),
      ...Array.from({ length: 45 }, (_, i) => entry(digest(2), 200 + i, i % 2 === 0)),
    ];
    github = await startGitHubFake(aGitHubState(app, lib));

    const found = await fetchAttestations({
      apiUrl: github.url,
      token: 't',
      repository: 'acme',
      digests: [digest(1), digest(2), digest(3)],
    });

    const markers = (d: string) => found.filter((a) => a.digest === d).map(markerOf);
    expect(markers(digest(1))).toEqual(Array.from({ length: 130 }, (_, i) => i));
    expect(markers(digest(2))).toEqual(Array.from({ length: 45 }, (_, i) => 200 + i));
    expect(markers(digest(3))).toEqual([]);
    expect(found.filter((a) => a.digest === digest(1)).map((a) => a.index)).toEqual(
      Array.from({ length: 130 }, (_, i) => i),
    );
    expect(found.some((a) => a.via === 'bundle_url')).toBe(true);
    const bulk = github.requests.filter((r) => r.route === 'POST /orgs/{org}/attestations/bulk-list');
    expect(bulk.map((r) => r.query.after === undefined)).toEqual([true, false]);
  });

  it('keeps nothing the store files under a digest nobody asked for', async () => {
    const app = aRepository('acme/app');
    app.attestations = [entry(digest(1), 1), entry(digest(9), 9)];
    github = await startGitHubFake(aGitHubState(app));
    const found = await fetchAttestations({
      apiUrl: github.url,
      token: 't',
      repository: 'acme',
      digests: [digest(1), digest(2)],
    });
    expect(found.map((a) => a.digest)).toEqual([digest(1)]);
  });

  it('refuses a store whose pages do not end: an error naming it, never a quiet truncation', async () => {
    // A broken or hostile proxy in front of the store: every page says there is a next one, under the same cursor.
    const server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({ attestations_subject_digests: {}, page_info: { has_next: true, next: 'c2FtZQ' } }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const looping = fetchAttestations({
        apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        token: 't',
        repository: 'acme',
        digests: [digest(1), digest(2)],
      });
      await expect(looping).rejects.toThrow(/acme: the attestation store's pages do not end/);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('reading without a token', () => {
  it('sees a public repository’s attestations and sends no authorization', async () => {
    const app = aRepository('acme/app', { visibility: 'public' });
    app.attestations = [entry(digest(1), 1)];
    github = await startGitHubFake(aGitHubState(app));
    const found = await fetchAttestations({
      apiUrl: github.url,
      token: '',
      repository: 'acme/app',
      digests: [digest(1)],
    });
    expect(found).toHaveLength(1);
    expect(github.requests.every((r) => r.authorization === undefined)).toBe(true);
  });

  it('sees nothing of a private repository (GitHub answers 404), and nothing of it in the organisation’s list', async () => {
    const app = aRepository('acme/app');
    app.attestations = [entry(digest(1), 1)];
    github = await startGitHubFake(aGitHubState(app));
    const anonymous = { apiUrl: github.url, token: '' };
    expect(await fetchAttestations({ ...anonymous, repository: 'acme/app', digests: [digest(1)] })).toEqual([]);
    expect(await fetchAttestations({ ...anonymous, repository: 'acme', digests: [digest(1), digest(2)] })).toEqual([]);
    expect(await fetchAttestations({ ...anonymous, repository: 'acme', digests: [digest(1)] })).toEqual([]);
    const withToken = await fetchAttestations({
      apiUrl: github.url,
      token: 't',
      repository: 'acme',
      digests: [digest(1)],
    });
    expect(withToken).toHaveLength(1);
  });
});
