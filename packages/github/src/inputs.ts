// What every action reads the same way: the subject inputs, the policy path, the Sigstore endpoints, and where the
// job runs (its checkout, its temporary directory, its GitHub server and API). Read here once, from the runner's
// `INPUT_*` and `GITHUB_*` variables, into plain records that the stages take.
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { getInput } from '@actions/core';
import { CodedError, type SubjectInputs } from '@twokey/core';
import { GITHUB_ENDPOINTS, PUBLIC_GOOD_ENDPOINTS, type RepositoryPolicyFile } from '@twokey/sigstore';
import type { AttestationStore } from './attestations';
import { createGitHubClient, type GitHubClient } from './octokit';

/** An action input that cannot be used, named (exit as a usage error: nothing was judged or signed). */
export class InputError extends CodedError<'INPUT_INVALID'> {
  readonly kind = 'usage';
  override readonly name = 'InputError';
  constructor(message: string) {
    super('INPUT_INVALID', message);
  }
}

/**
 * A count given as an action input (`min-approvers`): a whole number from 1 to 9999, written plainly, or `fallback`
 * when the input is empty. Anything else is an InputError: `Number("one")` is NaN, and every comparison with NaN is
 * false — a count no one could fall short of.
 */
export function countInput(name: string, fallback: number): number {
  const given = getInput(name);
  if (given === '') return fallback;
  if (!/^[1-9][0-9]{0,3}$/.test(given)) {
    throw new InputError(`${name}: expected a whole number from 1 to 9999, found ${JSON.stringify(given)}`);
  }
  return Number(given);
}

/** The org policy in the platform repository (the repository the actions run from), beside its reusable workflows. */
export const ORG_POLICY_PATH = '.twokey/org-policy.yml';

/** A repository's own policy on its default branch, which can only tighten the org policy. */
export const DEFAULT_POLICY_PATH = '.twokey/policy.yml';

/** The policies an action judges by: the org policy, and the repository policy that may tighten it. */
export interface PolicyInputs {
  /** The org policy: a path relative to the workspace, or absolute (the action's own repository's). */
  policy: string;
  /** The org policy is the action's own repository's (the `policy` input was empty). */
  ownOrgPolicy: boolean;
  /** Only when the `repository-policy` input names one: the reusable workflows pass the default branch's. */
  repositoryPolicy?: RepositoryPolicyFile;
}

/**
 * The `policy` and `repository-policy` inputs. An empty `policy` is the org policy of the repository this action
 * runs from, at the commit it runs from — `$/actions/…` in the reusable workflows — never a file of the repository
 * being signed or deployed. `repository-policy` names a repository policy (the reusable workflows check it out
 * from the default branch); empty means the org policy alone, and so does a missing file at the default location
 * (`.twokey/policy.yml` at the top of the workspace or of one checkout directory: a repository without a policy of
 * its own). Any other path must exist — naming a file that is not there would drop the repository's own tightening
 * without a word — and none may leave the workspace (an absolute path, or `..`).
 * `entry` is the running action's entry file (`<repository>/actions/<stage>/dist/index.js`).
 */
export function policyInputs(entry: string): PolicyInputs {
  const given = getInput('policy');
  const repositoryPolicy = getInput('repository-policy');
  const segments = repositoryPolicy.split('/');
  if (repositoryPolicy && (isAbsolute(repositoryPolicy) || segments[0] === '' || segments.includes('..'))) {
    // Inside the checkout of the default branch, always: `../` would reach a file of the job's own (its artifacts).
    throw new InputError(
      `repository-policy: expected a path inside the workspace (the checkout of the default branch), with no "..", found ${repositoryPolicy}`,
    );
  }
  // One spelling of one path: names of letters, digits, `.`, `_` and `-` between single slashes, no `.` or empty
  // segment, no backslash, nothing a sparse-checkout pattern reads otherwise (`*?[]!#`, spaces). A path spelt another
  // way (`./.twokey/policy.yml`) was read as the default location by this action and checked out by no pattern:
  // the repository's own policy dropped without a word.
  if (repositoryPolicy && !segments.every((s) => /^[A-Za-z0-9._-]+$/.test(s) && s !== '.')) {
    throw new InputError(
      `repository-policy: expected a plain relative path (letters, digits, ".", "_", "-" between single "/"; no "." segment, no "\\", no pattern characters), found ${JSON.stringify(repositoryPolicy)}`,
    );
  }
  return {
    policy: given || ownOrgPolicy(entry),
    ownOrgPolicy: !given,
    ...(repositoryPolicy && {
      repositoryPolicy: { path: repositoryPolicy, optional: isDefaultPolicyLocation(repositoryPolicy) },
    }),
  };
}

/**
 * `.twokey/policy.yml`, or that file at the top of one checkout directory (`repository-policy/.twokey/policy.yml`, as
 * the reusable workflows check out the default branch) — never deeper (`…/elsewhere/.twokey/policy.yml`).
 */
