// Which repositories a build → sign chain may come from: the policy's, else the caller's, and a caller that narrows
// never widens the policy.
import { describe, expect, it } from 'vitest';
import { BUILD_SAN, POLICY_TEXT, sharedPolicy } from './__fixtures__/bundles';
import { type Policy, parsePolicy } from './policy';
import { bindRepositories, EvaluationError } from './repository-binding';

describe('bindRepositories', () => {
  const deploying = (repository?: string) =>
    ({ name: 'GITHUB_REPOSITORY', role: 'fallback', ...(repository && { repository }) }) as const;
  const requested = (repository?: string) =>
    ({ name: '--repo', role: 'narrow', ...(repository && { repository }) }) as const;
  const listing: Policy = {
    ...sharedPolicy,
    deploy: { ...sharedPolicy.deploy, repositories: ['acme/app', 'acme/lib'] },
  };
  const pinned = parsePolicy(
    POLICY_TEXT.replace(
      `    san: ${BUILD_SAN}\n`,
      `    san: ${BUILD_SAN}\n    source-repository: https://github.com/acme/app\n`,
    ),
    'pinned.yml',
  );

  it('binds the deploying repository when the policy names none', () => {
    expect(bindRepositories(sharedPolicy, deploying('acme/app'))).toEqual({
      repositories: ['acme/app'],
      from: 'GITHUB_REPOSITORY',
    });
    expect(bindRepositories(sharedPolicy, requested('acme/app'))).toEqual({
      repositories: ['acme/app'],
      from: '--repo',
    });
  });

  it("binds the policy's pinned source-repository, as owner/name", () => {
    expect(bindRepositories(pinned, deploying('acme/deploy'))).toEqual({
      repositories: ['acme/app'],
      from: 'the source-repository in pinned.yml',
    });
    expect(bindRepositories(pinned, requested())).toEqual(bindRepositories(pinned, deploying()));
  });

  it("binds deploy.repositories, not the deployment repository's own name", () => {
    expect(bindRepositories(listing, deploying('acme/deploy')).repositories).toEqual(['acme/app', 'acme/lib']);
  });

  it('narrows to the --repo asked for, when it is one the policy names', () => {
    expect(bindRepositories(listing, requested('acme/LIB'))).toEqual({
      repositories: ['acme/LIB'],
      from: '--repo, one of deploy.repositories in .twokey/policy.yml',
    });
  });

  it('refuses a --repo the policy does not name: asking for another repository does not widen the policy', () => {
    expect(() => bindRepositories(listing, requested('acme/other'))).toThrow(
      expect.objectContaining({
        code: 'REPOSITORY_NOT_IN_POLICY',
        message:
          '--repo acme/other: expected one of the repositories deploy.repositories in .twokey/policy.yml binds (acme/app, acme/lib)',
      }),
    );
    expect(() => bindRepositories(pinned, requested('acme/other'))).toThrow(EvaluationError);
  });

  it('refuses to bind nothing: --repo is required when the policy names no repository', () => {
    expect(() => bindRepositories(sharedPolicy, requested())).toThrow(
      expect.objectContaining({
        code: 'REPOSITORY_UNBOUND',
        message:
          '--repo OWNER/NAME is required: .twokey/policy.yml pins no source-repository and names no deploy.repositories, so nothing says whose build → sign chain to accept',
      }),
    );
    expect(() => bindRepositories(sharedPolicy, deploying(''))).toThrow(
      expect.objectContaining({
        code: 'REPOSITORY_UNBOUND',
        message: expect.stringMatching(/^GITHUB_REPOSITORY is not set/),
      }),
    );
  });

  it('refuses a repository that is not OWNER/NAME', () => {
    for (const bad of ['acme', 'https://github.com/acme/app', 'acme/app/extra', '-acme/app']) {
      expect(() => bindRepositories(sharedPolicy, requested(bad))).toThrow(
        expect.objectContaining({ code: 'REPOSITORY_MALFORMED' }),
      );
    }
  });
});
