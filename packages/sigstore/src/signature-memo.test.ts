import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { X509Certificate } from '@sigstore/core';
import { verifyCertificateChain } from '@sigstore/verify/dist/key/certificate.js';
import { describe, expect, it } from 'vitest';
import { parseBundle } from './bundle';
import { isRejected, verifyEvidence } from './evidence';
import { memoizeSignatureChecks, publicKeyOf, signatureCheckCounts } from './signature-memo';
import { publicGoodTrustedRoot } from './trust';
import { BundleVerifier } from './verify';

const realdata = resolve(import.meta.dirname, '..', '..', '..', '..', 'shared', 'sigstore-realdata');
const npmProvenanceText = readFileSync(join(realdata, 'sigstore-js-2.1.0-bundle.json'), 'utf8');
const SAN = 'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main';

/** The npm provenance's signing certificate, as it was issued by public-good's Fulcio. */
function leafDER(): Buffer<ArrayBuffer> {
  const bundle = JSON.parse(npmProvenanceText);
  return Buffer.from(bundle.verificationMaterial.certificate.rawBytes, 'base64');
}

/** The same certificate with one byte of its SAN changed: same subject, same issuer, other signed bytes. */
function withOtherSignedBytes(der: Buffer): Buffer<ArrayBuffer> {
  const altered = Buffer.from(der);
  const at = altered.indexOf(Buffer.from('release.yml'));
  expect(at).toBeGreaterThan(0);
  altered[at + 'releas'.length] = 'f'.charCodeAt(0);
  return altered;
}

/** The same certificate with its signature changed (the last byte of s: the DER stays well formed). */
function withOtherSignature(der: Buffer): Buffer<ArrayBuffer> {
  const altered = Buffer.from(der);
  altered[altered.length - 1]! ^= 0x01;
  return altered;
}

/** The trusted root's certificate that issued the leaf, and one that did not. */
function issuers(leaf: X509Certificate): { issuer: X509Certificate; other: X509Certificate } {
  const certificates = publicGoodTrustedRoot().material.certificateAuthorities.flatMap((ca) => ca.certChain);
  const issuer = certificates.find((c) => leaf.verify(c));
  const other = certificates.find((c) => issuer !== undefined && !c.publicKey.equals(issuer.publicKey));
  if (!issuer || !other) throw new Error('expected the leaf issuer and another certificate in the public-good root');
  return { issuer, other };
}

function bundleWithCertificate(der: Buffer): string {
  const bundle = JSON.parse(npmProvenanceText);
  bundle.verificationMaterial.certificate.rawBytes = der.toString('base64');
  return JSON.stringify(bundle);
}

describe('memoizeSignatureChecks', () => {
  it('checks a certificate signature once, and answers the same question again from memory', () => {
    memoizeSignatureChecks();
    const leaf = X509Certificate.parse(leafDER());
    const { issuer } = issuers(leaf);
    const before = signatureCheckCounts();
    expect(X509Certificate.parse(leafDER()).verify(issuer)).toBe(true);
    expect(leaf.verify(issuer)).toBe(true);
    const after = signatureCheckCounts();
    expect(after.checked - before.checked).toBe(0);
    expect(after.remembered - before.remembered).toBe(2);
  });

  it('refuses a certificate that differs in one signed byte from one that verified (same subject, same issuer)', () => {
    memoizeSignatureChecks();
    const leaf = X509Certificate.parse(leafDER());
    const { issuer } = issuers(leaf);
    expect(leaf.verify(issuer)).toBe(true);
    const tampered = X509Certificate.parse(withOtherSignedBytes(leafDER()));
    expect(tampered.subject.equals(leaf.subject)).toBe(true);
    expect(tampered.issuer.equals(leaf.issuer)).toBe(true);
    expect(tampered.verify(issuer)).toBe(false);
    expect(tampered.verify(issuer)).toBe(false);
  });

  it('refuses a certificate whose signature differs from one that verified (same signed bytes)', () => {
    memoizeSignatureChecks();
    const leaf = X509Certificate.parse(leafDER());
    const { issuer } = issuers(leaf);
    expect(leaf.verify(issuer)).toBe(true);
    const tampered = X509Certificate.parse(withOtherSignature(leafDER()));
    expect(tampered.tbsCertificate.toDER().equals(leaf.tbsCertificate.toDER())).toBe(true);
    expect(tampered.verify(issuer)).toBe(false);
  });

  it('refuses a verified certificate under another key: its own, or another authority of the root', () => {
    memoizeSignatureChecks();
    const leaf = X509Certificate.parse(leafDER());
    const { issuer, other } = issuers(leaf);
    expect(leaf.verify(issuer)).toBe(true);
    expect(leaf.verify(other)).toBe(false);
    expect(leaf.verify()).toBe(false);
  });

  it('never turns a refusal into a pass, nor a pass into a refusal, whatever was asked first', () => {
    memoizeSignatureChecks();
    const { issuer } = issuers(X509Certificate.parse(leafDER()));
    const tampered = () => X509Certificate.parse(withOtherSignedBytes(leafDER()));
    expect(tampered().verify(issuer)).toBe(false);
    expect(X509Certificate.parse(leafDER()).verify(issuer)).toBe(true);
    expect(tampered().verify(issuer)).toBe(false);
    expect(X509Certificate.parse(withOtherSignature(leafDER())).verify(issuer)).toBe(false);
    expect(X509Certificate.parse(leafDER()).verify(issuer)).toBe(true);
  });

  it('refuses a bundle whose certificate was tampered with after the genuine bundle verified in the same process', () => {
    const verifier = new BundleVerifier(publicGoodTrustedRoot());
    const verify = (text: string, name: string) => verifyEvidence(verifier, parseBundle(text, name));
    const genuine = verify(npmProvenanceText, 'genuine.json');
    expect(isRejected(genuine)).toBe(false);
    if (!isRejected(genuine)) expect(genuine.signer.san).toBe(SAN);

    for (const [name, der] of [
      ['other-signed-bytes.json', withOtherSignedBytes(leafDER())],
      ['other-signature.json', withOtherSignature(leafDER())],
    ] as const) {
      const result = verify(bundleWithCertificate(der), name);
      expect(isRejected(result), name).toBe(true);
      // Issued by no authority of the root: the one signature check that tells, made afresh.
      if (isRejected(result)) expect(result.code, name).toBe('CERTIFICATE_CHAIN_UNTRUSTED');
    }
    expect(isRejected(verify(npmProvenanceText, 'genuine-again.json'))).toBe(false);
  });
});

