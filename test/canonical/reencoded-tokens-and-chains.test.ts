// One signed event, one encoding: the bytes of an RFC 3161 token and of a v0.1/v0.2 certificate chain that no
// signature covers and the verifier reads leniently or not at all. Each re-encoding below verified under
// sigstore-js, counted as a signing time and had the genuine bundle's evidence key, in a file of other bytes (decision
// records and the report name bundles by their file's SHA-256). Each is refused now, with its rule's code; what
// genuine tokens and chains of every suite carry is still accepted.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BundleVerifier,
  loadTrustedRoot,
  parseBundleJSON,
  parseDigestReference,
  type VerifyOptions,
} from '@twokey/sigstore';
import { describe, expect, it } from 'vitest';
import { conformanceRoot, realdataRoot, repoRoot } from '../conformance/paths';
import { type DerTree, encodeDer, parseDer, tokenParts } from './der-tree';
import { type BundleJSON, changed } from './evidence';

const NULL: DerTree = { tag: 0x05, content: Buffer.alloc(0) };
const bundleVerify = join(conformanceRoot, 'sigstore-conformance', 'test', 'assets', 'bundle-verify');
const loopback = join(repoRoot, 'test', 'fuzz', 'seeds', 'loopback');
const ghInstance = join(repoRoot, '..', 'shared', 'github-instance');

interface Genuine {
  name: string;
  bundle: string;
  root: string;
  options: VerifyOptions;
}

interface Verdict {
  outcome: string;
  reason?: string;
  evidenceKey?: string;
  signedAt?: number;
}

/** A bundle's verdict against its trusted root, whoever signed it: its evidence key, or its refusal's code and reason. */
function verdictOf(genuine: Genuine, bundle: BundleJSON): Verdict {
  const verifier = new BundleVerifier(loadTrustedRoot(genuine.root));
  try {
    const result = verifier.verify(parseBundleJSON(structuredClone(bundle), genuine.name), {
      ...genuine.options,
      anyIdentity: true,
    });
    return { outcome: 'verified', evidenceKey: result.evidenceKey };
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    if (!code) throw error;
    return { outcome: code, reason: message };
  }
}

function read(path: string): BundleJSON {
  return JSON.parse(readFileSync(path, 'utf8')) as BundleJSON;
}

function trustedTimestampChain(root: string): Buffer[][] {
  const json = JSON.parse(readFileSync(root, 'utf8')) as {
    timestampAuthorities: { certChain: { certificates: { rawBytes: string }[] } }[];
  };
  return json.timestampAuthorities.map((tsa) =>
    tsa.certChain.certificates.map((certificate) => Buffer.from(certificate.rawBytes, 'base64')),
  );
}

// Genuine tokens of both writers behind every trusted token in the suites — Sigstore's and GitHub's
// timestamp-authority (Go) and @sigstore/mock (pkijs, the loopback TSA) — with certificates [0] empty and holding
// the signing certificate, from a chain of two and of three.
const TIMESTAMPED: Genuine[] = [
  {
    name: 'loopback message signature (@sigstore/mock TSA, certificates [0] empty)',
    bundle: join(loopback, 'message-signature.sigstore.json'),
    root: join(loopback, 'trusted_root.json'),
    options: { artifact: { file: join(loopback, 'artifact.txt') } },
  },
  {
    name: 'sigstore-realdata hello-world (timestamp.sigstore.dev, certificates [0] empty)',
    bundle: join(realdataRoot, 'hello-world.rekor-v2-hashedrekord.sigstore.json'),
    root: join(realdataRoot, 'trusted_root.public-good.json'),
    options: { artifact: { file: join(realdataRoot, 'hello-world.artifact') } },
  },
  {
    name: 'github-instance release attestation (timestamp.githubapp.com, certificates [0] empty)',
    bundle: join(ghInstance, 'release-attestation-gh-2.96.0.sigstore.json'),
    root: join(ghInstance, 'trusted_root.json'),
    options: { artifact: { file: join(ghInstance, 'gh_2.96.0_checksums.txt') } },
  },
  {
    name: 'sigstore-conformance intoto-with-custom-trust-root (@sigstore/mock TSA, certificates [0] empty)',
    bundle: join(bundleVerify, 'intoto-with-custom-trust-root', 'bundle.sigstore.json'),
    root: join(bundleVerify, 'intoto-with-custom-trust-root', 'trusted_root.json'),
    options: { artifact: { file: join(bundleVerify, 'intoto-with-custom-trust-root', 'artifact') } },
  },
  {
    name: 'sigstore-conformance rekor2-timestamp-with-embedded-cert (certificates [0]: the signing certificate)',
    bundle: join(bundleVerify, 'rekor2-timestamp-with-embedded-cert', 'bundle.sigstore.json'),
    root: join(bundleVerify, 'rekor2-timestamp-with-embedded-cert', 'trusted_root.json'),
    options: { artifact: { file: join(bundleVerify, 'a.txt') } },
  },
  {
    name: 'sigstore-conformance rekor2-timestamp-with-expired-cert-chain (the signing certificate, a chain of three)',
    bundle: join(bundleVerify, 'rekor2-timestamp-with-expired-cert-chain', 'bundle.sigstore.json'),
    root: join(bundleVerify, 'rekor2-timestamp-with-expired-cert-chain', 'trusted_root.json'),
    options: { artifact: { file: join(bundleVerify, 'a.txt') } },
  },
];

