// The deploy gate's step, as the root action.yml calls it: its inputs checked here, at the action's start; the rest —
// the gate's one decision (judgeDeploy, as `twokey verify`), the report, the signed decision record — in
// deploy-run.ts, read once the checks pass.
import { CodedError, type DeployReport, renderSummary, type SubjectInputs, type SummaryBlock } from '@twokey/core';
import { type AttestationStore, ID_TOKEN_PERMISSION_HINT, type StoredBundle } from '@twokey/github';
import type { RepositoryPolicyFile, SigningEndpointsSource } from '@twokey/sigstore';

export interface DeployInputs extends SubjectInputs {
  /** Bundle files, directories and globs, separated by newlines or commas; empty: the attestation store's. */
  bundles: string;
  /**
   * The `github-token` input and GITHUB_API_URL: with no bundles given, the evidence is what the repository's
   * attestation store holds for each artifact (as `twokey verify --repo` reads it).
   */
  githubToken?: string;
  /**
   * The `bound-repositories-token` input: reads the attestation stores of the other repositories deploy.repositories
   * binds (their changes' review attestations, when the policy asks for deploy approvals). Empty: `githubToken`,
   * which for a workflow's GITHUB_TOKEN reads no other private repository.
   */
  boundRepositoriesToken?: string;
  githubApiUrl?: string;
  /** Also store the signed decision record in the repository's attestations (`store-attestations: true`). */
  store?: AttestationStore;
  /** The org policy file, relative to the workspace (or absolute: the action's own repository's). */
  policy: string;
  /** The repository's own policy, which can only tighten the org policy. */
  repositoryPolicy?: RepositoryPolicyFile;
  /**
   * The org policy is the one of the repository the action runs from (the platform repository, at the commit the
   * deploy workflow runs from): the decision record names it by that repository and commit.
   */
  ownOrgPolicy?: boolean;
  /** A trusted_root.json (relative to the workspace) overriding the policy's `deploy.trusted-root`; empty for none. */
  trustedRoot: string;
  /** Whether to sign and log a decision record of the decision, PASSED or FAILED. */
  record: boolean;
  /** The resource the artifacts are accepted for; empty for the repository (and environment) of the deploy job. */
  resourceUri: string;
  /** Where to sign the decision record, or how to find out when it is signed (asking GitHub the repository's visibility). */
  endpoints: SigningEndpointsSource;
  /** GITHUB_WORKSPACE: where relative inputs are resolved. */
  workspace: string;
  /**
   * GITHUB_REPOSITORY (`owner/name`; empty when unset): the chain is bound to it when the policy names no repository
   * (deploy.repositories, or a pinned source-repository).
   */
  repository: string;
  /** RUNNER_TEMP: where the report and the record are written. */
  outputDirectory: string;
  serverUrl: string;
  /** The job's OIDC token (audience sigstore); absent when the job has no `id-token: write`. */
  identityToken?: () => Promise<string>;
  /** The deploy action's version, named in the decision record. */
  version: string;
  /** GITHUB_RUN_ID and GITHUB_RUN_ATTEMPT: the run whose environment approvals are read. */
  runId?: number;
  runAttempt?: number;
  /** GITHUB_ACTOR: the login of whoever started the deploy run. */
  actorLogin?: string;
  /** GITHUB_TRIGGERING_ACTOR: the login of whoever started this attempt of it (a re-run's: whoever re-ran it). */
  triggeringActorLogin?: string;
  /** The caller's workflow file (from GITHUB_WORKFLOW_REF) and the `uses:` that ran this gate, to anchor SARIF. */
  workflow?: { path: string; uses?: string };
}

