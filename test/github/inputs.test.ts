// The inputs and runner paths every action reads the same way (packages/github/src/inputs.ts).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_POLICY_PATH,
  githubApiUrl,
  instanceEndpoints,
  ORG_POLICY_PATH,
  policyInputs,
  runnerPaths,
  signingEndpointsFromInputs,
  sigstoreInstanceFromInputs,
  subjectInputsFromInputs,
} from '@twokey/github';
import { readPolicyFiles } from '@twokey/sigstore';
import { afterEach, describe, expect, it, vi } from 'vitest';

const ISSUER = 'https://token.actions.githubusercontent.com';
const ORG_POLICY = `version: 1
identities:
  build: { issuer: ${ISSUER}, san: "https://github.com/acme/platform/.github/workflows/b.yml@refs/tags/v1" }
  sign: { issuer: ${ISSUER}, san: "https://github.com/acme/platform/.github/workflows/s.yml@refs/tags/v1" }
`;

const DEFAULTS = {
  fulcioURL: 'https://fulcio.example',
  rekorURL: 'https://rekor.example',
  tsaURL: 'https://tsa.example/api/v1/timestamp',
};

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('signingEndpointsFromInputs', () => {
  it("takes the instance's endpoints for empty inputs, and none of a service for `none`", () => {
    vi.stubEnv('INPUT_FULCIO-URL', '');
    vi.stubEnv('INPUT_REKOR-URL', '');
    vi.stubEnv('INPUT_TSA-URL', '');
    expect(signingEndpointsFromInputs(DEFAULTS)).toEqual(DEFAULTS);
    vi.stubEnv('INPUT_TSA-URL', 'none');
    expect(signingEndpointsFromInputs(DEFAULTS)).toEqual({
      fulcioURL: DEFAULTS.fulcioURL,
      rekorURL: DEFAULTS.rekorURL,
    });
  });

  it("signs a private repository's evidence with GitHub's instance, a public one's with public-good, as actions/attest", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twokey-event-'));
    const event = (repository: object) => {
      const path = join(dir, `${Math.random()}.json`);
      writeFileSync(path, JSON.stringify({ repository }));
      return path;
    };
    vi.stubEnv('INPUT_SIGSTORE-INSTANCE', '');
    for (const [repository, instance] of [
      [{ visibility: 'public', private: false }, 'public-good'],
      [{ visibility: 'private', private: true }, 'github'],
      [{ visibility: 'internal', private: true }, 'github'],
      [{}, 'github'],
    ] as const) {
      vi.stubEnv('GITHUB_EVENT_PATH', event(repository));
      expect(await sigstoreInstanceFromInputs(), JSON.stringify(repository)).toBe(instance);
    }
    vi.stubEnv('GITHUB_EVENT_PATH', join(dir, 'missing.json'));
    expect(await sigstoreInstanceFromInputs()).toBe('github');
    vi.stubEnv('INPUT_SIGSTORE-INSTANCE', 'public-good');
    expect(await sigstoreInstanceFromInputs()).toBe('public-good');
    vi.stubEnv('INPUT_SIGSTORE-INSTANCE', 'private');
    expect(() => sigstoreInstanceFromInputs()).toThrow(
      /sigstore-instance: expected public-good or github, found private/,
    );
    expect(instanceEndpoints('github')).toEqual({
      fulcioURL: 'https://fulcio.githubapp.com',
      tsaURL: 'https://timestamp.githubapp.com/api/v1/timestamp',
    });
    expect(instanceEndpoints('public-good').rekorURL).toBe('https://rekor.sigstore.dev');
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

  it('takes only the default location as optional, and never a path out of the workspace', () => {
    vi.stubEnv('INPUT_POLICY', '');
    for (const deeper of ['repository-policy/nothing/.twokey/policy.yml', 'elsewhere/x/.twokey/policy.yml']) {
      vi.stubEnv('INPUT_REPOSITORY-POLICY', deeper);
      expect(policyInputs(entry).repositoryPolicy).toEqual({ path: deeper, optional: false });
    }
    for (const top of ['.twokey/policy.yml', 'repository-policy/.twokey/policy.yml']) {
      vi.stubEnv('INPUT_REPOSITORY-POLICY', top);
      expect(policyInputs(entry).repositoryPolicy).toEqual({ path: top, optional: true });
    }
    // `repository-policy/${{ inputs.repository-policy }}` with `../bundles/twokey-x/p.yml`: a file of the job's own.
    for (const outside of ['repository-policy/../bundles/twokey-x/p.yml', '../.twokey/policy.yml', '/tmp/p.yml']) {
      vi.stubEnv('INPUT_REPOSITORY-POLICY', outside);
      expect(() => policyInputs(entry)).toThrow(/repository-policy: expected a path inside the workspace/);
    }
  });

  // `./.twokey/policy.yml` was read here as the default location (so missing meant "none"), while actions/checkout's
  // sparse-checkout took it as a pattern that matches nothing: the repository's own policy was dropped without a word.
  it('refuses a repository policy path spelt any other way than plainly: a ".", an empty segment, a backslash, a pattern', () => {
    vi.stubEnv('INPUT_POLICY', '');
    for (const spelt of [
      './.twokey/policy.yml',
      'repository-policy/./.twokey/policy.yml',
      '.twokey/./policy.yml',
      'repository-policy//.twokey/policy.yml',
      '.twokey\\policy.yml',
      '.twokey/policy.y?l',
      '.twokey/*.yml',
      '!.twokey/policy.yml',
      '.twokey/policy .yml',
    ]) {
      vi.stubEnv('INPUT_REPOSITORY-POLICY', spelt);
      expect(() => policyInputs(entry), spelt).toThrow(/repository-policy: expected a plain relative path/);
    }
  });

  it('needs any other repository policy path to exist: naming a missing file would drop its tightening silently', () => {
    // A developer calling the reusable sign workflow from her branch with `repository-policy: nothing.yml`.
    vi.stubEnv('INPUT_POLICY', '');
    vi.stubEnv('INPUT_REPOSITORY-POLICY', 'repository-policy/nothing.yml');
    const inputs = policyInputs(entry);
    expect(inputs.repositoryPolicy).toEqual({ path: 'repository-policy/nothing.yml', optional: false });
    const workspace = mkdtempSync(join(tmpdir(), 'twokey-inputs-'));
    try {
      writeFileSync(join(workspace, 'org-policy.yml'), ORG_POLICY);
      expect(() => readPolicyFiles('org-policy.yml', inputs.repositoryPolicy, workspace)).toThrow(
        expect.objectContaining({ code: 'POLICY_UNREADABLE', message: expect.stringContaining('nothing.yml') }),
      );
      // The default location, missing: a repository without a policy of its own, the org policy alone.
      vi.stubEnv('INPUT_REPOSITORY-POLICY', 'repository-policy/.twokey/policy.yml');
      const fallback = policyInputs(entry).repositoryPolicy;
      expect(readPolicyFiles('org-policy.yml', fallback, workspace).repository).toBeUndefined();
    } finally {
      rmSync(workspace, { recursive: true, force: true });
    }
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
