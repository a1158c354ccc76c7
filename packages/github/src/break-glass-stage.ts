// The break-glass stage: what the platform's break-glass workflow runs, in its own protected environment, once its
// approvers released the job. It reads who started the run and who approved it (the run's environment approvals),
// and who wrote the change (the commit's author, as GitHub links it), refuses unless enough approvers are neither
// the requester nor the author, and signs a time-boxed break-glass attestation over the artifacts as its own
// identity. The deploy gate accepts it only in place of the review, once, loudly (packages/gate).
import {
  BREAK_GLASS_PREDICATE_TYPE,
  type BreakGlassPredicate,
  breakGlassProblems,
  buildBreakGlassStatement,
  CodedError,
  type GitHubAccount,
  type Inline,
  parseDuration,
  renderSummary,
  type SubjectInputs,
  WAIVABLE_CHECKS,
} from '@twokey/core';
import { resolveSubjects, type SigningEndpoints, signStatement } from '@twokey/sigstore';
import { type AttestationStore, type StoredBundle, storeAttestations } from './attestations';
import { contentName, writeEvidence } from './evidence-directory';
import { createGitHubClient, type GitHubClient } from './octokit';
import { failedStep, type StepOutcome } from './step';

export interface BreakGlassInputs extends SubjectInputs {
  /** Why production cannot wait for a review. */
  reason: string;
  /** A link to the incident. */
  incident: string;
  /** The deploy environment the exception is for. */
  environment: string;
  /** How long it is valid from now: a duration such as 4h (at most what the org policy allows; default 4h). */
  duration: string;
  /** The commit it lets through (default GITHUB_SHA). */
  commit: string;
  /** `owner/name` (GITHUB_REPOSITORY). */
  repository: string;
  serverUrl: string;
  apiUrl: string;
  githubToken: string;
  runId: number;
  runAttempt: number;
  /** GITHUB_TRIGGERING_ACTOR: who asked for the break-glass. */
  requester: string;
  /** Approvers besides the requester and the author the workflow itself insists on (default 1). */
  minApprovers: number;
  endpoints: SigningEndpoints;
  workspace: string;
  outputDirectory: string;
  identityToken: () => Promise<string>;
  store?: AttestationStore;
  now?: Date;
  client?: GitHubClient;
}

export interface BreakGlassResult {
  bundlePath: string;
  predicate: BreakGlassPredicate;
  stored?: StoredBundle;
}

/** Why nothing was signed: the exception is not approved as it must be, or an input is unusable (exit 2). */
export class BreakGlassError extends CodedError<'BREAK_GLASS_REFUSED' | 'BREAK_GLASS_INPUT'> {
  readonly kind = 'usage';
  override readonly name = 'BreakGlassError';
}

export function breakGlassStep(inputs: BreakGlassInputs): Promise<StepOutcome> {
  return runBreakGlassStage(inputs)
    .then(breakGlassOutcome)
    .catch((error: unknown) => failedStep('twokey break-glass: nothing signed', error));
}