export interface DeployResult {
  report: DeployReport;
  reportPath: string;
  /** The signed decision record (a pass or a refusal), with `record`. */
  recordPath?: string;
  /** The signed deploy-approval attestation, when the job read its environment's approvals. */
  deployApprovalPath?: string;
  /** The refusals as SARIF 2.1.0 (docs/sarif.md), or why none could be anchored. */
  sarifPath?: string;
  sarifError?: string;
  /** The decision record in the repository's attestations, when stored (`store-attestations`). */
  recordStored?: StoredBundle;
  /** The deploy job's certificate identity, when it had an OIDC token. */
  deployIdentity?: string;
  /** Why the record of a passing deploy could not be signed: the step then fails, the deploy is not recorded. */
  recordError?: string;
}

export type DeployStepErrorCode = 'BUNDLES_INPUT_MISSING' | 'OIDC_PERMISSION_MISSING' | 'OIDC_TOKEN_INVALID';

/** An input of the step that cannot be used: the step fails before judging anything. */
export class DeployStepError extends CodedError<DeployStepErrorCode> {
  readonly kind = 'usage';
  override readonly name = 'DeployStepError';
}

/**
 * The deploy step, called by the root action.yml with its inputs as a plain record: the gate's one decision, the
 * report written, and a decision record of it (PASSED or FAILED) signed as the deploy job.
 */
export async function runDeployStep(inputs: DeployInputs): Promise<DeployResult> {
  const bundles = inputs.bundles
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const fromStore = bundles.length === 0 && Boolean(inputs.githubToken) && Boolean(inputs.repository);
  if (bundles.length === 0 && !fromStore) {
    throw new DeployStepError(
      'BUNDLES_INPUT_MISSING',
      'bundles: give the evidence bundles (files, directories or globs): the provenance, the artifact signatures and the review attestation — or a github-token that can read the repository’s attestations',
    );
  }
  if (inputs.record && !inputs.identityToken) {
    throw new DeployStepError(
      'OIDC_PERMISSION_MISSING',
      `record: true signs a decision record as this job, which needs the \`id-token: write\` permission (or set record: false).\n${ID_TOKEN_PERMISSION_HINT}`,
    );
  }
  // What comes after the checks (resolving the artifacts, the gate's decision, signing the record) is read now, not at
  // the action's start (bench/README.md, "Start-up").
  const { runCheckedDeployStep } = await import('./deploy-run');
  return runCheckedDeployStep(inputs, bundles, fromStore);
}

/**
 * The caller's workflow file (GITHUB_WORKFLOW_REF: `owner/repo/.github/workflows/x.yml@ref`) and what ran this gate
 * (a reusable workflow's `job_workflow_ref` is not in the environment; the action's own repository and ref are), for
 * SARIF to point at the line that runs the deploy.
 */
export function callerWorkflow(): { workflow?: { path: string; uses?: string } } {
  const ref = process.env.GITHUB_WORKFLOW_REF ?? '';
  const path = /^[^/]+\/[^/]+\/(.+?)@/.exec(ref)?.[1];
  if (!path) return {};
  const action = process.env.GITHUB_ACTION_REPOSITORY;
  const actionRef = process.env.GITHUB_ACTION_REF;
  return { workflow: { path, ...(action && actionRef && { uses: `${action}@${actionRef}` }) } };
}

/** What became of the decision record, for the step summary (nothing when none was to be signed). */
export function recordSummary(result: DeployResult): string {
  const blocks: SummaryBlock[] = [];
  if (result.recordPath) {
    const signer = { code: result.deployIdentity ?? '' };
    const what = result.report.verdict === 'pass' ? 'PASSED' : 'FAILED';
    blocks.push({
      paragraph: [
        `Decision record (${what}; SLSA verification summary, signed by `,
        signer,
        '): ',
        { code: result.recordPath },
      ],
    });
  }
  if (result.deployApprovalPath) {
    blocks.push({ paragraph: ['Deploy approval (signed): ', { code: result.deployApprovalPath }] });
  }
  if (result.recordError) {
    blocks.push({
      paragraph: [
        'The decision record could not be signed or stored, so the deploy is refused: ',
        { code: result.recordError },
      ],
    });
  }
  return blocks.length ? `\n${renderSummary(blocks)}` : '';
}
