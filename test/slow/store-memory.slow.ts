// Distinct large bundles under one digest (found by the review of the attestation store as input): each entry is at
// most 16 MiB and copies are read once, but every distinct entry was kept whole until the read ended, and a Snappy
// blob of ~0.8 MB decompresses to 16 MiB — a writer storing a thousand distinct ones under a released digest made one
// read hold 16 GiB: the gate or `twokey verify --repo` died out of memory, with no verdict and no decision record.
// Now a read keeps at most MAX_KEPT_CHARACTERS of distinct bundles and is refused past it, with the reason.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { AttestationStoreError, fetchAttestations, MAX_KEPT_CHARACTERS } from '@twokey/github';
import { aGitHubState, aRepository, type FakeAttestation, startGitHubFake } from '@twokey/testkit';
import { describe, expect, it } from 'vitest';

const { compress } = createRequire(join(__dirname, '../../packages/github/package.json'))('snappyjs') as {
  compress: (input: Uint8Array) => Uint8Array;
};
const DIGEST = `sha256:${'ab'.repeat(32)}`;
const ENTRY_BYTES = 15 * 2 ** 20;

describe('distinct large entries under one digest', () => {
  it('are refused past the characters a read keeps, with the reason, though each is under the bundle limit', async () => {
    const entries = Math.ceil(MAX_KEPT_CHARACTERS / ENTRY_BYTES) + 1;
    const app = aRepository('acme/app');
    const filler = 'x'.repeat(ENTRY_BYTES);
    app.attestations = Array.from(
      { length: entries },
      (_, i): FakeAttestation => ({
        subjects: [DIGEST],
        bundle: { mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', n: i, pad: filler },
        viaUrl: true,
      }),
    );
    const blob = compress(new Uint8Array(Buffer.from(JSON.stringify(app.attestations[0]!.bundle))));
    // What crosses the network is small: the amplification the cap bounds.
    expect((entries * blob.byteLength) / 2 ** 20).toBeLessThan(32);
    const github = await startGitHubFake(aGitHubState(app));
    try {
      const read = fetchAttestations({ apiUrl: github.url, token: 'ghp_x', repository: 'acme/app', digests: [DIGEST] });
      await expect(read).rejects.toThrow(AttestationStoreError);
      await expect(read).rejects.toThrow(
        `${DIGEST}: more than 256 Mi characters of distinct bundles in acme/app (with the other digests read)`,
      );
    } finally {
      await github.close();
    }
  });
});
