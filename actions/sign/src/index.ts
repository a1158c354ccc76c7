// The sign action's entry point: inputs into a typed record, run(), outputs, annotations and the step summary.
import { error as annotate, getInput, setFailed, setOutput } from '@actions/core';
import { describeError } from '@twokey/core';
import { requestIdToken, runnerPaths, signingEndpointsFromInputs } from '@twokey/github';
import { PUBLIC_GOOD_ENDPOINTS } from '@twokey/sigstore';
import { run, type SignInputs } from './main';
import { writeDecisionSummary, writeFailureSummary } from './summary';

const inputs: SignInputs = {
  subjectPath: getInput('subject-path'),
  subjectDigest: getInput('subject-digest'),
  subjectName: getInput('subject-name'),
  subjectChecksums: getInput('subject-checksums'),
  provenance: getInput('provenance'),
  policy: getInput('policy') || '.twokey/policy.yml',
  trustedRoot: getInput('trusted-root'),
  endpoints: signingEndpointsFromInputs(PUBLIC_GOOD_ENDPOINTS),
  githubToken: getInput('github-token'),
  githubApiUrl: process.env.GITHUB_API_URL || 'https://api.github.com',
  ...runnerPaths(),
  identityToken: () => requestIdToken('sigstore'),
};

try {
  const result = await run(inputs);
  const { decision, bundles } = result;
  setOutput('verdict', decision.verdict);
  setOutput('checks', JSON.stringify(decision.checks));
  if (decision.source) setOutput('commit', decision.source.commit);
  if (decision.verdict === 'pass' && bundles) {
    setOutput('bundle-paths', [...bundles.signatures.map((s) => s.path), bundles.review].join('\n'));
    setOutput('review-bundle-path', bundles.review);
  } else {
    const failed = decision.checks.filter((c) => c.verdict === 'fail');
    for (const check of failed) annotate(`${check.id}: ${check.reason}`);
    setFailed(
      `SIGN_REFUSED: nothing was signed; ${failed.length} of ${decision.checks.length} checks failed: ${failed.map((c) => c.id).join(', ')}`,
    );
  }
  await writeDecisionSummary(result);
} catch (error) {
  const message = describeError(error);
  setFailed(message);
  await writeFailureSummary(message);
}
