// The deploy gate's read of the attestation store writes each distinct text to disk once (row 246). A release's
// provenance, review attestation and decision records name every artifact, and the store lists each under every
// digest; a writer of the repository can store one large bundle naming every artifact of a release. Written once per
// digest, a few 16 MiB bundles naming 64 artifacts were gigabytes on the runner's disk before anything was judged.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Digest } from '@twokey/core';
import { aGitHubState, aRepository, startGitHubFake } from '@twokey/testkit';
import { describe, expect, it } from 'vitest';
import { storedEvidence } from './gate';

const FIXTURES = join(__dirname, '../../cli/__fixtures__/code-cache-release');

describe("the deploy gate's read of the attestation store", () => {
  it('writes a bundle listed under every artifact of a release once, however many artifacts it names', async () => {
    const hexes = Array.from({ length: 64 }, (_, i) => createHash('sha256').update(`artifact ${i}`).digest('hex'));
    const digests = hexes.map((hex) => `sha256:${hex}`);
    const review = JSON.parse(readFileSync(join(FIXTURES, 'app-0000.review.sigstore.json'), 'utf8'));
    const provenance = JSON.parse(readFileSync(join(FIXTURES, 'app-0000.provenance.sigstore.json'), 'utf8'));
    // The same bundle again under a few digests, padded with a field of its own: another text, written once too.
    const padded = { ...review, padding: 'x'.repeat(1 << 20) };
    const app = aRepository('acme/app');
    app.attestations = [
      { subjects: digests, bundle: review },
      { subjects: digests, bundle: provenance },
      { subjects: digests.slice(0, 5), bundle: padded },
    ];
    const github = await startGitHubFake(aGitHubState(app));
    let directory: string | undefined;
    try {
      const stored = await storedEvidence(
        { repository: 'acme/app', apiUrl: github.url, token: 'ghs_deploy' },
        hexes.map((hex) => ({ digest: sha256Digest(hex) })),
      );
      directory = stored.directory;
      const files = readdirSync(directory);
      expect(files).toHaveLength(3);
      const bytes = files.reduce((sum, f) => sum + statSync(join(stored.directory, f)).size, 0);
      expect(bytes).toBeLessThan(2 * (1 << 20));
      // Every entry is still named where the store lists it (the report's links), though written once.
      expect(stored.uris.size).toBe(64 + 64 + 5);
      expect(stored.names.size).toBe(3);
      expect(stored.rejected).toEqual([]);
    } finally {
      if (directory) rmSync(directory, { recursive: true, force: true });
      await github.close();
    }
  }, 60_000);
});
