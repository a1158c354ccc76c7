// deploy.approvals.distinct-from: contributors (threat-model row 169): whoever the review rules tie to the change —
// a co-author by a noreply address or e-mail, an author known by name, an earlier pusher of the head branch — never
// approves its deploy, whether the approvals are read live by the deploy job or attested (twokey verify). The gate
// took the contributors from the review attestation's summary, which names an account only where GitHub linked one:
// carol co-authored alice's change and approved its production deploy.
import { type DeployApprovalPredicate, parsePolicy, type VerifiedBundle } from '@twokey/core';
import { describe, expect, it } from 'vitest';
import {
  ARTIFACT,
  BINDING,
  dsseBundle,
  ISSUER,
  NOW,
  POLICY_TEXT,
  provenanceBundle,
  reviewBundle,
  reviewStatement,
  signatureBundle,
  signer,
} from '../../core/src/__fixtures__/bundles';
import { activity, alicePerson, carol, HEAD, honestEvidence } from '../../core/src/__fixtures__/review-evidence';
import { evaluateDeploy } from './evaluate';

const DEPLOY_SAN = 'https://github.com/acme/platform/.github/workflows/deploy.yml@refs/heads/main';
const policy = parsePolicy(
  POLICY_TEXT.replace(
    '\ndeploy:\n  max-age: 7d\n',
    `\n  deploy:\n    issuer: ${ISSUER}\n    san: ${DEPLOY_SAN}\ndeploy:\n  max-age: 7d\n  approvals: { min: 1, distinct-from: [author, contributors, pusher] }\n`,
  ),
  '.twokey/org-policy.yml',
);

/** alice's PR #42, bob approved; alice's head commit carries `Co-authored-by: Carol <303+carol@users.noreply…>`. */
function coAuthoredChain(coAuthorEmail: string): VerifiedBundle[] {
  const evidence = honestEvidence();
  evidence.commits = evidence.commits.map((c) =>
    c.sha === HEAD ? { ...c, coAuthors: [{ name: 'Carol', email: coAuthorEmail }] } : c,
  );
  return [signatureBundle(), reviewBundle(reviewStatement([ARTIFACT], evidence)), provenanceBundle()];
}

/** The deploy run's facts: erin started it, carol (the co-author) approved production. */
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

const approvalCheck = (r: ReturnType<typeof evaluateDeploy>) =>
  r.artifacts[0]!.checks.find((c) => c.id === 'deploy-approval')!;

