// The policy example the README points users at is a valid policy, with the meaning its comments give it, and it
// accepts exactly the identities the example caller (workflows/release.yml) gives its build and sign jobs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { matchIdentity, parsePolicy, parseRepositoryPolicy, type SignerIdentity } from '@twokey/core';
import { GITHUB_ACTIONS_ISSUER } from '@twokey/testkit';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../conformance/paths';

const source = 'docs/policy.example.yml';
const policy = parsePolicy(readFileSync(join(repoRoot, source), 'utf8'), source);

/**
 * The certificate identity of a job of acme/app that calls a reusable workflow: Fulcio's SAN is the job's
 * job_workflow_ref (the `uses:` value) and its source repository the caller's.
 */
function reusableWorkflowSigner(job: string, sourceRepository = 'https://github.com/acme/app'): SignerIdentity {
  const workflow = parse(readFileSync(join(repoRoot, 'workflows', 'release.yml'), 'utf8')) as {
    jobs: Record<string, { uses?: string }>;
  };
  const uses = workflow.jobs[job]?.uses;
  if (!uses) throw new Error(`workflows/release.yml: job ${job} calls no reusable workflow`);
  // A reusable workflow called at a tag is named by its full ref: `@v1.0.0` is `@refs/tags/v1.0.0` in the token.
  return {
    san: `https://github.com/${uses.replace(/@(v\d+\.\d+\.\d+)$/, '@refs/tags/$1')}`,
    issuer: GITHUB_ACTIONS_ISSUER,
    extensions: { sourceRepositoryURI: sourceRepository, runnerEnvironment: 'github-hosted' },
  };
}

describe('docs/policy.example.yml', () => {
  it('parses, with the rules and identities its comments describe', () => {
    for (const [stage, rule] of Object.entries(policy.identities)) {
      expect(rule.sans).toEqual(
        ['v1.0.0', 'v1.1.0'].map(
          (version) =>
            `https://github.com/twokey-dev/twokey/.github/workflows/twokey-${stage}.yml@refs/tags/${version}`,
        ),
      );
      expect(rule.sanPattern).toBeUndefined();
      expect(rule.sourceRepository).toBeUndefined();
    }
    expect(policy.review).toEqual({
      minApprovals: 1,
      allowBots: false,
      requireApprovalOnHead: true,
      changesRequestedBlocks: true,
      protectedBranches: ['main', 'release/*'],
      unidentifiedCoAuthors: 'refuse',
      nonHumanCoAuthors: ['copilot@users.noreply.github.com'],
      allowActivityFallback: false,
      allowNonDefaultBranches: true,
      minSecondsAfterPush: 30,
      botPushers: ['dependabot[bot]'],
      reviewedHistory: true,
      historySince: '2026-03-01T00:00:00.000Z',
    });
    expect(policy.deploy.maxAgeSeconds).toBe(30 * 24 * 3600);
  });

  it("accepts the example caller's provenance job as build and its sign job as sign, and neither in the other's place", () => {
    const build = reusableWorkflowSigner('provenance');
    const sign = reusableWorkflowSigner('sign');
    expect(matchIdentity(build, policy.identities.build)).toMatchObject({ ok: true });
    expect(matchIdentity(sign, policy.identities.sign)).toMatchObject({ ok: true });
    expect(matchIdentity(build, policy.identities.sign)).toMatchObject({ ok: false });
    expect(matchIdentity(sign, policy.identities.build)).toMatchObject({ ok: false });
  });

  it('refuses versions nobody listed: an older release, a branch, a floating tag, a commit SHA', () => {
    const sign = reusableWorkflowSigner('sign');
    for (const ref of [
      'refs/tags/v0.9.0',
      'refs/heads/main',
      'refs/tags/v1',
      '0123456789abcdef0123456789abcdef01234567',
    ]) {
      const other = { ...sign, san: sign.san.replace(/@.*$/, `@${ref}`) };
      expect(matchIdentity(other, policy.identities.sign).ok, ref).toBe(false);
    }
  });
});

describe('docs/repository-policy.example.yml and this repository’s own .twokey/org-policy.yml', () => {
  it("twokey's own org policy names the reusable workflows its release calls from main, for its own runs only", () => {
    const org = parsePolicy(
      readFileSync(join(repoRoot, '.twokey', 'org-policy.yml'), 'utf8'),
      '.twokey/org-policy.yml',
    );
    const release = parse(readFileSync(join(repoRoot, '.github', 'workflows', 'release.yml'), 'utf8')) as {
      jobs: Record<string, { uses?: string }>;
    };
    for (const [stage, job] of [
      ['build', 'provenance'],
      ['sign', 'sign'],
    ] as const) {
      const path = release.jobs[job]!.uses!.replace(/^\.\//, '');
      const signer: SignerIdentity = {
        san: `https://github.com/twokey-dev/twokey/${path}@refs/heads/main`,
        issuer: GITHUB_ACTIONS_ISSUER,
        extensions: { sourceRepositoryURI: 'https://github.com/twokey-dev/twokey', runnerEnvironment: 'github-hosted' },
      };
      expect(matchIdentity(signer, org.identities[stage]).ok, stage).toBe(true);
      const fork = {
        ...signer,
        extensions: { ...signer.extensions, sourceRepositoryURI: 'https://github.com/mallory/twokey' },
      };
      expect(matchIdentity(fork, org.identities[stage]).ok, `${stage} in a fork`).toBe(false);
    }
    expect(org.review.protectedBranches).toEqual(['main']);
  });

  it('the repository policy example tightens the org policy example, key by key', () => {
    const source = 'docs/repository-policy.example.yml';
    const tightened = parseRepositoryPolicy(readFileSync(join(repoRoot, source), 'utf8'), source, policy);
    expect(tightened.identities).toEqual(policy.identities);
    expect(tightened.review).toMatchObject({ minApprovals: 2, protectedBranches: ['main'] });
    expect(tightened.deploy).toMatchObject({ maxAgeSeconds: 7 * 86400, artifacts: ['app-*'] });
    expect(tightened.repository?.source).toBe(source);
  });
});
