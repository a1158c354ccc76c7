// Name globs — a policy's `deploy.artifacts` and `review.protected-branches` — matched in time linear in the name.
// `node:path`'s matchesGlob backtracks: `*a*a*a*ab` against a 255-character name took seconds. A glob is read as
// the small language those two keys need and handed to RE2 (re2js, as identity patterns are): `*` any characters
// but `/`, `**` any characters, `?` one character but `/`, `[…]` a character class (`[!…]` negated), anything
// else literal. Braces and extglobs have no place in a name list and are refused, so a glob never means more than
// it reads.

import { RE2JS, RE2JSSyntaxException } from 're2js';
import { CodedError } from './error';

/** Longest glob, in characters (a file or branch name). */
export const MAX_NAME_GLOB_LENGTH = 255;

export type NameGlobErrorCode = 'GLOB_SYNTAX' | 'GLOB_TOO_LONG';

/** A glob that cannot be used; the message says what is wrong, for the caller to prefix with the key. */
export class NameGlobError extends CodedError<NameGlobErrorCode> {
  readonly kind = 'usage';
  override readonly name = 'NameGlobError';
}

/** A compiled name glob. */
export interface NameGlob {
  readonly source: string;
  /** Whether the whole name matches, in time linear in the name. */
  matches(name: string): boolean;
}

const compiled = new Map<string, NameGlob>();
const MAX_CACHED_GLOBS = 512;

/** Compiles a name glob; throws NameGlobError naming what is wrong. */
export function compileNameGlob(glob: string): NameGlob {
  const cached = compiled.get(glob);
  if (cached) return cached;
  if (glob.length > MAX_NAME_GLOB_LENGTH) {
    throw new NameGlobError('GLOB_TOO_LONG', `is ${glob.length} characters, more than ${MAX_NAME_GLOB_LENGTH}`);
  }
  const re = compileRe2(toRe2(glob));
  const nameGlob: NameGlob = { source: glob, matches: (name) => re.testExact(name) };
  if (compiled.size >= MAX_CACHED_GLOBS) compiled.delete(compiled.keys().next().value!);
  compiled.set(glob, nameGlob);
  return nameGlob;
}

/** Whether `name` matches any of the globs (each compiled once, then cached). */
export function matchesAnyGlob(name: string, globs: readonly string[]): string | undefined {
  return globs.find((glob) => compileNameGlob(glob).matches(name));
}

/**
 * The glob's RE2 pattern compiled; what RE2 refuses in a character class the glob wrote (an inverted range, `[9-0]`)
 * is the glob's syntax error, never an internal one.
 */
function compileRe2(pattern: string): RE2JS {
  try {
    return RE2JS.compile(pattern);
  } catch (error) {
    if (!(error instanceof RE2JSSyntaxException)) throw error;
    const part = error.getPattern();
    throw new NameGlobError('GLOB_SYNTAX', `is no name glob: ${error.getDescription()}${part ? ` (${part})` : ''}`);
  }
}

/** The RE2 pattern a glob means (whole-name match is RE2's testExact). */
function toRe2(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i += 1) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        out += '.*';
        i += 1;
      } else out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end === -1)
        throw new NameGlobError('GLOB_SYNTAX', `"[" at ${i + 1} opens a character class that is never closed`);
      const body = glob.slice(i + 1, end);
      const negated = body.startsWith('!') || body.startsWith('^');
      const members = negated ? body.slice(1) : body;
      if (members === '') throw new NameGlobError('GLOB_SYNTAX', `the character class at ${i + 1} is empty`);
      // Members are literal, but for ranges: `[a-z0-9._-]`.
      const escaped = members.replace(/[\\\]^[]/g, (m) => `\\${m}`);
      out += `[${negated ? '^/' : ''}${escaped}]`;
      i = end;
    } else if (c === '{' || c === '}' || (c === '(' && i > 0 && '@!+*?'.includes(glob[i - 1]!))) {
      throw new NameGlobError(
        'GLOB_SYNTAX',
        `"${c}" at ${i + 1}: braces and extglobs are not part of a name glob (use *, **, ? and [...], or list the names)`,
      );
    } else out += RE2JS.quote(c);
  }
  return out;
}

/** Whether a repository's entry (a name or a glob) asks for no more than the org's list: listed there, or a plain name an org glob matches. */
export function coveredBy(entry: string, org: readonly string[]): boolean {
  if (org.includes(entry)) return true;
  return !/[*?[\]{}!+@()]/.test(entry) && org.some((glob) => compileNameGlob(glob).matches(entry));
}
