// The deploy gate's entry point: inputs into a typed record, run(), outputs, the step summary, and a failed step
// with every reason when anything is refused.
import { fileURLToPath } from 'node:url';
import { getBooleanInput, getInput, setFailed, setOutput, summary, warning } from '@actions/core';
import {
  describeError,
  describeNotPassed,
  describeReport,
  markdownReport,
  renderSummary,
  terminalLines,
  terminalText,
} from '@twokey/core';
import { callerWorkflow, type DeployInputs, passedChecksums, recordSummary, runDeployStep } from '@twokey/gate';
import {
  attestationStoreFromInputs,
  githubApiUrl,
  logUntrusted,
  policyInputs,
  requestIdToken,
  runnerPaths,
  signingEndpointsWhenNeeded,
} from '@twokey/github';
import actionPackage from '../package.json' with { type: 'json' };

const canRequestToken = Boolean(process.env.ACTIONS_ID_TOKEN_REQUEST_URL && process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN);

try {
  const inputs: DeployInputs = {
    subjectPath: getInput('subject-path'),
    subjectDigest: getInput('subject-digest'),
    subjectName: getInput('subject-name'),
    subjectChecksums: getInput('subject-checksums'),
    bundles: getInput('bundles'),
    ...policyInputs(fileURLToPath(import.meta.url)),
    trustedRoot: getInput('trusted-root'),
    record: getInput('record') === '' ? true : getBooleanInput('record'),
    resourceUri: getInput('resource-uri'),
    // GitHub is asked the repository's visibility when the event does not say it (a `schedule` event's payload): when
    // the decision record is signed, not before the inputs after this one are read.
    endpoints: signingEndpointsWhenNeeded(),
    repository: process.env.GITHUB_REPOSITORY ?? '',
    githubToken: getInput('github-token'),
    boundRepositoriesToken: getInput('bound-repositories-token'),
    githubApiUrl: githubApiUrl(),
    store: attestationStoreFromInputs(),
    ...runnerPaths(),
    ...(canRequestToken && { identityToken: () => requestIdToken('sigstore') }),
    version: actionPackage.version,
    ...(Number(process.env.GITHUB_RUN_ID) > 0 && { runId: Number(process.env.GITHUB_RUN_ID) }),
    ...(Number(process.env.GITHUB_RUN_ATTEMPT) > 0 && { runAttempt: Number(process.env.GITHUB_RUN_ATTEMPT) }),
    actorLogin: process.env.GITHUB_ACTOR ?? '',
    triggeringActorLogin: process.env.GITHUB_TRIGGERING_ACTOR ?? '',
    ...callerWorkflow(),
  };
  const result = await runDeployStep(inputs);
  const { report } = result;
  const passed = report.verdict === 'pass' && result.recordError === undefined;
  setOutput('report-path', result.reportPath);
  if (result.recordPath) setOutput('record-path', result.recordPath);
  if (result.deployApprovalPath) setOutput('deploy-approval-path', result.deployApprovalPath);
  if (result.sarifPath) setOutput('sarif-path', result.sarifPath);
  else if (result.sarifError) warning(`no SARIF written: ${terminalText(result.sarifError)}`);
  if (result.recordStored) {
    setOutput('attestation-id', result.recordStored.id);
    setOutput('attestation-url', result.recordStored.url);
  }
  // The report names files, pull requests and bundles of others' choosing: written with workflow commands off.
  logUntrusted(describeReport(report));

  await summary.addRaw(`${markdownReport(report)}${recordSummary(result)}`, true).write();
  if (report.verdict !== 'pass') {
    // The annotation names files and quotes reasons of others' choosing: each escaped (row 190), so a name cannot add a
    // line of its own or a control sequence to it (found by the review of what twokey writes).
    const reasons = report.artifacts.flatMap((artifact) =>
      describeNotPassed(artifact).map(
        (line) => `${terminalText(artifact.artifact.name ?? artifact.artifact.digest)}: ${terminalText(line)}`,
      ),
    );
    const unrecorded = result.recordError ? `\nRECORD_NOT_SIGNED: ${terminalText(result.recordError)}` : '';
    setFailed(`twokey refused the deploy:\n${reasons.join('\n')}${unrecorded}`);
  } else if (result.recordError) setFailed(`RECORD_NOT_SIGNED: ${terminalText(result.recordError)}`);
  // What passed, for a later job that downloads it again to check it ships the same bytes (sha256sum --check).
  if (passed) setOutput('digests', passedChecksums(report));
  // Until when that evidence passes (max-age, a break-glass's expiry): the later job checks it before it ships.
  if (passed && report.validUntil) setOutput('valid-until', report.validUntil);
  // Last: `verified` is written once, after everything else the step does has succeeded.
  setOutput('verified', String(passed));
} catch (error) {
  setOutput('verified', 'false');
  const message = describeError(error);
  // An error before the report may name a file of others' choosing (a subject, a bundle): escaped, its lines kept.
  setFailed(terminalLines(message));
  await summary
    .addRaw(renderSummary([{ heading: 'twokey deploy gate: not evaluated' }, { preformatted: message }]), true)
    .write();
}
