// The deploy gate's step once its inputs are checked: the gate's one decision (judgeDeploy, as `twokey verify`) on
// them, bound to this job's repository when the policy names none; the report and its SARIF written; a SLSA
// verification summary signed as the deploy identity for every decision, and the deploy approval it read. Imported by
// runDeployStep after its checks, so that the deploy action's start reads none of it.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  buildDeployApprovalStatement,
  buildVerificationSummary,
  type DeployReport,
  describeError,
  type SignerIdentity,
  type VerifiedBundle,
  workflowSigner,
} from '@twokey/core';
import {
  createGitHubClient,
  idTokenClaims,
  ORG_POLICY_PATH,
  RunStarterError,
  readDeployApproval,
  resolveArtifacts,
  storeAttestations,
} from '@twokey/github';
import {
  deployTrustedRoot,
  isRejected,
  resolveSigningEndpoints,
  signStatement,
  verifyEvidenceBatch,
} from '@twokey/sigstore';
import { type DeployInputs, type DeployResult, DeployStepError } from './deploy-step';
import { type DeployJudgement, judgeDeploy } from './gate';
import { writeSarif } from './sarif-file';

/**
 * The deploy step after its inputs were checked (deploy-step.ts, runDeployStep): the artifacts resolved, the gate's
 * one decision, the report written, and the decision record signed as the deploy job.
 */
