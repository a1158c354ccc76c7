// The policy files, as the actions and the CLI read them: the org policy, tightened by a repository's own. Nothing
// here loads verification code (the trusted root a policy names is chosen in trust.ts, deployTrustedRoot), so a
// stage reads its policy first, before its inputs are checked.
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, normalize, resolve, sep } from 'node:path';
import { type Policy, parsePolicy, parseRepositoryPolicy } from '@twokey/core';
import { SigstoreInputError } from './error';
import { readBoundedFile } from './files';
import { MAX_TRUST_FILE_BYTES } from './limits';

/**
 * Reads and validates a policy file. `path` is kept as written for messages and the report; it is read relative to
 * `cwd`. Throws SigstoreInputError POLICY_UNREADABLE (unreadable, over the size limit, or not UTF-8) or PolicyError
 * (not YAML, or not a valid policy, naming each key).
 */
export function readPolicyFile(path: string, cwd = process.cwd()): Policy {
  const bytes = readBoundedFile(resolve(cwd, path), MAX_TRUST_FILE_BYTES, 'POLICY_UNREADABLE', 'policy', path);
  return parsePolicy(policyText(bytes, 'policy', path), path);
}

/**
 * A policy file's text: UTF-8, strictly. A byte that is not (a Latin-1 "é") would be decoded as U+FFFD, and the digest
 * a decision record or a report gives for the policy (the SHA-256 of the text, encoded as UTF-8) would be no file's
 * — two files differing in such bytes would share it. A byte order mark is kept in the text (the YAML reader skips
 * it), so that digest is the file's bytes' own, with or without one.
 */
function policyText(bytes: Uint8Array, what: string, shown: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new SigstoreInputError(
      'POLICY_UNREADABLE',
      `${shown}: cannot read ${what}: it is not UTF-8 text (line ${firstLineNotUtf8(bytes)}); save it as UTF-8`,
    );
  }
}

/** The number of the first line that is not UTF-8 (a newline byte is never part of a longer UTF-8 sequence). */
function firstLineNotUtf8(bytes: Uint8Array): number {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let line = 1;
  let start = 0;
  for (let i = 0; i <= bytes.length; i += 1) {
    if (i < bytes.length && bytes[i] !== 0x0a) continue;
    try {
      decoder.decode(bytes.subarray(start, i));
    } catch {
      return line;
    }
    line += 1;
    start = i + 1;
  }
  return line;
}

/** A repository's own policy, layered on the org policy: a path, and whether a missing file means none. */
export interface RepositoryPolicyFile {
  path: string;
  /** The actions' default (`.twokey/policy.yml`): a repository without one has the org policy alone. */
  optional?: boolean;
}

/**
 * The org policy, tightened by a repository's own policy when one is given (parseRepositoryPolicy: loosening it is
 * an error naming the key). A repository policy named explicitly must exist; the actions' default may be absent.
 */
export function readPolicyFiles(
  orgPath: string,
  repository: RepositoryPolicyFile | undefined,
  cwd = process.cwd(),
): Policy {
  const org = readPolicyFile(orgPath, cwd);
  if (!repository) return org;
  // The file itself, never a symbolic link, a submodule or a name in another case: what the reusable workflows'
  // checkout of `.twokey` makes of those (a link to nothing, an empty directory, nothing at all) would read as no
  // repository policy — the org policy alone, without a word — while a full clone, and GitHub, read the policy.
  const found = pathWithoutLinks(repository.path, cwd);
  if (found.caseVariant !== undefined) {
    throw new SigstoreInputError(
      'POLICY_UNREADABLE',
      `${repository.path}: cannot read repository policy: ${found.caseVariant} differs from it only by case (a clone on a case-insensitive file system reads it as the policy, the reusable workflows' checkout does not); name it exactly`,
    );
  }
  if (found.emptyDirectory !== undefined) {
    throw new SigstoreInputError(
      'POLICY_UNREADABLE',
      `${repository.path}: cannot read repository policy: ${found.emptyDirectory} is an empty directory (a submodule, which the reusable workflows' checkout does not fetch, while a clone with its submodules reads a policy there); a repository policy is read as a file of the repository itself: put the file there`,
    );
  }
  if (found.link !== undefined) {
    throw new SigstoreInputError(
      'POLICY_UNREADABLE',
      `${repository.path}: cannot read repository policy: ${found.link} is a symbolic link (to ${found.target}); a repository policy is read as the file itself, as the reusable workflows check it out alone: put the file there`,
    );
  }
  // Nor a name that only looks like the policy's or its directory's (`.twokey\u200B`, `.two\u212Aey`,
  // `policy.yml\u200B`, `.twokey ` with a trailing space, `.tw\u043Ekey`), in its place or beside it: a reader of the repository, GitHub's page among them, takes it for
  // the policy, while the reusable workflows read the exact name alone (the org policy alone, without a word).
  const lookalike = lookalikeOf(repository.path, cwd);
  if (lookalike !== undefined) {
    throw new SigstoreInputError(
      'POLICY_UNREADABLE',
      `${repository.path}: cannot read repository policy: ${lookalike.shown} only looks like ${lookalike.expected} (the same name once invisible characters, compatibility forms and case are set aside, or a space or a character outside printable ASCII where a reader sees ${lookalike.expected}, while the reusable workflows read ${lookalike.expected} alone); a repository policy is read under its exact name: rename or remove ${lookalike.shown}`,
    );
  }
  if (repository.optional && found.missing) return org;
  const bytes = readBoundedFile(
    resolve(cwd, repository.path),
    MAX_TRUST_FILE_BYTES,
    'POLICY_UNREADABLE',
    'repository policy',
    repository.path,
  );
  return parseRepositoryPolicy(policyText(bytes, 'repository policy', repository.path), repository.path, org);
}

