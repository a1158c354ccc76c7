// The sign action: its inputs into a typed record, the sign step (packages/github), what the step reports.
import { fileURLToPath } from 'node:url';
import { getInput } from '@actions/core';
import {
  attestationStoreFromInputs,
  githubApiFromInputs,
  githubApiUrl,
  instanceEndpoints,
  policyInputs,
  readStepInputs,
  reportStep,
  requestIdToken,
  runnerPaths,
  type SignStageInputs,
  signingEndpointsFromInputs,
  signStep,
  sigstoreInstanceFromInputs,
  subjectInputsFromInputs,
} from '@twokey/github';

const inputs = readStepInputs(
  (): SignStageInputs => ({
    ...subjectInputsFromInputs(),
    provenance: getInput('provenance'),
    ...policyInputs(fileURLToPath(import.meta.url)),
    trustedRoot: getInput('trusted-root'),
    endpoints: signingEndpointsFromInputs(instanceEndpoints(sigstoreInstanceFromInputs())),
    githubToken: getInput('github-token'),
    githubApi: githubApiFromInputs(),
    githubApiUrl: githubApiUrl(),
    ...runnerPaths(),
    identityToken: () => requestIdToken('sigstore'),
    store: attestationStoreFromInputs(),
  }),
);
if (inputs) await reportStep(await signStep(inputs));
