// A read's bound on what it hands out (found by the review of the shared texts): one string per distinct bundle text
// bounds the reader's memory, but each caller writes and verifies an entry per digest, so a few distinct bundles of
// 16 MiB each naming every artifact of a deploy passed the bound on distinct text and were written to the runner's
// disk once per digest. What a read hands out is bounded too (MAX_LISTED_CHARACTERS, 2 Gi by default: an honest release
// of 1,024 artifacts hands out ~342 Mi — test/slow/store-multi-subject.slow.ts); here at a bound of 32 Mi.
import { AttestationStoreError, fetchAttestations, MAX_LISTED_CHARACTERS } from '@twokey/github';
import { aGitHubState, aRepository, startGitHubFake } from '@twokey/testkit';
import { describe, expect, it } from 'vitest';

describe('one large bundle naming 64 artifacts', () => {
  it('is refused once what the read hands out passes its bound, though its text is kept once', async () => {
    const digests = Array.from({ length: 64 }, (_, i) => `sha256:${i.toString(16).padStart(64, '0')}`);
    const app = aRepository('acme/app');
    const pad = 'x'.repeat(1024 * 1024);
    app.attestations = [
      { subjects: digests, bundle: { mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', pad } as never },
    ];
    const github = await startGitHubFake(aGitHubState(app));
    try {
      const query = { apiUrl: github.url, token: 'ghp_x', repository: 'acme/app', digests };
      const read = fetchAttestations({ ...query, listedCharacters: 32 * 1024 * 1024 });
      await expect(read).rejects.toThrow(AttestationStoreError);
      await expect(read).rejects.toThrow(
        /more than 33554432 characters of bundles listed under these digests in acme\/app/,
      );
      // Under the default bound, the same read is whole: 64 entries, one string.
      const whole = await fetchAttestations(query);
      expect(whole).toHaveLength(64);
      expect(MAX_LISTED_CHARACTERS).toBeGreaterThan(64 * (pad.length + 100));
    } finally {
      await github.close();
    }
  });
});
