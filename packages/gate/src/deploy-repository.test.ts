// A deploy whose requester never approves runs from the default branch of the repository it runs in (row 163): that
// repository must be the artifact's own, or the one the org policy pins the deploy identity to. deploy.repositories
// lets one repository deploy another's artifacts: mallory creates acme/mallory-sandbox (its admin, its default branch
// hers alone to write), pushes a caller of the deploy workflow `on: workflow_dispatch`, asks erin to "run the deploy
// on my sandbox" (erin the requester), and approves production there herself.
import { type DeployApprovalPredicate, parsePolicy } from '@twokey/core';
import { describe, expect, it } from 'vitest';
import { ARTIFACT, honestBundles, ISSUER, NOW, POLICY_TEXT, signer } from '../../core/src/__fixtures__/bundles';
import { evaluateDeploy } from './evaluate';

const DEPLOY_SAN = 'https://github.com/acme/platform/.github/workflows/deploy.yml@refs/heads/main';
const strictPolicy = (pin = '') =>
  parsePolicy(
    POLICY_TEXT.replace(
      '\ndeploy:\n  max-age: 7d\n',
      `\n  deploy:\n    issuer: ${ISSUER}\n    san: ${DEPLOY_SAN}\n${pin}deploy:\n  max-age: 7d\n  repositories: [acme/app]\n  approvals: { min: 1, distinct-from: [author, contributors, pusher, requester], require-prevent-self-review: true }\n`,
    ),
    'org-policy.yml',
  );
const mallory = { login: 'mallory', id: 999, type: 'User' };
const erin = { login: 'erin', id: 5, type: 'User' };

function facts(repo: string, defaultBranch: string | undefined): DeployApprovalPredicate {
  const uri = `https://github.com/${repo}`;
  return {
    environment: 'production',
    repository: { name: repo, uri },
    run: { id: 7, attempt: 1, uri: `${uri}/actions/runs/7/attempts/1` },
    requesters: [erin],
    approvals: [{ user: mallory, state: 'approved', comment: '', environments: ['production'] }],
    protection: { requiredReviewers: [{ type: 'User', name: 'mallory' }], preventSelfReview: true },
    ...(defaultBranch !== undefined && { defaultBranch }),
    readAt: NOW.toISOString(),
    evidence: [],
  };
}

const judge = (repo: string, ref: string, policy = strictPolicy(), defaultBranch: string | null = 'main') =>
  evaluateDeploy({
    policy,
    binding: { repositories: ['acme/app'], from: 'the policy (deploy.repositories)' },
    now: NOW,
    artifacts: [ARTIFACT],
    bundles: honestBundles(),
    deployIdentity: signer(DEPLOY_SAN, {
      sourceRepositoryURI: `https://github.com/${repo}`,
      sourceRepositoryRef: ref,
      buildTrigger: 'workflow_dispatch',
    }),
    environment: 'production',
    liveDeployApproval: { predicate: facts(repo, defaultBranch ?? undefined) },
  });
const check = (r: ReturnType<typeof evaluateDeploy>) => r.artifacts[0]!.checks.find((c) => c.id === 'deploy-approval')!;

describe('a deploy whose requester never approves, run in another repository than the artifact’s', () => {
  it('is refused from a branch of the artifact’s own repository other than its default one (control)', () => {
    const r = judge('acme/app', 'refs/heads/mallory/preview');
    expect(check(r).verdict).toBe('fail');
    expect(check(r).reason).toContain('not from the default branch');
  });

  it('is accepted from the artifact’s own repository’s default branch', () => {
    expect(check(judge('acme/app', 'refs/heads/main')).verdict).toBe('pass');
  });

  it('is refused from the default branch of a repository mallory created (its workflow files hers alone to write)', () => {
    const r = judge('acme/mallory-sandbox', 'refs/heads/main');
    expect(check(r).verdict).toBe('fail');
    expect(check(r).reason).toContain(
      'the deploy ran in https://github.com/acme/mallory-sandbox, neither the repository the artifact was built in (https://github.com/acme/app) nor one identities.deploy pins (source-repository: none)',
    );
    expect(r.verdict).toBe('fail');
  });

  it('is refused when its deploy approval names no default branch (one signed before it was recorded): fail closed', () => {
    const r = judge('acme/app', 'refs/heads/main', strictPolicy(), null);
    expect(check(r).verdict).toBe('fail');
    expect(check(r).reason).toContain(
      'the deploy ran from refs/heads/main, and its deploy approval names no default branch of the repository it ran in',
    );
  });

  it('is accepted from the repository the org policy pins the deploy identity to (acme/ops), and from no other', () => {
    const pinned = strictPolicy('    source-repository: https://github.com/acme/ops\n');
    expect(check(judge('acme/ops', 'refs/heads/main', pinned)).verdict).toBe('pass');
    // And from no other: the pin names the one deployment repository, not "any".
    const sandbox = check(judge('acme/mallory-sandbox', 'refs/heads/main', pinned));
    expect(sandbox.verdict).toBe('fail');
    expect(sandbox.reason).toContain(
      'the deploy ran in https://github.com/acme/mallory-sandbox, neither the repository the artifact was built in (https://github.com/acme/app) nor the one identities.deploy pins (https://github.com/acme/ops)',
    );
  });
});
