// The sign action: its inputs into a typed record, the sign step (packages/github), what the step reports.
import { fileURLToPath } from 'node:url';
import { getInput } from '@actions/core';
import {
  attestationStoreFromInputs,
  githubApiFromInputs,
  githubApiUrl,
  policyInputs,
  readStepInputs,
  reportStep,
  requestIdToken,
  runnerPaths,
  type SignStageInputs,
  signingEndpointsWhenNeeded,
  signStep,
  subjectInputsFromInputs,
} from '@twokey/github';

// The endpoints when first signing: when the event does not say the repository's visibility, GitHub is asked then (its
// client read then), never before an input or a subject is found wrong.
const inputs = readStepInputs(
  (): SignStageInputs => ({
    endpoints: signingEndpointsWhenNeeded(),
    ...subjectInputsFromInputs(),
    provenance: getInput('provenance'),
    ...policyInputs(fileURLToPath(import.meta.url)),
    trustedRoot: getInput('trusted-root'),
    githubToken: getInput('github-token'),
    githubApi: githubApiFromInputs(),
    githubApiUrl: githubApiUrl(),
    ...runnerPaths(),
    identityToken: () => requestIdToken('sigstore'),
    store: attestationStoreFromInputs(),
  }),
);
if (inputs) await reportStep(await signStep(inputs));
