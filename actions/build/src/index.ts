// The build action's entry point: inputs into a typed record, run(), outputs and the step summary.
import { getInput, setFailed, setOutput } from '@actions/core';
import { describeError } from '@twokey/core';
import { requestIdToken, runnerPaths, signingEndpointsFromInputs } from '@twokey/github';
import { PUBLIC_GOOD_ENDPOINTS } from '@twokey/sigstore';
import { type BuildInputs, run } from './main';
import { writeFailureSummary, writeSuccessSummary } from './summary';

const inputs: BuildInputs = {
  subjectPath: getInput('subject-path'),
  subjectDigest: getInput('subject-digest'),
  subjectName: getInput('subject-name'),
  subjectChecksums: getInput('subject-checksums'),
  endpoints: signingEndpointsFromInputs(PUBLIC_GOOD_ENDPOINTS),
  ...runnerPaths(),
  identityToken: () => requestIdToken('sigstore'),
};

try {
  const result = await run(inputs);
  setOutput('bundle-path', result.bundlePath);
  setOutput('subjects', JSON.stringify(result.subjects.map(({ name, digest }) => ({ name, digest }))));
  await writeSuccessSummary(result);
} catch (error) {
  const message = describeError(error);
  setFailed(message);
  await writeFailureSummary(message);
}
