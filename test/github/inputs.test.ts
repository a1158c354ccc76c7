// The inputs and runner paths every action reads the same way (packages/github/src/inputs.ts).
import { tmpdir } from 'node:os';
import {
  DEFAULT_POLICY_PATH,
  githubApiUrl,
  ORG_POLICY_PATH,
  policyInputs,
  runnerPaths,
  signingEndpointsFromInputs,
  subjectInputsFromInputs,
} from '@twokey/github';
import { afterEach, describe, expect, it, vi } from 'vitest';

const DEFAULTS = { fulcioURL: 'https://fulcio.example', rekorURL: 'https://rekor.example' };

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('signingEndpointsFromInputs', () => {
  it('takes the defaults for empty Fulcio and Rekor inputs, and no timestamp authority for an empty tsa-url', () => {
    vi.stubEnv('INPUT_FULCIO-URL', '');
    vi.stubEnv('INPUT_REKOR-URL', '');
    vi.stubEnv('INPUT_TSA-URL', '');
    expect(signingEndpointsFromInputs(DEFAULTS)).toEqual(DEFAULTS);
  });

  it('takes each input given, as the runner passes it (INPUT_<NAME>)', () => {
    vi.stubEnv('INPUT_FULCIO-URL', 'http://127.0.0.1:1001');
    vi.stubEnv('INPUT_REKOR-URL', 'http://127.0.0.1:1002');
    vi.stubEnv('INPUT_TSA-URL', 'http://127.0.0.1:1003/api/v1/timestamp');
    expect(signingEndpointsFromInputs(DEFAULTS)).toEqual({
      fulcioURL: 'http://127.0.0.1:1001',
      rekorURL: 'http://127.0.0.1:1002',
      tsaURL: 'http://127.0.0.1:1003/api/v1/timestamp',
    });
  });
});

describe('runnerPaths', () => {
  it("reads the runner's workspace, temporary directory and server", () => {
    vi.stubEnv('GITHUB_WORKSPACE', '/home/runner/work/app/app');
    vi.stubEnv('RUNNER_TEMP', '/home/runner/work/_temp');
    vi.stubEnv('GITHUB_SERVER_URL', 'https://ghe.example');
    expect(runnerPaths()).toEqual({
      workspace: '/home/runner/work/app/app',
      outputDirectory: '/home/runner/work/_temp',
      serverUrl: 'https://ghe.example',
    });
  });

  it('falls back to the current directory, the system temporary directory and github.com', () => {
    vi.stubEnv('GITHUB_WORKSPACE', '');
    vi.stubEnv('RUNNER_TEMP', '');
    vi.stubEnv('GITHUB_SERVER_URL', '');
    expect(runnerPaths()).toEqual({
      workspace: process.cwd(),
      outputDirectory: tmpdir(),
      serverUrl: 'https://github.com',
    });
  });
});

describe('subjectInputsFromInputs', () => {
  it("reads actions/attest's four subject inputs, empty when not given", () => {
    vi.stubEnv('INPUT_SUBJECT-PATH', 'dist/*.tar.gz');
    vi.stubEnv('INPUT_SUBJECT-DIGEST', '');
    vi.stubEnv('INPUT_SUBJECT-NAME', 'app');
    vi.stubEnv('INPUT_SUBJECT-CHECKSUMS', '');
    expect(subjectInputsFromInputs()).toEqual({
      subjectPath: 'dist/*.tar.gz',
      subjectDigest: '',
      subjectName: 'app',
      subjectChecksums: '',
    });
  });
});

describe('policyInputs', () => {
  const entry = '/runner/_actions/acme/platform/0123abc/actions/sign/dist/index.js';

  it("reads the org policy from the action's own repository at its own commit, and no repository policy, by default", () => {
    vi.stubEnv('INPUT_POLICY', '');
    vi.stubEnv('INPUT_REPOSITORY-POLICY', '');
    expect(policyInputs(entry)).toEqual({
      policy: `/runner/_actions/acme/platform/0123abc/${ORG_POLICY_PATH}`,
      ownOrgPolicy: true,
    });
    expect(ORG_POLICY_PATH).toBe('.twokey/org-policy.yml');
    expect(DEFAULT_POLICY_PATH).toBe('.twokey/policy.yml');
  });

  it('takes the inputs when given; a repository policy the workspace lacks means the org policy alone', () => {
    vi.stubEnv('INPUT_POLICY', 'platform/org-policy.yml');
    vi.stubEnv('INPUT_REPOSITORY-POLICY', 'repository-policy/.twokey/policy.yml');
    expect(policyInputs(entry)).toEqual({
      policy: 'platform/org-policy.yml',
      ownOrgPolicy: false,
      repositoryPolicy: { path: 'repository-policy/.twokey/policy.yml', optional: true },
    });
  });
});

describe('githubApiUrl', () => {
  it("reads the runner's API URL, else github.com's", () => {
    vi.stubEnv('GITHUB_API_URL', 'https://ghe.example/api/v3');
    expect(githubApiUrl()).toBe('https://ghe.example/api/v3');
    vi.stubEnv('GITHUB_API_URL', '');
    expect(githubApiUrl()).toBe('https://api.github.com');
  });
});
