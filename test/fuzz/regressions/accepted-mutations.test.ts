// Fuzzer findings, fixed: mutated bundles that verified. Each case is the mutation the fuzzer generated (seed 5 of
// `npm run fuzz`, run on the tree before bundles were read in one canonical encoding, 4237d7c), where
// `twokey verify-bundle` (or the packages it calls) accepted a bundle that was not the seed: an int64 spelt another
// way, a checkpoint with extra text, an inclusion proof that disagreed with its checkpoint, a message digest without
// an algorithm, DER re-encoded outside what a signature covers. Now each is refused, and the code says which rule.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleOp } from '../bundle-mutations';
import { disposeContext, type FuzzContext } from '../cases';
import { describeReport, regressionContext, replay, seedIndex } from './replay';

interface Fixed {
  attack: string;
  seed: string;
  via: 'packages' | 'cli';
  /** Refused (exit 1), or an input error (exit 2: a bundle that is not what the format writes). */
  outcome?: 'refused' | 'input-error';
  ops: BundleOp[];
}

const FIXED: Fixed[] = [
  {
    attack: 'refuses integratedTime spelt with a leading zero (INTEGER_NOT_CANONICAL)',
    seed: 'conformance/managed-key-happy-path',
    via: 'packages',
    ops: [
      { op: 'int64', path: ['verificationMaterial', 'tlogEntries', 0, 'integratedTime'], spelling: 'leading-zero' },
    ],
  },
  {
    attack: 'refuses logIndex spelt as an exponent (INTEGER_NOT_CANONICAL)',
    seed: 'conformance/rekor2-dsse-happy-path',
    via: 'packages',
    ops: [{ op: 'int64', path: ['verificationMaterial', 'tlogEntries', 0, 'logIndex'], spelling: 'exponent' }],
  },
  {
    attack: "refuses an inclusion proof whose treeSize is 0 (not the checkpoint's) (INCLUSION_PROOF_MISMATCH)",
    seed: 'realdata/hello-world.rekor-v2-hashedrekord',
    via: 'packages',
    ops: [
      { op: 'int64', path: ['verificationMaterial', 'tlogEntries', 0, 'inclusionProof', 'treeSize'], spelling: 'zero' },
    ],
  },
  {
    attack: 'refuses a checkpoint with 2,000 copies of its signature line (CHECKPOINT_NOT_CANONICAL)',
    seed: 'conformance/happy-path-v0.2',
    via: 'packages',
    ops: [
      {
        op: 'checkpoint',
        path: ['verificationMaterial', 'tlogEntries', 0, 'inclusionProof', 'checkpoint', 'envelope'],
        how: 'many-signatures',
        pick: 848333837,
      },
    ],
  },
  {
    attack: 'refuses a checkpoint with two blank lines before the signatures (CHECKPOINT_NOT_CANONICAL)',
    seed: 'conformance/rekor2-dsse-happy-path',
    via: 'packages',
    ops: [
      {
        op: 'checkpoint',
        path: ['verificationMaterial', 'tlogEntries', 0, 'inclusionProof', 'checkpoint', 'envelope'],
        how: 'double-blank-line',
        pick: 1389560941,
      },
    ],
  },
  {
    attack: 'refuses an inclusion proof without its treeSize (read as 0) (INCLUSION_PROOF_MISMATCH)',
    seed: 'conformance/bundle-with-sct-with-extensions',
    via: 'packages',
    ops: [{ op: 'drop', path: ['verificationMaterial', 'tlogEntries', 0, 'inclusionProof', 'treeSize'] }],
  },
  {
    attack: 'refuses a message digest whose algorithm is 0 (was read as SHA-256) (DIGEST_ALGORITHM_UNKNOWN)',
    seed: 'loopback/message-signature',
    via: 'packages',
    ops: [{ op: 'enum', path: ['messageSignature', 'messageDigest', 'algorithm'], value: 0 }],
  },
  {
    attack: 'refuses a timestamp token with its ECDSA signature malleated (r, n - s) (TIMESTAMP_INVALID)',
    seed: 'conformance/rekor2-checkpoint-cosigned',
    via: 'cli',
    ops: [
      {
        op: 'der',
        path: ['verificationMaterial', 'timestampVerificationData', 'rfc3161Timestamps', 0, 'signedTimestamp'],
        how: 'high-s',
        region: 'any',
        pick: 991536854,
        bit: 0,
      },
    ],
  },
  {
    attack: 'refuses a v0.3 bundle relabelled v0.2 (MEDIA_TYPE_MISMATCH)',
    seed: 'loopback/dsse',
    via: 'packages',
    ops: [{ op: 'enum', path: ['mediaType'], value: 'application/vnd.dev.sigstore.bundle+json;version=0.2' }],
  },
  {
    attack: 'refuses a checkpoint with an extra blank line at the end (CHECKPOINT_NOT_CANONICAL)',
    seed: 'conformance/managed-key-happy-path',
    via: 'cli',
    ops: [
      {
        op: 'checkpoint',
        path: ['verificationMaterial', 'tlogEntries', 0, 'inclusionProof', 'checkpoint', 'envelope'],
        how: 'extra-final-newline',
        pick: 1727378501,
      },
    ],
  },
  {
    attack: 'refuses a message digest without an algorithm (was read as SHA-256) (DIGEST_ALGORITHM_UNKNOWN)',
    seed: 'loopback/message-signature',
    via: 'packages',
    ops: [{ op: 'drop', path: ['messageSignature', 'messageDigest', 'algorithm'] }],
  },
  {
    attack: 'refuses treeSize spelt empty (INTEGER_NOT_CANONICAL)',
    seed: 'loopback/message-signature',
    via: 'packages',
    ops: [
      {
        op: 'int64',
        path: ['verificationMaterial', 'tlogEntries', 0, 'inclusionProof', 'treeSize'],
        spelling: 'empty',
      },
    ],
  },
  {
    attack: 'refuses treeSize spelt as -0 (INTEGER_NOT_CANONICAL)',
    seed: 'conformance/bundle-with-sct-with-extensions',
    via: 'cli',
    ops: [
      {
        op: 'int64',
        path: ['verificationMaterial', 'tlogEntries', 0, 'inclusionProof', 'treeSize'],
        spelling: 'negative-zero',
      },
    ],
  },
  {
    attack: 'refuses logIndex spelt with a plus sign (INTEGER_NOT_CANONICAL)',
    seed: 'conformance/rekor2-dsse-happy-path',
    via: 'packages',
    ops: [
      { op: 'int64', path: ['verificationMaterial', 'tlogEntries', 0, 'inclusionProof', 'logIndex'], spelling: 'plus' },
    ],
  },
  {
    attack: 'refuses treeSize spelt as a JSON number (INTEGER_NOT_CANONICAL)',
    seed: 'realdata/sigstore-js-2.1.0',
    via: 'packages',
    ops: [
      {
        op: 'int64',
        path: ['verificationMaterial', 'tlogEntries', 0, 'inclusionProof', 'treeSize'],
        spelling: 'number',
      },
    ],
  },
  {
    attack: 'refuses a certificate with an element retagged outside what its signature covers (CERTIFICATE_NOT_DER)',
    seed: 'realdata/hello-world.rekor-v2-hashedrekord',
    via: 'cli',
    ops: [
      {
        op: 'der',
        path: ['verificationMaterial', 'certificate', 'rawBytes'],
        how: 'change-tag',
        region: 'outside',
        pick: 10,
        bit: 1,
      },
    ],
  },
  {
    attack: 'refuses a checkpoint with the same signature line twice (CHECKPOINT_NOT_CANONICAL)',
    seed: 'realdata/custom-issuer',
    via: 'packages',
    ops: [
      {
        op: 'checkpoint',
        path: ['verificationMaterial', 'tlogEntries', 0, 'inclusionProof', 'checkpoint', 'envelope'],
        how: 'dup-signature',
        pick: 2147483642,
      },
    ],
  },
  {
    attack: 'refuses treeSize spelt as a decimal (N.0) (INTEGER_NOT_CANONICAL)',
    seed: 'conformance/happy-path-v0.2',
    via: 'packages',
    ops: [
      {
        op: 'int64',
        path: ['verificationMaterial', 'tlogEntries', 0, 'inclusionProof', 'treeSize'],
        spelling: 'decimal',
      },
    ],
  },
  {
    attack:
      'refuses a v0.2 chain whose leaf is repeated as its intermediate (a certificate the verifier never reads) (CERTIFICATE_CHAIN_UNTRUSTED)',
    seed: 'conformance/happy-path-v0.2',
    via: 'packages',
    ops: [
      {
        op: 'array',
        path: ['verificationMaterial', 'x509CertificateChain', 'certificates'],
        how: 'dup',
        pick: 1523027413,
      },
    ],
  },
  {
    attack: 'refuses logIndex spelt in hex (INTEGER_NOT_CANONICAL)',
    seed: 'realdata/custom-issuer',
    via: 'packages',
    ops: [
      { op: 'int64', path: ['verificationMaterial', 'tlogEntries', 0, 'inclusionProof', 'logIndex'], spelling: 'hex' },
    ],
  },
  {
    attack: 'refuses treeSize spelt past uint64 (INTEGER_NOT_CANONICAL)',
    seed: 'conformance/happy-path-intoto-in-dsse-v3',
    via: 'packages',
    ops: [
      {
        op: 'int64',
        path: ['verificationMaterial', 'tlogEntries', 0, 'inclusionProof', 'treeSize'],
        spelling: 'uint64-overflow',
      },
    ],
  },
  {
    attack: 'refuses integratedTime spelt as 1e400 (INTEGER_NOT_CANONICAL)',
    seed: 'realdata/hello-world.rekor-v2-hashedrekord',
    via: 'packages',
    ops: [
      { op: 'int64', path: ['verificationMaterial', 'tlogEntries', 0, 'integratedTime'], spelling: 'infinity-number' },
    ],
  },
  {
    attack: "refuses an inclusion proof with another log's rootHash (INCLUSION_PROOF_MISMATCH)",
    seed: 'conformance/happy-path-v0.2',
    via: 'packages',
    ops: [
      {
        op: 'splice',
        path: ['verificationMaterial', 'tlogEntries', 0, 'inclusionProof', 'rootHash'],
        from: 0,
        pick: 2033135268,
      },
    ],
  },
  {
    attack: 'refuses a checkpoint with no final newline (CHECKPOINT_NOT_CANONICAL)',
    seed: 'conformance/rekor2-checkpoint-cosigned',
    via: 'packages',
    ops: [
      {
        op: 'checkpoint',
        path: ['verificationMaterial', 'tlogEntries', 0, 'inclusionProof', 'checkpoint', 'envelope'],
        how: 'no-final-newline',
        pick: 213086756,
      },
    ],
  },
  {
    attack: "refuses an inclusion proof whose rootHash is null (not the checkpoint's) (INCLUSION_PROOF_MISMATCH)",
    seed: 'realdata/reusable-workflow-attestation',
    via: 'packages',
    ops: [
      { op: 'retype', path: ['verificationMaterial', 'tlogEntries', 0, 'inclusionProof', 'rootHash'], value: null },
    ],
  },
  {
    attack: 'refuses a checkpoint with an extra signature line from an unknown key (CHECKPOINT_NOT_CANONICAL)',
    seed: 'realdata/hello-world.rekor-v2-hashedrekord',
    via: 'packages',
    ops: [
      {
        op: 'checkpoint',
        path: ['verificationMaterial', 'tlogEntries', 0, 'inclusionProof', 'checkpoint', 'envelope'],
        how: 'foreign-signature',
        pick: 2147483644,
      },
    ],
  },
  {
    attack: "refuses an inclusion proof whose treeSize is one less (not the checkpoint's) (INCLUSION_PROOF_MISMATCH)",
    seed: 'conformance/rekor2-timestamp-with-embedded-cert',
    via: 'packages',
    ops: [
      {
        op: 'int64',
        path: ['verificationMaterial', 'tlogEntries', 0, 'inclusionProof', 'treeSize'],
        spelling: 'minus-one',
      },
    ],
  },
  {
    attack: 'refuses an inclusion proof whose rootHash is misspelt root_hash (read as none) (BUNDLE_MALFORMED)',
    seed: 'conformance/rekor2-timestamp-with-embedded-cert',
    via: 'cli',
    outcome: 'input-error',
    ops: [
      {
        op: 'rename-key',
        path: ['verificationMaterial', 'tlogEntries', 0, 'inclusionProof', 'rootHash'],
        style: 'snake',
      },
    ],
  },
  {
    attack: 'refuses a timestamp token with an element repeated (TIMESTAMP_INVALID)',
    seed: 'conformance/rekor2-checkpoint-cosigned',
    via: 'packages',
    ops: [
      {
        op: 'der',
        path: ['verificationMaterial', 'timestampVerificationData', 'rfc3161Timestamps', 0, 'signedTimestamp'],
        how: 'dup-child',
        region: 'any',
        pick: 185307642,
        bit: 6,
      },
    ],
  },
  {
    attack:
      'refuses a timestamp token with an element retagged outside what its signature covers (TIMESTAMP_NOT_CANONICAL)',
    seed: 'realdata/hello-world.rekor-v2-hashedrekord',
    via: 'cli',
    ops: [
      {
        op: 'der',
        path: ['verificationMaterial', 'timestampVerificationData', 'rfc3161Timestamps', 0, 'signedTimestamp'],
        how: 'change-tag',
        region: 'outside',
        pick: 13,
        bit: 6,
      },
    ],
  },
  {
    attack: 'refuses a certificate with an element repeated outside what its signature covers (CERTIFICATE_NOT_DER)',
    seed: 'conformance/happy-path-v0.2',
    via: 'cli',
    ops: [
      {
        op: 'der',
        path: ['verificationMaterial', 'x509CertificateChain', 'certificates', 0, 'rawBytes'],
        how: 'dup-child',
        region: 'outside',
        pick: 481325757,
        bit: 7,
      },
    ],
  },
  {
    attack: 'refuses a timestamp token with an element retagged (TIMESTAMP_INVALID)',
    seed: 'loopback/message-signature',
    via: 'cli',
    ops: [
      {
        op: 'der',
        path: ['verificationMaterial', 'timestampVerificationData', 'rfc3161Timestamps', 0, 'signedTimestamp'],
        how: 'change-tag',
        region: 'any',
        pick: 254721967,
        bit: 6,
      },
    ],
  },
  {
    attack: 'refuses a timestamp token with an element dropped outside what its signature covers (TIMESTAMP_INVALID)',
    seed: 'loopback/dsse',
    via: 'packages',
    ops: [
      {
        op: 'der',
        path: ['verificationMaterial', 'timestampVerificationData', 'rfc3161Timestamps', 0, 'signedTimestamp'],
        how: 'drop-child',
        region: 'outside',
        pick: 71205801,
        bit: 0,
      },
    ],
  },
  {
    attack: 'refuses treeSize spelt with a leading space (INTEGER_NOT_CANONICAL)',
    seed: 'loopback/message-signature',
    via: 'packages',
    ops: [
      {
        op: 'int64',
        path: ['verificationMaterial', 'tlogEntries', 0, 'inclusionProof', 'treeSize'],
        spelling: 'space',
      },
    ],
  },
  {
    attack: 'refuses treeSize spelt as 10,000 digits (INTEGER_NOT_CANONICAL)',
    seed: 'realdata/reusable-workflow-attestation',
    via: 'packages',
    ops: [
      {
        op: 'int64',
        path: ['verificationMaterial', 'tlogEntries', 0, 'inclusionProof', 'treeSize'],
        spelling: 'huge-digits',
      },
    ],
  },
  {
    attack:
      'refuses a timestamp token with an element dropped outside what its signature covers (2) (TIMESTAMP_NOT_CANONICAL)',
    seed: 'conformance/managed-key-happy-path',
    via: 'packages',
    ops: [
      {
        op: 'der',
        path: ['verificationMaterial', 'timestampVerificationData', 'rfc3161Timestamps', 0, 'signedTimestamp'],
        how: 'drop-child',
        region: 'outside',
        pick: 877749066,
        bit: 6,
      },
    ],
  },
  {
    attack: 'refuses a treeSize that is an object (BUNDLE_MALFORMED)',
    seed: 'realdata/sigstore-js-2.1.0',
    via: 'cli',
    outcome: 'input-error',
    ops: [{ op: 'retype', path: ['verificationMaterial', 'tlogEntries', 0, 'inclusionProof', 'treeSize'], value: {} }],
  },
  {
    attack:
      'refuses a timestamp token with an INTEGER padded with a leading byte outside what its signature covers (TIMESTAMP_NOT_CANONICAL)',
    seed: 'realdata/hello-world.rekor-v2-hashedrekord',
    via: 'packages',
    ops: [
      {
        op: 'der',
        path: ['verificationMaterial', 'timestampVerificationData', 'rfc3161Timestamps', 0, 'signedTimestamp'],
        how: 'integer-leading-zero',
        region: 'outside',
        pick: 1691246090,
        bit: 5,
      },
    ],
  },
  {
    attack: 'refuses a timestamp token with an element repeated outside what its signature covers (TIMESTAMP_INVALID)',
    seed: 'conformance/rekor2-timestamp-with-embedded-cert',
    via: 'cli',
    ops: [
      {
        op: 'der',
        path: ['verificationMaterial', 'timestampVerificationData', 'rfc3161Timestamps', 0, 'signedTimestamp'],
        how: 'dup-child',
        region: 'outside',
        pick: 2013682559,
        bit: 7,
      },
    ],
  },
  // Seed 42 of `npm run fuzz`, 100,000 cases, on ec1a35d (before the strict reader): JSON the protobuf reader read
  // as the seed (a key it does not know, a key twice, base64 spelt another way), and log fields no promise signs.
  {
    attack: 'refuses a key the protobuf reader does not know, holding null (BUNDLE_MALFORMED)',
    seed: 'realdata/reusable-workflow-attestation',
    via: 'packages',
    outcome: 'input-error',
    ops: [
      {
        op: 'add-key',
        path: ['verificationMaterial', 'tlogEntries', 0, 'inclusionProof'],
        key: 'signatures',
        value: null,
      },
    ],
  },
  {
    attack: 'refuses an unknown key named like an Object property (BUNDLE_MALFORMED)',
    seed: 'realdata/custom-issuer',
    via: 'cli',
    outcome: 'input-error',
    ops: [
      { op: 'add-key', path: ['verificationMaterial', 'timestampVerificationData'], key: 'constructor', value: [] },
    ],
  },
  {
    // Seed 42 again, after the strict reader: the field table was looked up with `in`-like semantics, and
    // Object.prototype.constructor made `constructor` a field.
    attack: 'refuses an unknown key named constructor, holding null (BUNDLE_MALFORMED)',
    seed: 'realdata/hello-world.rekor-v2-hashedrekord',
    via: 'cli',
    outcome: 'input-error',
    ops: [{ op: 'add-key', path: ['verificationMaterial'], key: 'constructor', value: null }],
  },
  {
    attack: 'refuses an unknown key named __proto__, holding null (BUNDLE_MALFORMED)',
    seed: 'loopback/dsse',
    via: 'packages',
    outcome: 'input-error',
    ops: [{ op: 'add-key', path: [], key: '__proto__', value: null }],
  },
  {
    attack: 'refuses a field written twice with the same value (BUNDLE_MALFORMED)',
    seed: 'loopback/message-signature',
    via: 'packages',
    outcome: 'input-error',
    ops: [{ op: 'dup-key', path: ['verificationMaterial'], pick: 0, before: true, other: undefined }],
  },
  {
    attack: 'refuses a field written twice, the first copy junk (JSON.parse keeps the last) (BUNDLE_MALFORMED)',
    seed: 'conformance/happy-path-v0.2',
    via: 'cli',
    outcome: 'input-error',
    ops: [{ op: 'dup-key', path: ['messageSignature'], pick: 1, before: true, other: 'x' }],
  },
  {
    attack: 'refuses a certificate in base64 without its padding (BUNDLE_MALFORMED)',
    seed: 'loopback/dsse',
    via: 'packages',
    outcome: 'input-error',
    ops: [{ op: 'base64', path: ['verificationMaterial', 'certificate', 'rawBytes'], how: 'unpadded', pick: 0 }],
  },
  {
    attack: 'refuses a DSSE signature in the URL-safe base64 alphabet (BUNDLE_MALFORMED)',
    seed: 'realdata/sigstore-js-2.1.0',
    via: 'packages',
    outcome: 'input-error',
    ops: [{ op: 'base64', path: ['dsseEnvelope', 'signatures', 0, 'sig'], how: 'url-safe', pick: 0 }],
  },
  {
    attack: 'refuses a Rekor v2 entry whose logIndex is not the one its proof proves (INCLUSION_PROOF_MISMATCH)',
    seed: 'conformance/rekor2-timestamp-with-embedded-cert',
    via: 'packages',
    ops: [{ op: 'int64', path: ['verificationMaterial', 'tlogEntries', 0, 'logIndex'], spelling: 'minus-one' }],
  },
  {
    attack: 'refuses a Rekor v2 entry without its logIndex (read as 0) (INCLUSION_PROOF_MISMATCH)',
    seed: 'realdata/hello-world.rekor-v2-hashedrekord',
    via: 'cli',
    ops: [{ op: 'drop', path: ['verificationMaterial', 'tlogEntries', 0, 'logIndex'] }],
  },
  {
    attack: 'refuses a Rekor v2 entry with an integrated time no promise signs (INTEGER_NOT_CANONICAL)',
    seed: 'realdata/hello-world.rekor-v2-hashedrekord',
    via: 'packages',
    ops: [{ op: 'int64', path: ['verificationMaterial', 'tlogEntries', 0, 'integratedTime'], spelling: 'plus-one' }],
  },
];

let context: FuzzContext;

beforeAll(async () => {
  context = await regressionContext();
});

afterAll(() => {
  if (context) disposeContext(context);
});

describe('fuzz regressions: mutated bundles that verified', () => {
  for (const { attack, seed, via, ops, outcome = 'refused' } of FIXED) {
    it(`${attack}: ${seed}`, async () => {
      const report = await replay(context, { target: 'bundle', via, mutation: { seed: seedIndex(seed), ops } });
      expect(report.finding, describeReport(report)).toBeUndefined();
      expect(report.result.outcome, describeReport(report)).toBe(outcome);
      expect(attack).toContain(`(${report.result.code})`);
    });
  }
});
