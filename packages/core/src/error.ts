/**
 * What an error means to whoever ran twokey, and so how the CLI exits and an action fails:
 * - `usage`: the input cannot be used (a flag, a file, a policy, a malformed bundle, an unreachable service) — exit 2;
 * - `refusal`: the evidence was read and does not hold — exit 1, never a pass;
 * - `internal`: twokey itself failed (a bug) — exit 3, never a refusal and never a pass.
 */
export type ErrorKind = 'usage' | 'refusal' | 'internal';

/** The CLI's exit code for each outcome (0 is a pass). */
export const EXIT_CODES: Readonly<Record<ErrorKind | 'pass', number>> = { pass: 0, refusal: 1, usage: 2, internal: 3 };

/**
 * An error with a stable code (what scripts and tests match on), its kind, and a one-line message naming the file and
 * the field. Each package's error classes extend it with their own codes, kind and name.
 */
export abstract class CodedError<Code extends string> extends Error {
  abstract readonly kind: ErrorKind;

  constructor(
    readonly code: Code,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The kind of any error: a CodedError's own, and for anything else `internal` — an exception nobody anticipated. */
export function errorKindOf(error: unknown): ErrorKind {
  return error instanceof CodedError ? error.kind : 'internal';
}

/** Where a bug is reported: the repository the README's `uses:` lines name. */
export const ISSUES_URL = 'https://github.com/twokey-dev/twokey/issues';

/**
 * An error as a step's one-line failure: `CODE: message` for a coded usage error or refusal; an internal error (any
 * exception that is not a coded usage error or refusal) says it is a bug and where to report it.
 */
export function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (errorKindOf(error) === 'internal') {
    const code = error instanceof CodedError ? error.code : 'INTERNAL_ERROR';
    return `${code}: twokey failed (this is a bug, please report it at ${ISSUES_URL}): ${message.split('\n')[0]}`;
  }
  return `${(error as CodedError<string>).code}: ${message}`;
}
