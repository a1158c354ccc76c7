// A decision record of a deploy in another repository (row 240): alice calls the platform's shared deploy workflow from
// alice/evil, where her own chain passes (her second account approving), and gets a PASSED record signed by the genuine
// deploy identity over digest D. Given beside acme/app's evidence for D, it was listed as a PASSED decision about the
// artifact for production, with nothing naming alice/evil: now the report names the repository whose run signed it.
import { describeReport, parsePolicy, VERIFICATION_SUMMARY_PREDICATE_TYPE } from '@twokey/core';
import { describe, expect, it } from 'vitest';
import {
  ARTIFACT,
  BINDING,
  dsseBundle,
  ISSUER,
  NOW,
  POLICY_TEXT,
  provenanceBundle,
  signer,
} from '../../core/src/__fixtures__/bundles';
import { evaluateDeploy } from './evaluate';

const DEPLOY_WORKFLOW_SAN = 'https://github.com/acme/platform/.github/workflows/deploy.yml@refs/heads/main';
const policy = parsePolicy(
  POLICY_TEXT.replace('\ndeploy:\n', `\n  deploy:\n    issuer: ${ISSUER}\n    san: ${DEPLOY_WORKFLOW_SAN}\ndeploy:\n`),
  '.twokey/policy.yml',
);

/** A PASSED VSA for the artifact, signed by the deploy identity in a run of alice/evil. */
function foreignPassedRecord() {
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: ARTIFACT.name, digest: { sha256: ARTIFACT.digest.hex } }],
    predicateType: VERIFICATION_SUMMARY_PREDICATE_TYPE,
    predicate: {
      verifier: { id: DEPLOY_WORKFLOW_SAN },
      timeVerified: '2026-11-21T11:30:00.000Z',
      resourceUri: 'https://github.com/alice/evil/deployments/production',
      policy: {
        uri: 'git+https://github.com/acme/platform@x#.twokey/org-policy.yml',
        digest: { sha256: 'a'.repeat(64) },
      },
      inputAttestations: [],
      verificationResult: 'PASSED',
      verifiedLevels: ['SLSA_BUILD_LEVEL_2', 'TWOKEY_TWO_PERSON_RULE_LEVEL_1'],
      slsaVersion: '1.0',
      'https://twokey.dev/decision/v1': {
        environment: 'production',
        failedChecks: [],
        breakGlass: [],
        deployApprovals: [],
      },
    },
  };
  return dsseBundle(
    statement,
    signer(DEPLOY_WORKFLOW_SAN, {
      sourceRepositoryURI: 'https://github.com/alice/evil',
      runInvocationURI: 'https://github.com/alice/evil/actions/runs/9/attempts/1',
    }),
    'bundles/verification-summary.json',
  );
}

describe('a decision record from a deploy run in another repository', () => {
  it('is listed with the repository whose run signed it, not as this repository’s decision', () => {
    const report = evaluateDeploy({
      policy,
      binding: BINDING,
      now: NOW,
      artifacts: [ARTIFACT],
      bundles: [provenanceBundle(), foreignPassedRecord()],
      environment: 'production',
    });
    expect(report.verdict).toBe('fail');
    const decisions = report.artifacts[0]!.decisions ?? [];
    expect(decisions).toHaveLength(1);
    expect(decisions[0]!.repository).toBe('https://github.com/alice/evil');
    const text = describeReport(report);
    expect(text).toContain(
      `decision record PASSED at 2026-11-21T11:30:00.000Z for production by ${DEPLOY_WORKFLOW_SAN} in https://github.com/alice/evil`,
    );
  });
});