/**
 * Whether `path` (relative to `cwd`: each of its components below `cwd`; absolute: the file and its directory) leads
 * to something through a symbolic link (the first one, and where it points), or is missing (some component absent) —
 * and then whether what stands in its place is an empty directory (a submodule's checkout) or a name that differs
 * only by case.
 */
function pathWithoutLinks(
  path: string,
  cwd: string,
): { link?: string; target?: string; emptyDirectory?: string; caseVariant?: string; missing: boolean } {
  const components = normalize(path)
    .split(sep)
    .filter((c) => c !== '' && c !== '.');
  const relative = !isAbsolute(path) && !components.includes('..');
  const checked = relative ? components.map((_, i) => join(...components.slice(0, i + 1))) : [dirname(path), path];
  let parent: string | undefined;
  for (const shown of checked) {
    const full = resolve(cwd, shown);
    try {
      if (lstatSync(full).isSymbolicLink()) {
        let target = 'somewhere';
        try {
          target = readlinkSync(full);
        } catch {}
        return { link: shown, target, missing: false };
      }
      parent = shown;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') {
        // A directory on the path that is there and empty is what a submodule's checkout leaves: not "no policy".
        if (parent !== undefined && isEmptyDirectory(resolve(cwd, parent)))
          return { emptyDirectory: parent, missing: true };
        // Nor is a name that differs only by case (`.TwoKey`), which a case-insensitive clone reads as the policy.
        const variant = caseVariantOf(resolve(cwd, parent ?? '.'), basename(shown));
        if (variant !== undefined) return { caseVariant: entryShown(parent, variant), missing: true };
        return { missing: true };
      }
      throw new SigstoreInputError(
        'POLICY_UNREADABLE',
        `${path}: cannot read repository policy: ${(error as Error).message}`,
      );
    }
  }
  return { missing: false };
}

function isEmptyDirectory(path: string): boolean {
  try {
    return lstatSync(path).isDirectory() && readdirSync(path).length === 0;
  } catch {
    return false;
  }
}

/** An entry of `directory` whose name is `name` but for case, or undefined. */
function caseVariantOf(directory: string, name: string): string | undefined {
  try {
    return readdirSync(directory).find((entry) => entry !== name && entry.toLowerCase() === name.toLowerCase());
  } catch {
    return undefined;
  }
}

/** Code points no one sees (zero-width spaces and joiners, soft hyphens, variation selectors, byte order marks). */
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/gu;

/**
 * Whether `entry` is `name` once invisible code points are removed, NFKC-normalised (full-width forms, ligatures, the
 * Kelvin sign) and case-folded (both by lower case and by upper then lower case, which takes a dotless i for an i).
 */
function looksLike(entry: string, name: string): boolean {
  const fold = (text: string) => text.replace(INVISIBLE, '').normalize('NFKC').replace(INVISIBLE, '');
  const [a, b] = [fold(entry), fold(name)];
  return a.toLowerCase() === b.toLowerCase() || a.toUpperCase().toLowerCase() === b.toUpperCase().toLowerCase();
}

/**
 * Whether `entry` could pass for `name` (printable ASCII) to a reader though no folding makes them one: it holds a
 * space or a character outside printable ASCII (a trailing space, a no-break or Braille blank, an ideographic space, a
 * Cyrillic `о` for an `o`), is about as long, and its printable ASCII characters are `name`'s, in order, at least half
 * of them. `Übersicht` beside `.twokey` is not; `.tw\u043Ekey`, `.twokey\u00A0` and `policy.yml\u3000` are.
 */
function couldPassFor(entry: string, name: string): boolean {
  const visible = [...entry.replace(INVISIBLE, '').normalize('NFKC')];
  if (visible.every((c) => /^[\x21-\x7e]$/.test(c))) return false;
  if (Math.abs(visible.length - name.length) > 2) return false;
  const ascii = visible.filter((c) => /^[\x21-\x7e]$/.test(c)).map((c) => c.toLowerCase());
  let matched = 0;
  for (const c of name.toLowerCase()) if (matched < ascii.length && ascii[matched] === c) matched += 1;
  return matched === ascii.length && ascii.length * 2 >= name.length;
}

/**
 * An entry that only looks like the repository policy's directory (beside it, in the directory holding it: the
 * checkout's top level) or like the policy file (in that directory), whether the exact name is there or not; its
 * name shown with its invisible characters spelt out, and the name it looks like.
 */
function lookalikeOf(path: string, cwd: string): { shown: string; expected: string } | undefined {
  const file = normalize(path);
  const directory = dirname(file);
  const levels: [where: string, name: string][] = [[directory, basename(file)]];
  const directoryName = basename(directory);
  if (directory !== '.' && directoryName !== '..' && directory !== dirname(directory)) {
    levels.unshift([dirname(directory), directoryName]);
  }
  for (const [where, name] of levels) {
    const parent = where === '.' ? undefined : where;
    const entry = entriesOf(resolve(cwd, where)).find(
      (e) => e !== name && (looksLike(e, name) || couldPassFor(e, name)),
    );
    if (entry !== undefined) return { shown: entryShown(parent, entry), expected: entryShown(parent, name) };
  }
  return undefined;
}

function entriesOf(directory: string): string[] {
  try {
    return readdirSync(directory);
  } catch {
    return [];
  }
}

/**
 * An entry of `parent` (as the path was written) for a message: every character of its name that is not printable
 * ASCII spelt as `\u{200b}`, so that a reader sees what tells it from the name it looks like.
 */
function entryShown(parent: string | undefined, entry: string): string {
  const spelt = entry.replace(/[^\x21-\x5b\x5d-\x7e]/gu, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
  return parent === undefined ? spelt : join(parent, spelt);
}