export async function runBreakGlassStage(inputs: BreakGlassInputs): Promise<BreakGlassResult> {
  for (const [name, value] of [
    ['reason', inputs.reason],
    ['incident', inputs.incident],
    ['environment', inputs.environment],
  ] as const) {
    if (!value.trim()) throw new BreakGlassError('BREAK_GLASS_INPUT', `${name}: required, found nothing`);
  }
  if (!/^[0-9a-f]{40}$/.test(inputs.commit)) {
    throw new BreakGlassError('BREAK_GLASS_INPUT', `commit: expected a 40-hex commit SHA, found ${inputs.commit}`);
  }
  let seconds: number;
  try {
    seconds = parseDuration(inputs.duration || '4h');
  } catch (error) {
    throw new BreakGlassError('BREAK_GLASS_INPUT', `duration: ${(error as Error).message}`);
  }
  const subjects = await resolveSubjects(inputs, inputs.workspace);
  const [owner, repo] = inputs.repository.split('/') as [string, string];
  const client = inputs.client ?? createGitHubClient({ token: inputs.githubToken, baseUrl: inputs.apiUrl });
  const [approvals, commit, requester] = await Promise.all([
    client
      .request('GET /repos/{owner}/{repo}/actions/runs/{run_id}/approvals', { owner, repo, run_id: inputs.runId })
      .then(({ data }) => data as { state?: string; user?: unknown }[]),
    client
      .request('GET /repos/{owner}/{repo}/commits/{ref}', { owner, repo, ref: inputs.commit })
      .then(({ data }) => data as { author?: unknown }),
    client.request('GET /users/{username}', { username: inputs.requester }).then(({ data }) => account(data)),
  ]);
  if (!commit.author) {
    throw new BreakGlassError(
      'BREAK_GLASS_REFUSED',
      `${inputs.commit}: GitHub links its author to no account, so nobody can tell whether an approver wrote it`,
    );
  }
  const now = inputs.now ?? new Date();
  const predicate: BreakGlassPredicate = {
    reason: inputs.reason.trim(),
    incident: inputs.incident.trim(),
    environment: inputs.environment.trim(),
    repository: { name: inputs.repository, uri: `${inputs.serverUrl}/${inputs.repository}` },
    change: { commit: inputs.commit, author: account(commit.author) },
    requester,
    approvers: approvals.filter((a) => a.state === 'approved').map((a) => account(a.user)),
    notBefore: now.toISOString(),
    expires: new Date(now.getTime() + seconds * 1000).toISOString(),
    waives: [...WAIVABLE_CHECKS],
    run: {
      id: inputs.runId,
      attempt: inputs.runAttempt,
      uri: `${inputs.serverUrl}/${inputs.repository}/actions/runs/${inputs.runId}/attempts/${inputs.runAttempt}`,
    },
  };
  // The workflow refuses what the gate would: never sign an exception one person alone stood behind.
  const problems = breakGlassProblems(
    predicate,
    { maxDurationSeconds: seconds, minApprovers: Math.max(1, inputs.minApprovers) },
    { now },
  );
  if (problems.length > 0) throw new BreakGlassError('BREAK_GLASS_REFUSED', problems.join('; '));
  const statement = buildBreakGlassStatement(subjects, predicate);
  const bundle = await signStatement(statement, { endpoints: inputs.endpoints, identityToken: inputs.identityToken });
  const text = `${JSON.stringify(bundle)}\n`;
  const [bundlePath] = writeEvidence(inputs.outputDirectory, [
    { name: contentName('break-glass', text, '.sigstore.json'), text },
  ]);
  const [stored] = inputs.store ? await storeAttestations(inputs.store, [bundle]) : [];
  return { bundlePath: bundlePath!, predicate, ...(stored && { stored }) };
}

function breakGlassOutcome(result: BreakGlassResult): StepOutcome {
  const p = result.predicate;
  const rows: Inline[][] = [
    ['reason', p.reason],
    ['incident', p.incident],
    ['environment', p.environment],
    ['commit', `${p.repository.name}@${p.change.commit} by ${p.change.author.login}`],
    ['requested by', p.requester.login],
    ['approved by', p.approvers.map((a) => a.login).join(', ')],
    ['valid', `${p.notBefore} to ${p.expires}`],
    ['waives', p.waives.join(', ')],
  ];
  return {
    outputs: {
      'bundle-path': result.bundlePath,
      'expires-at': p.expires,
      ...(result.stored && { 'attestation-id': result.stored.id, 'attestation-url': result.stored.url }),
    },
    errors: [],
    summary: renderSummary([
      { heading: 'twokey BREAK-GLASS signed' },
      {
        paragraph: `A time-boxed exception to the review rules (${BREAK_GLASS_PREDICATE_TYPE}): the deploy gate accepts it once per artifact and environment, only within its window, and says so in every record.`,
      },
      { table: { header: ['', ''], rows } },
    ]),
  };
}

function account(user: unknown): GitHubAccount {
  const u = user as { login?: unknown; id?: unknown; type?: unknown } | null;
  if (!u || typeof u.login !== 'string' || typeof u.id !== 'number') {
    throw new BreakGlassError('BREAK_GLASS_REFUSED', `GitHub named an account without a login or id`);
  }
  return { login: u.login, id: u.id, type: typeof u.type === 'string' ? u.type : 'User' };
}
