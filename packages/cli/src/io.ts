export interface Output {
  write(text: string): unknown;
}

export interface CliIO {
  stdout: Output;
  stderr: Output;
}

/** Exit codes shared by every command: 0 verified, 1 refused (does not verify), 2 usage or unreadable input. */
export const EXIT = { ok: 0, refused: 1, usage: 2 } as const;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
