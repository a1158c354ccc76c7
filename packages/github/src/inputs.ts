import { tmpdir } from 'node:os';
import { getInput } from '@actions/core';

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
