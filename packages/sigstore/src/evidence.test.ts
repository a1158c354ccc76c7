import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { rejectionCauses } from '@twokey/core';
import { describe, expect, it } from 'vitest';
import { SigstoreInputError } from './error';
import { bundlePaths, isRejected, loadBundles, verifyEvidence } from './evidence';
import { publicGoodTrustedRoot, trustedRootFromJSON } from './trust';
import { BundleVerifier } from './verify';

const realdata = resolve(import.meta.dirname, '..', '..', '..', '..', 'shared', 'sigstore-realdata');
const npmProvenance = join(realdata, 'sigstore-js-2.1.0-bundle.json');

function workdir(): string {
  return mkdtempSync(join(tmpdir(), 'twokey-evidence-'));
}

describe('loadBundles', () => {
  it('expands a directory into every JSON file below it', () => {
    const dir = workdir();
    copyFileSync(npmProvenance, join(dir, 'a.json'));
    copyFileSync(npmProvenance, join(dir, 'b.sigstore.json'));
    writeFileSync(join(dir, 'notes.txt'), 'not a bundle');
    expect(bundlePaths([dir]).map((p) => p.slice(dir.length + 1))).toEqual(['a.json', 'b.sigstore.json']);
  });

  it('names a truncated bundle in a bundle directory instead of skipping it', () => {
    const dir = workdir();
    copyFileSync(npmProvenance, join(dir, 'good.json'));
    const text = readFileSync(npmProvenance, 'utf8');
    writeFileSync(join(dir, 'truncated.json'), text.slice(0, text.length / 2));
    expect(() => loadBundles([dir])).toThrow(SigstoreInputError);
    expect(() => loadBundles([dir])).toThrow(/truncated\.json: bundle is not JSON/);
  });

  it('refuses a pattern that matches nothing and a path that does not exist', () => {
    const dir = workdir();
    expect(() => loadBundles([join(dir, '*.json')])).toThrow(/no bundle file matches/);
    expect(() => loadBundles([join(dir, 'missing.json')])).toThrow(/no such file/);
  });
});

describe('verifyEvidence', () => {
  it('verifies a real bundle without an expected identity and reports who signed it', () => {
    const verifier = new BundleVerifier(publicGoodTrustedRoot());
    const [parsed] = loadBundles([npmProvenance]);
    const result = verifyEvidence(verifier, parsed!);
    expect(isRejected(result)).toBe(false);
    if (isRejected(result)) return;
    expect(result.signer.san).toBe(
      'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main',
    );
    // Its Rekor entry's integrated time: the one verified signing time the bundle carries.
    expect(result.signedAt).toEqual([new Date('2023-08-29T15:40:23Z')]);
  });

  it('rejects, with a reason, a bundle signed under another trusted root', () => {
    const root = publicGoodTrustedRoot().root;
    const otherRoot = trustedRootFromJSON(
      {
        mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
        tlogs: [],
        ctlogs: [],
        certificateAuthorities: [],
        timestampAuthorities: [],
      },
      'empty-root',
    );
    expect(root.certificateAuthorities.length).toBeGreaterThan(0);
    const [parsed] = loadBundles([npmProvenance]);
    const result = verifyEvidence(new BundleVerifier(otherRoot), parsed!);
    expect(isRejected(result)).toBe(true);
    // Named for its root cause, the same words for every bundle of that instance: the root to give is the fix.
    expect(result).toMatchObject({
      code: 'CERTIFICATE_CHAIN_UNTRUSTED',
      reason: `${npmProvenance}: the signing certificate (issued by O=sigstore.dev, CN=sigstore-intermediate) chains to no certificate authority of the trusted root empty-root`,
    });
  });

  it('groups bundles rejected for one cause: one cause for all the bundles of another instance', () => {
    const empty = trustedRootFromJSON(
      {
        mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
        tlogs: [],
        ctlogs: [],
        certificateAuthorities: [],
        timestampAuthorities: [],
      },
      'empty-root',
    );
    const dir = workdir();
    const copies = ['a.json', 'b.json', 'c.json'].map((name) => join(dir, name));
    for (const copy of copies) copyFileSync(npmProvenance, copy);
    const verifier = new BundleVerifier(empty);
    const rejected = loadBundles(copies)
      .map((parsed) => verifyEvidence(verifier, parsed))
      .filter(isRejected);
    const other = { source: 'd.json', code: 'SIGNATURE_INVALID', reason: 'd.json: signature does not verify' };
    expect(rejectionCauses([...rejected, other])).toEqual([
      {
        code: 'CERTIFICATE_CHAIN_UNTRUSTED',
        cause:
          'the signing certificate (issued by O=sigstore.dev, CN=sigstore-intermediate) chains to no certificate authority of the trusted root empty-root',
        sources: copies,
      },
      { code: 'SIGNATURE_INVALID', cause: 'signature does not verify', sources: ['d.json'] },
    ]);
  });
});
