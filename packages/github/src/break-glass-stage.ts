// The break-glass stage: what the platform's break-glass workflow runs, in its own protected environment, once its
// approvers released the job. It reads who started the run and who approved it (the run's environment approvals),
// and who made the change (the commit's author, committer and co-authors; the pull request merged as it, with its
// commits' people and its head branch's pushers; whoever put it on the default branch), refuses unless the run is the
// first attempt of one a person started by hand on the repository's default branch and enough approvers are neither
// the requester nor any of those people, and signs a time-boxed break-glass attestation over the artifacts as its own identity. The deploy gate
// accepts it only in place of the review, once, loudly (packages/gate).
//
// This module is the stage's first step, read at the action's start: the inputs every run needs, checked. What comes
// after (the duration, the subjects, GitHub, the judgement, the signature, the summary) is break-glass-sign.ts,
// imported (through later-steps.ts) when the step gets there (bench/README.md, "Start-up"): parsing a duration alone
// would load the policy's parser (packages/core/src/policy.ts, with YAML and RE2), and this stage reads no policy.
import { type BreakGlassPredicate, CodedError, type SubjectInputs } from '@twokey/core';
import type { SigningEndpointsSource } from '@twokey/sigstore';
import type { AttestationStore, StoredBundle } from './attestations';
import type { GitHubClient } from './octokit';
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
  /**
   * GITHUB_RUN_ATTEMPT: it must be the job token's `run_attempt`, and 1 — a re-run signs nothing, since the run's
   * approvals (every attempt's, with no attempt number) cannot show who released the re-run.
   */
  runAttempt: number;
  /**
   * GITHUB_TRIGGERING_ACTOR: who asked for the break-glass, by login. The account is the run attempt's triggering
   * actor as GitHub names it (by id), whose login this must still be.
   */
  requester: string;
  /** GITHUB_ACTOR, when another account than the requester started the run first: it may not approve either. */
  actor?: string;
  /** Approvers besides the requester and the author the workflow itself insists on (default 1). */
  minApprovers: number;
  /** Where to sign, or how to find out when first signing (asking GitHub the repository's visibility). */
  endpoints: SigningEndpointsSource;
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
    .then(async (result) => (await import('./later-steps')).breakGlassOutcome(result))
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
  const { signBreakGlass } = await import('./later-steps');
  return signBreakGlass(inputs);
}
