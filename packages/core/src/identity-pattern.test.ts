import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import {
  compileIdentityPattern,
  IdentityPatternError,
  MAX_IDENTITY_PATTERN_LENGTH,
  MAX_IDENTITY_PATTERN_PROGRAM,
  MAX_MATCHED_SAN_LENGTH,
} from './identity-pattern';

const SAN = 'https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main';
const SAN_PATTERN = String.raw`https://github\.com/acme/app/\.github/workflows/build\.yml@refs/heads/main`;
/** A hang guard, not a benchmark (the figures are in bench/README.md): a backtracking engine takes hours here. */
const HANG_GUARD_MS = 3000;

/**
 * The eight classic catastrophic patterns, each with the 64 KiB SAN that makes a backtracking engine try every way
 * to split it: `(a+)+$` against thirty `a`s and a `!` already takes seconds in JavaScript's RegExp.
 */
const CATASTROPHIC: { pattern: string; san: string }[] = [
  { pattern: '(a+)+$', san: `${'a'.repeat(MAX_MATCHED_SAN_LENGTH - 1)}!` },
  { pattern: '(a|a)*$', san: `${'a'.repeat(MAX_MATCHED_SAN_LENGTH - 1)}!` },
  { pattern: '(.|.)*X', san: 'x'.repeat(MAX_MATCHED_SAN_LENGTH) },
  { pattern: '(a*)*b', san: 'a'.repeat(MAX_MATCHED_SAN_LENGTH) },
  { pattern: '(x+x+)+y', san: 'x'.repeat(MAX_MATCHED_SAN_LENGTH) },
  { pattern: '^(([a-z])+.)+[A-Z]([a-z])+$', san: 'a'.repeat(MAX_MATCHED_SAN_LENGTH) },
  { pattern: String.raw`(\w+\s?)*$`, san: `${'a'.repeat(MAX_MATCHED_SAN_LENGTH - 1)}!` },
  { pattern: '(a|aa)+$', san: `${'a'.repeat(MAX_MATCHED_SAN_LENGTH - 1)}!` },
];

function compileError(pattern: string): IdentityPatternError {
  try {
    compileIdentityPattern(pattern);
  } catch (error) {
    if (error instanceof IdentityPatternError) return error;
    throw error;
  }
  throw new Error(`expected ${pattern} to be refused`);
}

describe('compileIdentityPattern: anchored', () => {
  it('matches the whole SAN and nothing else', () => {
    const pattern = compileIdentityPattern(SAN_PATTERN);
    expect(pattern.matches(SAN)).toBe(true);
    expect(pattern.source).toBe(SAN_PATTERN);
  });

  it('refuses a branch lookalike: …/main never matches …/main-evil', () => {
    expect(compileIdentityPattern(SAN_PATTERN).matches(`${SAN}-evil`)).toBe(false);
    expect(
      compileIdentityPattern(String.raw`https://github\.com/acme/app/.*@refs/heads/main`).matches(`${SAN}-evil`),
    ).toBe(false);
  });

  it('refuses a repository lookalike: acme/app never matches acme/app-fork', () => {
    expect(compileIdentityPattern(SAN_PATTERN).matches(SAN.replace('acme/app/', 'acme/app-fork/'))).toBe(false);
    expect(compileIdentityPattern('acme/app').matches('acme/app-fork')).toBe(false);
  });

  it('refuses a SAN with the pattern inside it (anchored at both ends), alternatives included', () => {
    expect(compileIdentityPattern(SAN_PATTERN).matches(`https://evil.example/?${SAN}`)).toBe(false);
    const either = compileIdentityPattern('a|b');
    expect(either.matches('ab')).toBe(false);
    expect(either.matches('b')).toBe(true);
    // Leftmost-first semantics must not stop a full match: `a` is tried first, `ab` covers the SAN.
    expect(compileIdentityPattern('a|ab').matches('ab')).toBe(true);
  });

  it('refuses a pattern that closes the anchoring group — …)|(?:… — rather than match any SAN with its prefix', () => {
    // Wrapped as ^(?:…)$ in a string, this pattern read ^(?:https://github\.com/acme/)|(?:.*)$: every SAN under acme/.
    const error = compileError(String.raw`https://github\.com/acme/)|(?:.*`);
    expect(error.code).toBe('PATTERN_SYNTAX');
    expect(error.message).toMatch(/^not a valid regular expression: unexpected \)/);
  });
});

