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
  signingEndpointsOfJob,
  signStep,
  subjectInputsFromInputs,
} from '@twokey/github';

// The endpoints first: when the event does not say the repository's visibility, GitHub is asked (its client read then).
const endpoints = await readStepInputs(() => signingEndpointsOfJob());
const inputs =
  endpoints &&
  readStepInputs(
    (): SignStageInputs => ({
      ...subjectInputsFromInputs(),
      provenance: getInput('provenance'),
      ...policyInputs(fileURLToPath(import.meta.url)),
      trustedRoot: getInput('trusted-root'),
      endpoints,
      githubToken: getInput('github-token'),
      githubApi: githubApiFromInputs(),
      githubApiUrl: githubApiUrl(),
      ...runnerPaths(),
      identityToken: () => requestIdToken('sigstore'),
      store: attestationStoreFromInputs(),
    }),
  );
if (inputs) await reportStep(await signStep(inputs));
