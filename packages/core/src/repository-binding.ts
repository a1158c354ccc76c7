// Which repositories a build → sign chain may come from. The deploy gate binds every artifact's chain to them, and
// the sign stage signs only a build of one of them: without a binding, a valid chain made for any repository that
// runs the same shared build and sign workflows would pass.

import { CodedError } from './error';
import type { Policy } from './policy';

/**
 * Why nothing can be judged: no artifacts, a clock that is not a time, or no repository bound (bindRepositories:
 * none named, a malformed one, one the policy does not name).
 */
export type EvaluationErrorCode =
  | 'NO_ARTIFACTS'
  | 'CLOCK_INVALID'
  | 'REPOSITORY_UNBOUND'
  | 'REPOSITORY_MALFORMED'
  | 'REPOSITORY_NOT_IN_POLICY';

/** A usage error of the deploy evaluation or bindRepositories (exit 2), never a verdict. */
export class EvaluationError extends CodedError<EvaluationErrorCode> {
  readonly kind = 'usage';
  override readonly name = 'EvaluationError';
}

/**
 * The repositories an artifact's build → sign chain may come from: provenance, review attestation and signature must
 * all name one repository, and it must be one of these. Without a binding, a valid chain made for any repository
 * that runs the same shared build and sign workflows would pass.
 */
export interface RepositoryBinding {
  /** `owner/name`, at least one; compared case-insensitively. */
  repositories: string[];
  /** Who named them, for messages: `deploy.repositories in .twokey/policy.yml`, `GITHUB_REPOSITORY`, `--repo` … */
  from: string;
}

/** The repository the caller names besides the policy, and what it is to the binding. */
export interface CallerRepository {
  /** `owner/name` as given; absent or empty when not given. */
  repository?: string;
  /** How it is given, for messages: `GITHUB_REPOSITORY`, `--repo`. */
  name: string;
  /**
   * `fallback`: binds only when the policy names no repository (the deploying repository: a deployment repository
   * that names the repositories it ships is not one of them). `narrow`: must be one the policy names, when it names
   * any, and is then the only one bound (`twokey verify --repo`).
   */
  role: 'fallback' | 'narrow';
}

/**
 * Which repositories a chain may come from: the policy's `deploy.repositories`, else the repositories its identities
 * pin (`source-repository`), else the caller's. A caller that narrows must name one of the policy's. Throws
 * EvaluationError (a usage error) when nothing binds a repository, or the caller's is malformed or not the policy's.
 */
export function bindRepositories(policy: Policy, caller: CallerRepository): RepositoryBinding {
  const given = caller.repository || undefined;
  if (given !== undefined && !OWNER_NAME.test(given)) {
    throw new EvaluationError(
      'REPOSITORY_MALFORMED',
      `${caller.name}: expected OWNER/NAME, found ${JSON.stringify(given)}`,
    );
  }
  const named = policyRepositories(policy);
  if (!named) {
    if (given === undefined) {
      const why = `${policy.source} pins no source-repository and names no deploy.repositories`;
      throw new EvaluationError(
        'REPOSITORY_UNBOUND',
        caller.role === 'narrow'
          ? `${caller.name} OWNER/NAME is required: ${why}, so nothing says whose build → sign chain to accept`
          : `${caller.name} is not set and ${why}, so nothing says whose build → sign chain to accept`,
      );
    }
    return { repositories: [given], from: caller.name };
  }
  if (caller.role === 'fallback' || given === undefined) return named;
  if (!named.repositories.some((r) => sameRepositoryName(r, given))) {
    throw new EvaluationError(
      'REPOSITORY_NOT_IN_POLICY',
      `${caller.name} ${given}: expected one of the repositories ${named.from} binds (${named.repositories.join(', ')})`,
    );
  }
  return { repositories: [given], from: `${caller.name}, one of ${named.from}` };
}

/** The repositories the policy itself binds: `deploy.repositories`, else its identities' `source-repository`. */
function policyRepositories(policy: Policy): RepositoryBinding | undefined {
  if (policy.deploy.repositories?.length) {
    return { repositories: policy.deploy.repositories, from: `deploy.repositories in ${policy.source}` };
  }
  const pinned = [policy.identities.build.sourceRepository, policy.identities.sign.sourceRepository].flatMap((uri) =>
    uri === undefined ? [] : [repositoryNameOf(uri) ?? uri],
  );
  const distinct = pinned.filter((r, i) => pinned.findIndex((o) => sameRepositoryName(o, r)) === i);
  return distinct.length ? { repositories: distinct, from: `the source-repository in ${policy.source}` } : undefined;
}

/** `owner/name`, as GitHub spells a repository (and policy.schema.json's deploy.repositories). */
const OWNER_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\/[A-Za-z0-9._-]+$/;

/** `https://github.com/acme/app` (or `…/acme/app.git/`) → `acme/app`; undefined for anything else. */
function repositoryNameOf(uri: string): string | undefined {
  return /^https:\/\/[^/]+\/([^/]+\/[^/]+?)(?:\.git)?\/*$/.exec(uri)?.[1];
}

/** GitHub repository names compare case-insensitively. */
export function sameRepositoryName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
