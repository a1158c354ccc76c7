// A deploy approval read from a run in a repository neither the artifact's own nor the deployment repository the org
// pins (row 231). Under the default deploy.approvals.distinct-from (the requester may approve) and deploy.repositories
// letting one repository deploy another's artifacts, alice — the change's author — creates a repository of her own
// (she is its admin), calls the shared deploy workflow there on acme/app's genuine evidence, names a free second
// account of hers (no access to the org) the environment's only reviewer, and it approves. Whoever administers the
// repository a deploy runs in names its environments' reviewers: an approval there is anyone's that person chose.
import { DEPLOY_APPROVAL_PREDICATE_TYPE, type DeployApprovalPredicate, parsePolicy } from '@twokey/core';
import { describe, expect, it } from 'vitest';
import {
  ARTIFACT,
  dsseBundle,
  honestBundles,
  ISSUER,
  NOW,
  POLICY_TEXT,
  signer,
} from '../../core/src/__fixtures__/bundles';
import { alice } from '../../core/src/__fixtures__/review-evidence';
import { evaluateDeploy } from './evaluate';

const DEPLOY_SAN = 'https://github.com/acme/platform/.github/workflows/deploy.yml@refs/heads/main';
const orgPolicy = (pin = '', min = 1) =>
  parsePolicy(
    POLICY_TEXT.replace(
      '\ndeploy:\n  max-age: 7d\n',
      `\n  deploy:\n    issuer: ${ISSUER}\n    san: ${DEPLOY_SAN}\n${pin}deploy:\n  max-age: 7d\n  repositories: [acme/app]\n  approvals: { min: ${min} }\n`,
    ),
    'org-policy.yml',
  );
/** A free account of alice's, with no access to acme/app. */
const aliceAlt = { login: 'alice-alt', id: 777777, type: 'User' };

function approvalIn(repo: string): DeployApprovalPredicate {
  const uri = `https://github.com/${repo}`;
  return {
    environment: 'production',
    repository: { name: repo, uri },
    run: { id: 7, attempt: 1, uri: `${uri}/actions/runs/7/attempts/1` },
    requesters: [alice],
    approvals: [{ user: aliceAlt, state: 'approved', comment: '', environments: ['production'] }],
    profiles: [{ account: aliceAlt, name: 'Totally Someone Else' }],
    protection: { requiredReviewers: [{ type: 'User', name: 'alice-alt' }], preventSelfReview: true },
    defaultBranch: 'main',
    readAt: NOW.toISOString(),
    evidence: [],
  };
}

const deployIn = (repo: string, policy = orgPolicy()) =>
  evaluateDeploy({
    policy,
    binding: { repositories: ['acme/app'], from: 'the policy (deploy.repositories)' },
    now: NOW,
    artifacts: [ARTIFACT],
    bundles: honestBundles(),
    deployIdentity: signer(DEPLOY_SAN, {
      sourceRepositoryURI: `https://github.com/${repo}`,
      sourceRepositoryRef: 'refs/heads/main',
      buildTrigger: 'workflow_dispatch',
    }),
    environment: 'production',
    liveDeployApproval: { predicate: approvalIn(repo) },
  });

const deployApproval = (report: ReturnType<typeof deployIn>) =>
  report.artifacts[0]!.checks.find((c) => c.id === 'deploy-approval')!;

describe('a deploy approval read from a repository the author administers', () => {
  it('is refused when the org pins no deployment repository: alice/sandbox names its reviewers itself', () => {
    const report = deployIn('alice/sandbox');
    expect(report.verdict).toBe('fail');
    expect(deployApproval(report).verdict).toBe('fail');
    expect(deployApproval(report).reason).toContain(
      "the deploy ran in https://github.com/alice/sandbox, neither the repository the artifact was built in (https://github.com/acme/app) nor one identities.deploy pins (source-repository: none): whoever administers that repository names its environments' reviewers alone",
    );
  });

  it('is refused when the org pins another one (acme/ops), and taken from the pinned one and the artifact’s own', () => {
    const pinned = orgPolicy('    source-repository: https://github.com/acme/ops\n');
    const report = deployIn('alice/sandbox', pinned);
    expect(deployApproval(report).verdict).toBe('fail');
    expect(deployApproval(report).reason).toContain('nor the one identities.deploy pins (https://github.com/acme/ops)');
    // The same approval, read in the deployment repository the org pins, or in acme/app itself: its reviewers are
    // the ones that repository's administrators named (who gets admin there is the org's to control, row 99).
    expect(deployApproval(deployIn('acme/ops', pinned)).verdict).toBe('pass');
    expect(deployApproval(deployIn('acme/app')).verdict).toBe('pass');
  });

  it('changes nothing when no approval is required (deploy.approvals.min 0)', () => {
    expect(deployApproval(deployIn('alice/sandbox', orgPolicy('', 0))).verdict).toBe('pass');
  });
});

describe('an approval read in the pinned deployment repository, judged offline as live', () => {
  it('counts in twokey verify as in the live gate, and one read elsewhere counts in neither', () => {
    const pinned = orgPolicy('    source-repository: https://github.com/acme/ops\n');
    const carol = { login: 'carol', id: 7, type: 'User' };
    const attested = (repo: string) => {
      const uri = `https://github.com/${repo}`;
      const run = `${uri}/actions/runs/9/attempts/1`;
      const predicate: DeployApprovalPredicate = {
        ...approvalIn(repo),
        run: { id: 9, attempt: 1, uri: run },
        requesters: [{ login: 'erin', id: 5, type: 'User' }],
        approvals: [{ user: carol, state: 'approved', comment: '', environments: ['production'] }],
        profiles: [{ account: carol }],
        readAt: new Date(NOW.getTime() - 60_000).toISOString(),
      };
      const by = signer(DEPLOY_SAN, {
        sourceRepositoryURI: uri,
        sourceRepositoryRef: 'refs/heads/main',
        buildTrigger: 'workflow_dispatch',
        runInvocationURI: run,
      });
      const statement = {
        _type: 'https://in-toto.io/Statement/v1',
        subject: [{ name: ARTIFACT.name, digest: { sha256: ARTIFACT.digest.hex } }],
        predicateType: DEPLOY_APPROVAL_PREDICATE_TYPE,
        predicate,
      };
      return evaluateDeploy({
        policy: pinned,
        binding: { repositories: ['acme/app'], from: 'the policy (deploy.repositories)' },
        now: NOW,
        environment: 'production',
        artifacts: [ARTIFACT],
        bundles: [
          ...honestBundles(),
          dsseBundle(statement, by, 'store/deploy-approval.json', [new Date(NOW.getTime() - 30_000)]),
        ],
      });
    };
    expect(deployApproval(attested('acme/ops')).verdict).toBe('pass');
    const sandbox = deployApproval(attested('alice/sandbox'));
    expect(sandbox.verdict).not.toBe('pass');
    // Signed in alice/sandbox, it is no signature of the deploy identity the org pins to acme/ops at all.
    expect(sandbox.reason).toContain('expected the deploy identity');
  });
});
