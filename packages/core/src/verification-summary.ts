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

/**
 * twokey's own part of the decision record, beside the VSA's fields (consumers ignore fields they do not know): the
 * environment, every check that did not pass (a refusal is recorded too), the break-glass used and who approved the
 * deploy. A later deploy finds a break-glass's earlier uses here.
 */
export const DECISION_EXTENSION = 'https://twokey.dev/decision/v1';

/** The level a record of a deploy accepted under a break-glass claims instead of the two-person rule. */
export const BREAK_GLASS_LEVEL = 'TWOKEY_BREAK_GLASS';

export interface DecisionExtension {
  /** The deploy job's environment, when it ran in one. */
  environment?: string;
  /** Every check that did not pass, per artifact (empty on a pass). */
  failedChecks: { artifact: string; id: string; verdict: string; reason: string }[];
  /**
   * Each break-glass used, by breakGlassId and the run that signed it (breakGlassRunOf: its single use is counted per
   * run), and the artifacts (sha256 hex) it let through.
   */
  breakGlass: { id: string; run?: string; source: string; artifacts: string[] }[];
  /** Who approved the deploy through its environment, per artifact, when read or attested. */
  deployApprovals: { artifact: string; source: string; environment: string; approvers: string[] }[];
}

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
  verificationResult: 'PASSED' | 'FAILED';
  verifiedLevels: string[];
  slsaVersion: string;
  [DECISION_EXTENSION]?: DecisionExtension;
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
  /** The deploy job's environment, when it ran in one. */
  environment?: string;
  /** Further attestations the decision rested on that are not in the report's evidence (the deploy approval signed
   * by this job). */
  extraAttestations?: readonly { uri: string; sha256: string }[];
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
  if (report.artifacts.length === 0) {
    throw new VerificationSummaryError(
      'REPORT_NOT_PASSED',
      'a decision record needs at least one artifact, found none',
    );
  }
  const passed = report.verdict === 'pass' && report.artifacts.every((a) => a.verdict === 'pass');
  for (const [field, value] of [
    ['verifier.id', input.verifier.id],
    ['resourceUri', input.resourceUri],
    ['policy.uri', input.policyUri],
  ] as const) {
    if (!isUri(value))
      throw new VerificationSummaryError('FIELD_INVALID', `${field}: expected a URI, found ${JSON.stringify(value)}`);
  }

  const bySource = new Map(input.attestations.map((a) => [a.bundle.source, a]));
  for (const extra of input.extraAttestations ?? []) {
    if (!/^[0-9a-f]{64}$/.test(extra.sha256) || !isUri(extra.uri)) {
      throw new VerificationSummaryError('FIELD_INVALID', `inputAttestations: ${JSON.stringify(extra)}`);
    }
  }
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
    inputAttestations: [
      ...[...consumed.values()].map((a) => ({ uri: a.uri, digest: { sha256: a.sha256 } })),
      ...(input.extraAttestations ?? []).map((a) => ({ uri: a.uri, digest: { sha256: a.sha256 } })),
    ],
    verificationResult: passed ? 'PASSED' : 'FAILED',
    // A refusal verifies no level; a deploy under a break-glass had no independent review, and says so instead.
    verifiedLevels: passed
      ? [
          buildLevel(report, bySource),
          report.artifacts.some((a) => a.breakGlass) ? BREAK_GLASS_LEVEL : TWO_PERSON_RULE_LEVEL,
        ]
      : [],
    slsaVersion: VSA_SLSA_VERSION,
    [DECISION_EXTENSION]: decisionExtension(report, input.environment),
  };
  return { _type: IN_TOTO_STATEMENT_TYPE, subject, predicateType: VERIFICATION_SUMMARY_PREDICATE_TYPE, predicate };
}

function decisionExtension(report: DeployReport, environment: string | undefined): DecisionExtension {
  const name = (a: DeployReport['artifacts'][number]) => a.artifact.name ?? a.artifact.digest;
  const breakGlass = new Map<string, { id: string; run?: string; source: string; artifacts: string[] }>();
  for (const artifact of report.artifacts) {
    if (!artifact.breakGlass || artifact.verdict !== 'pass') continue;
    const known = breakGlass.get(artifact.breakGlass.id) ?? {
      id: artifact.breakGlass.id,
      ...(artifact.breakGlass.run !== undefined && { run: artifact.breakGlass.run }),
      source: artifact.breakGlass.source,
      artifacts: [],
    };
    known.artifacts.push(artifact.artifact.digest.replace(/^sha256:/, ''));
    breakGlass.set(known.id, known);
  }
  return {
    ...(environment !== undefined && { environment }),
    failedChecks: report.artifacts.flatMap((a) =>
      a.checks
        .filter((c) => c.verdict !== 'pass' && c.verdict !== 'waived')
        .map((c) => ({ artifact: name(a), id: c.id, verdict: c.verdict, reason: c.reason })),
    ),
    breakGlass: [...breakGlass.values()],
    deployApprovals: report.artifacts.flatMap((a) =>
      a.deployApproval ? [{ artifact: name(a), ...a.deployApproval, approvers: [...a.deployApproval.approvers] }] : [],
    ),
  };
}

/** What a decision record says, read back from its statement (a later deploy, `twokey verify`). */
export interface DecisionRecord {
  result: 'PASSED' | 'FAILED';
  timeVerified: string;
  resourceUri: string;
  extension?: DecisionExtension;
}

/** A verified VSA statement read as a decision record; undefined when it is not one twokey can read. */
export function readDecisionRecord(statement: unknown): DecisionRecord | undefined {
  const s = statement as { predicateType?: unknown; predicate?: Record<string, unknown> } | null;
  if (!s || s.predicateType !== VERIFICATION_SUMMARY_PREDICATE_TYPE || typeof s.predicate !== 'object')
    return undefined;
  const p = s.predicate;
  if (p === null || (p.verificationResult !== 'PASSED' && p.verificationResult !== 'FAILED')) return undefined;
  if (typeof p.timeVerified !== 'string' || typeof p.resourceUri !== 'string') return undefined;
  const extension = p[DECISION_EXTENSION] as DecisionExtension | undefined;
  const wellFormed =
    extension !== undefined &&
    typeof extension === 'object' &&
    Array.isArray(extension.breakGlass) &&
    extension.breakGlass.every(
      (b) =>
        typeof b?.id === 'string' &&
        (b.run === undefined || typeof b.run === 'string') &&
        Array.isArray(b.artifacts) &&
        b.artifacts.every((a) => typeof a === 'string'),
    ) &&
    (extension.environment === undefined || typeof extension.environment === 'string');
  return {
    result: p.verificationResult,
    timeVerified: p.timeVerified,
    resourceUri: p.resourceUri,
    ...(wellFormed && { extension }),
  };
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
