import type { KeyObject } from 'node:crypto';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { BundleVerificationError } from './error';

const CURVES = { 'P-256': p256, 'P-384': p384, 'P-521': p521 } as const;

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
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
  try {
    return curve.verify(signature, digest, point, { prehash: false, format: 'der', lowS: false });
  } catch {
    return false;
  }
}