export async function runCheckedDeployStep(
  inputs: DeployInputs,
  bundles: string[],
  fromStore: boolean,
): Promise<DeployResult> {
  // The artifacts, as the sign stage resolves the same inputs; the job, from its own token.
  const artifacts = await resolveArtifacts(inputs, inputs.workspace);
  const job = inputs.identityToken ? deployJob(await inputs.identityToken(), inputs.serverUrl) : undefined;

  const token = inputs.githubToken;
  const apiUrl = inputs.githubApiUrl || 'https://api.github.com';
  const store = token && inputs.repository ? { repository: inputs.repository, apiUrl, token } : undefined;
  // Who approved this deploy through its environment, read from GitHub once the policy is known.
  const readApproval =
    job?.environment && store && inputs.runId
      ? async () => {
          // The account that started the run, as the job's token names it: without it, who started the deploy could
          // only be told by login (which another account may hold now).
          if (!job.actor) {
            return { error: 'the job token names no account that started the run (actor, actor_id)' };
          }
          try {
            const facts = await readDeployApproval({
              client: createGitHubClient({ token: store.token, baseUrl: store.apiUrl }),
              repository: store.repository,
              serverUrl: inputs.serverUrl,
              runId: inputs.runId!,
              runAttempt: inputs.runAttempt ?? 1,
              environment: job.environment!,
              ...(inputs.actorLogin !== undefined && { actorLogin: inputs.actorLogin }),
              ...(inputs.triggeringActorLogin !== undefined && { triggeringActorLogin: inputs.triggeringActorLogin }),
              ...(job.actor && { actor: job.actor }),
            });
            return { predicate: { ...facts, evidence: [] } };
          } catch (error) {
            // Who started the run cannot be told by account (a login renamed since): said as it is. GitHub refusing
            // the token (403, or 404 for what it may not show) is a permission.
            if (error instanceof RunStarterError) return { error: describeError(error) };
            const status = (error as { status?: number }).status;
            const hint = status === 403 || status === 404 ? ' (the token needs actions: read)' : '';
            return { error: `GitHub did not say who approved run ${inputs.runId}${hint}: ${describeError(error)}` };
          }
        }
      : // The deploy job judges the approvals of its own run, or none: never an attested approval among its evidence
        // (a staging deploy's, last week's), which is what a job that cannot read its own would otherwise fall back
        // to. Without them, a policy asking for approvals refuses, saying what the job lacks.
        async () => ({ error: whyApprovalsUnread(job, store, inputs.runId) });

  // Judged now, never as of another time: a deploy is a decision of the moment it runs.
  const { report, policy, verified, liveDeployApproval, storeUris } = await judgeDeploy({
    policy: inputs.policy,
    ...(inputs.repositoryPolicy && { repositoryPolicy: inputs.repositoryPolicy }),
    repository: { repository: inputs.repository, name: 'GITHUB_REPOSITORY', role: 'fallback' },
    ...(inputs.trustedRoot && { trustedRoot: inputs.trustedRoot }),
    artifacts: { resolved: artifacts },
    bundles,
    // The build run's artifacts, written by its job: a file in them that is no bundle is rejected evidence, and the
    // decision is still made and recorded.
    untrustedBundles: true,
    ...(fromStore && store && { attestationStore: store }),
    ...(store && { decisionStore: store }),
    ...(inputs.boundRepositoriesToken && { boundRepositoriesToken: inputs.boundRepositoriesToken }),
    ...(job?.environment && { environment: job.environment }),
    ...(readApproval && { readDeployApproval: readApproval }),
    cwd: inputs.workspace,
    ...(job && { deployIdentity: job.identity }),
  });

  const directory = join(inputs.outputDirectory, 'twokey');
  mkdirSync(directory, { recursive: true });
  const reportText = `${JSON.stringify(report, null, 2)}\n`;
  const reportPath = join(directory, `deploy-report-${shortHash(reportText)}.json`);
  writeFileSync(reportPath, reportText);
  const sarifPath = reportPath.replace(/\.json$/, '.sarif');
  let sarif: Pick<DeployResult, 'sarifPath' | 'sarifError'>;
  try {
    writeSarif(sarifPath, {
      report,
      root: inputs.workspace,
      policyPath: resolve(inputs.workspace, inputs.policy),
      ...(inputs.workflow && { workflow: inputs.workflow }),
      toolVersion: inputs.version,
    });
    sarif = { sarifPath };
  } catch (error) {
    sarif = { sarifError: describeError(error) };
  }
  const result: DeployResult = { report, reportPath, ...sarif, ...(job && { deployIdentity: job.identity.san }) };
  // A break-glass is used once: only a signed record later deploys can find makes that so.
  const breakGlass = report.verdict === 'pass' && report.artifacts.some((a) => a.breakGlass);
  // Every decision is recorded, a refusal as a pass: an audit trail with no gaps.
  if (!inputs.record || !job || !inputs.identityToken) {
    return breakGlass
      ? {
          ...result,
          recordError:
            'a deploy under a break-glass must sign and store its decision record (record: true, with the id-token: write permission), so that the break-glass cannot be used again',
        }
      : result;
  }
  const signing = { endpoints: await resolveSigningEndpoints(inputs.endpoints), identityToken: inputs.identityToken };
  const consumed = consumedAttestations(report, verified, inputs.workspace, storeUris);

  // The deploy approval as this job read it, signed over the artifacts, naming the bundles the decision rested on.
  let approval: { bundle: object; path: string; sha256: string } | undefined;
  if (liveDeployApproval && 'predicate' in liveDeployApproval) {
    try {
      const statement = buildDeployApprovalStatement(
        report.artifacts.map((a) => ({
          ...(a.artifact.name !== undefined && { name: a.artifact.name }),
          digest: { sha256: a.artifact.digest.replace(/^sha256:/, '') },
        })),
        {
          ...liveDeployApproval.predicate,
          evidence: consumed.map((c) => ({ uri: c.uri, digest: { sha256: c.sha256 } })),
        },
      );
      const bundle = await signStatement(statement, signing);
      const text = `${JSON.stringify(bundle)}\n`;
      const path = join(directory, `deploy-approval-${shortHash(text)}.sigstore.json`);
      writeFileSync(path, text);
      approval = { bundle, path, sha256: createHash('sha256').update(text).digest('hex') };
    } catch (error) {
      return { ...result, recordError: `the deploy approval could not be signed: ${describeError(error)}` };
    }
  }

  const statement = buildVerificationSummary({
    report,
    verifier: { id: job.identity.san, version: { twokey: inputs.version } },
    resourceUri: inputs.resourceUri || job.resourceUri,
    policyUri:
      (inputs.ownOrgPolicy && job.workflowPolicyUri) || pathToFileURL(resolve(inputs.workspace, inputs.policy)).href,
    ...(report.policy.repository && {
      repositoryPolicyUri: pathToFileURL(resolve(inputs.workspace, report.policy.repository.source)).href,
    }),
    attestations: consumed,
    ...(job.environment && { environment: job.environment }),
    ...(approval && { extraAttestations: [{ uri: pathToFileURL(approval.path).href, sha256: approval.sha256 }] }),
  });
  let bundle: Awaited<ReturnType<typeof signStatement>>;
  try {
    bundle = await signStatement(statement, signing);
  } catch (error) {
    return { ...result, recordError: describeError(error) };
  }
  const recordText = `${JSON.stringify(bundle)}\n`;
  const recordPath = join(dirname(reportPath), `verification-summary-${shortHash(recordText)}.sigstore.json`);
  writeFileSync(recordPath, recordText);
  const written = { ...result, recordPath, ...(approval && { deployApprovalPath: approval.path }) };
  // A break-glass is used once, and a later deploy counts its uses only from the records that verify under its
  // policy's trusted root (gate.ts: the store's entries are verified as evidence; one that is not is rejected, never a
  // use). A record signed on an instance that root does not hold (the instance chosen for a repository whose
  // visibility was misread) would be a use no later deploy sees: the break-glass could be used again.
  const unseen = breakGlass ? await recordUnverified(recordPath, policy, inputs) : undefined;
  const unseenError =
    unseen &&
    `the decision record does not verify under the policy's trusted root (${unseen}): later deploys count a break-glass's uses only from records that do, so this use of the break-glass could not be recorded where they can see it (sign on the Sigstore instance that trusted root holds: sigstore-instance, fulcio-url, rekor-url, tsa-url)`;
  if (!inputs.store) {
    // A break-glass is used once: only a record later deploys can find (the store) makes that so.
    return breakGlass
      ? {
          ...written,
          recordError:
            unseenError ??
            'a deploy under a break-glass must store its decision record in the attestation store (store-attestations: true, attestations: write), so that the break-glass cannot be used again',
        }
      : written;
  }
  // A record nobody can find is no record: a store that refuses it fails the step, as a record that was not signed.
  // One that does not verify is stored all the same (every decision is recorded), and fails the step.
  try {
    const stored = await storeAttestations(inputs.store, [...(approval ? [approval.bundle] : []), bundle]);
    const recordStored = stored[stored.length - 1];
    return { ...written, ...(recordStored && { recordStored }), ...(unseenError && { recordError: unseenError }) };
  } catch (error) {
    return { ...written, recordError: unseenError ?? describeError(error) };
  }
}

