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
 * `cwd`. Throws SigstoreInputError POLICY_UNREADABLE (unreadable, or over the size limit) or PolicyError (not YAML,
 * or not a valid policy, naming each key).
 */
export function readPolicyFile(path: string, cwd = process.cwd()): Policy {
  const bytes = readBoundedFile(resolve(cwd, path), MAX_TRUST_FILE_BYTES, 'POLICY_UNREADABLE', 'policy', path);
  return parsePolicy(bytes.toString('utf8'), path);
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
  if (repository.optional && found.missing) return org;
  const bytes = readBoundedFile(
    resolve(cwd, repository.path),
    MAX_TRUST_FILE_BYTES,
    'POLICY_UNREADABLE',
    'repository policy',
    repository.path,
  );
  return parseRepositoryPolicy(bytes.toString('utf8'), repository.path, org);
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
        if (variant !== undefined) return { caseVariant: parent ? join(parent, variant) : variant, missing: true };
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