describe('certificate paths, built once', () => {
  it('still checks each certificate of a path found before at every timestamp: an expired one is refused', () => {
    memoizeSignatureChecks();
    const authorities = publicGoodTrustedRoot().material.certificateAuthorities;
    const leaf = X509Certificate.parse(leafDER());
    const signed = new Date('2023-08-29T15:40:23Z');
    expect(verifyCertificateChain(signed, leaf, authorities)[0]).toBe(leaf);
    const again = X509Certificate.parse(leafDER());
    const path = verifyCertificateChain(signed, again, authorities);
    expect(path[0]).toBe(again);
    expect(path.length).toBeGreaterThan(1);
    const afterExpiry = new Date(leaf.notAfter.getTime() + 1000);
    expect(() => verifyCertificateChain(afterExpiry, again, authorities)).toThrow(/Failed to verify certificate chain/);
  });

  it('builds no path for a certificate with other bytes, whatever was found for one that verified', () => {
    memoizeSignatureChecks();
    const authorities = publicGoodTrustedRoot().material.certificateAuthorities;
    const signed = new Date('2023-08-29T15:40:23Z');
    expect(verifyCertificateChain(signed, X509Certificate.parse(leafDER()), authorities).length).toBeGreaterThan(1);
    for (const der of [withOtherSignedBytes(leafDER()), withOtherSignature(leafDER())]) {
      expect(() => verifyCertificateChain(signed, X509Certificate.parse(der), authorities)).toThrow(
        /Failed to verify certificate chain/,
      );
    }
  });
});

describe('publicKeyOf', () => {
  it('builds each key once', () => {
    const der = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
    expect(publicKeyOf(der)).toBe(publicKeyOf(Buffer.from(der)));
  });

  it('reads P-256 and P-384 keys (its PEM way) as the same key as their DER, and any other key from its DER', () => {
    for (const [type, options] of [
      ['ec', { namedCurve: 'P-256' }],
      ['ec', { namedCurve: 'P-384' }],
      ['ec', { namedCurve: 'P-521' }],
      ['ed25519', {}],
      ['rsa', { modulusLength: 2048 }],
    ] as const) {
      const { publicKey } = generateKeyPairSync(type as 'ec', options as { namedCurve: string });
      const der = publicKey.export({ type: 'spki', format: 'der' });
      expect(publicKeyOf(der).equals(publicKey), `${type} ${JSON.stringify(options)}`).toBe(true);
    }
  });

  it('refuses a P-256 key whose point is not on the curve, as reading its DER does', () => {
    const der = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
    const offCurve = Buffer.from(der);
    offCurve[offCurve.length - 1]! ^= 0x01;
    expect(() => publicKeyOf(offCurve)).toThrow();
  });
});
