// Which JSON without a mediaType is a bundle reshaped (BUNDLE_MALFORMED: rejected evidence, named) and which is honest
// JSON beside the bundles (NOT_A_BUNDLE: skipped from a directory). A search for a bundle's fields at any depth, made
// for row 263, refused honest files (a DSSE envelope as cosign writes it, `verify-bundle --json` output, a deploy
// report whose pull request names a bundle's media type), crashed on a large array (exit 3), and ran out of its budget
// on padding beside a wrapped bundle (found by the review of that fix). Only a bundle's own top-level keys are looked
// for, at the top or one object down (`{"bundle": …}`), spelled any way.
import { readDeployReport } from '@twokey/core';
import { evaluateDeploy } from '@twokey/gate';
import { parseBundle, SigstoreInputError } from '@twokey/sigstore';
import { describe, expect, it } from 'vitest';
import {
  ARTIFACT,
  BINDING,
  honestBundles,
  NOW,
  policy,
  reviewBundle,
  reviewStatement,
} from '../../packages/core/src/__fixtures__/bundles';
import { honestEvidence } from '../../packages/core/src/__fixtures__/review-evidence';

function codeOf(text: string, source: string): string | undefined {
  try {
    parseBundle(text, source);
    return undefined;
  } catch (error) {
    if (!(error instanceof SigstoreInputError)) throw error;
    return error.code;
  }
}

const MEDIA = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const bundle = { mediaType: MEDIA, verificationMaterial: {}, dsseEnvelope: { payloadType: 'x' } };

describe('honest JSON beside the bundles is no bundle (skipped)', () => {
  it('a DSSE envelope, as cosign attest-blob --output-attestation and slsa-github-generator write it', () => {
    const envelope = {
      payloadType: 'application/vnd.in-toto+json',
      payload: Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}').toString('base64'),
      signatures: [{ keyid: '', sig: 'MEUCIQ==' }],
    };
    expect(codeOf(JSON.stringify(envelope), 'dist/app.intoto.jsonl#L1')).toBe('NOT_A_BUNDLE');
  });

  it('what verify-bundle --json prints for a DSSE bundle', () => {
    const out = {
      verified: true,
      bundle: 'bundles/review.sigstore.json',
      kind: 'dsse',
      payloadType: 'application/vnd.in-toto+json',
      statement: { _type: 'https://in-toto.io/Statement/v1', subject: [] },
    };
    expect(codeOf(JSON.stringify(out), 'evidence/review.verified.json')).toBe('NOT_A_BUNDLE');
  });

  it('a deploy report whose pull request title names a bundle media type', () => {
    const evidence = honestEvidence();
    evidence.pullRequest = { ...evidence.pullRequest!, title: `Accept ${MEDIA} bundles in the uploader` };
    const [signature, , provenance] = honestBundles();
    const report = evaluateDeploy({
      policy,
      binding: BINDING,
      now: NOW,
      artifacts: [ARTIFACT],
      bundles: [signature!, reviewBundle(reviewStatement([ARTIFACT], evidence)), provenance!],
    });
    const text = JSON.stringify(report, null, 2);
    expect(readDeployReport(text, 'deploy-report.json').artifacts[0]!.chain.pullRequest!.title).toContain(MEDIA);
    expect(codeOf(text, 'evidence/123/deploy-report-abc.json')).toBe('NOT_A_BUNDLE');
  });

  // Found by the review of the fix: a `mediaType` one object down counted whatever it named.
  it.each([
    [
      'an OCI image manifest without its top-level mediaType',
      { schemaVersion: 2, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: 'sha256:00' } },
    ],
    ['a Kubernetes ConfigMap', { apiVersion: 'v1', kind: 'ConfigMap', data: { mediaType: 'text/plain' } }],
    ['terraform output -json', { media_type: { sensitive: false, type: 'string', value: 'image/png' } }],
    ['a package.json', { name: 'app', dependencies: { 'media-type': '^0.3.1' } }],
  ])('%s', (_what, value) => {
    expect(codeOf(JSON.stringify(value), 'evidence/other.json')).toBe('NOT_A_BUNDLE');
  });

  it('an object holding a large array (JSON.stringify of a Buffer): no bundle, not an internal error', () => {
    expect(codeOf(JSON.stringify(Buffer.alloc(200_000)), 'evidence/blob.json')).toBe('NOT_A_BUNDLE');
  });
});

describe('a bundle reshaped is a malformed bundle (rejected, named)', () => {
  it.each([
    ['wrapped as the attestation API returns an entry', { bundle, repository_id: 1 }],
    [
      'wrapped, then padded with a large array',
      { bundle, pad: Array.from({ length: 11 }, () => new Array(100_000).fill(0)) },
    ],
    ['its keys in snake case', { media_type: MEDIA, verification_material: {}, dsse_envelope: {} }],
    ['its keys with a zero-width space', { 'mediaType\u200b': MEDIA, 'verificationMaterial\u200b': {} }],
    ['its mediaType taken out', { verificationMaterial: {}, dsseEnvelope: {} }],
  ])('%s', (_what, value) => {
    expect(codeOf(JSON.stringify(value), 'evidence/acme/web/deploy-approvals/1.sigstore.json')).toBe(
      'BUNDLE_MALFORMED',
    );
  });
});
