// The sign action: its inputs into a typed record, the sign step (packages/github), what the step reports.
import { getInput } from '@actions/core';
import {
  githubApiUrl,
  policyPathFromInput,
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
  policy: policyPathFromInput(),
  trustedRoot: getInput('trusted-root'),
  endpoints: signingEndpointsFromInputs(PUBLIC_GOOD_ENDPOINTS),
  githubToken: getInput('github-token'),
  githubApiUrl: githubApiUrl(),
  ...runnerPaths(),
  identityToken: () => requestIdToken('sigstore'),
};
await reportStep(await signStep(inputs));
