import { CodedError, EXIT_CODES, ISSUES_URL, terminalText, withoutWorkflowCommands } from '@twokey/core';

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
export const EXIT = {
  ok: EXIT_CODES.pass,
  refused: EXIT_CODES.refusal,
  usage: EXIT_CODES.usage,
  internal: EXIT_CODES.internal,
} as const;

/** The one line an internal error prints: that it is a bug, where to report it, and what happened (and where). */
export function internalErrorLine(message: string): string {
  // The message may name a file of someone else's choosing: its control and bidi characters escaped (row 190).
  return `twokey: internal error (this is a bug, please report it at ${ISSUES_URL}): ${terminalText(message.split('\n')[0]!)}\n`;
}

/** A command line that cannot be run: a missing or unknown flag, a malformed value (exit 2). */
export class UsageError extends CodedError<'USAGE'> {
  readonly kind = 'usage';
  override readonly name = 'UsageError';

  constructor(message: string) {
    super('USAGE', message);
  }
}

/**
 * On a GitHub Actions runner (a `run:` step), text of someone else's choosing (a report, an error naming a file) with
 * workflow commands off around it, as the gate writes its report: the runner reads `::cmd::` and `##[cmd]` in any line
 * of either stream, so a file named `a##[group]verdict: accepted` would fold the log under a fake verdict (row 207).
 */
export function onRunner(text: string): string {
  return process.env.GITHUB_ACTIONS === 'true' ? `${withoutWorkflowCommands(text)}\n` : text;
}
