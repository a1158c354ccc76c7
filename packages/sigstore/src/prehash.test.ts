// The digest-only ECDSA check (a message signature judged against the digest a bundle names, or a large artifact's):
// a digest longer than the curve's order is refused (threat-model row 172). ECDSA keeps only the order's bytes of a
// digest, so one P-256 signature over sha256(A) verified for any "sha384" digest sha256(A) ‖ anything — a digest of
// nothing that was signed — where OpenSSL over the file, hashing with the named algorithm itself, refuses.
import { createHash, generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BundleVerificationError } from './error';
import { verifyPrehashed } from './prehash';

const artifact = Buffer.from('artifact A');

describe('verifyPrehashed', () => {
  it('refuses a named SHA-384 or SHA-512 digest against a P-256 signature (its tail would be anyone’s choice)', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const signature = sign('sha256', artifact, privateKey);
    const head = createHash('sha256').update(artifact).digest();
    const sha384Shaped = Buffer.concat([head, Buffer.alloc(16, 0xaa)]);
    const sha512Shaped = Buffer.concat([head, Buffer.alloc(32, 0x55)]);
    // What OpenSSL answers over the file with the named algorithms.
    expect(verify('sha384', artifact, publicKey, signature)).toBe(false);
    expect(verify('sha512', artifact, publicKey, signature)).toBe(false);
    for (const digest of [sha384Shaped, sha512Shaped]) {
      let error: unknown;
      try {
        verifyPrehashed(publicKey, digest, signature, 'attack.sigstore.json');
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(BundleVerificationError);
      expect((error as BundleVerificationError).code).toBe('UNSUPPORTED');
      expect((error as Error).message).toBe(
        `attack.sigstore.json: a ${digest.length * 8}-bit digest cannot be checked against a P-256 signature, which covers only its first 32 bytes`,
      );
    }
  });

  it('checks the digests each curve takes whole: SHA-256 with P-256, SHA-384 with P-384, SHA-256 with P-384', () => {
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const sha256 = createHash('sha256').update(artifact).digest();
    const sha384 = createHash('sha384').update(artifact).digest();
    expect(verifyPrehashed(p256.publicKey, sha256, sign('sha256', artifact, p256.privateKey), 'b')).toBe(true);
    expect(verifyPrehashed(p384.publicKey, sha384, sign('sha384', artifact, p384.privateKey), 'b')).toBe(true);
    expect(verifyPrehashed(p384.publicKey, sha256, sign('sha256', artifact, p384.privateKey), 'b')).toBe(true);
    // And refuses a signature over other bytes.
    const other = createHash('sha256').update('artifact B').digest();
    expect(verifyPrehashed(p256.publicKey, other, sign('sha256', artifact, p256.privateKey), 'b')).toBe(false);
  });
});
