import { describe, expect, it } from 'vitest';
import {
  GITHUB_WORKFLOW_BUILD_TYPE,
  parseProvenance,
  provenanceStatement,
  sameRepositoryUri,
  type WorkflowRunClaims,
  withoutTrailingSlashes,
  workflowProvenance,
  workflowRunClaims,
} from './provenance';

const COMMIT = '0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c';
const claims: WorkflowRunClaims = {
  repository: 'acme/app',
  repository_id: '101',
  repository_owner_id: '202',
  sha: COMMIT,
  ref: 'refs/heads/main',
  workflow_ref: 'acme/app/.github/workflows/release.yml@refs/heads/main',
  job_workflow_ref: 'acme/platform/.github/workflows/build.yml@refs/tags/v1',
  event_name: 'push',
  runner_environment: 'github-hosted',
  run_id: '303',
  run_attempt: '2',
};
const subjects = [{ name: 'app.tar.gz', digest: { sha256: 'ab'.repeat(32) } }];

function statement() {
  return JSON.parse(JSON.stringify(provenanceStatement(subjects, workflowProvenance(claims))));
}

describe('workflowProvenance', () => {
  it('fills the GitHub workflow build type from the claims as actions/attest does', () => {
    expect(workflowProvenance(claims)).toEqual({
      buildDefinition: {
        buildType: GITHUB_WORKFLOW_BUILD_TYPE,
        externalParameters: {
          workflow: {
            ref: 'refs/heads/main',
            repository: 'https://github.com/acme/app',
            path: '.github/workflows/release.yml',
          },
        },
        internalParameters: {
          github: {
            event_name: 'push',
            repository_id: '101',
            repository_owner_id: '202',
            runner_environment: 'github-hosted',
          },
        },
        resolvedDependencies: [
          { uri: 'git+https://github.com/acme/app@refs/heads/main', digest: { gitCommit: COMMIT } },
        ],
      },
      runDetails: {
        builder: { id: 'https://github.com/acme/platform/.github/workflows/build.yml@refs/tags/v1' },
        metadata: { invocationId: 'https://github.com/acme/app/actions/runs/303/attempts/2' },
      },
    });
  });

  it('refuses a token without a claim provenance needs', () => {
    const { sha: _, ...withoutSha } = claims;
    expect(() => workflowRunClaims(withoutSha)).toThrow(
      expect.objectContaining({ code: 'CLAIM_MISSING', field: 'token.sha' }),
    );
    expect(workflowRunClaims({ ...claims, extra: 'kept out' })).toEqual(claims);
  });
});

describe('parseProvenance', () => {
  it('reads back the repository, commit, ref, builder and subjects', () => {
    expect(parseProvenance(statement())).toEqual({
      repository: 'acme/app',
      repositoryUrl: 'https://github.com/acme/app',
      commit: COMMIT,
      ref: 'refs/heads/main',
      builderId: 'https://github.com/acme/platform/.github/workflows/build.yml@refs/tags/v1',
      workflow: {
        repository: 'https://github.com/acme/app',
        path: '.github/workflows/release.yml',
        ref: 'refs/heads/main',
      },
      invocationId: 'https://github.com/acme/app/actions/runs/303/attempts/2',
      subjects,
    });
  });

  it('refuses another predicate type', () => {
    const forged = { ...statement(), predicateType: 'https://slsa.dev/provenance/v0.2' };
    expect(() => parseProvenance(forged)).toThrow(expect.objectContaining({ code: 'PROVENANCE_PREDICATE_TYPE' }));
  });

  it('refuses another build type', () => {
    const forged = statement();
    forged.predicate.buildDefinition.buildType = 'https://example.com/my-build/v1';
    expect(() => parseProvenance(forged)).toThrow(expect.objectContaining({ code: 'PROVENANCE_BUILD_TYPE' }));
  });

  it('refuses a statement that is not in-toto, naming the field', () => {
    const broken = { ...statement(), subject: [] };
    expect(() => parseProvenance(broken)).toThrow(
      expect.objectContaining({ code: 'PROVENANCE_MALFORMED', field: 'subject' }),
    );
  });

  it('refuses a source dependency of another repository (a fork whose name starts the same)', () => {
    const forged = statement();
    forged.predicate.buildDefinition.resolvedDependencies = [
      { uri: 'git+https://github.com/acme/app-fork@refs/heads/main', digest: { gitCommit: COMMIT } },
    ];
    expect(() => parseProvenance(forged)).toThrow(expect.objectContaining({ code: 'PROVENANCE_INCONSISTENT' }));
  });

  it('refuses two source dependencies: which commit was built would be ambiguous', () => {
    const forged = statement();
    forged.predicate.buildDefinition.resolvedDependencies.push({
      uri: 'git+https://github.com/acme/app@refs/heads/evil',
      digest: { gitCommit: 'f'.repeat(40) },
    });
    expect(() => parseProvenance(forged)).toThrow(expect.objectContaining({ code: 'PROVENANCE_INCONSISTENT' }));
  });

  it('refuses a source without a git commit', () => {
    const forged = statement();
    forged.predicate.buildDefinition.resolvedDependencies[0].digest = { sha1: 'a'.repeat(40) };
    expect(() => parseProvenance(forged)).toThrow(
      expect.objectContaining({
        code: 'PROVENANCE_MALFORMED',
        field: 'predicate.buildDefinition.resolvedDependencies[0].digest.gitCommit',
      }),
    );
  });

  it('refuses a workflow repository that is not a repository URL', () => {
    const forged = statement();
    forged.predicate.buildDefinition.externalParameters.workflow.repository = 'acme/app';
    expect(() => parseProvenance(forged)).toThrow(expect.objectContaining({ code: 'PROVENANCE_MALFORMED' }));
  });
});

describe('sameRepositoryUri and withoutTrailingSlashes', () => {
  it('compares case-insensitively, without trailing slashes or .git', () => {
    expect(sameRepositoryUri('https://github.com/Acme/App.git///', 'https://github.com/acme/app')).toBe(true);
    expect(sameRepositoryUri('https://github.com/acme/app', 'https://github.com/acme/app-fork')).toBe(false);
    expect(withoutTrailingSlashes('a/b//')).toBe('a/b');
    expect(withoutTrailingSlashes('///')).toBe('');
    expect(withoutTrailingSlashes('')).toBe('');
    expect(withoutTrailingSlashes('a//b')).toBe('a//b');
  });

  it('reads a run of slashes that does not end the text once (found by the review of hangs)', () => {
    // A review predicate's repository.uri of `https://`, 300,000 slashes and one more character: the regular
    // expression that trimmed trailing slashes tried itself at every slash of the run, to the run's end each time
    // (100,000 slashes: 13 s; this many: minutes).
    const crafted = `https://${'/'.repeat(300_000)}x`;
    expect(sameRepositoryUri(crafted, 'https://github.com/acme/app')).toBe(false);
    expect(withoutTrailingSlashes(crafted)).toBe(crafted);
    expect(withoutTrailingSlashes(`${crafted}${'/'.repeat(300_000)}`)).toBe(crafted);
  });
});
