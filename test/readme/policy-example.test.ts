// The policy example the README points users at is a valid policy, with the meaning its comments give it, and it
// accepts exactly the identities the example caller (workflows/release.yml) gives its build and sign jobs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { matchIdentity, parsePolicy, type SignerIdentity } from '@twokey/core';
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
  return {
    san: `https://github.com/${uses}`,
    issuer: GITHUB_ACTIONS_ISSUER,
    extensions: { sourceRepositoryURI: sourceRepository },
  };
}

describe('docs/policy.example.yml', () => {
  it('parses, with the rules and identities its comments describe', () => {
    expect(policy.identities.build.san).toMatch(
      /^https:\/\/github\.com\/twokey-dev\/twokey\/\.github\/workflows\/twokey-build\.yml@[0-9a-f]{40}$/,
    );
    expect(policy.identities.sign.sanPattern).toContain('twokey-sign');
    expect(policy.identities.build.sourceRepository).toBe('https://github.com/acme/app');
    expect(policy.identities.sign.sourceRepository).toBe('https://github.com/acme/app');
    expect(policy.review).toEqual({
      minApprovals: 1,
      allowBots: false,
      requireApprovalOnHead: true,
      changesRequestedBlocks: true,
      protectedBranches: ['main', 'release/*'],
      unidentifiedCoAuthors: 'refuse',
      nonHumanCoAuthors: ['copilot@users.noreply.github.com'],
      allowActivityFallback: false,
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

  it('refuses the same workflows run for another repository', () => {
    const elsewhere = 'https://github.com/mallory/app';
    expect(matchIdentity(reusableWorkflowSigner('provenance', elsewhere), policy.identities.build).ok).toBe(false);
    expect(matchIdentity(reusableWorkflowSigner('sign', elsewhere), policy.identities.sign).ok).toBe(false);
  });
});
