// What every action reads the same way: the subject inputs, the policy path, the Sigstore endpoints, and where the
// job runs (its checkout, its temporary directory, its GitHub server and API). Read here once, from the runner's
// `INPUT_*` and `GITHUB_*` variables, into plain records that the stages take.
import { tmpdir } from 'node:os';
import { getInput } from '@actions/core';
import type { SubjectInputs } from '@twokey/core';

/** Where the policy is read when the `policy` input is empty: the default each action.yml declares. */
export const DEFAULT_POLICY_PATH = '.twokey/policy.yml';

/** The `policy` input (a path relative to the workspace); empty means DEFAULT_POLICY_PATH. */
export function policyPathFromInput(): string {
  return getInput('policy') || DEFAULT_POLICY_PATH;
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
  rekorURL: string;
  tsaURL?: string;
}

/**
 * Reads the `fulcio-url`, `rekor-url` and `tsa-url` inputs; an empty Fulcio or Rekor input means the default given
 * (the public-good instance), an empty `tsa-url` means no timestamp authority.
 */
export function signingEndpointsFromInputs(defaults: { fulcioURL: string; rekorURL: string }): SigningEndpointInputs {
  const tsaURL = getInput('tsa-url');
  return {
    fulcioURL: getInput('fulcio-url') || defaults.fulcioURL,
    rekorURL: getInput('rekor-url') || defaults.rekorURL,
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
