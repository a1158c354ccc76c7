// The policies a stage judges by, read as its first step: the org policy, tightened by the repository's own when one
// is given. The same reading as @twokey/sigstore's readPolicyFiles (test/actions/start.test.ts holds the two to the
// same policies and the same errors), kept apart from it because that module also chooses the trusted root: reaching
// it would load the verification (@sigstore/verify, the embedded trusted roots, the TUF seeds) at the start of the
// sign action, before its inputs are checked (bench/README.md, "Start-up").
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Policy, parsePolicy, parseRepositoryPolicy } from '@twokey/core';
import { MAX_TRUST_FILE_BYTES, type RepositoryPolicyFile, readBoundedFile } from '@twokey/sigstore';

/**
 * The org policy at `orgPath`, tightened by `repository` (parseRepositoryPolicy: loosening it is an error naming the
 * key); both relative to `cwd`. A repository policy named explicitly must exist; an optional one may be absent.
 * Throws SigstoreInputError POLICY_UNREADABLE (unreadable, or over the size limit) or PolicyError.
 */
export function readStagePolicy(orgPath: string, repository: RepositoryPolicyFile | undefined, cwd: string): Policy {
  const org = parsePolicy(readPolicyText(orgPath, 'policy', cwd), orgPath);
  if (!repository || (repository.optional && !existsSync(resolve(cwd, repository.path)))) return org;
  return parseRepositoryPolicy(readPolicyText(repository.path, 'repository policy', cwd), repository.path, org);
}

function readPolicyText(path: string, what: string, cwd: string): string {
  return readBoundedFile(resolve(cwd, path), MAX_TRUST_FILE_BYTES, 'POLICY_UNREADABLE', what, path).toString('utf8');
}
