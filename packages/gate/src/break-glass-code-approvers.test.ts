// deploy.approvals.distinct-from: code-approvers under a break-glass. The org asks three people for a production
// deploy: the author, someone who approves the code, and a deploy approver distinct from both. Under a break-glass,
// who released it stands in for the code approver; the gate read no code approvers there, so dave could release
// alice's exception and approve its production deploy too (found by the review of the signed human decisions); and,
// once that was mended, still so beside a review attestation of the built commit that the policy no longer passes
// (its rules tightened since it was signed: row 18), where the review's people were read alone (found by the review
// of the fix).
import { buildBreakGlassStatement, type DeployReport, parsePolicy, type VerifiedBundle } from '@twokey/core';
import { describe, expect, it } from 'vitest';
import {
  ARTIFACT,
  dsseBundle,
  ISSUER,
  NOW,
  provenanceBundle,
  reviewStatement,
  SHARED_BUILD_SAN,
  SIGN_SAN,
  SIGNED_AT,
  signer,
} from '../../core/src/__fixtures__/bundles';
import { MERGE_COMMIT } from '../../core/src/__fixtures__/review-evidence';
import { evaluateDeploy } from './evaluate';

const DEPLOY_SAN = 'https://github.com/acme/platform/.github/workflows/deploy.yml@refs/heads/main';
const BREAK_GLASS_SAN = 'https://github.com/acme/platform/.github/workflows/break-glass.yml@refs/heads/main';
// The org now asks two code approvals (the review attestation below was signed when one sufficed).
const policy = parsePolicy(
  `version: 1
identities:
  build: { issuer: ${ISSUER}, san: ${SHARED_BUILD_SAN} }
  sign: { issuer: ${ISSUER}, san: ${SIGN_SAN} }
  deploy: { issuer: ${ISSUER}, san: ${DEPLOY_SAN} }
  break-glass: { issuer: ${ISSUER}, san: ${BREAK_GLASS_SAN} }
review:
  min-approvals: 2
deploy:
  max-age: 7d
  approvals: { min: 1, distinct-from: [author, contributors, pusher, code-approvers] }
`,
  'org-policy.yml',
);

const alice = { login: 'alice', id: 101, type: 'User' };
const dave = { login: 'dave', id: 505, type: 'User' };
const erin = { login: 'erin', id: 606, type: 'User' };

function provenance(): VerifiedBundle {
  return provenanceBundle(
    undefined,
    signer(SHARED_BUILD_SAN, {
      buildTrigger: 'push',
      sourceRepositoryURI: 'https://github.com/acme/app',
      sourceRepositoryDigest: MERGE_COMMIT,
      sourceRepositoryRef: 'refs/heads/main',
    }),
  );
}

/** The sign identity's review attestation of the built commit (bob approved), signed under the older one-approval rule. */
function review(): VerifiedBundle {
  return dsseBundle(
    reviewStatement([ARTIFACT]),
    signer(SIGN_SAN, { sourceRepositoryURI: 'https://github.com/acme/app' }),
    'run/review.sigstore.json',
  );
}

function breakGlass(): VerifiedBundle {
  const runUri = 'https://github.com/acme/app/actions/runs/9001/attempts/1';
  const statement = buildBreakGlassStatement([{ name: ARTIFACT.name, digest: { sha256: ARTIFACT.digest.hex } }], {
    reason: 'checkout is down',
    incident: 'https://status.acme.example/incidents/42',
    environment: 'production',
    repository: { name: 'acme/app', uri: 'https://github.com/acme/app' },
    change: {
      commit: MERGE_COMMIT,
      author: alice,
      contributors: [{ account: alice, roles: ['author', 'committer', 'pusher'] }],
    },
    requester: alice,
    approvers: [dave],
    notBefore: new Date(NOW.getTime() - 600_000).toISOString(),
    expires: new Date(NOW.getTime() + 3_600_000).toISOString(),
    waives: ['review-attestation', 'review-rules'],
    run: { id: 9001, attempt: 1, uri: runUri },
    defaultBranch: 'main',
  });
  return dsseBundle(
    statement,
    signer(BREAK_GLASS_SAN, {
      sourceRepositoryURI: 'https://github.com/acme/app',
      runInvocationURI: runUri,
      buildTrigger: 'workflow_dispatch',
      sourceRepositoryRef: 'refs/heads/main',
    }),
    'run/break-glass.sigstore.json',
    [SIGNED_AT],
  );
}

function gateBeside(bundles: VerifiedBundle[], approvers: (typeof dave)[] = [dave]): DeployReport {
  return evaluateDeploy({
    policy,
    binding: { repositories: ['acme/app'], from: 'GITHUB_REPOSITORY' },
    now: NOW,
    artifacts: [ARTIFACT],
    bundles,
    deployIdentity: signer(DEPLOY_SAN, {
      sourceRepositoryURI: 'https://github.com/acme/app',
      sourceRepositoryRef: 'refs/heads/main',
      buildTrigger: 'workflow_dispatch',
      runInvocationURI: 'https://github.com/acme/app/actions/runs/9100/attempts/1',
    }),
    environment: 'production',
    earlierDecisionsRead: true,
    liveDeployApproval: {
      predicate: {
        environment: 'production',
        repository: { name: 'acme/app', uri: 'https://github.com/acme/app' },
        run: { id: 9100, attempt: 1, uri: 'https://github.com/acme/app/actions/runs/9100/attempts/1' },
        requesters: [alice],
        approvals: approvers.map((user) => ({ user, state: 'approved', comment: '', environments: ['production'] })),
        protection: { requiredReviewers: [{ type: 'User', name: 'dave' }], preventSelfReview: true },
        defaultBranch: 'main',
        readAt: NOW.toISOString(),
        evidence: [],
      },
    },
  });
}

const check = (r: DeployReport, id: string) => r.artifacts[0]!.checks.find((c) => c.id === id)!;

describe('code-approvers under a break-glass', () => {
  it('keeps who released the break-glass from approving its deploy, with or without a review attestation the policy no longer passes beside it', () => {
    for (const bundles of [
      [provenance(), breakGlass()],
      [provenance(), review(), breakGlass()],
    ]) {
      const report = gateBeside(bundles);
      expect(check(report, 'break-glass').reason).toMatch(/^BREAK-GLASS USED/);
      expect(check(report, 'deploy-approval').verdict).toBe('fail');
      expect(check(report, 'deploy-approval').reason).toContain(
        'not counted: dave (released the break-glass in place of a code review)',
      );
      expect(report.verdict).toBe('fail');
    }
  });

  it('passes with a third person approving the deploy instead, flagged as a break-glass', () => {
    // (dave approving beside erin still refuses: an excluded approver's approval is never outweighed, row 129.)
    for (const bundles of [
      [provenance(), breakGlass()],
      [provenance(), review(), breakGlass()],
    ]) {
      const report = gateBeside(bundles, [erin]);
      expect(check(report, 'deploy-approval')).toMatchObject({ verdict: 'pass' });
      expect(check(report, 'deploy-approval').reason).toContain('erin');
      expect(check(report, 'break-glass').reason).toMatch(/^BREAK-GLASS USED/);
      expect(report.verdict).toBe('pass');
    }
  });
});
