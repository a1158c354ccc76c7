// The build stage: resolve and hash every subject, then sign SLSA provenance for them with the job's own identity and
// write the bundle to the evidence directory. buildStep is what actions/build runs: the stage, and what the step
// reports (buildStepOutcome), or the error it stopped on; tests call it with plain records.
//
// This module is the stage's first step, read at the action's start: the subjects, resolved (an unusable subject input
// fails here). The signing is build-sign.ts, imported (through later-steps.ts) when the step gets there
// (bench/README.md, "Start-up").
import {
  type Inline,
  renderSummary,
  type SignerIdentity,
  type Subject,
  type SubjectInputs,
  type WorkflowRunClaims,
} from '@twokey/core';
import { resolveSubjects, type SigningEndpointsSource } from '@twokey/sigstore';
import type { AttestationStore, StoredBundle } from './attestations';
import { failedStep, type StepOutcome } from './step';

export interface BuildStageInputs extends SubjectInputs {
  /** Where to sign, or how to find out when first signing (asking GitHub the repository's visibility). */
  endpoints: SigningEndpointsSource;
  /** Where relative subject paths are resolved (GITHUB_WORKSPACE). */
  workspace: string;
  /** RUNNER_TEMP: the bundle is written to its evidence directory. */
  outputDirectory: string;
  /** GITHUB_SERVER_URL. */
  serverUrl: string;
  /** The job's OIDC identity token, audience `sigstore`. */
  identityToken: () => Promise<string>;
  /** Also store the bundle in the repository's attestations (`store-attestations: true`). */
  store?: AttestationStore;
}

export interface BuildStageResult {
  bundlePath: string;
  subjects: Subject[];
  claims: WorkflowRunClaims;
  /** This job's identity: what the certificate names. */
  signer: SignerIdentity;
  /** The Rekor log index of the signature. */
  logIndex?: string;
  /** The bundle in the repository's attestations, when stored. */
  stored?: StoredBundle;
}

/** The build step as data: the stage's outcome, or the error it stopped on as a failed step (nothing signed). */
export function buildStep(inputs: BuildStageInputs): Promise<StepOutcome> {
  return runBuildStage(inputs)
    .then(buildStepOutcome)
    .catch((error: unknown) => failedStep('twokey build: nothing signed', error));
}

export async function runBuildStage(inputs: BuildStageInputs): Promise<BuildStageResult> {
  const subjects = await resolveSubjects(inputs, inputs.workspace);
  const { signProvenance } = await import('./later-steps');
  return signProvenance(inputs, subjects);
}

/** The artifacts shown in the summary; the `subjects` output lists them all. */
const SHOWN_SUBJECTS = 100;

/** The outputs `bundle-path` and `subjects`, and a summary: who signed, for which commit, each artifact's digest. */
export function buildStepOutcome(result: BuildStageResult): StepOutcome {
  const { subjects, claims, signer, logIndex } = result;
  const signedBy: Inline = [
    'Signed by ',
    { code: signer.san },
    ' for commit ',
    { code: claims.sha },
    ` (${claims.ref})`,
    logIndex !== undefined ? `, Rekor log index ${logIndex}.` : '.',
  ];
  const rows = subjects
    .slice(0, SHOWN_SUBJECTS)
    .map((subject) => [
      { code: subject.name ?? '' },
      Object.entries(subject.digest).flatMap(([algorithm, hex], i) => [
        i > 0 ? ' ' : '',
        { code: `${algorithm}:${hex}` },
      ]),
    ]);
  const more = subjects.length - SHOWN_SUBJECTS;
  return {
    outputs: {
      'bundle-path': result.bundlePath,
      subjects: JSON.stringify(subjects.map(({ name, digest }) => ({ name, digest }))),
      ...(result.stored && { 'attestation-id': result.stored.id, 'attestation-url': result.stored.url }),
    },
    errors: [],
    summary: renderSummary([
      { heading: 'twokey build: provenance signed' },
      { paragraph: signedBy },
      { table: { header: ['Artifact', 'Digest'], rows } },
      ...(more > 0 ? [{ paragraph: `… and ${more} more (see the subjects output).` }] : []),
    ]),
  };
}
