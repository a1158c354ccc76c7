import { performance } from 'node:perf_hooks';
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

/** A hang guard, not a benchmark (the figures are in bench/README.md): a backtracking engine takes hours here. */
const HANG_GUARD_MS = 3000;
const KIB64 = 64 * 1024;

/** The eight classic catastrophic patterns, each with the 64 KiB SAN that makes a backtracking engine explode. */
const CATASTROPHIC: { pattern: string; san: string }[] = [
  { pattern: '(a+)+$', san: `${'a'.repeat(KIB64 - 1)}!` },
  { pattern: '(a|a)*$', san: `${'a'.repeat(KIB64 - 1)}!` },
  { pattern: '(.|.)*X', san: 'x'.repeat(KIB64) },
  { pattern: '(a*)*b', san: 'a'.repeat(KIB64) },
  { pattern: '(x+x+)+y', san: 'x'.repeat(KIB64) },
  { pattern: '^(([a-z])+.)+[A-Z]([a-z])+$', san: 'a'.repeat(KIB64) },
  { pattern: String.raw`(\w+\s?)*$`, san: `${'a'.repeat(KIB64 - 1)}!` },
  { pattern: '(a|aa)+$', san: `${'a'.repeat(KIB64 - 1)}!` },
];

describe('checkIdentity: patterns in linear time (RE2), anchored', () => {
  it.each(CATASTROPHIC)('refuses a 64 KiB SAN against $pattern within a second', ({ pattern, san }) => {
    const start = performance.now();
    expect(() => checkIdentity({ ...signer, san }, { sanPattern: pattern, issuer: ISSUER }, 'b.json')).toThrow(
      expect.objectContaining({ code: 'IDENTITY_MISMATCH' }),
    );
    expect(performance.now() - start).toBeLessThan(HANG_GUARD_MS);
  });

  it('refuses a branch lookalike (…/main-evil) and a repository lookalike (acme/app-fork)', () => {
    const main = String.raw`https://github\.com/acme/app/\.github/workflows/build\.yml@refs/heads/main`;
    expect(() => checkIdentity(signer, { sanPattern: main, issuer: ISSUER }, 'b.json')).not.toThrow();
    for (const san of [`${signer.san}-evil`, signer.san.replace('acme/app/', 'acme/app-fork/')]) {
      expect(() => checkIdentity({ ...signer, san }, { sanPattern: main, issuer: ISSUER }, 'b.json')).toThrow(
        expect.objectContaining({ code: 'IDENTITY_MISMATCH' }),
      );
    }
  });

  it('never accepts a pattern that closes its anchoring group (…)|(?:…): it is not a regular expression', () => {
    const breakout = String.raw`https://github\.com/acme/)|(?:.*`;
    expect(() => checkIdentity(signer, { sanPattern: breakout, issuer: ISSUER }, 'b.json')).toThrow(
      expect.objectContaining({ code: 'PATTERN_SYNTAX' }),
    );
  });
});
