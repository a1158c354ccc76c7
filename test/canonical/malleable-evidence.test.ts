// One signed event, one encoding: the re-encodings a fuzzing run found verifying as "the same" evidence — bytes of a
// certificate outside its signed TBSCertificate, certificates riding in an RFC 3161 token, an inclusion proof's root
// hash and tree size, text around a checkpoint's signatures, int64 spellings, a missing digest algorithm, a
// relabelled media type — are each refused with the rule's own code. What was signed, not the file's bytes, is
// what evidence is keyed by.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DeployGateRequest, judgeDeploy } from '@twokey/gate';
import {
  BundleVerifier,
  loadTrustedRoot,
  MAX_BUNDLE_BYTES,
  parseBundle,
  parseBundleJSON,
  parseDigestReference,
  readBundleFile,
  type VerifyOptions,
} from '@twokey/sigstore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCorpus } from '../../bench/corpus';
import { conformanceRoot } from '../conformance/paths';
import {
  type BundleJSON,
  changed,
  derElement,
  flipBit,
  type LoopbackEvidence,
  outcomeOf,
  signLoopbackEvidence,
  type TlogEntryJSON,
  tally,
} from './evidence';

interface TrustedRootJSON {
  timestampAuthorities: { certChain: { certificates: { rawBytes: string }[] } }[];
}

let evidence: LoopbackEvidence;
let dir: string;

beforeAll(async () => {
  evidence = await signLoopbackEvidence();
  dir = mkdtempSync(join(tmpdir(), 'twokey-canonical-'));
});

