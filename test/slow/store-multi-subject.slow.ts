// One read of the store keeps at most MAX_KEPT_CHARACTERS of distinct bundles (row 246). Counted once per digest, a
// multi-subject bundle was counted a thousand times (found by the review of that bound): an honest release at the
// build action's own subject limit (MAX_SUBJECTS = 1024), whose provenance and review attestation each name every
// artifact, was refused by one read (the gate's, `twokey verify --repo`) though the store holds two distinct bundles.
// Now a text read for several digests is one string, counted once.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_SUBJECTS } from '@twokey/core';
import { fetchAttestations, MAX_KEPT_CHARACTERS } from '@twokey/github';
import { aGitHubState, aRepository, startGitHubFake } from '@twokey/testkit';
import { describe, expect, it } from 'vitest';

const FIXTURES = join(__dirname, '../../packages/cli/__fixtures__/code-cache-release');

/** A fixture bundle whose DSSE statement names `subjects` instead of its one artifact (its size as signed). */
function withSubjects(file: string, subjects: { name: string; digest: { sha256: string } }[]): object {
  const bundle = JSON.parse(readFileSync(join(FIXTURES, file), 'utf8'));
  const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
  statement.subject = [...subjects, ...statement.subject.slice(1)];
  bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
  return bundle;
}

describe('one release of MAX_SUBJECTS artifacts, its provenance and review attestation multi-subject', () => {
  it('is read whole: the same two bundles kept once, under every digest', async () => {
    const n = MAX_SUBJECTS;
    const subjects = Array.from({ length: n }, (_, i) => ({
      name: `app-${String(i).padStart(4, '0')}.tar.gz`,
      digest: { sha256: createHash('sha256').update(`artifact ${i}`).digest('hex') },
    }));
    const digests = subjects.map((s) => `sha256:${s.digest.sha256}`);
    const provenance = withSubjects('app-0000.provenance.sigstore.json', subjects);
    const review = withSubjects('app-0000.review.sigstore.json', subjects);
    const sizes = [provenance, review].map((b) => JSON.stringify(b).length);
    const app = aRepository('acme/app');
    app.attestations = [
      { subjects: digests, bundle: provenance as never },
      { subjects: digests, bundle: review as never },
    ];
    const github = await startGitHubFake(aGitHubState(app));
    try {
      const read = await fetchAttestations({ apiUrl: github.url, token: 'ghp_x', repository: 'acme/app', digests });
      // Counted a thousand times, the two would have been past the bound.
      expect(n * (sizes[0]! + sizes[1]!)).toBeGreaterThan(MAX_KEPT_CHARACTERS);
      const texts = read.flatMap((entry) => ('text' in entry ? [entry.text] : []));
      expect(texts).toHaveLength(2 * n);
      expect(new Set(texts).size).toBe(2);
    } finally {
      await github.close();
    }
  }, 120_000);
});
