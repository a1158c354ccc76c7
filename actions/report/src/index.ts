// The report action: its inputs into a typed record, the report run (packages/cli's report-step.ts, the same run as
// `twokey report`), what it reports. The org policy is this action's own repository's, at the commit it runs from.
import { fileURLToPath } from 'node:url';
import { type ReportStepInputs, sodReportStep } from '@twokey/cli/src/report-step';
import { githubApiUrl, policyInputs, readStepInputs, reportStep, runnerPaths } from '@twokey/github';

/** An input as the runner passes it (`INPUT_NAME`), trimmed, as @actions/core reads it. */
const input = (name: string) => (process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim();

const inputs = readStepInputs((): ReportStepInputs => {
  const { policy, repositoryPolicy } = policyInputs(fileURLToPath(import.meta.url));
  const paths = runnerPaths();
  return {
    policy,
    ...(repositoryPolicy && { repositoryPolicy }),
    bundles: input('bundles')
      .split(/[\n,]/)
      .map((b) => b.trim())
      .filter(Boolean),
    repository: input('repository'),
    // The organisation the report is about: the one this workflow runs in, unless `repository` names another's.
    ...(process.env.GITHUB_REPOSITORY_OWNER && { owner: process.env.GITHUB_REPOSITORY_OWNER }),
    token: input('github-token'),
    apiUrl: githubApiUrl(),
    since: input('since'),
    until: input('until'),
    period: input('period'),
    workspace: paths.workspace,
    outputDirectory: input('output-directory') || `${paths.outputDirectory}/twokey-report`,
  };
});
if (inputs) await reportStep(await sodReportStep(inputs));
