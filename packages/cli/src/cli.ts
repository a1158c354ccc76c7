import { type CodedError, EXIT_CODES, errorKindOf, terminalText } from '@twokey/core';
import { nearest, optionNamingAFile } from './args';
import { REPORT_USAGE, reportCommand } from './commands/report';
import { TRUSTED_ROOT_USAGE, trustedRootCommand } from './commands/trusted-root';
import { VERIFY_USAGE, verifyCommand } from './commands/verify';
import { VERIFY_BUNDLE_USAGE, verifyBundleCommand } from './commands/verify-bundle';
import { type CliIO, EXIT, internalErrorLine, onRunner, UsageError } from './io';
import { describeVersion } from './version';

interface Command {
  /** One line for the list of commands. */
  summary: string;
  /** What `twokey help NAME` and `twokey NAME --help` print. */
  usage: string;
  run(args: string[], io: CliIO): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  verify: {
    summary: "the deploy gate's verdict on artifacts, offline: signature, independent review, provenance",
    usage: VERIFY_USAGE,
    run: verifyCommand,
  },
  'verify-bundle': {
    summary: 'verify one Sigstore bundle for an artifact and an identity (Sigstore conformance protocol)',
    usage: VERIFY_BUNDLE_USAGE,
    run: verifyBundleCommand,
  },
  report: {
    summary: "segregation-of-duties indicators from signed evidence, with the policy's thresholds",
    usage: REPORT_USAGE,
    run: reportCommand,
  },
  'trusted-root': {
    summary: 'print the embedded trusted roots (public-good, github) as JSON Lines',
    usage: TRUSTED_ROOT_USAGE,
    run: trustedRootCommand,
  },
};

const USAGE = `Usage: twokey <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, command]) => `  ${name.padEnd(15)} ${command.summary}`)
  .join('\n')}
  help [COMMAND]  this list, or a command's options (also \`twokey COMMAND --help\`)

Options:
  --version       twokey's version and the trusted roots it embeds
`;

const HELP_FLAGS = new Set(['--help', '-h']);
const VERSION_FLAGS = new Set(['--version', '-v']);

export async function run(argv: string[], io: CliIO): Promise<number> {
  const [name, ...args] = argv;
  try {
    if (name === undefined) {
      io.stderr.write(USAGE);
      return EXIT.usage;
    }
    if (name === 'help' || HELP_FLAGS.has(name)) {
      io.stdout.write(args[0] === undefined ? USAGE : commandNamed(args[0]).usage);
      return EXIT.ok;
    }
    if (VERSION_FLAGS.has(name) || name === 'version') {
      io.stdout.write(describeVersion());
      return EXIT.ok;
    }
    const command = commandNamed(name);
    if (asksForHelp(args)) {
      io.stdout.write(command.usage);
      return EXIT.ok;
    }
    return await command.run(args, io);
  } catch (error) {
    return reportError(error, io);
  }
}

/** The command of that name; a usage error naming the nearest one when there is none. */
function commandNamed(name: string): Command {
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command) return command;
  const known = [...Object.keys(COMMANDS), 'help'];
  if (name.startsWith('-')) {
    const meant = nearest(name.replace(/^--?/, ''), ['help', 'version']);
    throw new UsageError(`unknown option ${name}; ${meant ? `did you mean --${meant}?` : 'see `twokey help`'}`);
  }
  const meant = nearest(name, known);
  throw new UsageError(
    `unknown command "${name}"; ${meant ? `did you mean ${meant}?` : `the commands are ${known.join(', ')}`}`,
  );
}

/**
 * `--help` or `-h` anywhere before `--`, whatever else the line holds — unless it is a file's name here (a glob such
 * as release/* expanded to a file someone named `--help`: help, exit 0, would pass every artifact of a script that
 * only checks the exit code).
 */
function asksForHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  const before = end === -1 ? args : args.slice(0, end);
  for (const arg of before) {
    const named = HELP_FLAGS.has(arg) ? optionNamingAFile(arg) : undefined;
    if (named) throw new UsageError(named);
  }
  return before.some((arg) => HELP_FLAGS.has(arg));
}

/**
 * One line, never a stack trace: the code, then what was expected and what was found. The exit code is the error's
 * kind (usage 2, refusal 1); anything that is not a coded error is an internal error (3): never a refusal or a pass.
 */
export function reportError(error: unknown, io: CliIO): number {
  const kind = errorKindOf(error);
  if (kind === 'internal') {
    // An InternalError names the file it met the failure in.
    io.stderr.write(onRunner(internalErrorLine(error instanceof Error ? error.message : String(error))));
    return EXIT.internal;
  }
  const coded = error as CodedError<string>;
  // Messages name files and values of someone else's choosing (a release directory's names, a bundle's content):
  // written with their control and bidi characters escaped, so that no name can rewrite what the terminal shows, and
  // on a runner with workflow commands off.
  if (coded instanceof UsageError) io.stderr.write(onRunner(`twokey: ${terminalText(coded.message)}\n`));
  // One line per problem (a policy names the file, the key and what is wrong with each).
  else {
    const lines = coded.message.split('\n').map((line) => `error ${coded.code}: ${terminalText(line)}\n`);
    io.stderr.write(onRunner(lines.join('')));
  }
  return EXIT_CODES[kind];
}
