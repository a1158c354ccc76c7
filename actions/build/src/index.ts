// The build action: its inputs into a typed record, the build step (packages/github), what the step reports.
import {
  type BuildStageInputs,
  buildStep,
  reportStep,
  requestIdToken,
  runnerPaths,
  signingEndpointsFromInputs,
  subjectInputsFromInputs,
} from '@twokey/github';
import { PUBLIC_GOOD_ENDPOINTS } from '@twokey/sigstore';

const inputs: BuildStageInputs = {
  ...subjectInputsFromInputs(),
  endpoints: signingEndpointsFromInputs(PUBLIC_GOOD_ENDPOINTS),
  ...runnerPaths(),
  identityToken: () => requestIdToken('sigstore'),
};
await reportStep(await buildStep(inputs));
