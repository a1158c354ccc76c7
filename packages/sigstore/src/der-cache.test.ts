import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ASN1Obj, X509Certificate } from '@sigstore/core';
import { describe, expect, it } from 'vitest';
import { cacheDerEncodings } from './der-cache';

const realdata = resolve(import.meta.dirname, '..', '..', '..', '..', 'shared', 'sigstore-realdata');

function certificateDER(): Buffer<ArrayBuffer> {
  const bundle = JSON.parse(readFileSync(join(realdata, 'sigstore-js-2.1.0-bundle.json'), 'utf8'));
  const chain = bundle.verificationMaterial.x509CertificateChain ?? {
    certificates: [bundle.verificationMaterial.certificate],
  };
  return Buffer.from(chain.certificates[0].rawBytes, 'base64');
}

describe('cacheDerEncodings', () => {
  it('returns the exact bytes that were parsed, and the same bytes each time', () => {
    cacheDerEncodings();
    const der = certificateDER();
    const certificate = X509Certificate.parse(der);
    expect(certificate.root.toDER().equals(der)).toBe(true);
    expect(certificate.root.toDER().equals(der)).toBe(true);
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

  it('hands each caller its own copy: bytes a caller changes never reach the next encoding', () => {
    cacheDerEncodings();
    const der = certificateDER();
    const certificate = X509Certificate.parse(der);
    const first = certificate.root.toDER();
    // As @sigstore/core does to an RFC 3161 timestamp's signed attributes before checking their signature.
    first[0] = 0x31;
    expect(certificate.root.toDER().equals(der)).toBe(true);
  });
});
