// The deploy gate's decision record: a SLSA Verification Summary Attestation (predicate type
// https://slsa.dev/verification_summary/v1, slsa.dev/spec/v1.0/verification_summary) over the artifacts a deploy
// accepted, naming the verifier, the policy (by digest) and every attestation the verdict rests on. Pure: the
// caller hashes the bundle files and signs the statement.

import { CodedError } from './error';
import { IN_TOTO_STATEMENT_TYPE, type Statement, type Subject } from './intoto';
import type { VerifiedBundle } from './model';
import type { DeployReport } from './report';

export const VERIFICATION_SUMMARY_PREDICATE_TYPE = 'https://slsa.dev/verification_summary/v1';

/**
 * twokey's own track in `verifiedLevels` (custom values must not start with `SLSA_`): every artifact carries a
 * signature and a review attestation by the sign identity, an independent review that passes the policy's rules
 * again, and build provenance by a different identity for the same commit and repository.
 */
export const TWO_PERSON_RULE_LEVEL = 'TWOKEY_TWO_PERSON_RULE_LEVEL_1';

/** The annotation of the VSA's policy that names the repository policy which tightened it. */
export const REPOSITORY_POLICY_ANNOTATION = 'https://twokey.dev/repository-policy';

/** The SLSA version whose VSA and levels the record follows. */
export const VSA_SLSA_VERSION = '1.0';

/** A verification summary predicate as twokey writes it (the spec's required fields, and the optional ones used). */
export type VerificationSummaryPredicate = {
  verifier: { id: string; version?: Record<string, string> };
  /** When the evaluation ran (the report's `evaluatedAt`). */
  timeVerified: string;
  resourceUri: string;
  /** The org policy; a repository policy that tightened it is named in its annotations. */
  policy: {
    uri: string;
    digest: { sha256: string };
    annotations?: { [REPOSITORY_POLICY_ANNOTATION]: { uri: string; digest: { sha256: string } } };
  };
  /** Every attestation the verdict rests on: the bundle file's sha256 and where it can be fetched. */
  inputAttestations: { uri: string; digest: { sha256: string } }[];
  verificationResult: 'PASSED';
  verifiedLevels: string[];
  slsaVersion: string;
};

/** An attestation the deploy consumed: the verified bundle, the sha256 of its file's bytes, and its URI. */
export interface ConsumedAttestation {
  bundle: VerifiedBundle;
  uri: string;
  sha256: string;
}

export interface VerificationSummaryInput {
  /** The deploy report; it must pass. */
  report: DeployReport;
  /** Who verified: the deploy job's identity (`https://github.com/{job_workflow_ref}`), and twokey's version. */
  verifier: { id: string; version?: Record<string, string> };
  /** The resource the artifacts are accepted for (a deployment, an environment, a repository URL). */
  resourceUri: string;
  /** Where the org policy lives (its repository and commit when known); its digest is the report's. */
  policyUri: string;
  /** Where the repository policy lives, when one tightened the org policy; its digest is the report's. */
  repositoryPolicyUri?: string;
  /** At least the bundles the report names as evidence; others are ignored. */
  attestations: readonly ConsumedAttestation[];
}

export type VerificationSummaryErrorCode = 'REPORT_NOT_PASSED' | 'ATTESTATION_MISSING' | 'FIELD_INVALID';

/** Why no decision record can be written: nothing is signed when this is thrown. */
export class VerificationSummaryError extends CodedError<VerificationSummaryErrorCode> {
  readonly kind = 'internal';
  override readonly name = 'VerificationSummaryError';
}

/**
 * The VSA statement for a passing deploy report: subjects are the artifacts, inputAttestations every bundle used as
 * evidence for any of them (each once), verifiedLevels the SLSA build level the provenance supports for all of
 * them plus twokey's two-person-rule level. A failing report gets no record: throws REPORT_NOT_PASSED.
 */
