// The build action: its inputs into a typed record, the build step (packages/github), what the step reports.
import {
  attestationStoreFromInputs,
  type BuildStageInputs,
  buildStep,
  instanceEndpoints,
  readStepInputs,
  reportStep,
  requestIdToken,
  runnerPaths,
  signingEndpointsFromInputs,
  sigstoreInstanceFromInputs,
  subjectInputsFromInputs,
} from '@twokey/github';

const inputs = readStepInputs(
  (): BuildStageInputs => ({
    ...subjectInputsFromInputs(),
    endpoints: signingEndpointsFromInputs(instanceEndpoints(sigstoreInstanceFromInputs())),
    ...runnerPaths(),
    identityToken: () => requestIdToken('sigstore'),
    store: attestationStoreFromInputs(),
  }),
);
if (inputs) await reportStep(await buildStep(inputs));
