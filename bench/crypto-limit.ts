// What the machine allows: the bundles/s a verifier would reach if it did nothing but the signature checks a bundle
// needs, each once, on every core. `openssl speed` gives ECDSA verifications/s on all cores for each curve (Node's
// crypto.verify is measured instead when there is no openssl); the corpus's trusted root and one of its bundles give
// the curve of each check a bundle needs.
import { spawnSync } from 'node:child_process';
import {
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  X509Certificate as OpenSSLCertificate,
  sign,
  verify,
} from 'node:crypto';
import { readFileSync } from 'node:fs';

export type Curve = 'P-256' | 'P-384';

/** The DER of the OID of the embedded SCT list extension (1.3.6.1.4.1.11129.2.4.2). */
const SCT_EXTENSION_OID = Buffer.from('060a2b06010401d679020402', 'hex');

/** ECDSA verifications per second on all the machine's cores at once, by curve, and what measured them. */
export interface VerifyRates {
  source: 'openssl speed' | 'node crypto.verify';
  command: string;
  cores: number;
  /** Verifications per second, all cores together. */
  allCores: Record<Curve, number>;
}

/** One signature check a bundle needs, and the curve of the key that makes it. */
export interface Check {
  check: string;
  curve: Curve;
}

/**
 * `openssl speed -seconds 1 -multi CORES ecdsap256 ecdsap384`: one openssl process a core, all at once, so that the
 * figure is what the cores give together at that moment (on an idle machine, CORES times the one-core rate; on a
 * shared one, what the others leave, as they leave it to twokey). Without openssl: Node's crypto.verify for one
 * second a curve, in this thread, times the cores.
 */
export function measureVerifyRates(cores: number): VerifyRates {
  const args = ['speed', '-seconds', '1', ...(cores > 1 ? ['-multi', String(cores)] : []), 'ecdsap256', 'ecdsap384'];
  const run = spawnSync('openssl', args, { encoding: 'utf8' });
  if (!run.error && run.status === 0) {
    const rate = (bits: number, curve: string) => {
      // ` 256 bits ecdsa (nistp256)   0.0000s   0.0001s  39718.8  13462.8`: sign s, verify s, sign/s, verify/s.
      const line = new RegExp(
        `^\\s*${bits} bits ecdsa \\(${curve}\\)\\s+\\S+s\\s+\\S+s\\s+([\\d.]+)\\s+([\\d.]+)`,
        'm',
      );
      const match = line.exec(run.stdout);
      if (!match) throw new Error(`openssl speed: no verify/s for ${curve} in its output`);
      return Number(match[2]);
    };
    return {
      source: 'openssl speed',
      command: `openssl ${args.join(' ')}`,
      cores,
      allCores: { 'P-256': rate(256, 'nistp256'), 'P-384': rate(384, 'nistp384') },
    };
  }
  return {
    source: 'node crypto.verify',
    command: 'crypto.verify for 1 s a curve, in one thread, times the cores',
    cores,
    allCores: { 'P-256': cores * nodeVerifyRate('P-256'), 'P-384': cores * nodeVerifyRate('P-384') },
  };
}

/** Node's crypto.verify of a SHA-256 digest-sized message for one second. */
function nodeVerifyRate(curve: Curve): number {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  const message = Buffer.alloc(32, 1);
  const signature = sign('sha256', message, privateKey);
  let done = 0;
  const started = performance.now();
  while (performance.now() - started < 1000) {
    for (let i = 0; i < 100; i++) verify('sha256', message, publicKey, signature);
    done += 100;
  }
  return done / ((performance.now() - started) / 1000);
}

/**
 * The signature checks one bundle of the corpus needs, each once, with the curve of its key: the certificate (by
 * its certificate authority's key), its SCT (a CT log's), the log entry's SET and checkpoint (the log's), the RFC 3161
 * timestamp (the timestamp authority's) and the signature itself (the certificate's), as far as the trusted root has
 * such keys. Everything else (a certificate authority's or timestamp authority's own certificates) need not be
 * checked again for each bundle.
 */
