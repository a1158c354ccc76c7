import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ASN1Obj, RFC3161Timestamp, X509Certificate } from '@sigstore/core';
import { describe, expect, it } from 'vitest';
import { cacheDerEncodings } from './der-cache';

const shared = resolve(import.meta.dirname, '..', '..', '..', '..', 'shared');
const realdata = join(shared, 'sigstore-realdata');

function certificateDER(): Buffer<ArrayBuffer> {
  const bundle = JSON.parse(readFileSync(join(realdata, 'sigstore-js-2.1.0-bundle.json'), 'utf8'));
  const chain = bundle.verificationMaterial.x509CertificateChain ?? {
    certificates: [bundle.verificationMaterial.certificate],
  };
  return Buffer.from(chain.certificates[0].rawBytes, 'base64');
}

/** GitHub's release attestation carries an RFC 3161 timestamp (its instance has no transparency log). */
function timestampDER(): Buffer<ArrayBuffer> {
  const bundle = JSON.parse(
    readFileSync(join(shared, 'github-instance', 'release-attestation-gh-2.96.0.sigstore.json'), 'utf8'),
  );
  return Buffer.from(
    bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps[0].signedTimestamp,
    'base64',
  );
}

/** The encoding @sigstore/core itself writes: every object encoded again from its tag, length and children. */
function encodedAgain(obj: ASN1Obj): Buffer {
  const value = obj.subs.length > 0 ? Buffer.concat(obj.subs.map(encodedAgain)) : obj.value;
  const length =
    value.length < 0x80
      ? Buffer.from([value.length])
      : (() => {
          const bytes: number[] = [];
          for (let rest = value.length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
          return Buffer.from([0x80 | bytes.length, ...bytes]);
        })();
  return Buffer.concat([Buffer.from([obj.tag.toDER()]), length, value]);
}

describe('cacheDerEncodings', () => {
  it('returns the exact bytes that were parsed, and the same bytes each time', () => {
    cacheDerEncodings();
    const der = certificateDER();
    const certificate = X509Certificate.parse(der);
    expect(certificate.root.toDER().equals(der)).toBe(true);
    expect(certificate.root.toDER().equals(der)).toBe(true);
    expect(certificate.tbsCertificate.toDER().equals(encodedAgain(certificate.tbsCertificate))).toBe(true);
  });

  it('keeps each parsed object its own encoding: a certificate with one byte changed is not equal to the original', () => {
    cacheDerEncodings();
    const der = certificateDER();
    const original = X509Certificate.parse(der);
    expect(original.root.toDER().length).toBe(der.length);
    const altered: Buffer<ArrayBuffer> = Buffer.from(der);
    altered[altered.length - 10]! ^= 0x01;
    const tampered = X509Certificate.parse(altered);
    expect(tampered.equals(original)).toBe(false);
    expect(ASN1Obj.parseBuffer(altered).toDER().equals(altered)).toBe(true);
  });

  it('encodes an object changed after parsing as it now is (sigstore-js drops the SCT extension from a copy)', () => {
    cacheDerEncodings();
    const copy = X509Certificate.parse(certificateDER()).clone();
    const before = copy.tbsCertificate.toDER().length;
    const dropped = X509Certificate.parse(certificateDER()).clone();
    const extensions = dropped.extensions;
    const removed = extensions.splice(extensions.length - 1, 1)[0]!;
    const tbs = dropped.tbsCertificate.toDER();
    expect(tbs.equals(encodedAgain(dropped.tbsCertificate))).toBe(true);
    expect(tbs.length).toBe(before - encodedAgain(removed).length);
  });

  it('encodes an object built by hand, whatever the bytes beside its value', () => {
    cacheDerEncodings();
    const memory = Buffer.from([0x04, 0x02, 0x01, 0x02, 0x03]);
    // The value's memory is preceded by bytes that look like a header of another length: not taken for it.
    const built = new ASN1Obj(ASN1Obj.parseBuffer(Buffer.from([0x04, 0x01, 0x00])).tag, memory.subarray(2, 5), []);
    expect(built.toDER().equals(Buffer.from([0x04, 0x03, 0x01, 0x02, 0x03]))).toBe(true);
  });

  it("never lets a caller that changes its bytes write into the parsed ones (@sigstore/core retags a timestamp's signed attributes)", () => {
    cacheDerEncodings();
    const der = timestampDER();
    const timestamp = RFC3161Timestamp.parse(der);
    const signedAttrs = (timestamp as unknown as { signedAttrsObj: ASN1Obj }).signedAttrsObj;
    const before = Buffer.from(signedAttrs.toDER());
    expect(before[0]).toBe(0xa0);
    // Any key: the signature does not verify under it, but the attributes were encoded and retagged on the way.
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() =>
      (timestamp as unknown as { verifySignature(key: unknown): void }).verifySignature(publicKey),
    ).toThrow();
    expect(signedAttrs.toDER().equals(before)).toBe(true);
    expect(RFC3161Timestamp.parse(der).signingTime.getTime()).toBe(timestamp.signingTime.getTime());
    expect(timestamp.root.toDER().equals(der)).toBe(true);
  });

  it('reads a time once, and gives each caller a Date of its own', () => {
    cacheDerEncodings();
    const certificate = X509Certificate.parse(certificateDER());
    const first = certificate.notBefore;
    const second = certificate.notBefore;
    expect(first).not.toBe(second);
    expect(first.getTime()).toBe(second.getTime());
    first.setTime(0);
    expect(certificate.notBefore.getTime()).toBe(second.getTime());
    expect(certificate.notAfter.getTime()).toBeGreaterThan(second.getTime());
  });
});
