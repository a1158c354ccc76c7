// deploy.approvals.distinct-from: contributors under review.unidentified-co-authors: allow (threat-model row 169). carol
// co-authors alice's change under her profile name and an address GitHub links to no account; the review passes (the
// policy allows a co-author no account is known for), bob approves the code, and the sign stage read bob's profile
// only. The review rules refuse a code approver whose profile would match such a co-author, or whose profile is
// missing; a deploy approver's profile is never in the review evidence, so she cannot be shown not to be that co-author.
import {
  type AccountProfile,
  buildReviewStatement,
  type DeployApprovalPredicate,
  evaluateReview,
  type GitHubAccount,
  parsePolicy,
  type ReviewEvidence,
  type VerifiedBundle,
} from '@twokey/core';
import { describe, expect, it } from 'vitest';
import {
  ARTIFACT,
  BINDING,
  ISSUER,
  NOW,
  POLICY_TEXT,
  provenanceBundle,
  reviewBundle,
  signatureBundle,
  signer,
} from '../../core/src/__fixtures__/bundles';
import { bob, carol, HEAD, honestEvidence, PROFILES } from '../../core/src/__fixtures__/review-evidence';
import { evaluateDeploy } from './evaluate';

const DEPLOY_SAN = 'https://github.com/acme/platform/.github/workflows/deploy.yml@refs/heads/main';
const policy = parsePolicy(
  POLICY_TEXT.replace(
    '\ndeploy:\n  max-age: 7d\n',
    `\n  deploy:\n    issuer: ${ISSUER}\n    san: ${DEPLOY_SAN}\nreview:\n  unidentified-co-authors: allow\ndeploy:\n  max-age: 7d\n  approvals: { min: 1, distinct-from: [author, contributors, pusher] }\n`,
  ),
  '.twokey/org-policy.yml',
);

// carol's public profile name, as GitHub shows it (PROFILES: 'Carol Checker'), and an address GitHub links to nobody.
const CAROL_TRAILER = { name: 'Carol Checker', email: 'carol@home.example' };

/** alice's PR #42 as the sign stage records it: bob approved, so only bob's profile was read. */
function evidence(): ReviewEvidence {
  const e = honestEvidence();
  e.profiles = PROFILES.filter((p) => p.account.id === bob.id);
  e.commits = e.commits.map((c) => (c.sha === HEAD ? { ...c, coAuthors: [CAROL_TRAILER] } : c));
  return e;
}

function facts(): DeployApprovalPredicate {
  const uri = 'https://github.com/acme/app';
  return {
    environment: 'production',
    repository: { name: 'acme/app', uri },
    run: { id: 5, attempt: 1, uri: `${uri}/actions/runs/5/attempts/1` },
    requesters: [{ login: 'erin', id: 5, type: 'User' }],
    approvals: [{ user: carol, state: 'approved', comment: '', environments: ['production'] }],
    protection: { requiredReviewers: [{ type: 'User', name: 'carol' }], preventSelfReview: true },
    readAt: NOW.toISOString(),
    evidence: [],
  };
}

/** The deploy-approval check for a deploy approved by `approver`, with the profiles the deploy job read. */
function judge(approver: GitHubAccount, profiles?: AccountProfile[], coAuthor = CAROL_TRAILER) {
  const e = evidence();
  e.commits = e.commits.map((c) => (c.sha === HEAD ? { ...c, coAuthors: [coAuthor] } : c));
  const bundles: VerifiedBundle[] = [
    signatureBundle(),
    reviewBundle(
      buildReviewStatement({
        subjects: [{ name: ARTIFACT.name, digest: { sha256: ARTIFACT.digest.hex } }],
        evidence: e,
        rules: policy.review,
        result: evaluateReview(e, policy.review),
      }),
    ),
    provenanceBundle(),
  ];
  const predicate: DeployApprovalPredicate = {
    ...facts(),
    approvals: [{ user: approver, state: 'approved', comment: '', environments: ['production'] }],
    ...(profiles && { profiles }),
  };
  const report = evaluateDeploy({
    policy,
    binding: BINDING,
    now: NOW,
    artifacts: [ARTIFACT],
    bundles,
    deployIdentity: signer(DEPLOY_SAN, { sourceRepositoryURI: 'https://github.com/acme/app' }),
    environment: 'production',
    liveDeployApproval: { predicate },
  });
  return report.artifacts[0]!.checks.find((c) => c.id === 'deploy-approval')!;
}