export function buildVerificationSummary(input: VerificationSummaryInput): Statement<VerificationSummaryPredicate> {
  const { report } = input;
  const refused = report.artifacts.filter((a) => a.verdict !== 'pass').map((a) => a.artifact.name);
  if (report.verdict !== 'pass' || report.artifacts.length === 0 || refused.length > 0) {
    throw new VerificationSummaryError(
      'REPORT_NOT_PASSED',
      `a verification summary records an accepted deploy; this report refused ${refused.join(', ') || 'every artifact (none given)'}`,
    );
  }
  for (const [field, value] of [
    ['verifier.id', input.verifier.id],
    ['resourceUri', input.resourceUri],
    ['policy.uri', input.policyUri],
  ] as const) {
    if (!isUri(value))
      throw new VerificationSummaryError('FIELD_INVALID', `${field}: expected a URI, found ${JSON.stringify(value)}`);
  }

  const bySource = new Map(input.attestations.map((a) => [a.bundle.source, a]));
  const consumed = new Map<string, ConsumedAttestation>();
  for (const evidence of report.artifacts.flatMap((a) => a.evidence)) {
    const attestation = bySource.get(evidence.source);
    if (!attestation) {
      throw new VerificationSummaryError(
        'ATTESTATION_MISSING',
        `the report rests on ${evidence.source} (${evidence.role}), but no digest of that bundle was given`,
      );
    }
    if (!/^[0-9a-f]{64}$/.test(attestation.sha256) || !isUri(attestation.uri)) {
      throw new VerificationSummaryError(
        'FIELD_INVALID',
        `inputAttestations: expected a URI and a lowercase hex sha256 for ${evidence.source}, found ${JSON.stringify({ uri: attestation.uri, sha256: attestation.sha256 })}`,
      );
    }
    consumed.set(evidence.source, attestation);
  }

  const subject: Subject[] = report.artifacts.map((a) => ({
    name: a.artifact.name,
    digest: { sha256: a.artifact.digest.replace(/^sha256:/, '') },
  }));
  const predicate: VerificationSummaryPredicate = {
    verifier: { id: input.verifier.id, ...(input.verifier.version && { version: { ...input.verifier.version } }) },
    timeVerified: report.evaluatedAt,
    resourceUri: input.resourceUri,
    policy: {
      uri: input.policyUri,
      digest: { sha256: report.policy.digest },
      ...(report.policy.repository && {
        annotations: {
          [REPOSITORY_POLICY_ANNOTATION]: {
            uri: input.repositoryPolicyUri ?? report.policy.repository.source,
            digest: { sha256: report.policy.repository.digest },
          },
        },
      }),
    },
    inputAttestations: [...consumed.values()].map((a) => ({ uri: a.uri, digest: { sha256: a.sha256 } })),
    verificationResult: 'PASSED',
    verifiedLevels: [buildLevel(report, bySource), TWO_PERSON_RULE_LEVEL],
    slsaVersion: VSA_SLSA_VERSION,
  };
  return { _type: IN_TOTO_STATEMENT_TYPE, subject, predicateType: VERIFICATION_SUMMARY_PREDICATE_TYPE, predicate };
}

/**
 * SLSA Build L2 needs a hosted build platform: the build identity's certificate must say the job ran on a
 * GitHub-hosted runner (Fulcio extension 1.3.6.1.4.1.57264.1.11). Signed provenance alone is L1. The lowest
 * level over all artifacts is the one the record claims.
 */
function buildLevel(report: DeployReport, bySource: Map<string, ConsumedAttestation>): string {
  const levels = report.artifacts.map((artifact) => {
    const provenance = artifact.evidence.find((e) => e.role === 'provenance');
    const signer = provenance ? bySource.get(provenance.source)?.bundle.signer : undefined;
    return signer?.extensions.runnerEnvironment === 'github-hosted' ? 2 : 1;
  });
  return `SLSA_BUILD_LEVEL_${Math.min(...levels)}`;
}

/** A ResourceURI / TypeURI (in-toto field_types.md): non-empty, no whitespace or control characters. */
function isUri(value: string): boolean {
  return value.length > 0 && !/[\s\p{Cc}]/u.test(value);
}
