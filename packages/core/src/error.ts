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
