// Review of row 169: "an approver is a contributor when the review rules would make her one". The review rules match a
// *code* reviewer by her public profile too (name, public e-mail: the sign stage reads the profile of every approver),
// and refuse her when her profile is not in the evidence (contributorOutcome). A *deploy* approver's profile is never
// in the evidence: contributionsOf knows her by login (and whatever the PR's commits linked to her) only, and the gate
// does not fail closed for the missing profile. Under review.unidentified-co-authors: allow, carol co-authors alice's
// change under her profile name and an unlinked address, and approves its production deploy; as a code reviewer the
// same carol would have been refused.
import {
  buildReviewStatement,
  type DeployApprovalPredicate,
  evaluateReview,
  parsePolicy,
  type ReviewEvidence,
  type VerifiedBundle,
} from '@twokey/core';
import { evaluateDeploy } from '@twokey/gate';
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
} from '../../packages/core/src/__fixtures__/bundles';
import { bob, carol, HEAD, honestEvidence, PROFILES } from '../../packages/core/src/__fixtures__/review-evidence';

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

describe('row 169 gap: a deploy approver is matched without her profile', () => {
  it('carol, the co-author by her profile name, approves the production deploy of her own change', () => {
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
      deployIdentity: signer(DEPLOY_SAN),
      environment: 'production',
      liveDeployApproval: { predicate: facts() },
    });
    const checks = report.artifacts[0]!.checks;
    expect(checks.find((c) => c.id === 'review-rules')!.verdict).toBe('pass');
    const approval = checks.find((c) => c.id === 'deploy-approval')!;
    expect(approval.verdict).toBe('pass');
    expect(approval.reason).toContain('approved for production by carol');
    expect(report.verdict).toBe('pass');
  });

  it('while the review rules refuse the same carol as a code approver (her profile read, her name matched)', () => {
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
