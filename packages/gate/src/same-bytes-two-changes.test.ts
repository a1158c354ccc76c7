// One artifact digest reached by two reviewed commits (a reproducible build: alice's code change A, then carol's
// docs-only change B that alice approved, both build to the same bytes). The chain of B, whose author is carol, may
// be the one reported; alice, the author of the code in the artifact, must still not approve its production deploy
// herself — live (the deploy gate) and offline (twokey verify --environment).
import {
  DEPLOY_APPROVAL_PREDICATE_TYPE,
  type DeployApprovalPredicate,
  parsePolicy,
  type VerifiedBundle,
} from '@twokey/core';
import { describe, expect, it } from 'vitest';
import {
  ARTIFACT,
  BINDING,
  BUILD_SAN,
  dsseBundle,
  honestBundles,
  ISSUER,
  NOW,
  POLICY_TEXT,
  provenanceBundle,
  provenanceStatement,
  reviewStatement,
  signer,
} from '../../core/src/__fixtures__/bundles';
import { activity, alice, carol, honestEvidence } from '../../core/src/__fixtures__/review-evidence';
import { evaluateDeploy } from './evaluate';

const DEPLOY_WORKFLOW_SAN = 'https://github.com/acme/platform/.github/workflows/deploy.yml@refs/heads/main';
const approvalsPolicy = parsePolicy(
  POLICY_TEXT.replace(
    '\ndeploy:\n  max-age: 7d\n',
    `\n  deploy:\n    issuer: ${ISSUER}\n    san: ${DEPLOY_WORKFLOW_SAN}\ndeploy:\n  max-age: 7d\n  approvals: { min: 1 }\n`,
  ),
  '.twokey/policy.yml',
);

const COMMIT_B = 'e'.repeat(40);
const HEAD_B = '9'.repeat(40);
const carolPerson = { name: 'Carol', email: 'carol@acme.example', account: carol };

/** Carol's docs-only PR #43, approved by alice, merged as COMMIT_B; its build yields the same artifact bytes. */
function carolsChain(): VerifiedBundle[] {
  const evidence = honestEvidence({
    commit: COMMIT_B,
    pullRequest: {
      ...honestEvidence().pullRequest!,
      number: 43,
      url: 'https://github.com/acme/app/pull/43',
      title: 'docs: fix a typo',
      author: carol,
      headSha: HEAD_B,
      headRef: 'typo',
      mergeCommitSha: COMMIT_B,
      mergedBy: alice,
    },
    commits: [
      { sha: HEAD_B, author: carolPerson, committer: carolPerson, coAuthors: [], committedAt: '2026-11-20T11:30:00Z' },
    ],
    reviews: [
      { id: 901, reviewer: alice, state: 'APPROVED', commitId: HEAD_B, submittedAt: '2026-11-20T12:10:00.000Z' },
    ],
    lastPush: { accounts: [carol], people: [], source: 'activity' },
    activity: {
      available: true,
      headPushes: [
        activity('push', carol, { ref: 'refs/heads/typo', after: HEAD_B, timestamp: '2026-11-20T11:30:30Z', id: 8001 }),
      ],
      builtCommitArrivals: [activity('pr_merge', alice, { id: 8002, after: COMMIT_B })],
    },
  });
  const review = dsseBundle(
    reviewStatement([ARTIFACT], evidence),
    signer('https://github.com/acme/platform/.github/workflows/sign.yml@refs/heads/main', {
      sourceRepositoryURI: 'https://github.com/acme/app',
    }),
    'bundles/review-43.json',
  );
  const buildB = signer(BUILD_SAN, {
    sourceRepositoryURI: 'https://github.com/acme/app',
    sourceRepositoryDigest: COMMIT_B,
    sourceRepositoryRef: 'refs/heads/main',
  });
  const prov = provenanceBundle(provenanceStatement(ARTIFACT.digest.hex, COMMIT_B), buildB);
  return [{ ...review }, { ...prov, source: 'bundles/provenance-b.json' }];
}

/** The deploy run's facts: alice (author of commit A, the code) approved production; erin started the run. */
function predicate(): DeployApprovalPredicate {
  const uri = 'https://github.com/acme/app';
  return {
    environment: 'production',
    repository: { name: 'acme/app', uri },
    run: { id: 5, attempt: 1, uri: `${uri}/actions/runs/5/attempts/1` },
    requesters: [{ login: 'erin', id: 5, type: 'User' }],
    approvals: [{ user: alice, state: 'approved', comment: '', environments: ['production'] }],
    protection: { requiredReviewers: [{ type: 'User', name: 'alice' }], preventSelfReview: true },
    readAt: NOW.toISOString(),
    evidence: [],
  };
}

function approvalBundle(): VerifiedBundle {
  const p = predicate();
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: ARTIFACT.name, digest: { sha256: ARTIFACT.digest.hex } }],
    predicateType: DEPLOY_APPROVAL_PREDICATE_TYPE,
    predicate: p,
  };
  const by = signer(DEPLOY_WORKFLOW_SAN, { sourceRepositoryURI: p.repository.uri, runInvocationURI: p.run.uri });
  return dsseBundle(statement, by, 'bundles/deploy-approval.json');
}

const check = (r: ReturnType<typeof evaluateDeploy>) => r.artifacts[0]!.checks.find((c) => c.id === 'deploy-approval')!;

describe('two reviewed commits building the same bytes', () => {
  it('refuses the deploy approval of alice, the author of commit A’s code, with commit A’s chain alone', () => {
    const live = evaluateDeploy({
      policy: approvalsPolicy,
      binding: BINDING,
      now: NOW,
      artifacts: [ARTIFACT],
      bundles: honestBundles(),
      deployIdentity: signer(DEPLOY_WORKFLOW_SAN, { sourceRepositoryURI: 'https://github.com/acme/app' }),
      environment: 'production',
      liveDeployApproval: { predicate: predicate() },
    });
    expect(live.verdict).toBe('fail');
    expect(check(live).reason).toContain("alice (the change's author)");
  });

  it('refuses it live when carol’s docs-only change, which alice approved, built the same bytes', () => {
    const live = evaluateDeploy({
      policy: approvalsPolicy,
      binding: BINDING,
      now: NOW,
      artifacts: [ARTIFACT],
      bundles: [...honestBundles(), ...carolsChain()],
      deployIdentity: signer(DEPLOY_WORKFLOW_SAN, { sourceRepositoryURI: 'https://github.com/acme/app' }),
      environment: 'production',
      liveDeployApproval: { predicate: predicate() },
    });
    expect(live.verdict).toBe('fail');
    expect(check(live).verdict).toBe('fail');
    expect(check(live).reason).toContain("alice (the change's author)");
  });

  it('refuses it offline too (twokey verify --environment production, the deploy job’s signed approval)', () => {
    const offline = evaluateDeploy({
      policy: approvalsPolicy,
      binding: BINDING,
      now: NOW,
      artifacts: [ARTIFACT],
      bundles: [...honestBundles(), ...carolsChain(), approvalBundle()],
      environment: 'production',
    });
    expect(offline.verdict).toBe('fail');
    expect(check(offline).reason).toContain("alice (the change's author)");
  });
});
