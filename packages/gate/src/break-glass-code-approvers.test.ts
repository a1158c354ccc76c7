// deploy.approvals.distinct-from: code-approvers under a break-glass. The org asks three people for a production
// deploy: the author, someone who approves the code, and a deploy approver distinct from both. Under a break-glass,
// who released it stands in for the code approver; the gate read no code approvers there (`codeApprovers: []`), so
// dave could release alice's exception and approve its production deploy too: one other person where the policy asks
// for two. Found by the review of the signed human decisions.
import {
  buildBreakGlassStatement,
  type DeployApprovalPredicate,
  type DeployReport,
  parsePolicy,
  sha256Digest,
  type VerifiedBundle,
} from '@twokey/core';
import { describe, expect, it } from 'vitest';
import {
  dsseBundle,
  ISSUER,
  NOW,
  provenanceStatement,
  SHARED_BUILD_SAN,
  SIGN_SAN,
  SIGNED_AT,
  sha256,
  signer,
} from '../../core/src/__fixtures__/bundles';
import { MERGE_COMMIT } from '../../core/src/__fixtures__/review-evidence';
import { evaluateDeploy } from './evaluate';

const DEPLOY_SAN = 'https://github.com/acme/platform/.github/workflows/deploy.yml@refs/heads/main';
const BREAK_GLASS_SAN = 'https://github.com/acme/platform/.github/workflows/break-glass.yml@refs/heads/main';
const policy = parsePolicy(
  `version: 1
identities:
  build: { issuer: ${ISSUER}, san: ${SHARED_BUILD_SAN} }
  sign: { issuer: ${ISSUER}, san: ${SIGN_SAN} }
  deploy: { issuer: ${ISSUER}, san: ${DEPLOY_SAN} }
  break-glass: { issuer: ${ISSUER}, san: ${BREAK_GLASS_SAN} }
deploy:
  max-age: 7d
  approvals: { min: 1, distinct-from: [author, contributors, pusher, code-approvers] }
`,
  'org-policy.yml',
);

const C = MERGE_COMMIT;
const A = { name: 'dist/app.tar.gz', digest: sha256Digest(sha256('alice unreviewed build of C')) };
const alice = { login: 'alice', id: 101, type: 'User' };
const dave = { login: 'dave', id: 505, type: 'User' };

function provenance(): VerifiedBundle {
  return dsseBundle(
    provenanceStatement(A.digest.hex, C),
    signer(SHARED_BUILD_SAN, {
      buildTrigger: 'push',
      sourceRepositoryURI: 'https://github.com/acme/app',
      sourceRepositoryDigest: C,
      sourceRepositoryRef: 'refs/heads/main',
    }),
    'run/provenance.sigstore.json',
  );
}

/** alice asks for the break-glass for her own commit C; dave releases it (the workflow and gate accept that). */
function breakGlass(): VerifiedBundle {
  const runUri = 'https://github.com/acme/app/actions/runs/9001/attempts/1';
  const statement = buildBreakGlassStatement([{ name: A.name, digest: { sha256: A.digest.hex } }], {
    reason: 'checkout is down',
    incident: 'https://status.acme.example/incidents/42',
    environment: 'production',
    repository: { name: 'acme/app', uri: 'https://github.com/acme/app' },
    change: { commit: C, author: alice, contributors: [{ account: alice, roles: ['author', 'committer', 'pusher'] }] },
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

/** The production deploy job's live facts: alice started it, dave (the break-glass approver) approved production. */
const live: { predicate: DeployApprovalPredicate } = {
  predicate: {
    environment: 'production',
    repository: { name: 'acme/app', uri: 'https://github.com/acme/app' },
    run: { id: 9100, attempt: 1, uri: 'https://github.com/acme/app/actions/runs/9100/attempts/1' },
    requesters: [alice],
    approvals: [{ user: dave, state: 'approved', comment: '', environments: ['production'] }],
    protection: { requiredReviewers: [{ type: 'User', name: 'dave' }], preventSelfReview: true },
    defaultBranch: 'main',
    readAt: NOW.toISOString(),
    evidence: [],
  },
};

const check = (r: DeployReport, id: string) => r.artifacts[0]!.checks.find((c) => c.id === id)!;

const erin = { login: 'erin', id: 606, type: 'User' };

/** The gate of the production deploy, its environment approved by `approvers`. */
function gate(approvers: (typeof dave)[]): DeployReport {
  return evaluateDeploy({
    policy,
    binding: { repositories: ['acme/app'], from: 'GITHUB_REPOSITORY' },
    now: NOW,
    artifacts: [A],
    bundles: [provenance(), breakGlass()],
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
        ...live.predicate,
        approvals: approvers.map((user) => ({ user, state: 'approved', comment: '', environments: ['production'] })),
      },
    },
  });
}

describe('code-approvers under a break-glass', () => {
  it('keeps who released the break-glass from approving its deploy too', () => {
    const report = gate([dave]);
    expect(check(report, 'deploy-approval')).toMatchObject({ verdict: 'fail' });
    expect(check(report, 'deploy-approval').reason).toContain(
      'not counted: dave (released the break-glass in place of a code review)',
    );
    expect(report.verdict).toBe('fail');
  });

  it('passes with a third person approving the deploy instead, flagged as a break-glass', () => {
    // (dave approving beside erin still refuses: an excluded approver's approval is never outweighed, row 129.)
    const report = gate([erin]);
    expect(check(report, 'deploy-approval')).toMatchObject({ verdict: 'pass' });
    expect(check(report, 'deploy-approval').reason).toContain('erin');
    expect(check(report, 'break-glass').reason).toContain('BREAK-GLASS USED');
    expect(report.verdict).toBe('pass');
  });
});