/** The genuine bundle with its first token re-encoded by `change`, or undefined when it does not apply. */
function withToken(
  bundle: BundleJSON,
  change: (response: DerTree, signingChain: DerTree[]) => boolean,
  signingChain: DerTree[],
): BundleJSON | undefined {
  const token = bundle.verificationMaterial.timestampVerificationData!.rfc3161Timestamps[0]!;
  const response = parseDer(Buffer.from(token.signedTimestamp, 'base64'));
  if (!change(response, signingChain)) return undefined;
  return changed(bundle, (b) => {
    b.verificationMaterial.timestampVerificationData!.rfc3161Timestamps[0]!.signedTimestamp =
      encodeDer(response).toString('base64');
  });
}

/** An AlgorithmIdentifier with its NULL parameters dropped, or added when it has none. */
function flipNullParameters(algorithm: DerTree): true {
  if (algorithm.children!.length === 2) algorithm.children!.pop();
  else algorithm.children!.push(NULL);
  return true;
}

function retag(element: DerTree, tag: number): true {
  element.tag = tag;
  return true;
}

/** certificates [0] set to these certificates (added when the token has none). */
function certificatesOf(response: DerTree, certificates: DerTree[]): true {
  const { signedData, certificates: at } = tokenParts(response);
  const field = { tag: 0xa0, children: certificates };
  if (at < 0) signedData.children!.splice(3, 0, field);
  else signedData.children![at] = field;
  return true;
}

const REENCODINGS: {
  attack: string;
  reason: RegExp;
  change: (response: DerTree, signingChain: DerTree[]) => boolean;
}[] = [
  {
    attack: 'the TimeStampResp retagged SET',
    reason: /TimeStampResp: expected a SEQUENCE, found SET/,
    change: (response) => retag(response, 0x31),
  },
  {
    attack: 'the TimeStampResp retagged [APPLICATION 30]',
    reason: /TimeStampResp: expected a SEQUENCE, found tag 0x7e/,
    change: (response) => retag(response, 0x7e),
  },
  {
    attack: 'the SignerInfo retagged SET',
    reason: /signerInfo: expected a SEQUENCE, found SET/,
    change: (response) => retag(tokenParts(response).signerInfo, 0x31),
  },
  {
    attack: 'the SignerInfo retagged [PRIVATE 17]',
    reason: /signerInfo: expected a SEQUENCE, found tag 0xf1/,
    change: (response) => retag(tokenParts(response).signerInfo, 0xf1),
  },
  {
    attack: "the SignerInfo's digest algorithm's NULL parameters added or dropped, and not digestAlgorithms'",
    reason: /signedData\.digestAlgorithms: expected exactly the signer's digest algorithm/,
    change: (response) => flipNullParameters(tokenParts(response).signerInfo.children![2]!),
  },
  {
    attack: 'certificates [0] left out',
    reason: /signedData\.certificates: expected \[0\], empty or with the signing certificate; found none/,
    change: (response) => {
      const { signedData, certificates } = tokenParts(response);
      signedData.children!.splice(certificates, 1);
      return true;
    },
  },
  {
    attack: 'certificates [0] holding the signing certificate twice',
    reason: /signedData\.certificates: expected none, or the signing certificate alone/,
    change: (response, [signing]) => certificatesOf(response, [signing!, signing!]),
  },
  {
    attack: "certificates [0] holding the authority's whole chain, signing certificate first",
    reason: /signedData\.certificates: expected none, or the signing certificate alone/,
    change: (response, chain) => certificatesOf(response, chain),
  },
  {
    attack: "certificates [0] holding the authority's chain root first",
    reason: /signedData\.certificates: expected none, or the signing certificate alone/,
    change: (response, chain) => certificatesOf(response, [...chain].reverse()),
  },
  {
    attack: "certificates [0] holding the authority's root alone (a trusted certificate, not the signer's)",
    reason: /signedData\.certificates: expected none, or the signing certificate alone/,
    change: (response, chain) => certificatesOf(response, [chain.at(-1)!]),
  },
];

