// The build action: its inputs into a typed record, the build step (packages/github), what the step reports.
import {
  attestationStoreFromInputs,
  type BuildStageInputs,
  buildStep,
  readStepInputs,
  reportStep,
  requestIdToken,
  runnerPaths,
  signingEndpointsOfJob,
  subjectInputsFromInputs,
} from '@twokey/github';

// The endpoints first: when the event does not say the repository's visibility, GitHub is asked (its client read then).
const endpoints = await readStepInputs(() => signingEndpointsOfJob());
const inputs =
  endpoints &&
  readStepInputs(
    (): BuildStageInputs => ({
      ...subjectInputsFromInputs(),
      endpoints,
      ...runnerPaths(),
      identityToken: () => requestIdToken('sigstore'),
      store: attestationStoreFromInputs(),
    }),
  );
if (inputs) await reportStep(await buildStep(inputs));
