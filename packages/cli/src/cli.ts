import { type CodedError, EXIT_CODES, errorKindOf } from '@twokey/core';
import { verifyCommand } from './commands/verify';
import { verifyBundleCommand } from './commands/verify-bundle';
import { type CliIO, EXIT, internalErrorLine, UsageError } from './io';

const USAGE = `Usage: twokey <command> [options]

Commands:
  verify          the deploy gate's verdict on artifacts, offline: signature, independent review, provenance
  verify-bundle   verify one Sigstore bundle for an artifact and an identity (Sigstore conformance protocol)

Run \`twokey <command> --help\` for a command's options.
`;

const COMMANDS: Record<string, (args: string[], io: CliIO) => Promise<number>> = {
  verify: verifyCommand,
  'verify-bundle': verifyBundleCommand,
};

export async function run(argv: string[], io: CliIO): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(USAGE);
    return name ? EXIT.ok : EXIT.usage;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr.write(`twokey: unknown command "${name}"\n\n${USAGE}`);
    return EXIT.usage;
  }
  try {
    return await command(args, io);
  } catch (error) {
    return reportError(error, io);
  }
}

/**
 * One line, never a stack trace: the code, then what was expected and what was found. The exit code is the error's
 * kind (usage 2, refusal 1); anything that is not a coded error is an internal error (3): never a refusal or a pass.
 */
export function reportError(error: unknown, io: CliIO): number {
  const kind = errorKindOf(error);
  if (kind === 'internal') {
    // An InternalError names the file it met the failure in.
    io.stderr.write(internalErrorLine(error instanceof Error ? error.message : String(error)));
    return EXIT.internal;
  }
  const coded = error as CodedError<string>;
  if (coded instanceof UsageError) io.stderr.write(`twokey: ${coded.message}\n`);
  // One line per problem (a policy names the file, the key and what is wrong with each).
  else for (const line of coded.message.split('\n')) io.stderr.write(`error ${coded.code}: ${line}\n`);
  return EXIT_CODES[kind];
}