describe('compileIdentityPattern: linear time', () => {
  it.each(CATASTROPHIC)(
    'answers $pattern against a 64 KiB SAN built to explode a backtracking engine',
    ({ pattern, san }) => {
      const start = performance.now();
      expect(compileIdentityPattern(pattern).matches(san)).toBe(false);
      expect(performance.now() - start).toBeLessThan(HANG_GUARD_MS);
    },
  );

  it('answers the costliest pattern within the bounds ((.+){511}b, 2047 instructions) against a 64 KiB SAN', () => {
    const start = performance.now();
    const pattern = compileIdentityPattern('(.+){511}b');
    for (const unit of ['a', 'a ', 'ba'])
      expect(pattern.matches(unit.repeat(MAX_MATCHED_SAN_LENGTH / unit.length))).toBe(false);
    expect(performance.now() - start).toBeLessThan(HANG_GUARD_MS);
  });

  it('matches a SAN of exactly 64 KiB, and never one longer (not even .*)', () => {
    const everything = compileIdentityPattern('.*');
    expect(everything.matches('a'.repeat(MAX_MATCHED_SAN_LENGTH))).toBe(true);
    expect(everything.matches('a'.repeat(MAX_MATCHED_SAN_LENGTH + 1))).toBe(false);
  });
});

describe('compileIdentityPattern: what RE2 cannot express, and the bounds', () => {
  it.each([
    ['a backreference', String.raw`(https://github\.com/[^/]+/)\1`],
    ['a lookahead', String.raw`(?=https://github\.com/acme/).*`],
    ['a negative lookahead', '(?!.*-evil).*'],
    ['a lookbehind', '.*(?<=main)'],
    ['a repeat over 1000', 'a{1001}'],
  ])('refuses %s as not an RE2 pattern', (_name, pattern) => {
    const error = compileError(pattern);
    expect(error.code).toBe('PATTERN_NOT_RE2');
    expect(error.message).toMatch(/^not an RE2 pattern: /);
  });

  it(`refuses a pattern over ${MAX_IDENTITY_PATTERN_LENGTH} characters, and accepts a literal of exactly that`, () => {
    expect(compileIdentityPattern('a'.repeat(MAX_IDENTITY_PATTERN_LENGTH)).matches('a'.repeat(1024))).toBe(true);
    const error = compileError('a'.repeat(MAX_IDENTITY_PATTERN_LENGTH + 1));
    expect(error.code).toBe('PATTERN_TOO_LONG');
    expect(error.message).toBe('1025 characters, more than the 1024 an identity pattern may have');
  });

  it(`refuses a short pattern that compiles to more than ${MAX_IDENTITY_PATTERN_PROGRAM} RE2 instructions`, () => {
    const error = compileError('(.?){1000}(.?){1000}');
    expect(error.code).toBe('PATTERN_TOO_LARGE');
    expect(error.message).toMatch(/^compiles to \d+ RE2 instructions, more than 2048/);
    expect(compileError('((.?){1000}){1000}').code).toBe('PATTERN_TOO_LARGE');
  });

  it('reads RE2 syntax that JavaScript lacks as cosign does: (?i), \\pL, (?P<name>…)', () => {
    expect(compileIdentityPattern('(?i)HTTPS://GITHUB\\.COM/acme/.*').matches(SAN)).toBe(true);
    expect(compileIdentityPattern(String.raw`https://github\.com/\pL+/.*`).matches(SAN)).toBe(true);
    expect(compileIdentityPattern(String.raw`https://github\.com/(?P<owner>[^/]+)/.*`).matches(SAN)).toBe(true);
  });

  it('keeps the meaning of ordinary patterns: classes, alternatives, escapes, repeats', () => {
    const release = compileIdentityPattern(
      String.raw`https://github\.com/acme/[^/]+/\.github/workflows/build\.yml@refs/(heads/main|tags/v[0-9]+\.[0-9]+\.[0-9]+)`,
    );
    expect(release.matches(SAN)).toBe(true);
    expect(release.matches(SAN.replace('heads/main', 'tags/v1.22.3'))).toBe(true);
    expect(release.matches(SAN.replace('heads/main', 'tags/v1.22'))).toBe(false);
    expect(release.matches(SAN.replace('acme/app/', 'acme/app/x/'))).toBe(false);
    expect(compileIdentityPattern(String.raw`https:\/\/github\.com\/acme\/.*`).matches(SAN)).toBe(true);
    // `.` is any character but a newline, as in JavaScript.
    expect(compileIdentityPattern('a.b').matches('a\nb')).toBe(false);
  });
});
