// A command line read as node:util's parseArgs reads it (strict, positionals allowed), with every mistake said in
// twokey's words, naming the command and the option, and the option that was probably meant.
import { lstatSync } from 'node:fs';
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { closest, distance } from 'fastest-levenshtein';
import { UsageError } from './io';

/**
 * The command's options and positionals. Throws UsageError (exit 2) for an unknown option (with the closest known
 * one), a missing value, a value given to a flag that takes none, and a value that looks like an option.
 */
export function parseCommandArgs<const O extends ParseArgsOptionsConfig>(command: string, args: string[], options: O) {
  const end = args.indexOf('--');
  const problem = (end === -1 ? undefined : optionNamingAFile('--')) ?? firstProblem(args, options, command);
  if (problem) throw new UsageError(`${command}: ${problem}`);
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    // Every error parseArgs raises is found above; one that is not is a gap in firstProblem, still a usage error.
    throw new UsageError(`${command}: ${(error as Error).message}`);
  }
}

/** The first option, from the left, that cannot be read, in words; undefined when the whole line can be. */
function firstProblem(args: string[], options: ParseArgsOptionsConfig, command: string): string | undefined {
  // Lenient parsing stops at nothing and hands back each option as it was written.
  const { tokens } = parseArgs({ args, options, allowPositionals: true, strict: false, tokens: true });
  const given = new Set<string>();
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const named = optionNamingAFile(args[token.index]!);
    if (named) return named;
    const option = options[token.name];
    if (!option) {
      const meant = meantOption(token.rawName, options);
      return `unknown option ${token.rawName}; ${meant ? `did you mean --${meant}?` : `see \`twokey help ${command}\``}`;
    }
    if (option.type === 'boolean' && token.value !== undefined) {
      return `${token.rawName} takes no value, found ${token.rawName}=${token.value}`;
    }
    if (option.type === 'string' && token.value === undefined) return `${token.rawName} needs a value`;
    // `--bundle --key k.pem` would read "--key" as the bundle: a value that starts with a dash is given as --bundle=-x.
    if (option.type === 'string' && !token.inlineValue && token.value?.startsWith('-') && token.value !== '-') {
      return `${token.rawName} needs a value, found the option ${token.value} (write ${token.rawName}=${token.value} for a value that starts with a dash)`;
    }
    // One value: a second would silently replace the first (`--policy org.yml` written, `--policy=mine.yml` planted).
    if (option.type === 'string' && !option.multiple && given.has(token.name)) {
      return `--${token.name} is given twice; it takes one value`;
    }
    given.add(token.name);
  }
  return undefined;
}

/**
 * An option token that is also the name of a file or directory here: the shell expanded a glob (`twokey verify *` in
 * a release directory) to a file someone named `--trusted-root=root.json` or `--help`, which would be read as an
 * option. Refused (exit 2), as a file named like a digest is; the artifacts go after `--`.
 */
export function optionNamingAFile(arg: string): string | undefined {
  if (!arg.startsWith('-') || arg === '-') return undefined;
  try {
    lstatSync(arg);
  } catch {
    return undefined;
  }
  if (arg === '--') {
    // A file named `--` ends the options wherever the glob put it: what was typed after the glob (`--at`, `--repo`)
    // would be read as artifacts.
    return '"--" ends the options and is the name of a file here (a glob such as release/* expands to it): refused; give the artifacts by a path that names their directory (release/*), not a bare *';
  }
  return `${JSON.stringify(arg)} is an option and the name of a file here (a glob such as release/* expands to it): refused; put the artifacts after \`--\` (twokey verify --policy P -- release/*)`;
}

/** The option nearest to what was typed, when one is near enough to be meant. */
function meantOption(rawName: string, options: ParseArgsOptionsConfig): string | undefined {
  const names = Object.keys(options);
  const typed = rawName.replace(/^--?/, '');
  // A single letter: the one option it starts, if only one does (`-b` for --bundle).
  return rawName.startsWith('--') ? nearest(typed, names) : only(names.filter((n) => n.startsWith(typed)));
}

/**
 * The one name `typed` most likely meant: the only name it abbreviates, or the nearest by edit distance when that is
 * within a third of its length (a transposed pair, a missing or doubled letter, `_` for `-`, a missing suffix).
 */
export function nearest(typed: string, names: readonly string[]): string | undefined {
  if (typed === '' || names.length === 0) return undefined;
  const extended = only(names.filter((name) => name.startsWith(typed)));
  if (extended) return extended;
  const best = closest(typed, names);
  return distance(typed, best) <= Math.max(2, Math.floor(typed.length / 3)) ? best : undefined;
}

function only<T>(list: readonly T[]): T | undefined {
  return list.length === 1 ? list[0] : undefined;
}
