import { EvaluationError, PolicyError } from '@twokey/core';
import { BundleVerificationError, DeployInputError, SigstoreInputError } from '@twokey/sigstore';
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
 * One line, never a stack trace: the code, then what was expected and what was found. Usage and input errors exit 2,
 * refusals 1, and anything unrecognised 3, as an internal error.
 */
export function reportError(error: unknown, io: CliIO): number {
  if (error instanceof UsageError) {
    io.stderr.write(`twokey: ${error.message}\n`);
    return EXIT.usage;
  }
  if (error instanceof PolicyError) {
    // One line per problem: each names the file, the key and what is wrong with it.
    for (const line of error.message.split('\n')) io.stderr.write(`error ${error.code}: ${line}\n`);
    return EXIT.usage;
  }
  if (error instanceof DeployInputError || error instanceof EvaluationError || error instanceof SigstoreInputError) {
    io.stderr.write(`error ${error.code}: ${error.message}\n`);
    return EXIT.usage;
  }
  if (error instanceof BundleVerificationError) {
    io.stderr.write(`error ${error.code}: ${error.message}\n`);
    return EXIT.refused;
  }
  // Anything else is twokey's own failure: never a refusal, never a pass. An InternalError names the file.
  io.stderr.write(internalErrorLine(error instanceof Error ? error.message : String(error)));
  return EXIT.internal;
}