/**
 * Why the signed decision record at `path` does not verify under the trusted root the decision was judged by (the
 * deploy's `trusted-root` input, else the policy's: judgeDeploy's), as a later deploy verifies what the store holds;
 * undefined when it does.
 */
async function recordUnverified(
  path: string,
  policy: DeployJudgement['policy'],
  inputs: DeployInputs,
): Promise<string | undefined> {
  try {
    const trust = deployTrustedRoot(policy, inputs.trustedRoot || undefined, inputs.workspace);
    const [result] = await verifyEvidenceBatch([path], trust, { workers: 1 });
    if (!result) return 'the verifier returned nothing';
    if (!isRejected(result)) return undefined;
    const reason = result.reason.startsWith(`${result.source}: `)
      ? result.reason.slice(result.source.length + 2)
      : result.reason;
    return `${result.code}: ${reason}`;
  } catch (error) {
    return describeError(error);
  }
}

/** Who is deploying, from the job's own token: the SAN Fulcio will certify, and the resource being deployed to. */
function deployJob(
  token: string,
  serverUrl: string,
): {
  identity: SignerIdentity;
  resourceUri: string;
  environment?: string;
  workflowPolicyUri?: string;
  actor?: { login: string; id: number };
} {
  const claims = idTokenClaims(token);
  const identity = workflowSigner(claims, serverUrl);
  if (!identity) {
    throw new DeployStepError(
      'OIDC_TOKEN_INVALID',
      'the OIDC identity token has no job_workflow_ref or iss claim: it is not a GitHub Actions job token',
    );
  }
  const repository = identity.extensions.sourceRepositoryURI ?? serverUrl;
  const environment = typeof claims.environment === 'string' && claims.environment ? claims.environment : undefined;
  // The org policy beside the running workflow, at its commit: `git+https://github.com/acme/platform@SHA#path`.
  const workflowRef = typeof claims.job_workflow_ref === 'string' ? claims.job_workflow_ref : '';
  const workflowSha = typeof claims.job_workflow_sha === 'string' ? claims.job_workflow_sha : '';
  const workflowRepository = /^([^/]+\/[^/]+)\//.exec(workflowRef)?.[1];
  // Who started the run, by account: the token's actor and its id.
  const actorId = typeof claims.actor_id === 'string' ? Number(claims.actor_id) : Number.NaN;
  const actor =
    typeof claims.actor === 'string' && claims.actor !== '' && Number.isSafeInteger(actorId)
      ? { login: claims.actor, id: actorId }
      : undefined;
  return {
    identity,
    ...(actor && { actor }),
    resourceUri: environment ? `${repository}/deployments/${encodeURIComponent(environment)}` : repository,
    ...(environment && { environment }),
    ...(workflowRepository &&
      /^[0-9a-f]{40}$/.test(workflowSha) && {
        workflowPolicyUri: `git+${serverUrl}/${workflowRepository}@${workflowSha}#${ORG_POLICY_PATH}`,
      }),
  };
}

/**
 * The bundles the verdict rests on, each with a URI naming where it was read (its source is relative to the
 * workspace) and the sha256 of the bytes that were verified (never of the file read again: it could have changed).
 */
function consumedAttestations(
  report: DeployReport,
  verified: VerifiedBundle[],
  workspace: string,
  storeUris: ReadonlyMap<string, string>,
) {
  const used = new Set(report.artifacts.flatMap((a) => a.evidence.map((e) => e.source)));
  return verified
    .filter((bundle) => used.has(bundle.source))
    .map((bundle) => {
      if (!bundle.sha256) throw new Error(`${bundle.source}: verified without the digest of the bytes read`);
      // A bundle read from the attestation store is named by where the store lists it, not by a file.
      const uri = storeUris.get(bundle.source) ?? pathToFileURL(resolve(workspace, bundle.source)).href;
      return { bundle, uri, sha256: bundle.sha256 };
    });
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** Why the deploy job cannot read who approved its run through its environment. */
function whyApprovalsUnread(
  job: ReturnType<typeof deployJob> | undefined,
  store: { token: string } | undefined,
  runId: number | undefined,
): string {
  if (!job) {
    return 'the job has no OIDC token (it needs `id-token: write`): its environment and its run are known only from it';
  }
  if (!job.environment) return 'the deploy job runs in no environment (its token names none): no one approved it there';
  if (!store) return 'no github-token (with `actions: read`) to read who approved the run';
  if (!runId) return 'GITHUB_RUN_ID is not set: the run whose approvals count is unknown';
  return 'who approved the run is unknown';
}