export function checksPerBundle(trustedRootFile: string, bundleFile: string): Check[] {
  const root = JSON.parse(readFileSync(trustedRootFile, 'utf8')) as TrustedRootJSON;
  const bundle = JSON.parse(readFileSync(bundleFile, 'utf8')) as BundleJSON;
  const leafBytes =
    bundle.verificationMaterial.certificate?.rawBytes ??
    bundle.verificationMaterial.x509CertificateChain?.certificates[0]?.rawBytes;
  if (!leafBytes) throw new Error(`${bundleFile}: no signing certificate`);
  const leaf = new OpenSSLCertificate(Buffer.from(leafBytes, 'base64'));
  const certificateOf = (rawBytes: string) => new OpenSSLCertificate(Buffer.from(rawBytes, 'base64'));
  const issuer = root.certificateAuthorities
    .flatMap((ca) => ca.certChain.certificates.map((c) => certificateOf(c.rawBytes)))
    .find((candidate) => leaf.checkIssued(candidate) && leaf.verify(candidate.publicKey));
  if (!issuer) throw new Error(`${bundleFile}: no certificate authority of ${trustedRootFile} issued its certificate`);
  const checks: Check[] = [{ check: 'certificate', curve: curveOf(issuer.publicKey) }];
  const [ctlog] = root.ctlogs;
  if (ctlog && Buffer.from(leafBytes, 'base64').includes(SCT_EXTENSION_OID)) {
    checks.push({ check: 'SCT', curve: curveOf(logKey(ctlog)) });
  }
  const [tlog] = root.tlogs;
  if (tlog && bundle.verificationMaterial.tlogEntries?.length) {
    checks.push({ check: 'SET', curve: curveOf(logKey(tlog)) }, { check: 'checkpoint', curve: curveOf(logKey(tlog)) });
  }
  const [tsa] = root.timestampAuthorities;
  if (tsa && bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps.length) {
    const [tsaLeaf] = tsa.certChain.certificates;
    if (tsaLeaf) checks.push({ check: 'timestamp token', curve: curveOf(certificateOf(tsaLeaf.rawBytes).publicKey) });
  }
  checks.push({ check: 'signature', curve: curveOf(leaf.publicKey) });
  return checks;
}

/** Bundles/s the machine's cores would verify if each bundle took only these checks, at these rates. */
export function limitBundlesPerSecond(checks: readonly Check[], allCores: Record<Curve, number>): number {
  const secondsPerBundle = checks.reduce((sum, { curve }) => sum + 1 / allCores[curve], 0);
  return 1 / secondsPerBundle;
}

interface TrustedRootJSON {
  certificateAuthorities: { certChain: { certificates: { rawBytes: string }[] } }[];
  tlogs: { publicKey: { rawBytes: string } }[];
  ctlogs: { publicKey: { rawBytes: string } }[];
  timestampAuthorities: { certChain: { certificates: { rawBytes: string }[] } }[];
}

interface BundleJSON {
  verificationMaterial: {
    certificate?: { rawBytes: string };
    x509CertificateChain?: { certificates: { rawBytes: string }[] };
    tlogEntries?: unknown[];
    timestampVerificationData?: { rfc3161Timestamps: unknown[] };
  };
}

function logKey(log: { publicKey: { rawBytes: string } }): KeyObject {
  return createPublicKey({ key: Buffer.from(log.publicKey.rawBytes, 'base64'), format: 'der', type: 'spki' });
}

function curveOf(key: KeyObject): Curve {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (curve === 'prime256v1') return 'P-256';
  if (curve === 'secp384r1') return 'P-384';
  throw new Error(`a ${key.asymmetricKeyType} key${curve ? ` on ${curve}` : ''}: not an ECDSA P-256 or P-384 key`);
}
