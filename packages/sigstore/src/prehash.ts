import type { KeyObject } from 'node:crypto';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { BundleVerificationError } from './error';

const CURVES = { 'P-256': p256, 'P-384': p384, 'P-521': p521 } as const;
/**
 * The bytes a digest may have for each curve: ECDSA keeps only the order's bit length of a longer digest (P-521: 521
 * bits, so no SHA-2 digest is cut) and ignores the rest.
 */
const ORDER_BYTES = { 'P-256': 32, 'P-384': 48, 'P-521': 66 } as const;

/**
 * The generator's table of multiples, built on a process's first verification: @noble/curves builds one of window 8
 * (4,224 points, ~80–130 ms before the first check); window 4 (520 points) takes ~25 ms, and a check costs about the
 * same with either (the signer's key, never the same twice, has no table). A gate or a deploy job verifies one or two
 * signatures against a digest: the first is what counts.
 */
const GENERATOR_WINDOW = 4;
for (const curve of Object.values(CURVES)) curve.Point.BASE.precompute(GENERATOR_WINDOW);

/**
 * Verifies an ECDSA signature over a digest the caller computed (Node's crypto only verifies over the message).
 * Sigstore signs artifacts with ECDSA; other key types cannot be checked against a digest alone.
 */
export function verifyPrehashed(key: KeyObject, digest: Buffer, signature: Buffer, source: string): boolean {
  if (key.asymmetricKeyType !== 'ec') {
    throw new BundleVerificationError(
      'UNSUPPORTED',
      `${source}: a ${key.asymmetricKeyType} signature cannot be verified against a digest; give the artifact file`,
    );
  }
  const jwk = key.export({ format: 'jwk' });
  const curve = CURVES[jwk.crv as keyof typeof CURVES];
  if (!curve || !jwk.x || !jwk.y) {
    throw new BundleVerificationError('UNSUPPORTED', `${source}: unsupported curve ${jwk.crv}`);
  }
  // A digest longer than the order is checked on its first bytes alone: one signature over sha256(A) would verify
  // for any "sha384" digest sha256(A) ‖ anything — a digest of nothing that was signed. OpenSSL, given the file,
  // hashes it with the named algorithm itself; against a digest alone, only one the key's curve takes whole is checked.
  const orderBytes = ORDER_BYTES[jwk.crv as keyof typeof ORDER_BYTES];
  if (digest.length > orderBytes) {
    throw new BundleVerificationError(
      'UNSUPPORTED',
      `${source}: a ${digest.length * 8}-bit digest cannot be checked against a ${jwk.crv} signature, which covers only its first ${orderBytes} bytes`,
    );
  }
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
  try {
    return curve.verify(signature, digest, point, { prehash: false, format: 'der', lowS: false });
  } catch {
    return false;
  }
}
