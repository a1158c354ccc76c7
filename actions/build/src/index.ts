// The build action: its inputs into a typed record, the build step (packages/github), what the step reports.
import {
  attestationStoreFromInputs,
  type BuildStageInputs,
  buildStep,
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
  (): BuildStageInputs => ({
    endpoints: signingEndpointsWhenNeeded(),
    ...subjectInputsFromInputs(),
    ...runnerPaths(),
    identityToken: () => requestIdToken('sigstore'),
    store: attestationStoreFromInputs(),
  }),
);
if (inputs) await reportStep(await buildStep(inputs));
