// Identity patterns — a policy's `san-pattern`, `twokey verify-bundle --certificate-identity-regexp` — are matched
// with RE2 semantics, as cosign and sigstore-go match them: in time linear in the SAN, whatever the pattern.
// JavaScript's RegExp backtracks, and `(a+)+$` against thirty characters already takes seconds; twokey tested a
// policy's patterns at load, so a pattern alone hung the CLI and the gate before any bundle was read.

import { RE2JS } from 're2js';
import { CodedError } from './error';

/** Longest identity pattern, in characters: a SAN pattern is one URL with a few alternatives. */
export const MAX_IDENTITY_PATTERN_LENGTH = 1024;

/**
 * Largest compiled pattern, in RE2 instructions (`programSize`: each copy of a counted repeat counts, so `.{1000}`
 * is ~1000). A match costs up to program size × SAN length; up to this size re2js matches a 64 KiB SAN in under
 * 0.2 s (bench/README.md, "Identity patterns"). An ordinary SAN pattern is 50–150; a 1024-character literal 1026.
 */
export const MAX_IDENTITY_PATTERN_PROGRAM = 2048;

/** Longest SAN a pattern is tested against (64 KiB): a longer one never matches. Fulcio SANs are a few hundred. */
export const MAX_MATCHED_SAN_LENGTH = 64 * 1024;

export type IdentityPatternErrorCode =
  /** Not a regular expression at all (`(acme`). */
  | 'PATTERN_SYNTAX'
  /** A regular expression RE2 cannot match in linear time: backreferences, lookarounds. */
  | 'PATTERN_NOT_RE2'
  /** Longer than MAX_IDENTITY_PATTERN_LENGTH. */
  | 'PATTERN_TOO_LONG'
  /** Compiles to more than MAX_IDENTITY_PATTERN_PROGRAM instructions. */
  | 'PATTERN_TOO_LARGE';

/** A pattern that cannot be used; the message says what is wrong, for the caller to prefix with the key or flag. */
export class IdentityPatternError extends CodedError<IdentityPatternErrorCode> {
  readonly kind = 'usage';
  override readonly name = 'IdentityPatternError';
}

/** A compiled identity pattern. */
export interface IdentityPattern {
  /** The pattern as written. */
  readonly source: string;
  /**
   * Whether the whole of `san` matches (`^(?:pattern)$`: a prefix or a suffix never matches), in time linear in
   * `san`. A SAN longer than MAX_MATCHED_SAN_LENGTH never matches.
   */
  matches(san: string): boolean;
}

/**
 * Recently compiled patterns: the gate matches the same two or three against every bundle's signer. Few, because
 * each keeps its own DFA cache (up to 8 MB).
 */
const compiled = new Map<string, IdentityPattern>();
const MAX_CACHED_PATTERNS = 8;

/** Compiles an identity pattern (RE2 syntax); throws IdentityPatternError naming what is wrong. */
export function compileIdentityPattern(pattern: string): IdentityPattern {
  const cached = compiled.get(pattern);
  if (cached) return cached;
  const re = parse(pattern);
  const size = re.programSize();
  if (size > MAX_IDENTITY_PATTERN_PROGRAM) {
    throw new IdentityPatternError(
      'PATTERN_TOO_LARGE',
      `compiles to ${size} RE2 instructions, more than ${MAX_IDENTITY_PATTERN_PROGRAM} (each copy of a counted repeat counts: .{1000} is 1000)`,
    );
  }
  // testExact is RE2's full match: the pattern is parsed on its own, so `a)|(?:b` cannot close an anchoring group.
  const identityPattern: IdentityPattern = {
    source: pattern,
    matches: (san) => san.length <= MAX_MATCHED_SAN_LENGTH && re.testExact(san),
  };
  if (compiled.size >= MAX_CACHED_PATTERNS) compiled.delete(compiled.keys().next().value!);
  compiled.set(pattern, identityPattern);
  return identityPattern;
}

function parse(pattern: string): RE2JS {
  const length = pattern.length <= MAX_IDENTITY_PATTERN_LENGTH ? pattern.length : Array.from(pattern).length;
  if (length > MAX_IDENTITY_PATTERN_LENGTH) {
    throw new IdentityPatternError(
      'PATTERN_TOO_LONG',
      `${length} characters, more than the ${MAX_IDENTITY_PATTERN_LENGTH} an identity pattern may have`,
    );
  }
  try {
    return RE2JS.compile(pattern);
  } catch (error) {
    const reason = String((error as Error).message).replace(/^error parsing regexp: /, '');
    if (/expression too large/.test(reason)) {
      throw new IdentityPatternError('PATTERN_TOO_LARGE', `${reason} (more than RE2 compiles)`);
    }
    if (isJavaScriptRegExp(pattern)) {
      throw new IdentityPatternError(
        'PATTERN_NOT_RE2',
        `not an RE2 pattern: ${reason} (identity patterns use RE2 syntax, as cosign's: no backreferences or lookarounds, repeats up to {1000})`,
      );
    }
    throw new IdentityPatternError('PATTERN_SYNTAX', `not a valid regular expression: ${reason}`);
  }
}

/** Whether JavaScript would have compiled it (only compiled, never run): tells an RE2 limit from a typo. */
function isJavaScriptRegExp(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}