describe('an RFC 3161 token is accepted in the one encoding its authority writes', () => {
  for (const genuine of TIMESTAMPED) {
    describe(genuine.name, () => {
      it('verifies the genuine token', () => {
        expect(verdictOf(genuine, read(genuine.bundle)).outcome).toBe('verified');
      });

      for (const { attack, change, reason } of REENCODINGS) {
        it(`refuses a token with ${attack} (TIMESTAMP_NOT_CANONICAL)`, () => {
          const bundle = withToken(read(genuine.bundle), change, signingChainOf(genuine));
          expect(bundle).toBeDefined();
          const verdict = verdictOf(genuine, bundle!);
          expect(verdict.outcome, verdict.reason).toBe('TIMESTAMP_NOT_CANONICAL');
          expect(verdict.reason).toMatch(reason);
        });
      }

      it("accepts the signer's digest algorithm with or without NULL parameters (RFC 5754: authorities write either; nothing signs it): the same evidence", () => {
        const bundle = read(genuine.bundle);
        const other = withToken(
          bundle,
          (response) => {
            const { signerInfo, digestAlgorithms } = tokenParts(response);
            flipNullParameters(signerInfo.children![2]!);
            return flipNullParameters(digestAlgorithms.children![0]!);
          },
          signingChainOf(genuine),
        )!;
        const verdict = verdictOf(genuine, other);
        expect(verdict.outcome, verdict.reason).toBe('verified');
        expect(verdict.evidenceKey).toBe(verdictOf(genuine, bundle).evidenceKey);
      });

      it("accepts certificates [0] empty or holding the signing certificate alone (the request's certReq, which nothing signs): the same evidence", () => {
        const bundle = read(genuine.bundle);
        const chain = signingChainOf(genuine);
        const other = withToken(
          bundle,
          (response) => certificatesOf(response, tokenHoldsCertificate(response) ? [] : [chain[0]!]),
          chain,
        )!;
        const verdict = verdictOf(genuine, other);
        expect(verdict.outcome, verdict.reason).toBe('verified');
        expect(verdict.evidenceKey).toBe(verdictOf(genuine, bundle).evidenceKey);
      });
    });
  }
});

function tokenHoldsCertificate(response: DerTree): boolean {
  const { signedData, certificates } = tokenParts(response);
  return certificates >= 0 && signedData.children![certificates]!.children!.length > 0;
}

/** The chain of the authority that signed the genuine bundle's first token: the one whose leaf its sid names. */
function signingChainOf(genuine: Genuine): DerTree[] {
  const bundle = read(genuine.bundle);
  const response = parseDer(
    Buffer.from(bundle.verificationMaterial.timestampVerificationData!.rfc3161Timestamps[0]!.signedTimestamp, 'base64'),
  );
  const serial = encodeDer(tokenParts(response).signerInfo.children![1]!.children![1]!);
  const chain = trustedTimestampChain(genuine.root).find(([leaf]) => leaf?.includes(serial));
  expect(chain, 'a trusted authority whose certificate the token names').toBeDefined();
  return chain!.map(parseDer);
}

