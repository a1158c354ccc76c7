import { evaluateDeploy } from '@twokey/gate';
import { describe, expect, it } from 'vitest';
import {
  ARTIFACT,
  BINDING,
  buildSigner,
  DEPLOY_SAN,
  honestBundles,
  NOW,
  OTHER_ARTIFACT,
  POLICY_TEXT,
  policy,
  provenanceBundle,
  reviewBundle,
  sha256,
  signatureBundle,
} from './__fixtures__/bundles';
import { parseStatement } from './intoto';
import type { VerifiedBundle } from './model';
import { type Policy, parsePolicy } from './policy';
import {
  buildVerificationSummary,
  type ConsumedAttestation,
  DECISION_EXTENSION,
  readDecisionRecord,
  TWO_PERSON_RULE_LEVEL,
  VERIFICATION_SUMMARY_PREDICATE_TYPE,
  VerificationSummaryError,
} from './verification-summary';

function reportOf(bundles: VerifiedBundle[], artifacts = [ARTIFACT], under: Policy = policy) {
  return evaluateDeploy({ policy: under, binding: BINDING, now: NOW, artifacts, bundles });
}

function consumed(bundles: VerifiedBundle[]): ConsumedAttestation[] {
  return bundles.map((bundle) => ({ bundle, uri: `file:///evidence/${bundle.source}`, sha256: sha256(bundle.source) }));
}

function summaryOf(
  bundles: VerifiedBundle[],
  overrides: { attestations?: ConsumedAttestation[]; policy?: Policy } = {},
) {
  return buildVerificationSummary({
    report: reportOf(bundles, [ARTIFACT], overrides.policy),
    verifier: { id: DEPLOY_SAN, version: { twokey: '0.1.0' } },
    resourceUri: 'https://github.com/acme/app/deployments/production',
    policyUri: 'file:///work/.twokey/policy.yml',
    attestations: overrides.attestations ?? consumed(bundles),
  });
}

function thrown(fn: () => unknown): VerificationSummaryError {
  try {
    fn();
  } catch (error) {
    if (error instanceof VerificationSummaryError) return error;
    throw error;
  }
  throw new Error('expected a VerificationSummaryError');
}

describe('buildVerificationSummary', () => {
  it('records an accepted deploy: the artifacts, the verifier, the policy by digest, every attestation used', () => {
    const bundles = honestBundles();
    const statement = summaryOf(bundles);
    expect(parseStatement(JSON.parse(JSON.stringify(statement)))).toMatchObject({
      predicateType: VERIFICATION_SUMMARY_PREDICATE_TYPE,
    });
    expect(statement.subject).toEqual([{ name: ARTIFACT.name, digest: { sha256: ARTIFACT.digest.hex } }]);
    expect(statement.predicate).toEqual({
      verifier: { id: DEPLOY_SAN, version: { twokey: '0.1.0' } },
      timeVerified: NOW.toISOString(),
      resourceUri: 'https://github.com/acme/app/deployments/production',
      policy: { uri: 'file:///work/.twokey/policy.yml', digest: { sha256: policy.digest } },
      inputAttestations: bundles.map((b) => ({
        uri: `file:///evidence/${b.source}`,
        digest: { sha256: sha256(b.source) },
      })),
      verificationResult: 'PASSED',
      verifiedLevels: ['SLSA_BUILD_LEVEL_2', TWO_PERSON_RULE_LEVEL],
      slsaVersion: '1.0',
      [DECISION_EXTENSION]: { failedChecks: [], breakGlass: [], deployApprovals: [] },
    });
  });

  it('claims SLSA Build L2 only when the build identity ran on a GitHub-hosted runner', () => {
    const hosted = provenanceBundle(undefined, {
      ...buildSigner,
      extensions: { ...buildSigner.extensions, runnerEnvironment: 'github-hosted' },
    });
    const selfHosted = provenanceBundle(undefined, {
      ...buildSigner,
      extensions: { ...buildSigner.extensions, runnerEnvironment: 'self-hosted' },
    });
    expect(summaryOf([signatureBundle(), reviewBundle(), hosted]).predicate.verifiedLevels[0]).toBe(
      'SLSA_BUILD_LEVEL_2',
    );
    // Under a policy whose build identity may run on any runner (runner-environment: any).
    const anyRunner = parsePolicy(
      POLICY_TEXT.replace(
        '    san: https://github.com/acme/app/',
        '    runner-environment: any\n    san: https://github.com/acme/app/',
      ),
      '.twokey/policy.yml',
    );
    expect(anyRunner.identities.build.runnerEnvironment).toBeUndefined();
    expect(
      summaryOf([signatureBundle(), reviewBundle(), selfHosted], { policy: anyRunner }).predicate.verifiedLevels[0],
    ).toBe('SLSA_BUILD_LEVEL_1');
  });

  it('names each attestation once, and only those the verdict rests on', () => {
    const stray = signatureBundle(OTHER_ARTIFACT.digest.hex, undefined, undefined, 'bundles/other.sigstore.json');
    const bundles = [...honestBundles(), stray];
    const inputs = summaryOf(bundles).predicate.inputAttestations.map((a) => a.uri);
    expect(inputs).toHaveLength(3);
    expect(inputs).not.toContain('file:///evidence/bundles/other.sigstore.json');
  });

  it('records a refused deploy too: FAILED, no level claimed, every check that did not pass named', () => {
    const statement = summaryOf([reviewBundle(), provenanceBundle()]);
    expect(statement.predicate.verificationResult).toBe('FAILED');
    expect(statement.predicate.verifiedLevels).toEqual([]);
    const failed = statement.predicate[DECISION_EXTENSION]!.failedChecks;
    expect(failed.map((c) => `${c.artifact} ${c.id} ${c.verdict}`)).toEqual([
      `${ARTIFACT.name} artifact-signature fail`,
    ]);
    expect(failed[0]!.reason).toContain('expected a signature over');
    // Read back as a later deploy and twokey verify read it.
    expect(readDecisionRecord(JSON.parse(JSON.stringify(statement)))).toMatchObject({
      result: 'FAILED',
      extension: { failedChecks: failed },
    });
  });

  it('refuses when the digest of a bundle the verdict rests on is missing', () => {
    const bundles = honestBundles();
    const error = thrown(() => summaryOf(bundles, { attestations: consumed(bundles.slice(0, 2)) }));
    expect(error.code).toBe('ATTESTATION_MISSING');
    expect(error.message).toContain('bundles/provenance.intoto.sigstore.json (provenance)');
  });

  it('refuses a URI with whitespace or a digest that is not sha256 hex', () => {
    const bundles = honestBundles();
    const spaced = consumed(bundles).map((a, i) => (i === 0 ? { ...a, uri: 'file:///my evidence.json' } : a));
    expect(thrown(() => summaryOf(bundles, { attestations: spaced })).code).toBe('FIELD_INVALID');
    const short = consumed(bundles).map((a, i) => (i === 1 ? { ...a, sha256: 'abc' } : a));
    expect(thrown(() => summaryOf(bundles, { attestations: short })).code).toBe('FIELD_INVALID');
    const error = thrown(() =>
      buildVerificationSummary({
        report: reportOf(bundles),
        verifier: { id: '' },
        resourceUri: 'https://github.com/acme/app',
        policyUri: 'file:///p.yml',
        attestations: consumed(bundles),
      }),
    );
    expect(error.code).toBe('FIELD_INVALID');
    expect(error.message).toContain('verifier.id');
  });
});
