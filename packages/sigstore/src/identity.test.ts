import { describe, expect, it } from 'vitest';
import { checkIdentity } from './verify';

const ISSUER = 'https://token.actions.githubusercontent.com';
const signer = {
  san: 'https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main',
  issuer: ISSUER,
  extensions: {},
};

describe('checkIdentity', () => {
  it('accepts the exact SAN and issuer, and a pattern matching the whole SAN', () => {
    expect(() => checkIdentity(signer, { san: signer.san, issuer: ISSUER }, 'b.json')).not.toThrow();
    expect(() =>
      checkIdentity(signer, { sanPattern: 'https://github\\.com/acme/.*', issuer: ISSUER }, 'b.json'),
    ).not.toThrow();
  });

  it('refuses an expected identity that names no SAN, rather than accept every SAN of the issuer', () => {
    expect(() => checkIdentity(signer, { issuer: ISSUER }, 'b.json')).toThrow(
      expect.objectContaining({ code: 'IDENTITY_MISMATCH', message: expect.stringContaining('neither a SAN') }),
    );
  });

  it('refuses a pattern that matches only a prefix', () => {
    expect(() =>
      checkIdentity(signer, { sanPattern: 'https://github\\.com/acme/app', issuer: ISSUER }, 'b.json'),
    ).toThrow(expect.objectContaining({ code: 'IDENTITY_MISMATCH' }));
  });
});
