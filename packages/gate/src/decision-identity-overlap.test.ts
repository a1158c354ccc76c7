// A deploy approval (or a break-glass) signed by another identity of the policy: two identity patterns that overlap
// — which the policy's load does not tell when both are patterns — let the sign workflow's job (or a build job, which
// runs the repository's code) sign what only the deploy workflow may: "approvals" that no environment reviewer gave.
// A decision's signer must match its own identity and no other of the policy. Built on the gate's own evaluation
// (evaluateDeploy) and the fixture chain its tests use.
import { DEPLOY_APPROVAL_PREDICATE_TYPE, parsePolicy, type SignerIdentity, type VerifiedBundle } from '@twokey/core';
import { describe, expect, it } from 'vitest';
import {
  ARTIFACT,
  BINDING,
  dsseBundle,
  honestBundles,
  ISSUER,
  NOW,
  POLICY_TEXT,
  SIGN_SAN,
  signer,
} from '../../core/src/__fixtures__/bundles';
import { evaluateDeploy } from './evaluate';

const DEPLOY_SAN = 'https://github.com/acme/platform/.github/workflows/deploy.yml@refs/heads/main';
// Any workflow of the platform repository on main: it also matches the sign workflow, whose rule is a pattern too.
const policy = parsePolicy(
  POLICY_TEXT.replace(
    '\ndeploy:\n  max-age: 7d\n',
    `\n  deploy:\n    issuer: ${ISSUER}\n    san-pattern: 'https://github\\.com/acme/platform/\\.github/workflows/[a-z-]+\\.yml@refs/heads/main'\ndeploy:\n  max-age: 7d\n  approvals: { min: 1 }\n`,
  ),
  '.twokey/policy.yml',
);
// The same policy with its deploy identity the deploy workflow alone: its identities apart.
const apart = parsePolicy(
  POLICY_TEXT.replace(
    '\ndeploy:\n  max-age: 7d\n',
    `\n  deploy:\n    issuer: ${ISSUER}\n    san: ${DEPLOY_SAN}\ndeploy:\n  max-age: 7d\n  approvals: { min: 1 }\n`,
  ),
  '.twokey/policy.yml',
);
const URI = 'https://github.com/acme/app';
const RUN = `${URI}/actions/runs/5/attempts/1`;

function approvalBy(who: SignerIdentity): VerifiedBundle {
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: ARTIFACT.name, digest: { sha256: ARTIFACT.digest.hex } }],
    predicateType: DEPLOY_APPROVAL_PREDICATE_TYPE,
    predicate: {
      environment: 'production',
      repository: { name: 'acme/app', uri: URI },
      run: { id: 5, attempt: 1, uri: RUN },
      requesters: [{ login: 'erin', id: 5, type: 'User' }],
      approvals: [
        {
          user: { login: 'carol', id: 7, type: 'User' },
          state: 'approved' as const,
          comment: '',
          environments: ['production'],
        },
      ],
      profiles: [{ account: { login: 'carol', id: 7, type: 'User' } }],
      protection: null,
      readAt: new Date(NOW.getTime() - 60_000).toISOString(),
      evidence: [],
    },
  };
  return dsseBundle(statement, who, 'store/deploy-approval.json', [new Date(NOW.getTime() - 30_000)]);
}

const judged = (bundle: VerifiedBundle, under = policy) =>
  evaluateDeploy({
    policy: under,
    binding: BINDING,
    now: NOW,
    environment: 'production',
    artifacts: [ARTIFACT],
    bundles: [...honestBundles(), bundle],
  });
const approval = (bundle: VerifiedBundle, under = policy) =>
  judged(bundle, under).artifacts[0]!.checks.find((c) => c.id === 'deploy-approval')!;

describe('a decision signed by another identity of the policy', () => {
  it('counts the deploy workflow’s own approval (the control, under the policy with its identities apart)', () => {
    const deployer = signer(DEPLOY_SAN, { sourceRepositoryURI: URI, runInvocationURI: RUN });
    expect(approval(approvalBy(deployer), apart).verdict).toBe('pass');
    expect(judged(approvalBy(deployer), apart).verdict).toBe('pass');
  });

  it('takes nothing the sign workflow signed as the sign identity’s while it also matches the deploy pattern', () => {
    // Found by the review of identities and roles: the sign role was held apart from build alone, so a review
    // attestation or an artifact signature by the deploy (or break-glass) workflow counted as the sign identity's.
    const deployer = signer(DEPLOY_SAN, { sourceRepositoryURI: URI, runInvocationURI: RUN });
    const report = judged(approvalBy(deployer));
    expect(report.verdict).toBe('fail');
    const signature = report.artifacts[0]!.checks.find((c) => c.id === 'artifact-signature')!;
    expect(signature.verdict).not.toBe('pass');
    expect(signature.reason).toContain(
      `${SIGN_SAN}, which is also the deploy identity of the policy; they must differ`,
    );
  });

  it('refuses one the sign workflow signed, though its SAN matches the deploy pattern', () => {
    const signJob = signer(SIGN_SAN, { sourceRepositoryURI: URI, runInvocationURI: RUN });
    expect(judged(approvalBy(signJob)).verdict).toBe('fail');
    const check = approval(approvalBy(signJob));
    // No deploy approval there: the check cannot pass (as when none was signed).
    expect(check.verdict).toBe('not-evaluated');
    expect(check.reason).toContain(`by ${SIGN_SAN}`);
    expect(check.reason).toContain('which is also the sign identity of the policy; they must differ');
  });
});
