// The sign action: its inputs into a typed record, the sign step (packages/github), what the step reports.
import { fileURLToPath } from 'node:url';
import { getInput } from '@actions/core';
import {
  githubApiUrl,
  policyInputs,
  reportStep,
  requestIdToken,
  runnerPaths,
  type SignStageInputs,
  signingEndpointsFromInputs,
  signStep,
  subjectInputsFromInputs,
} from '@twokey/github';
import { PUBLIC_GOOD_ENDPOINTS } from '@twokey/sigstore';

const inputs: SignStageInputs = {
  ...subjectInputsFromInputs(),
  provenance: getInput('provenance'),
  ...policyInputs(fileURLToPath(import.meta.url)),
  trustedRoot: getInput('trusted-root'),
  endpoints: signingEndpointsFromInputs(PUBLIC_GOOD_ENDPOINTS),
  githubToken: getInput('github-token'),
  githubApiUrl: githubApiUrl(),
  ...runnerPaths(),
  identityToken: () => requestIdToken('sigstore'),
};
await reportStep(await signStep(inputs));
