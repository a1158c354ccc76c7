export interface Output {
  write(text: string): unknown;
}

export interface CliIO {
  stdout: Output;
  stderr: Output;
}

/**
 * Exit codes shared by every command: 0 verified, 1 refused (does not verify), 2 usage or unreadable input,
 * 3 internal error (a bug in twokey: never a refusal, never a pass).
 */
export const EXIT = { ok: 0, refused: 1, usage: 2, internal: 3 } as const;

/** Where a bug is reported: the repository the README's `uses:` lines name. */
export const ISSUES_URL = 'https://github.com/twokey-dev/twokey/issues';

/** The one line an internal error prints: that it is a bug, where to report it, and what happened (and where). */
export function internalErrorLine(message: string): string {
  return `twokey: internal error (this is a bug, please report it at ${ISSUES_URL}): ${message.split('\n')[0]}\n`;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
