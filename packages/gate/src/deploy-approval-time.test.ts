// `twokey verify --at T` and the time of the evidence (threat model row 193): a deploy-approval attestation signed
// (and read) after T was counted for a deploy judged as of T — a deploy made then without approval looked approved
// after the fact, where the deploy gate at T would have refused — and one of any age counted too. An attested
// approval now counts only when its verified signing time is not after the time judged, nor more than max-age before
// it. And evidence signed up to five minutes after T passed as fresh: the allowance for a runner's clock is not
// applied to a time judged as of.
import { DEPLOY_APPROVAL_PREDICATE_TYPE, parsePolicy, type VerifiedBundle } from '@twokey/core';
import { describe, expect, it } from 'vitest';
import {
  ARTIFACT,
  BINDING,
  dsseBundle,
  honestBundles,
  ISSUER,
  NOW,
  POLICY_TEXT,
  provenanceBundle,
  reviewBundle,
  signatureBundle,
  signer,
} from '../../core/src/__fixtures__/bundles';
import { evaluateDeploy } from './evaluate';

const DEPLOY_WORKFLOW_SAN = 'https://github.com/acme/platform/.github/workflows/deploy.yml@refs/heads/main';
const approvalsPolicy = parsePolicy(
  POLICY_TEXT.replace(
    '\ndeploy:\n  max-age: 7d\n',
    `\n  deploy:\n    issuer: ${ISSUER}\n    san: ${DEPLOY_WORKFLOW_SAN}\ndeploy:\n  max-age: 7d\n  approvals: { min: 1 }\n`,
  ),
  '.twokey/policy.yml',
);

const DAY = 86_400_000;

/** The deploy identity's attestation that carol approved a deploy of the artifact, read at `readAt`, signed at `at`. */
function approvalAt(at: Date, readAt: Date = at): VerifiedBundle {
  const uri = 'https://github.com/acme/app';
  const run = `${uri}/actions/runs/5/attempts/1`;
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: ARTIFACT.name, digest: { sha256: ARTIFACT.digest.hex } }],
    predicateType: DEPLOY_APPROVAL_PREDICATE_TYPE,
    predicate: {
      environment: 'production',
      repository: { name: 'acme/app', uri },
      run: { id: 5, attempt: 1, uri: run },
      requesters: [{ login: 'erin', id: 5, type: 'User' }],
      approvals: [
        { user: { login: 'carol', id: 7, type: 'User' }, state: 'approved', comment: '', environments: ['production'] },
      ],
      protection: null,
      requestedAt: readAt.toISOString(),
      readAt: readAt.toISOString(),
      evidence: [],
    },
  };
  const by = signer(DEPLOY_WORKFLOW_SAN, { sourceRepositoryURI: uri, runInvocationURI: run });
  return dsseBundle(statement, by, 'bundles/deploy-approval.json', [at]);
}

describe('twokey verify --at and the deploy approval', () => {
  // Chain signed at NOW - 1h (SIGNED_AT). The audit asks: as of NOW, was this deploy allowed?
  const at = NOW;

  it('control: as of NOW, with no deploy approval yet, the deploy is refused', () => {
    const report = evaluateDeploy({
      policy: approvalsPolicy,
      binding: BINDING,
      now: new Date(NOW.getTime() + 10 * DAY),
      at,
      artifacts: [ARTIFACT],
      bundles: honestBundles(),
    });
    expect(report.verdict).toBe('fail');
    expect(report.artifacts[0]!.checks.find((c) => c.id === 'deploy-approval')?.verdict).toBe('not-evaluated');
  });

  it('refuses, as of --at, an approval given and signed 10 days after it; counts one given before it', () => {
    const later = new Date(NOW.getTime() + 10 * DAY);
    const judged = (approval: VerifiedBundle) =>
      evaluateDeploy({
        policy: approvalsPolicy,
        binding: BINDING,
        now: new Date(later.getTime() + 3_600_000),
        at,
        artifacts: [ARTIFACT],
        bundles: [...honestBundles(), approval],
      });
    const report = judged(approvalAt(later));
    const check = report.artifacts[0]!.checks.find((c) => c.id === 'deploy-approval')!;
    expect(check.verdict).toBe('not-evaluated');
    expect(check.reason).toContain(
      `bundles/deploy-approval.json was signed at ${later.toISOString()}, after the time judged (${NOW.toISOString()}): it approves a later deploy`,
    );
    expect(report.verdict).toBe('fail');
    // Given half an hour before the time judged: counted.
    expect(judged(approvalAt(new Date(NOW.getTime() - 1_800_000))).verdict).toBe('pass');
  });

  it('counts, as of the decision’s own time, the approval its deploy job read by then and signed seconds after', () => {
    // The gate judges, then signs the approvals it read (the attestation names the evidence the decision rested on):
    // an auditor's --at the decision record's timeVerified sees the approval signed a few seconds later.
    const judged = (approval: VerifiedBundle) =>
      evaluateDeploy({
        policy: approvalsPolicy,
        binding: BINDING,
        now: new Date(NOW.getTime() + DAY),
        at,
        artifacts: [ARTIFACT],
        bundles: [...honestBundles(), approval],
      });
    const signedSecondsAfter = new Date(NOW.getTime() + 2_000);
    expect(judged(approvalAt(signedSecondsAfter, new Date(NOW.getTime() - 1_000))).verdict).toBe('pass');
    // Read after the time judged (a later deploy's job), though signed within the same minutes: refused.
    const readAfter = judged(approvalAt(signedSecondsAfter, new Date(NOW.getTime() + 1_000)));
    expect(readAfter.verdict).toBe('fail');
    expect(readAfter.artifacts[0]!.checks.find((c) => c.id === 'deploy-approval')?.reason).toContain(
      'after the time judged',
    );
    // Said to be read before it, but signed more than five minutes after it: refused.
    const signedLong = judged(approvalAt(new Date(NOW.getTime() + 301_000), new Date(NOW.getTime() - 1_000)));
    expect(signedLong.verdict).toBe('fail');
    expect(signedLong.artifacts[0]!.checks.find((c) => c.id === 'deploy-approval')?.reason).toContain(
      'after the time judged',
    );
  });

  it('refuses an approval older than max-age, offline as of now', () => {
    const report = evaluateDeploy({
      policy: approvalsPolicy,
      binding: BINDING,
      now: NOW,
      artifacts: [ARTIFACT],
      bundles: [...honestBundles(), approvalAt(new Date(NOW.getTime() - 30 * DAY))],
    });
    const check = report.artifacts[0]!.checks.find((c) => c.id === 'deploy-approval')!;
    expect(check.verdict).toBe('not-evaluated');
    expect(check.reason).toContain('older than max-age 7d');
  });

  it('judges evidence signed after --at as signed in the future: no allowance for a runner’s clock', () => {
    const after = [new Date(NOW.getTime() + 299_000)];
    const report = evaluateDeploy({
      policy: parsePolicy(POLICY_TEXT, '.twokey/policy.yml'),
      binding: BINDING,
      now: new Date(NOW.getTime() + DAY),
      at,
      artifacts: [ARTIFACT],
      bundles: [
        signatureBundle(undefined, undefined, after),
        reviewBundle(undefined, undefined, after),
        provenanceBundle(undefined, undefined, after),
      ],
    });
    const fresh = report.artifacts[0]!.checks.find((c) => c.id === 'fresh')!;
    expect(fresh.verdict).toBe('fail');
    expect(fresh.reason).toContain('was signed in the future');
    expect(report.verdict).toBe('fail');
  });
});