const rita: GitHubAccount = { login: 'rita', id: 909, type: 'User' };
const ritaProfile: AccountProfile = { account: rita, name: 'Rita Release', email: 'rita@acme.example' };
const carolProfile = PROFILES.find((p) => p.account.id === carol.id)!;

describe('deploy approvers matched with the profiles the deploy job read', () => {
  it('refuses carol by her profile name, the co-author’s', () => {
    const check = judge(carol, [carolProfile]);
    expect(check.verdict).toBe('fail');
    expect(check.reason).toContain(
      `not counted: carol (a contributor to the change: co-authored commit ${HEAD.slice(0, 7)})`,
    );
  });

  it('counts a release manager whose profile is no co-author’s (an agent’s trailer, "Claude <noreply@anthropic.com>")', () => {
    const agent = { name: 'Claude', email: 'noreply@anthropic.com' };
    expect(judge(rita, [ritaProfile], agent).verdict).toBe('pass');
    // Without her profile (an approval signed before the deploy job read profiles), she cannot be told apart.
    expect(judge(rita, undefined, agent).reason).toContain('rita (a contributor to the change: may be a co-author');
  });

  it('takes no profile read for another account (by id)', () => {
    const check = judge(carol, [{ ...ritaProfile }]);
    expect(check.verdict).toBe('fail');
    expect(check.reason).toContain("no profile of carol's was read to tell");
  });
});

describe('a co-author no account is known for (review.unidentified-co-authors: allow)', () => {
  it('refuses a deploy approver whose profile the review evidence lacks: she may be that co-author', () => {
    const bundles: VerifiedBundle[] = [
      signatureBundle(),
      // What the sign stage signs under this policy: the review passes (the co-author is allowed unidentified).
      reviewBundle(
        buildReviewStatement({
          subjects: [{ name: ARTIFACT.name, digest: { sha256: ARTIFACT.digest.hex } }],
          evidence: evidence(),
          rules: policy.review,
          result: evaluateReview(evidence(), policy.review),
        }),
      ),
      provenanceBundle(),
    ];
    const report = evaluateDeploy({
      policy,
      binding: BINDING,
      now: NOW,
      artifacts: [ARTIFACT],
      bundles,
      deployIdentity: signer(DEPLOY_SAN, { sourceRepositoryURI: 'https://github.com/acme/app' }),
      environment: 'production',
      liveDeployApproval: { predicate: facts() },
    });
    const checks = report.artifacts[0]!.checks;
    expect(checks.find((c) => c.id === 'review-rules')!.verdict).toBe('pass');
    const approval = checks.find((c) => c.id === 'deploy-approval')!;
    expect(approval.verdict).toBe('fail');
    expect(approval.reason).toContain(
      'carol (a contributor to the change: may be a co-author no account is known for ("Carol Checker <carol@home.example>" of',
    );
    expect(approval.reason).toContain("no profile of carol's was read to tell)");
    expect(report.verdict).toBe('fail');
    // bob, whose profile is in the evidence (he approved the code) and who is no co-author, would count.
    expect(
      evaluateDeploy({
        policy,
        binding: BINDING,
        now: NOW,
        artifacts: [ARTIFACT],
        bundles,
        deployIdentity: signer(DEPLOY_SAN, { sourceRepositoryURI: 'https://github.com/acme/app' }),
        environment: 'production',
        liveDeployApproval: {
          predicate: {
            ...facts(),
            approvals: [{ user: bob, state: 'approved', comment: '', environments: ['production'] }],
          },
        },
      }).artifacts[0]!.checks.find((c) => c.id === 'deploy-approval')!.verdict,
    ).toBe('pass');
  });

  it('as the review rules refuse the same carol as a code approver (her profile read, her name matched)', () => {
    const e = evidence();
    e.reviews = [
      { id: 901, reviewer: carol, state: 'APPROVED', commitId: HEAD, submittedAt: '2026-11-20T12:20:00.000Z' },
    ];
    e.profiles = PROFILES.filter((p) => p.account.id === carol.id);
    const result = evaluateReview(e, policy.review);
    expect(result.verdict).toBe('fail');
    expect(JSON.stringify(result)).toContain('carol co-authored commit');
  });
});
