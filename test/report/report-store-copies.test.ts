// `twokey report --repo` over a store whose bundles name many artifacts (row 246's remainder). A release's provenance,
// review attestation and decision records name every artifact, and GitHub's attestation store lists each under every
// digest; a writer of the repository can store one large bundle naming as many digests as she likes. The report read
// the store 512 digests at a time and wrote each entry of each digest to a file of its own, then verified every file:
// one 16 MiB bundle listed under 512 digests was 8 GiB on the auditor's disk, and 512 verifications, per slice. Now
// each distinct text is written and verified once, across slices too, and counted once, as the ledger counts a signed
// event once whatever carried it.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EvidenceLedger } from '@twokey/core';
import { loadTrustedRoot, readPolicyFiles } from '@twokey/sigstore';
import { aGitHubState, aRepository, startGitHubFake } from '@twokey/testkit';
import { describe, expect, it } from 'vitest';
import { REPORT_STORE_DIGESTS, readReportEvidence } from '../../packages/cli/src/report-evidence';

const FIXTURES = join(__dirname, '../../packages/cli/__fixtures__/code-cache-release');

/** A ledger whose counted evidence names `digests` (as an organisation's decision records would). */
class LedgerNaming extends EvidenceLedger {
  constructor(
    policy: ConstructorParameters<typeof EvidenceLedger>[0],
    private readonly named: string[],
  ) {
    super(policy, { owner: 'acme' });
  }
  override artifactDigests(): Set<string> {
    return new Set(this.named);
  }
}

describe('twokey report reading the attestation store', () => {
  it('writes, verifies and counts a bundle listed under many digests once, across slices of the store', async () => {
    // More digests than one read of the store answers for, so the copies span slices.
    const n = REPORT_STORE_DIGESTS + 88;
    const named = Array.from({ length: n }, (_, i) => createHash('sha256').update(`artifact ${i}`).digest('hex'));
    const review = JSON.parse(readFileSync(join(FIXTURES, 'app-0000.review.sigstore.json'), 'utf8'));
    const provenance = JSON.parse(readFileSync(join(FIXTURES, 'app-0000.provenance.sigstore.json'), 'utf8'));
    const app = aRepository('acme/app');
    app.attestations = [
      { subjects: named.map((hex) => `sha256:${hex}`), bundle: review },
      // Listed under one digest only: read once either way.
      { subjects: [`sha256:${named[7]}`], bundle: provenance },
    ];
    const policy = readPolicyFiles('policy.yml', undefined, FIXTURES);
    const ledger = new LedgerNaming(policy, named);
    const progress: number[] = [];
    const github = await startGitHubFake(aGitHubState(app));
    try {
      const read = await readReportEvidence({
        bundles: [],
        cwd: FIXTURES,
        trust: loadTrustedRoot(join(FIXTURES, 'trusted_root.json')),
        ledger,
        store: { repository: 'acme/app', apiUrl: github.url, token: 'ghs_report' },
        workers: 1,
        onProgress: (done) => progress.push(done),
      });
      // Two distinct bundles: each written to disk and verified once (it was n + 1 files, n + 1 verifications).
      expect(read.fromStore).toBe(2);
      expect(ledger.counts).toMatchObject({ read: 2, verified: 2, rejected: 0, duplicates: 0 });
      expect(ledger.findings).toEqual([]);
      expect(ledger.reviews).toHaveLength(1);
      expect(progress.at(-1)).toBe(2);
    } finally {
      await github.close();
    }
  }, 120_000);
});