function isDefaultPolicyLocation(path: string): boolean {
  const segments = path.split('/');
  const at = segments.length - DEFAULT_POLICY_PATH.split('/').length;
  return (at === 0 || at === 1) && segments.slice(at).join('/') === DEFAULT_POLICY_PATH;
}

/** The org policy of the repository whose action `entry` is: three directories up from its dist/index.js. */
export function ownOrgPolicy(entry: string): string {
  return join(resolve(dirname(entry), '..', '..', '..'), ORG_POLICY_PATH);
}

/** The artifacts, named with actions/attest's inputs: `subject-path`, `subject-digest`, `subject-name`, `subject-checksums`. */
export function subjectInputsFromInputs(): SubjectInputs {
  return {
    subjectPath: getInput('subject-path'),
    subjectDigest: getInput('subject-digest'),
    subjectName: getInput('subject-name'),
    subjectChecksums: getInput('subject-checksums'),
  };
}

/** The Sigstore endpoints every action takes as inputs (`fulcio-url`, `rekor-url`, `tsa-url`), tests on loopback. */
export interface SigningEndpointInputs {
  fulcioURL: string;
  rekorURL?: string;
  tsaURL?: string;
}

/** The Sigstore instances an action can sign with (`sigstore-instance`), as actions/attest chooses them. */
export type SigstoreInstance = 'public-good' | 'github';

/** The repository a job runs in, and how to ask GitHub about it: its visibility, when the job's event does not say. */
export interface JobRepository {
  /** `owner/name` (GITHUB_REPOSITORY). */
  repository: string;
  /** The job's token (the `github-token` input); empty: asked anonymously, which a public repository answers. */
  token: string;
  /** GITHUB_API_URL. */
  apiUrl: string;
  /** A client to ask with instead of one made from `token` and `apiUrl` (tests). */
  client?: GitHubClient;
}

/** The job's repository, its `github-token` input and its API: what sigstoreInstanceFromInputs asks GitHub with. */
export function jobRepositoryFromInputs(): JobRepository {
  return { repository: process.env.GITHUB_REPOSITORY ?? '', token: getInput('github-token'), apiUrl: githubApiUrl() };
}

/**
 * The `sigstore-instance` input, or, when empty, the instance for this repository as actions/attest chooses it:
 * GitHub's for a private or internal repository (its transparency log would publish the repository's names and
 * commits), public-good for a public one. The repository's visibility comes from the event (GITHUB_EVENT_PATH); when
 * the event does not say (`schedule` and a few other events carry no `repository`), from GitHub
 * (`GET /repos/{owner}/{repo}`, with `job`'s token). A visibility neither says is treated as private: nothing is
 * published that should not be. Without `job`, the event alone.
 * Throws InputError at once (not in the promise) for an input that names no instance, so that readStepInputs names it;
 * the promise itself never rejects.
 */
export function sigstoreInstanceFromInputs(job?: JobRepository): Promise<SigstoreInstance> {
  const given = sigstoreInstanceInput();
  if (given) return Promise.resolve(given);
  const instance = (visibility: unknown): SigstoreInstance => (visibility === 'public' ? 'public-good' : 'github');
  const said = eventVisibility();
  if (said !== undefined || !job) return Promise.resolve(instance(said));
  return repositoryVisibility(job).then(instance);
}

/** The `sigstore-instance` input: an instance, or empty for the repository's; throws InputError for anything else. */
function sigstoreInstanceInput(): SigstoreInstance | '' {
  const given = getInput('sigstore-instance');
  if (given === '' || given === 'public-good' || given === 'github') return given;
  throw new InputError(`sigstore-instance: expected public-good or github, found ${given}`);
}

/**
 * The repository's visibility as the job's event (GITHUB_EVENT_PATH) gives it: `visibility`, else `public` for
 * `private: false` and `private` for `private: true`; undefined when the event has no readable repository.
 */
function eventVisibility(): unknown {
  try {
    const event = JSON.parse(readFileSync(process.env.GITHUB_EVENT_PATH ?? '', 'utf8')) as {
      repository?: { visibility?: unknown; private?: unknown };
    };
    const repository = event?.repository;
    if (typeof repository !== 'object' || repository === null) return undefined;
    if (repository.visibility != null) return repository.visibility;
    if (typeof repository.private === 'boolean') return repository.private ? 'private' : 'public';
    return undefined;
  } catch {
    return undefined;
  }
}

/** The repository's visibility as GitHub answers it (`visibility`, else `private`); undefined when it does not. */
async function repositoryVisibility(job: JobRepository): Promise<unknown> {
  const [owner, repo, ...rest] = job.repository.split('/');
  if (!owner || !repo || rest.length > 0) return undefined;
  try {
    // The GitHub client is read on this first call (scripts/build.mjs: github.cjs), only when the event did not say.
    const client = job.client ?? createGitHubClient({ token: job.token, baseUrl: job.apiUrl, readsOnly: true });
    const { data } = await client.request('GET /repos/{owner}/{repo}', { owner, repo });
    if (data.visibility != null) return data.visibility;
    return typeof data.private === 'boolean' ? (data.private ? 'private' : 'public') : undefined;
  } catch {
    return undefined;
  }
}