afterAll(async () => {
  await evidence?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Verifies a bundle's JSON against the loopback root, whoever signed it, for the loopback artifact. */
function loopbackOutcome(bundle: BundleJSON, verifier = evidence.verifier): string {
  return outcomeOf(() =>
    verifier.verify(parseBundleJSON(structuredClone(bundle), 'attack.sigstore.json'), {
      artifact: { digest: evidence.artifact },
      anyIdentity: true,
    }),
  );
}

function loopbackError(bundle: BundleJSON): string {
  try {
    evidence.verifier.verify(parseBundleJSON(structuredClone(bundle), 'attack.sigstore.json'), {
      artifact: { digest: evidence.artifact },
      anyIdentity: true,
    });
  } catch (error) {
    return (error as Error).message;
  }
  return 'verified';
}

/** The bit positions of a certificate outside its TBSCertificate: the outer header, signatureAlgorithm, signature. */
function bitsOutsideTBS(der: Buffer): number[] {
  const tbsStart = derElement(der).header;
  const tbsEnd = derElement(der, tbsStart).end;
  const bits: number[] = [];
  for (let bit = 0; bit < der.length * 8; bit++) {
    const byte = bit >> 3;
    if (byte < tbsStart || byte >= tbsEnd) bits.push(bit);
  }
  return bits;
}

describe('a certificate is accepted only in strict DER', () => {
  it.each(['signature', 'statement'] as const)(
    'refuses every single-bit flip of the %s bundle’s certificate outside its TBSCertificate',
    (which) => {
      const bundle = evidence[which];
      expect(loopbackOutcome(bundle)).toBe('verified');
      const der = Buffer.from(bundle.verificationMaterial.certificate!.rawBytes, 'base64');
      const bits = bitsOutsideTBS(der);
      // The outer header, the signature algorithm and the ECDSA signature: about a hundred bytes.
      expect(bits.length).toBeGreaterThan(80 * 8);
      const outcomes = bits.map((bit) =>
        loopbackOutcome(
          changed(bundle, (b) => {
            b.verificationMaterial.certificate!.rawBytes = flipBit(der, bit).toString('base64');
          }),
        ),
      );
      expect(tally(outcomes)).not.toHaveProperty('verified');
      // What OpenSSL refuses (the tags, the unused-bits byte, the algorithm) twokey refuses as not DER.
      expect(outcomes).toContain('CERTIFICATE_NOT_DER');
    },
  );

  it('refuses a signature algorithm that differs from the one the TBSCertificate signs (OpenSSL refuses it)', () => {
    const der = Buffer.from(evidence.signature.verificationMaterial.certificate!.rawBytes, 'base64');
    const algorithm = derElement(der, derElement(der, derElement(der).header).end);
    // ecdsa-with-SHA384 (…04 03 03) ↔ ecdsa-with-SHA256 (…04 03 02): sigstore-js looks the outer OID up and
    // verifies with that digest; the algorithm outside the TBSCertificate must be the one inside it.
    const last = algorithm.end - 1;
    const relabelled = Buffer.from(der);
    relabelled[last] = relabelled[last] === 0x03 ? 0x02 : 0x03;
    const bundle = changed(evidence.signature, (b) => {
      b.verificationMaterial.certificate!.rawBytes = relabelled.toString('base64');
    });
    expect(loopbackOutcome(bundle)).toBe('CERTIFICATE_NOT_DER');
  });

  it('refuses a v0.1 chain whose intermediate was changed by one bit: the chain must be the trusted root’s own', () => {
    const suite = join(conformanceRoot, 'sigstore-js');
    const bundle = JSON.parse(
      readFileSync(join(suite, 'client-fixtures/valid-v1-messageSignature-withSigningCert.sigstore.json'), 'utf8'),
    ) as BundleJSON;
    const verifier = new BundleVerifier(loadTrustedRoot(join(suite, 'client-fixtures/trusted_root.json')));
    const options: VerifyOptions = {
      artifact: { file: join(suite, 'client-fixtures/artifact.txt') },
      anyIdentity: true,
    };
    const outcome = (b: BundleJSON) => outcomeOf(() => verifier.verify(parseBundleJSON(b, 'v0.1 chain'), options));
    expect(outcome(bundle)).toBe('verified');
    const chain = bundle.verificationMaterial.x509CertificateChain!.certificates;
    const intermediate = Buffer.from(chain[1]!.rawBytes, 'base64');
    // The last bit of its signature: still DER, but sigstore-js never reads the bundle's copy of the intermediate.
    const flipped = changed(bundle, (b) => {
      b.verificationMaterial.x509CertificateChain!.certificates[1]!.rawBytes = flipBit(
        intermediate,
        intermediate.length * 8 - 1,
      ).toString('base64');
    });
    expect(outcome(flipped)).toBe('CERTIFICATE_CHAIN_UNTRUSTED');
  });
});

describe("a timestamp token's embedded certificates are the trusted authority's own", () => {
  const assets = join(conformanceRoot, 'sigstore-conformance', 'test', 'assets', 'bundle-verify');
  it.each([
    {
      name: 'sigstore-conformance rekor2-timestamp-with-embedded-cert',
      bundle: join(assets, 'rekor2-timestamp-with-embedded-cert', 'bundle.sigstore.json'),
      root: join(assets, 'rekor2-timestamp-with-embedded-cert', 'trusted_root.json'),
      options: {
        artifact: {
          digest: parseDigestReference(`sha256:${'a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf'}`),
        },
      },
      thresholds: {},
    },
    {
      name: 'sigstore-python tsa/bundle (a test TSA, two tokens)',
      bundle: join(conformanceRoot, 'sigstore-python/test/assets/tsa/bundle.txt.sigstore'),
      root: join(conformanceRoot, 'sigstore-python/derived/staging-trusted-root-with-test-tsa.json'),
      options: { artifact: { file: join(conformanceRoot, 'sigstore-python/test/assets/tsa/bundle.txt') } },
      thresholds: { timestampThreshold: 2 },
    },
  ])('refuses every single-bit flip of the embedded certificate: $name', ({ bundle, root, options, thresholds }) => {
    const json = JSON.parse(readFileSync(bundle, 'utf8')) as BundleJSON;
    const verifier = new BundleVerifier(loadTrustedRoot(root), thresholds);
    const verify = (b: BundleJSON) =>
      outcomeOf(() => verifier.verify(parseBundleJSON(b, 'timestamped'), { ...options, anyIdentity: true }));
    expect(verify(json)).toBe('verified');

    const token = Buffer.from(
      json.verificationMaterial.timestampVerificationData!.rfc3161Timestamps[0]!.signedTimestamp,
      'base64',
    );
    // The embedded certificate is one of the trusted authorities' own: find it in the token by its bytes.
    const authorities = (JSON.parse(readFileSync(root, 'utf8')) as TrustedRootJSON).timestampAuthorities;
    const embedded = authorities
      .flatMap((tsa) => tsa.certChain.certificates.map((c) => Buffer.from(c.rawBytes, 'base64')))
      .find((certificate) => token.includes(certificate))!;
    expect(embedded, 'the token embeds a trusted certificate').toBeDefined();
    const start = token.indexOf(embedded);
    expect(start).toBeGreaterThan(0);
    const outcomes: string[] = [];
    for (let bit = start * 8; bit < (start + embedded.length) * 8; bit++) {
      outcomes.push(
        verify(
          changed(json, (b) => {
            b.verificationMaterial.timestampVerificationData!.rfc3161Timestamps[0]!.signedTimestamp = flipBit(
              token,
              bit,
            ).toString('base64');
          }),
        ),
      );
    }
    expect(outcomes).toHaveLength(embedded.length * 8);
    expect(tally(outcomes)).not.toHaveProperty('verified');
    // Refused as a timestamp problem, before anything else is looked at.
    expect(outcomes.filter((o) => o !== 'TIMESTAMP_INVALID' && o !== 'TIMESTAMP_NOT_CANONICAL')).toEqual([]);
  });
});

describe("an inclusion proof's root hash and tree size are the signed checkpoint's", () => {
  it('refuses every single-bit flip of the inclusion proof’s root hash', () => {
    const proof = evidence.signature.verificationMaterial.tlogEntries[0]!.inclusionProof!;
    const root = Buffer.from(proof.rootHash, 'base64');
    expect(root).toHaveLength(32);
    const outcomes = Array.from({ length: 256 }, (_, bit) =>
      loopbackOutcome(
        changed(evidence.signature, (b) => {
          b.verificationMaterial.tlogEntries[0]!.inclusionProof!.rootHash = flipBit(root, bit).toString('base64');
        }),
      ),
    );
    expect(tally(outcomes)).toEqual({ INCLUSION_PROOF_MISMATCH: 256 });
  });

  it('refuses a 16 MB junk root hash, without reading it into anything quadratic', () => {
    const junk = 'A'.repeat(16_000_000);
    const path = join(dir, 'junk-root-hash.sigstore.json');
    writeFileSync(
      path,
      JSON.stringify(
        changed(evidence.signature, (b) => {
          b.verificationMaterial.tlogEntries[0]!.inclusionProof!.rootHash = junk;
        }),
      ),
    );
    expect(readFileSync(path).length).toBeLessThan(MAX_BUNDLE_BYTES);
    const started = performance.now();
    let message = '';
    const outcome = outcomeOf(() => {
      try {
        evidence.verifier.verify(readBundleFile(path), { artifact: { digest: evidence.artifact }, anyIdentity: true });
      } catch (error) {
        message = (error as Error).message;
        throw error;
      }
    });
    const seconds = (performance.now() - started) / 1000;
    expect(outcome).toBe('INCLUSION_PROOF_MISMATCH');
    expect(message).toContain(`${path}: verificationMaterial.tlogEntries[0].inclusionProof.rootHash`);
    expect(message).toContain('found 12000000 bytes');
    expect(seconds).toBeLessThan(5);
  });

  it('refuses a tree size other than the checkpoint’s', () => {
    const size = evidence.signature.verificationMaterial.tlogEntries[0]!.inclusionProof!.treeSize as string;
    const larger = String(BigInt(size) + 1n);
    const bundle = changed(evidence.signature, (b) => {
      b.verificationMaterial.tlogEntries[0]!.inclusionProof!.treeSize = larger;
    });
    expect(loopbackOutcome(bundle)).toBe('INCLUSION_PROOF_MISMATCH');
    expect(loopbackError(bundle)).toContain(
      `inclusionProof.treeSize: expected the checkpoint's tree size ${size}, found ${larger}`,
    );
  });
});

describe('a checkpoint is its signed note and its signature lines, nothing else', () => {
  const envelopeOf = (b: BundleJSON) => b.verificationMaterial.tlogEntries[0]!.inclusionProof!.checkpoint;
  const signatureLine = () => envelopeOf(evidence.signature).envelope.split('\n').at(-2)!;

  it.each([
    ['text after the signature lines', (e: string) => `${e}trailing junk\n`],
    ['text after the signature lines, without a newline', (e: string) => `${e}junk`],
    ['text between the note and its signatures', (e: string) => e.replace('\n\n', '\n\nan unsigned comment\n')],
    ['the same signature line twice', (e: string) => `${e}${signatureLine()}\n`],
    ['a blank line after the signatures', (e: string) => `${e}\n`],
  ])('refuses a checkpoint with %s', (_name, edit) => {
    const bundle = changed(evidence.signature, (b) => {
      envelopeOf(b).envelope = edit(envelopeOf(b).envelope);
    });
    expect(loopbackOutcome(bundle)).toBe('CHECKPOINT_NOT_CANONICAL');
    expect(loopbackError(bundle)).toContain('inclusionProof.checkpoint.envelope');
  });

  it('refuses a signature in another base64 spelling of the same bytes', () => {
    const line = signatureLine();
    const encoded = line.slice(line.lastIndexOf(' ') + 1);
    const data = encoded.replace(/=+$/, '');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    // Node's decoder reads all of these as the same bytes: a last character whose unused low bits differ, the
    // padding dropped, or padding added where none belongs.
    const candidates = [
      ...[...alphabet].map((c) => `${data.slice(0, -1)}${c}${encoded.slice(data.length)}`),
      data,
      `${encoded}=`,
    ];
    const respelled = candidates.find(
      (candidate) => candidate !== encoded && Buffer.from(candidate, 'base64').equals(Buffer.from(encoded, 'base64')),
    )!;
    const bundle = changed(evidence.signature, (b) => {
      envelopeOf(b).envelope = envelopeOf(b).envelope.replace(encoded, respelled);
    });
    expect(loopbackOutcome(bundle)).toBe('CHECKPOINT_NOT_CANONICAL');
  });
});

describe("a keyless envelope's signature names no key: its keyid is unsigned", () => {
  it('refuses a keyid on an envelope its certificate signs, and accepts the envelope as signed (none)', () => {
    const envelope = (b: BundleJSON) =>
      (b as unknown as { dsseEnvelope: { signatures: { keyid?: string }[] } }).dsseEnvelope;
    expect(loopbackOutcome(evidence.statement)).toBe('verified');
    const bundle = changed(evidence.statement, (b) => {
      envelope(b).signatures[0]!.keyid = 'anything-at-all';
    });
    expect(loopbackOutcome(bundle)).toBe('KEYID_NOT_CANONICAL');
    expect(loopbackError(bundle)).toContain('dsseEnvelope.signatures[0].keyid: expected none');
  });
});

describe('int64 fields are spelled as protobuf JSON spells them: decimal strings', () => {
  const fields = ['logIndex', 'integratedTime', 'inclusionProof.treeSize'] as const;
  /** The JSON object holding a field of the first log entry, and the field's name in it. */
  const holder = (b: BundleJSON, field: (typeof fields)[number]): [Record<string, unknown>, string] => {
    const entry = b.verificationMaterial.tlogEntries[0] as unknown as Record<string, unknown>;
    const [first, second] = field.split('.') as [string, string | undefined];
    return second ? [entry[first] as Record<string, unknown>, second] : [entry, first];
  };
  const spellings: [string, (n: string) => unknown][] = [
    ['+N', (n) => `+${n}`],
    ['N.0', (n) => `${n}.0`],
    ['0x…', (n) => `0x${BigInt(n).toString(16)}`],
    ['a leading zero', (n) => `0${n}`],
    ['a JSON number', (n) => Number(n)],
    ['N with a space', (n) => ` ${n}`],
    ['an exponent', (n) => `${n}e0`],
  ];
  it.each(fields.flatMap((field) => spellings.map(([spelling, spell]) => [field, spelling, spell] as const)))(
    'refuses %s spelled as %s',
    (field, _spelling, spell) => {
      const [object, name] = holder(evidence.signature, field);
      const value = object[name];
      expect(typeof value).toBe('string');
      const bundle = changed(evidence.signature, (b) => {
        const [copy, key] = holder(b, field);
        copy[key] = spell(value as string);
      });
      expect(loopbackOutcome(bundle)).toBe('INTEGER_NOT_CANONICAL');
      expect(loopbackError(bundle)).toContain(`verificationMaterial.tlogEntries[0].${field}`);
    },
  );
});

describe('a message digest names its algorithm', () => {
  it.each([
    ['a missing algorithm (read as SHA-256 before)', undefined],
    ['HASH_ALGORITHM_UNSPECIFIED', 'HASH_ALGORITHM_UNSPECIFIED'],
    ['the enum number instead of its name', 1],
    ['another algorithm than the digest’s length says', 'SHA2_384'],
  ])('refuses %s', (_name, algorithm) => {
    const bundle = changed(evidence.signature, (b) => {
      if (algorithm === undefined) delete b.messageSignature!.messageDigest.algorithm;
      else b.messageSignature!.messageDigest.algorithm = algorithm;
    });
    expect(loopbackOutcome(bundle)).toBe('DIGEST_ALGORITHM_UNKNOWN');
    expect(loopbackError(bundle)).toContain('messageSignature.messageDigest');
  });

  it.each([
    ['an unknown name', 'SHA2_257'],
    ['a lowercase name', 'sha2_256'],
  ])('refuses %s as malformed: the protobuf reader knows no such algorithm', (_name, algorithm) => {
    const bundle = changed(evidence.signature, (b) => {
      b.messageSignature!.messageDigest.algorithm = algorithm;
    });
    expect(loopbackOutcome(bundle)).toBe('BUNDLE_MALFORMED');
  });
});

describe('the media type matches the content', () => {
  it.each([
    'application/vnd.dev.sigstore.bundle+json;version=0.1',
    'application/vnd.dev.sigstore.bundle+json;version=0.2',
  ])('refuses a v0.3 bundle (with a certificate) relabelled %s', (mediaType) => {
    const bundle = changed(evidence.signature, (b) => {
      b.mediaType = mediaType;
    });
    expect(loopbackOutcome(bundle)).toBe('MEDIA_TYPE_MISMATCH');
  });

  it.each(['application/vnd.dev.sigstore.bundle.v0.3+json', 'application/vnd.dev.sigstore.bundle+json;version=0.3'])(
    'refuses a v0.2 bundle (with a certificate chain) relabelled %s, as malformed',
    (mediaType) => {
      const path = join(
        conformanceRoot,
        'sigstore-conformance/test/assets/bundle-verify/happy-path-v0.2/bundle.sigstore.json',
      );
      const bundle = JSON.parse(readFileSync(path, 'utf8')) as BundleJSON;
      bundle.mediaType = mediaType;
      expect(outcomeOf(() => parseBundleJSON(bundle, 'relabelled'))).toBe('BUNDLE_MALFORMED');
    },
  );

  it('a v0.2 relabelling of a v0.1 bundle whose entries carry both promise and proof changes nothing it says: the same evidence', () => {
    const assets = join(conformanceRoot, 'sigstore-conformance/test/assets/bundle-verify');
    const bundle = JSON.parse(readFileSync(join(assets, 'happy-path-v0.1/bundle.sigstore.json'), 'utf8')) as BundleJSON;
    const verifier = new BundleVerifier(
      loadTrustedRoot(join(conformanceRoot, 'production-trust-root/trusted_root.json')),
    );
    const options: VerifyOptions = { artifact: { file: join(assets, 'a.txt') }, anyIdentity: true };
    const asV01 = verifier.verify(parseBundleJSON(bundle, 'v0.1'), options);
    const asV02 = verifier.verify(
      parseBundleJSON({ ...bundle, mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.2' }, 'v0.2'),
      options,
    );
    expect(asV02.evidenceKey).toBe(asV01.evidenceKey);
  });
});

describe("a bundle's JSON is what the protobuf JSON mapping writes for its content", () => {
  /** The outcome of reading and verifying a bundle from its text, as `twokey verify-bundle` does. */
  const textOutcome = (text: string): string =>
    outcomeOf(() =>
      evidence.verifier.verify(parseBundle(text, 'attack.sigstore.json'), {
        artifact: { digest: evidence.artifact },
        anyIdentity: true,
      }),
    );
  const text = (bundle: BundleJSON) => JSON.stringify(bundle);

  it('verifies the bundle as written', () => {
    expect(textOutcome(text(evidence.signature))).toBe('verified');
  });

  it.each([
    ['an unknown key', (b: BundleJSON) => Object.assign(b.verificationMaterial, { note: 'anything at all' })],
    ['an unknown key holding null (a default value)', (b: BundleJSON) => Object.assign(b, { extra: null })],
    [
      'a key of another message (a certificate inside the message signature)',
      (b: BundleJSON) => Object.assign(b.messageSignature!, { certificate: [] }),
    ],
    [
      'a field in snake_case (the proto name; the reader reads it as absent)',
      (b: BundleJSON) => {
        const entry = b.verificationMaterial.tlogEntries[0] as unknown as Record<string, unknown>;
        entry.kind_version = entry.kindVersion;
      },
    ],
    [
      'base64 without its padding (a SHA-256 digest is 43 characters and one =)',
      (b: BundleJSON) => {
        const digest = b.messageSignature!.messageDigest;
        expect(digest.digest).toMatch(/=$/);
        digest.digest = digest.digest.replace(/=+$/, '');
      },
    ],
    [
      'base64 in the URL-safe alphabet',
      (b: BundleJSON) => {
        b.verificationMaterial.certificate!.rawBytes = b.verificationMaterial
          .certificate!.rawBytes.replace(/\+/g, '-')
          .replace(/\//g, '_');
      },
    ],
    [
      'a list where a message belongs',
      (b: BundleJSON) => Object.assign(b.verificationMaterial, { timestampVerificationData: [] }),
    ],
  ])('refuses %s as malformed, naming the field', (_name, attack) => {
    const bundle = changed(evidence.signature, attack);
    expect(textOutcome(text(bundle))).toBe('BUNDLE_MALFORMED');
  });

  it('refuses a key written twice, the first copy another value (JSON.parse keeps the last, other readers the first)', () => {
    const written = text(evidence.signature);
    const twice = written.replace('"verificationMaterial":', '"verificationMaterial":{},"verificationMaterial":');
    expect(twice).not.toBe(written);
    expect(textOutcome(twice)).toBe('BUNDLE_MALFORMED');
    expect(() => parseBundle(twice, 'attack.sigstore.json')).toThrow(/verificationMaterial: written twice/);
  });

  it('refuses a key written twice when one copy spells it with a \\u escape', () => {
    const written = text(evidence.signature);
    const twice = written.replace('"mediaType":', '"\\u006dediaType":"x","mediaType":');
    expect(JSON.parse(twice).mediaType).toBe(evidence.signature.mediaType);
    expect(textOutcome(twice)).toBe('BUNDLE_MALFORMED');
  });

  it('accepts a field written with its default value, as protobuf writers may: the same evidence', () => {
    const plain = evidence.verifier.verify(parseBundle(text(evidence.signature), 'plain'), {
      artifact: { digest: evidence.artifact },
      anyIdentity: true,
    });
    const withDefaults = changed(evidence.signature, (b) => {
      // null is an absent message; the bundle's other oneof choices, written as absent.
      Object.assign(b.verificationMaterial, { publicKey: null, x509CertificateChain: null });
      Object.assign(b, { dsseEnvelope: null });
    });
    expect(text(withDefaults)).not.toBe(text(evidence.signature));
    const verified = evidence.verifier.verify(parseBundle(text(withDefaults), 'with-defaults'), {
      artifact: { digest: evidence.artifact },
      anyIdentity: true,
    });
    expect(verified.evidenceKey).toBe(plain.evidenceKey);
  });
});

describe('log fields no inclusion promise signs are not free', () => {
  // The loopback stack logs like Rekor v1, with a promise; this conformance bundle is a Rekor v2 entry, without one.
  const rekorV2 = (): BundleJSON =>
    JSON.parse(
      readFileSync(
        join(
          conformanceRoot,
          'sigstore-conformance/test/assets/bundle-verify/rekor2-timestamp-with-embedded-cert/bundle.sigstore.json',
        ),
        'utf8',
      ),
    ) as BundleJSON;

  it.each([
    [
      'an integrated time (Rekor v2 has none)',
      (e: TlogEntryJSON) => Object.assign(e, { integratedTime: '1700000000' }),
      'INTEGER_NOT_CANONICAL',
    ],
    [
      'a log index other than the one its proof proves',
      (e: TlogEntryJSON) => Object.assign(e, { logIndex: '1' }),
      'INCLUSION_PROOF_MISMATCH',
    ],
  ])('refuses %s on an entry without an inclusion promise', (_name, edit, code) => {
    const assets = join(conformanceRoot, 'sigstore-conformance/test/assets/bundle-verify');
    const bundle = rekorV2();
    const entry = bundle.verificationMaterial.tlogEntries[0]!;
    expect((entry as Record<string, unknown>).inclusionPromise).toBeUndefined();
    const verifier = new BundleVerifier(
      loadTrustedRoot(join(assets, 'rekor2-timestamp-with-embedded-cert/trusted_root.json')),
    );
    const options: VerifyOptions = { artifact: { file: join(assets, 'a.txt') }, anyIdentity: true };
    expect(outcomeOf(() => verifier.verify(parseBundleJSON(structuredClone(bundle), 'v2'), options))).toBe('verified');
    edit(entry);
    expect(outcomeOf(() => verifier.verify(parseBundleJSON(bundle, 'v2'), options))).toBe(code);
  });
});

describe('evidence is keyed by what was signed, never by the bytes of its file', () => {
  it('gives the same signed event in other bytes (another JSON layout) the same evidence key, another file digest', () => {
    const compact = join(dir, 'compact.sigstore.json');
    const pretty = join(dir, 'pretty.sigstore.json');
    writeFileSync(compact, JSON.stringify(evidence.statement));
    writeFileSync(pretty, `${JSON.stringify(evidence.statement, null, 4)}\n`);
    const [a, b] = [compact, pretty].map((path) =>
      evidence.verifier.verify(readBundleFile(path), { anyIdentity: true }),
    );
    expect(a!.sha256).not.toBe(b!.sha256);
    expect(a!.evidenceKey).toMatch(/^[0-9a-f]{64}$/);
    expect(b!.evidenceKey).toBe(a!.evidenceKey);
    const signature = evidence.verifier.verify(parseBundleJSON(evidence.signature, 'signature'), {
      artifact: { digest: evidence.artifact },
      anyIdentity: true,
    });
    expect(signature.evidenceKey).not.toBe(a!.evidenceKey);
  });

  it('counts a bundle copied in other bytes once: the deploy gate judges each signed event once', async () => {
    const corpus = await makeCorpus(join(dir, 'corpus'), 1);
    const request: DeployGateRequest = {
      policy: corpus.policy,
      repository: { repository: 'acme/app', name: '--repo', role: 'narrow' },
      trustedRoot: corpus.trustedRoot,
      artifacts: { arguments: corpus.artifacts.map((a) => a.path) },
      bundles: [corpus.bundlesDir],
      cwd: process.cwd(),
    };
    const before = await judgeDeploy(request);
    // Every bundle again, re-encoded (indented), under other names beside the originals.
    const originals = before.verified.map((v) => v.source);
    for (const [i, source] of originals.entries()) {
      const json = JSON.parse(readFileSync(source, 'utf8'));
      writeFileSync(join(corpus.bundlesDir, `zz-copy-${i}.json`), JSON.stringify(json, null, 2));
    }
    const after = await judgeDeploy(request);
    expect(after.verified.map((v) => v.source)).toEqual(originals);
    expect(after.report.artifacts.map((a) => a.verdict)).toEqual(before.report.artifacts.map((a) => a.verdict));
  }, 120_000);
});
