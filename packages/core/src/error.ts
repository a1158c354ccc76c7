/**
 * An error with a stable code (what scripts and tests match on) and a one-line message naming the file and the field.
 * Each package's error classes extend it with their own codes and name.
 */
export class CodedError<Code extends string> extends Error {
  constructor(
    readonly code: Code,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An error as a step's one-line failure: `CODE: message` for a coded error, else its message. */
export function describeError(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' ? `${code}: ${message}` : message;
}
