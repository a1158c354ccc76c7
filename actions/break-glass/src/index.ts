// The break-glass action: its inputs into a typed record, the break-glass stage (packages/github), what it reports.
import { getInput } from '@actions/core';
import {
  attestationStoreFromInputs,
  type BreakGlassInputs,
  breakGlassStep,
  countInput,
  githubApiUrl,
  readStepInputs,
  reportStep,
  requestIdToken,
  runnerPaths,
  signingEndpointsWhenNeeded,
  subjectInputsFromInputs,
} from '@twokey/github';

// The endpoints when first signing: when the event does not say the repository's visibility, GitHub is asked then (its
// client read then), never before an input or a subject is found wrong.
const inputs = readStepInputs(
  (): BreakGlassInputs => ({
    endpoints: signingEndpointsWhenNeeded(),
    ...subjectInputsFromInputs(),
    reason: getInput('reason'),
    incident: getInput('incident'),
    environment: getInput('environment'),
    duration: getInput('duration'),
    commit: getInput('commit') || process.env.GITHUB_SHA || '',
    minApprovers: countInput('min-approvers', 1),
    repository: process.env.GITHUB_REPOSITORY ?? '',
    apiUrl: githubApiUrl(),
    githubToken: getInput('github-token'),
    runId: Number(process.env.GITHUB_RUN_ID ?? 0),
    runAttempt: Number(process.env.GITHUB_RUN_ATTEMPT ?? 1),
    requester: process.env.GITHUB_TRIGGERING_ACTOR || process.env.GITHUB_ACTOR || '',
    ...(process.env.GITHUB_ACTOR && { actor: process.env.GITHUB_ACTOR }),
    ...runnerPaths(),
    identityToken: () => requestIdToken('sigstore'),
    store: attestationStoreFromInputs(),
  }),
);
if (inputs) await reportStep(await breakGlassStep(inputs));