describe('deploy.approvals.distinct-from: contributors holds everyone the review rules tie to the change', () => {
  it('refuses a co-author named by her ID+login noreply address (live)', () => {
    const bundles = coAuthoredChain('303+carol@users.noreply.github.com');
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
    // The attestation records carol as a co-author, without an account in its contributors summary.
    const predicate = (bundles[1]!.statement as { predicate: { contributors: unknown[] } }).predicate;
    expect(predicate.contributors).toContainEqual({
      name: 'Carol',
      email: '303+carol@users.noreply.github.com',
      roles: ['co-author'],
    });
    expect(approvalCheck(report).verdict).toBe('fail');
    expect(approvalCheck(report).reason).toContain(
      `not counted: carol (a contributor to the change: co-authored commit ${HEAD.slice(0, 7)})`,
    );
    expect(report.verdict).toBe('fail');
  });

  it('refuses her offline too (twokey verify --environment production, the deploy job’s signed approval)', () => {
    const p = facts();
    const approval = dsseBundle(
      {
        _type: 'https://in-toto.io/Statement/v1',
        subject: [{ name: ARTIFACT.name, digest: { sha256: ARTIFACT.digest.hex } }],
        predicateType: 'https://twokey.dev/attestations/deploy-approval/v1',
        predicate: p,
      },
      signer(DEPLOY_SAN, { sourceRepositoryURI: p.repository.uri, runInvocationURI: p.run.uri }),
      'bundles/deploy-approval.json',
    );
    const report = evaluateDeploy({
      policy,
      binding: BINDING,
      now: NOW,
      artifacts: [ARTIFACT],
      bundles: [...coAuthoredChain('303+carol@users.noreply.github.com'), approval],
      environment: 'production',
    });
    expect(approvalCheck(report).verdict).not.toBe('pass');
    expect(approvalCheck(report).reason).toContain('carol (a contributor to the change: co-authored commit');
    expect(report.verdict).toBe('fail');
  });

  it('refuses an author the review rules know by name (a commit from an unlinked address under her login)', () => {
    const evidence = honestEvidence();
    // carol's own commit, from her laptop address GitHub links to nobody, under her login as name: the review rules
    // identify her (row 2), yet the summary has no account for her.
    const carolUnlinked = { name: 'carol', email: 'carol@laptop.local' };
    evidence.commits = [
      ...evidence.commits.slice(0, 1),
      {
        sha: 'f'.repeat(40),
        author: carolUnlinked,
        committer: alicePerson,
        coAuthors: [],
        committedAt: '2026-11-20T11:10:00Z',
      },
      ...evidence.commits.slice(1),
    ];
    // carol is known to the evidence (she commented on the PR).
    evidence.reviews = [
      ...evidence.reviews,
      { id: 950, reviewer: carol, state: 'COMMENTED', commitId: HEAD, submittedAt: '2026-11-20T12:05:00.000Z' },
    ];
    const report = evaluateDeploy({
      policy,
      binding: BINDING,
      now: NOW,
      artifacts: [ARTIFACT],
      bundles: [signatureBundle(), reviewBundle(reviewStatement([ARTIFACT], evidence)), provenanceBundle()],
      deployIdentity: signer(DEPLOY_SAN, { sourceRepositoryURI: 'https://github.com/acme/app' }),
      environment: 'production',
      liveDeployApproval: { predicate: facts() },
    });
    expect(report.artifacts[0]!.checks.find((c) => c.id === 'review-rules')!.verdict).toBe('pass');
    expect(approvalCheck(report).verdict).toBe('fail');
    expect(approvalCheck(report).reason).toContain(`carol (a contributor to the change: authored commit fffffff)`);
    expect(report.verdict).toBe('fail');
  });

  it('refuses an earlier (not the last) pusher of the head branch: a contributor to the review rules', () => {
    const evidence = honestEvidence();
    // carol pushed a commit (authored as alice) to alice's branch; alice pushed last. The review rules make carol a
    // contributor (threat-model decision 1); deploy.approvals' `pusher` is the last pusher only.
    evidence.activity = {
      available: true,
      headPushes: [
        activity('push', carol, {
          ref: 'refs/heads/widget',
          after: 'c'.repeat(40),
          timestamp: '2026-11-20T11:00:30Z',
          id: 7001,
        }),
        activity('push', evidence.pullRequest!.author, {
          ref: 'refs/heads/widget',
          after: HEAD,
          timestamp: '2026-11-20T11:30:30Z',
          id: 7002,
        }),
      ],
      builtCommitArrivals: [activity('pr_merge', { login: 'bob', id: 202, type: 'User' }, { id: 7003 })],
    };
    const report = evaluateDeploy({
      policy,
      binding: BINDING,
      now: NOW,
      artifacts: [ARTIFACT],
      bundles: [signatureBundle(), reviewBundle(reviewStatement([ARTIFACT], evidence)), provenanceBundle()],
      deployIdentity: signer(DEPLOY_SAN, { sourceRepositoryURI: 'https://github.com/acme/app' }),
      environment: 'production',
      liveDeployApproval: { predicate: facts() },
    });
    expect(report.artifacts[0]!.checks.find((c) => c.id === 'review-rules')!.verdict).toBe('pass');
    expect(approvalCheck(report).verdict).toBe('fail');
    expect(approvalCheck(report).reason).toContain(
      `carol (a contributor to the change: pushed to refs/heads/widget at 2026-11-20T11:00:30Z)`,
    );
    expect(report.verdict).toBe('fail');
  });
});