// ── v0.1/v0.2 certificate chains ────────────────────────────────────────────────────────────────────────────────

interface ChainedGenuine extends Genuine {
  /** The path from the leaf's issuer to its root (intermediate first), as base64. */
  issuing: (root: TrustedRootChains, bundle: BundleJSON) => string[];
}

type TrustedRootChains = { certificateAuthorities: { certChain: { certificates: { rawBytes: string }[] } }[] };

const CHAINED: ChainedGenuine[] = [
  {
    name: 'sigstore-js valid-v1-messageSignature-withSigningCert (v0.1, the leaf and its whole chain)',
    bundle: join(
      conformanceRoot,
      'sigstore-js',
      'client-fixtures',
      'valid-v1-messageSignature-withSigningCert.sigstore.json',
    ),
    root: join(conformanceRoot, 'sigstore-js', 'client-fixtures', 'trusted_root.json'),
    options: { artifact: { file: join(conformanceRoot, 'sigstore-js', 'client-fixtures', 'artifact.txt') } },
    // Its trusted root lists the authority root first; the bundle carries the path, intermediate first.
    issuing: (_root, bundle) =>
      bundle.verificationMaterial.x509CertificateChain!.certificates.slice(1).map((c) => c.rawBytes),
  },
  {
    name: 'sigstore-conformance happy-path-v0.2 (v0.2, the leaf alone)',
    bundle: join(bundleVerify, 'happy-path-v0.2', 'bundle.sigstore.json'),
    root: join(conformanceRoot, 'production-trust-root', 'trusted_root.json'),
    options: {
      artifact: {
        digest: parseDigestReference('sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf'),
      },
    },
    issuing: (root) => root.certificateAuthorities.at(-1)!.certChain.certificates.map((c) => c.rawBytes),
  },
];

describe("a v0.1/v0.2 chain after its leaf is nothing, or the leaf's path to its root", () => {
  const withChain = (genuine: ChainedGenuine, after: (issuing: string[]) => string[]) => {
    const bundle = read(genuine.bundle);
    const root = JSON.parse(readFileSync(genuine.root, 'utf8')) as TrustedRootChains;
    const [leaf] = bundle.verificationMaterial.x509CertificateChain!.certificates;
    return changed(bundle, (b) => {
      b.verificationMaterial.x509CertificateChain!.certificates = [
        leaf!,
        ...after(genuine.issuing(root, bundle)).map((rawBytes) => ({ rawBytes })),
      ];
    });
  };

  const attacks = [
    { attack: 'the chain reversed (root first)', after: (issuing: string[]) => [...issuing].reverse() },
    { attack: 'the chain twice', after: (issuing: string[]) => [...issuing, ...issuing] },
    { attack: 'the intermediate alone', after: (issuing: string[]) => issuing.slice(0, 1) },
    { attack: 'the root alone', after: (issuing: string[]) => issuing.slice(-1) },
    { attack: 'the intermediate twice, then the root', after: (issuing: string[]) => [issuing[0]!, ...issuing] },
  ];

  for (const genuine of CHAINED) {
    describe(genuine.name, () => {
      it('accepts the leaf alone and the leaf with its path to the root: the same evidence', () => {
        const seed = verdictOf(genuine, read(genuine.bundle));
        expect(seed.outcome, seed.reason).toBe('verified');
        for (const after of [() => [], (issuing: string[]) => issuing]) {
          const verdict = verdictOf(genuine, withChain(genuine, after));
          expect(verdict.outcome, verdict.reason).toBe('verified');
          expect(verdict.evidenceKey).toBe(seed.evidenceKey);
        }
      });

      for (const { attack, after } of attacks) {
        it(`refuses a leaf followed by ${attack} (CERTIFICATE_CHAIN_UNTRUSTED)`, () => {
          const verdict = verdictOf(genuine, withChain(genuine, after));
          expect(verdict.outcome, verdict.reason).toBe('CERTIFICATE_CHAIN_UNTRUSTED');
          expect(verdict.reason).toMatch(
            /x509CertificateChain\.certificates\[1\.\.\]: expected nothing after the leaf, or the \d certificates from the leaf's issuer to its root/,
          );
        });
      }
    });
  }
});
