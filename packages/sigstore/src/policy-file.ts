// The policy files, as the actions and the CLI read them: the org policy, tightened by a repository's own. Nothing
// here loads verification code (the trusted root a policy names is chosen in trust.ts, deployTrustedRoot), so a
// stage reads its policy first, before its inputs are checked.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Policy, parsePolicy, parseRepositoryPolicy } from '@twokey/core';
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
  if (!repository || (repository.optional && !existsSync(resolve(cwd, repository.path)))) return org;
  const bytes = readBoundedFile(
    resolve(cwd, repository.path),
    MAX_TRUST_FILE_BYTES,
    'POLICY_UNREADABLE',
    'repository policy',
    repository.path,
  );
  return parseRepositoryPolicy(bytes.toString('utf8'), repository.path, org);
}