/**
 * signingEndpointsOfJob, asked only when first needed: an action signs after its inputs and subjects are checked (a
 * deploy at its end, after its decision), and GitHub is asked then, never before an input error is reported. The
 * `sigstore-instance` input is checked at once (InputError).
 */
export function signingEndpointsWhenNeeded(
  job: JobRepository = jobRepositoryFromInputs(),
): () => Promise<SigningEndpointInputs> {
  sigstoreInstanceInput();
  let endpoints: Promise<SigningEndpointInputs> | undefined;
  return () => {
    endpoints ??= signingEndpointsOfJob(job);
    return endpoints;
  };
}

/**
 * The endpoints to sign with: the `fulcio-url`, `rekor-url` and `tsa-url` inputs given, and for those left empty the
 * instance's (sigstoreInstanceFromInputs, asking GitHub about `job`'s repository when the event does not say). With
 * all three given the instance changes nothing, and GitHub is not asked. Throws InputError at once for a
 * `sigstore-instance` input that names no instance; the promise never rejects.
 */
export function signingEndpointsOfJob(job: JobRepository = jobRepositoryFromInputs()): Promise<SigningEndpointInputs> {
  const allGiven = ['fulcio-url', 'rekor-url', 'tsa-url'].every((name) => getInput(name) !== '');
  return sigstoreInstanceFromInputs(allGiven ? undefined : job).then((instance) =>
    signingEndpointsFromInputs(instanceEndpoints(instance)),
  );
}

/** The `github-api` input: `graphql` (the default, also when empty) or `rest`. */
export function githubApiFromInputs(): 'graphql' | 'rest' {
  const given = getInput('github-api');
  if (given === '' || given === 'graphql') return 'graphql';
  if (given === 'rest') return 'rest';
  throw new InputError(`github-api: expected graphql or rest, found ${given}`);
}

/**
 * The `store-attestations` input: `true` to also store each bundle in the repository's attestations, as actions/attest
 * does (the job needs `attestations: write`), with the `github-token` input; `false` or empty, not.
 */
export function attestationStoreFromInputs(): AttestationStore | undefined {
  const store = getInput('store-attestations');
  if (store === '' || store === 'false') return undefined;
  if (store !== 'true') throw new InputError(`store-attestations: expected true or false, found ${store}`);
  const repository = process.env.GITHUB_REPOSITORY ?? '';
  const token = getInput('github-token');
  if (!repository || !token) {
    throw new InputError('store-attestations: true needs GITHUB_REPOSITORY and the github-token input');
  }
  return { apiUrl: githubApiUrl(), token, repository, serverUrl: runnerPaths().serverUrl };
}

/** The endpoints of a Sigstore instance: the defaults the URL inputs override. */
export function instanceEndpoints(instance: SigstoreInstance): SigningEndpointInputs {
  return instance === 'github' ? { ...GITHUB_ENDPOINTS } : { ...PUBLIC_GOOD_ENDPOINTS };
}

/**
 * Reads the `fulcio-url`, `rekor-url` and `tsa-url` inputs; an empty Fulcio or Rekor input means the default given
 * (the public-good instance), an empty `tsa-url` means no timestamp authority.
 */
export function signingEndpointsFromInputs(defaults: SigningEndpointInputs): SigningEndpointInputs {
  // `none` says there is no such service; empty takes the instance's.
  const service = (name: string, fallback: string | undefined) => {
    const given = getInput(name);
    return given === 'none' ? undefined : given || fallback;
  };
  const tsaURL = service('tsa-url', defaults.tsaURL);
  const rekorURL = service('rekor-url', defaults.rekorURL);
  return {
    fulcioURL: getInput('fulcio-url') || defaults.fulcioURL,
    ...(rekorURL && { rekorURL }),
    ...(tsaURL && { tsaURL }),
  };
}

/** Where a job runs, from the runner's environment: its checkout, its temporary directory, its GitHub server. */
export interface RunnerPaths {
  workspace: string;
  outputDirectory: string;
  serverUrl: string;
}

/** GITHUB_WORKSPACE (else the current directory), RUNNER_TEMP (else the system's), GITHUB_SERVER_URL (else github.com). */
export function runnerPaths(): RunnerPaths {
  return {
    workspace: process.env.GITHUB_WORKSPACE || process.cwd(),
    outputDirectory: process.env.RUNNER_TEMP || tmpdir(),
    serverUrl: process.env.GITHUB_SERVER_URL || 'https://github.com',
  };
}

/** GITHUB_API_URL, else github.com's API. */
export function githubApiUrl(): string {
  return process.env.GITHUB_API_URL || 'https://api.github.com';
}
