// The break-glass stage once its required inputs are checked (break-glass-stage.ts): the duration and the subjects,
// who started the run, approved it and wrote the change (GitHub), the exception judged as the gate would judge it,
// then signed, written and stored; and the step's summary. A module of its own, which runBreakGlassStage imports
// (through later-steps.ts) when it gets here: what this needs (the policy's duration parser, the break-glass
// predicate's validator, the GitHub client, signing) is not read at the start of a step whose inputs are unusable.
import {
  BREAK_GLASS_PREDICATE_TYPE,
  BREAK_GLASS_RUN_SUBJECT,
  type BreakGlassChangePeople,
  type BreakGlassPredicate,
  breakGlassChangePeople,
  breakGlassProblems,
  breakGlassRefProblem,
  buildBreakGlassStatement,
  describeContributor,
  type GitHubAccount,
  type Inline,
  isBotAccount,
  LAST_ISO_TIME_MS,
  MAX_SUBJECTS,
  parseDuration,
  renderSummary,
  WAIVABLE_CHECKS,
} from '@twokey/core';
import { resolveSigningEndpoints, resolveSubjects, signStatement } from '@twokey/sigstore';
import { storeAttestations } from './attestations';
import { BreakGlassError, type BreakGlassInputs, type BreakGlassResult } from './break-glass-stage';
import { readProfiles } from './deploy-approvals';
import { commitArrivals, restCommitOf } from './evidence';
import { contentName, writeEvidence } from './evidence-directory';
import { readReviewEvidence } from './evidence-graphql';
import { idTokenClaims } from './job-identity';
import { createGitHubClient, type GitHubClient } from './octokit';
import { readRunAttempt, triggeringActorMismatch } from './run-attempt';
import type { StepOutcome } from './step';

/** The break-glass attestation of `inputs` (their required values checked), signed; or why not (BreakGlassError). */
export async function signBreakGlass(inputs: BreakGlassInputs): Promise<BreakGlassResult> {
  let seconds: number;
  try {
    seconds = parseDuration(inputs.duration || '4h');
  } catch (error) {
    throw new BreakGlassError('BREAK_GLASS_INPUT', `duration: ${(error as Error).message}`);
  }
  // Ten digits of days (9999999999d) end after the last time an ISO 8601 date holds: refused as the input it is, not
  // an internal error when the window is written. (The org policy's max-duration, which the gate reads, is far less.)
  if ((inputs.now ?? new Date()).getTime() + seconds * 1000 > LAST_ISO_TIME_MS) {
    throw new BreakGlassError('BREAK_GLASS_INPUT', `duration: ${inputs.duration}: ends after the year 9999`);
  }
  const subjects = await resolveSubjects(inputs, inputs.workspace);
  // The statement carries one more subject, the run that signs it (buildBreakGlassStatement): no artifact takes its name.
  if (subjects.some((s) => s.name === BREAK_GLASS_RUN_SUBJECT)) {
    throw new BreakGlassError(
      'BREAK_GLASS_INPUT',
      `an artifact may not be named ${BREAK_GLASS_RUN_SUBJECT}: the break-glass's subject of that name is the run that signs it`,
    );
  }
  if (subjects.length + 1 > MAX_SUBJECTS) {
    throw new BreakGlassError(
      'BREAK_GLASS_INPUT',
      `found ${subjects.length} subjects: a break-glass holds at most ${MAX_SUBJECTS - 1} artifacts besides the subject of its run (${MAX_SUBJECTS} in all, as actions/attest allows)`,
    );
  }
  // The environment this job runs in, from its own token: only its reviewers release a break-glass. A run's approvals
  // are those of every environment of the run (the caller's staging job's too).
  const claims = idTokenClaims(await inputs.identityToken());
  const environment = claims.environment;
  // The event that started the run, as the token (and so the certificate's Build Trigger) says it.
  const trigger = typeof claims.event_name === 'string' ? claims.event_name : undefined;
  if (typeof environment !== 'string' || environment === '') {
    throw new BreakGlassError(
      'BREAK_GLASS_REFUSED',
      'this job runs in no environment (its token names none): a break-glass is released only by the reviewers of the environment it runs in',
    );
  }
  // The attempt this job runs in, as its token says it (the attempt its certificate's Run Invocation URI will name),
  // must be GITHUB_RUN_ATTEMPT's, which the predicate records: the judgement below signs in a run's first attempt
  // only (a re-run's approvals cannot be told from the first attempt's), and a variable alone must not say "first".
  const tokenAttempt =
    typeof claims.run_attempt === 'string' && /^[1-9][0-9]{0,8}$/.test(claims.run_attempt)
      ? Number(claims.run_attempt)
      : undefined;
  if (tokenAttempt !== inputs.runAttempt) {
    throw new BreakGlassError(
      'BREAK_GLASS_REFUSED',
      `this job's token says it runs in attempt ${typeof claims.run_attempt === 'string' ? claims.run_attempt : '(none)'} of its run, GITHUB_RUN_ATTEMPT says ${inputs.runAttempt}: which attempt would sign cannot be told, and a break-glass is signed only in a run's first`,
    );
  }
  const [owner, repo] = inputs.repository.split('/') as [string, string];
  const client = inputs.client ?? createGitHubClient({ token: inputs.githubToken, baseUrl: inputs.apiUrl });
  const attempt = { repository: inputs.repository, runId: inputs.runId, runAttempt: inputs.runAttempt };
  const [approvals, commit, starters, defaultBranch] = await Promise.all([
    client
      .request('GET /repos/{owner}/{repo}/actions/runs/{run_id}/approvals', { owner, repo, run_id: inputs.runId })
      .then(({ data }) => data as { state?: string; user?: unknown; environments?: { name?: unknown }[] }[]),
    client
      .request('GET /repos/{owner}/{repo}/commits/{ref}', { owner, repo, ref: inputs.commit })
      .then(({ data }) => data as { author?: unknown; commit?: unknown }),
    // Whoever started this attempt (a re-run's: whoever re-ran it), by account as GitHub names it, never by login: a
    // login renamed away and claimed by another account would name that one, and the renamed requester would approve
    // as someone else. GITHUB_TRIGGERING_ACTOR must still be its login. The run's first starter (its `actor`) too.
    readRunAttempt(client, attempt),
    // The repository's default branch: the protected branch this run must run from (this stage reads no policy, so
    // not review.protected-branches), recorded for the gate, which reads the run's ref from the certificate.
    client
      .request('GET /repos/{owner}/{repo}', { owner, repo })
      .then(({ data }) => (data as { default_branch?: unknown }).default_branch),
  ]);
  const requester = starters.triggeringActor;
  const renamed = triggeringActorMismatch(inputs.requester, requester, attempt, 'who asked for the break-glass');
  if (renamed) throw new BreakGlassError('BREAK_GLASS_REFUSED', renamed);
  const actorId = typeof claims.actor_id === 'string' ? Number(claims.actor_id) : Number.NaN;
  if (!Number.isSafeInteger(actorId)) {
    throw new BreakGlassError(
      'BREAK_GLASS_REFUSED',
      "this job's token names no account that started the run (actor_id): whoever asked for the break-glass cannot be kept from releasing it",
    );
  }
  // The requester must be the account that started the run, as the token says, when the logins say it is: not
  // re-run by another, or by an account that took the login over in between (the same login, two accounts).
  if (
    typeof claims.actor === 'string' &&
    claims.actor.toLowerCase() === inputs.requester.toLowerCase() &&
    requester.id !== actorId
  ) {
    throw new BreakGlassError(
      'BREAK_GLASS_REFUSED',
      `the login ${inputs.requester} is GitHub account ${requester.id} now, but the run was started by account ${claims.actor_id} (its token's actor_id): renamed since, so who asked for the break-glass cannot be told by login`,
    );
  }
  if (!commit.author) {
    throw new BreakGlassError(
      'BREAK_GLASS_REFUSED',
      `${inputs.commit}: GitHub links its author to no account, so nobody can tell whether an approver wrote it`,
    );
  }
  const approvers = approvals
    .filter((a) => a.state === 'approved' && (a.environments ?? []).some((e) => e.name === environment))
    .map((a) => account(a.user));
  // Everyone who made the change, none of whom may release it: the head commit's author alone is whoever clicked Merge
  // (a merge commit), or whatever its writer typed.
  const people: BreakGlassChangePeople =
    typeof defaultBranch === 'string' && defaultBranch !== ''
      ? await readChangePeople(client, { ...inputs, defaultBranch, commitData: commit, approvers })
      : { contributors: [], problems: [] };
  const now = inputs.now ?? new Date();
  const predicate: BreakGlassPredicate = {
    reason: inputs.reason.trim(),
    incident: inputs.incident.trim(),
    environment: inputs.environment.trim(),
    repository: { name: inputs.repository, uri: `${inputs.serverUrl}/${inputs.repository}` },
    change: {
      commit: inputs.commit,
      author: account(commit.author),
      ...(people.pullRequest && { pullRequest: people.pullRequest }),
      contributors: people.contributors,
    },
    requester,
    approvers,
    notBefore: now.toISOString(),
    expires: new Date(now.getTime() + seconds * 1000).toISOString(),
    waives: [...WAIVABLE_CHECKS],
    run: {
      id: inputs.runId,
      attempt: inputs.runAttempt,
      uri: `${inputs.serverUrl}/${inputs.repository}/actions/runs/${inputs.runId}/attempts/${inputs.runAttempt}`,
    },
    ...(typeof defaultBranch === 'string' && defaultBranch !== '' && { defaultBranch }),
  };
  // The workflow refuses what the gate would: never sign an exception one person alone stood behind.
  const problems = breakGlassProblems(
    predicate,
    { maxDurationSeconds: seconds, minApprovers: Math.max(1, inputs.minApprovers) },
    // Whoever started the run first (GITHUB_ACTOR) is a requester as much as whoever ran it again.
    // …and by account: whoever started it first, as the token names them, renamed since or not.
    {
      now,
      trigger,
      alsoRequesterIds: [actorId],
      ...(inputs.actor !== undefined && { alsoRequesters: [inputs.actor] }),
    },
  );
  // Asked for on a protected branch only: the run's ref, as its token (and so the certificate's Source Repository Ref)
  // says, must be the repository's default branch. On another ref the caller workflow is anyone's with write access:
  // alice's branch calls the break-glass workflow, she asks bob to "run the preview on my branch", bob dispatches it
  // (the requester), and alice releases it herself.
  const offRef =
    predicate.defaultBranch === undefined
      ? `GitHub named no default branch of ${inputs.repository} (GET /repos/{owner}/{repo}): whether this run's ref is a protected branch cannot be told`
      : breakGlassRefProblem(predicate, {
          ref: typeof claims.ref === 'string' && claims.ref !== '' ? claims.ref : undefined,
          refFrom: "its token's ref",
        });
  if (offRef) problems.push(offRef);
  problems.push(...people.problems);
  // Whoever started the run first is a requester too (above), and must be a person, as the deploy gate insists of a
  // deploy's requesters: carol's workflow dispatches the break-glass with its GITHUB_TOKEN (github-actions[bot] starts
  // the run), dave re-runs it, carol approves. The requester is dave, an approver distinct from him counts, and carol,
  // the unknown person behind the bot, released her own exception. The token names the run's starter by login; GitHub's
  // run attempt names the account and its type. (The predicate names only the requester, so this is the workflow's to
  // refuse; when the requester is that bot, the judgement above has said so already.)
  const starterLogin = typeof claims.actor === 'string' ? claims.actor : undefined;
  const botStarter =
    starterLogin?.toLowerCase().endsWith('[bot]') === true
      ? { login: starterLogin, said: "its token's actor" }
      : starters.actor && isBotAccount(starters.actor)
        ? { login: starters.actor.login, said: "the run's actor, as GitHub's run attempt names it" }
        : undefined;
  if (botStarter !== undefined && !(isBotAccount(requester) && requester.id === actorId)) {
    problems.push(
      `the run was started by ${botStarter.login}, a bot (${botStarter.said}): whoever had it start the run is unknown, so they cannot be kept from releasing the break-glass`,
    );
  }
  if (problems.length > 0) throw new BreakGlassError('BREAK_GLASS_REFUSED', problems.join('; '));
  const statement = buildBreakGlassStatement(subjects, predicate);
  const bundle = await signStatement(statement, {
    endpoints: await resolveSigningEndpoints(inputs.endpoints),
    identityToken: inputs.identityToken,
  });
  const text = `${JSON.stringify(bundle)}\n`;
  const [bundlePath] = writeEvidence(inputs.outputDirectory, [
    { name: contentName('break-glass', text, '.sigstore.json'), text },
  ]);
  const [stored] = inputs.store ? await storeAttestations(inputs.store, [bundle]) : [];
  return { bundlePath: bundlePath!, predicate, ...(stored && { stored }) };
}

/** What the step reports once the exception is signed: its bundle, when it expires, and a summary. */
export function breakGlassOutcome(result: BreakGlassResult): StepOutcome {
  const p = result.predicate;
  const rows: Inline[][] = [
    ['reason', p.reason],
    ['incident', p.incident],
    ['environment', p.environment],
    ['commit', `${p.repository.name}@${p.change.commit} by ${p.change.author.login}`],
    ...(p.change.pullRequest
      ? [['pull request', `#${p.change.pullRequest.number} ${p.change.pullRequest.title}`] as Inline[]]
      : []),
    ['made by', (p.change.contributors ?? []).map(describeContributor).join(', ')],
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
        paragraph: `A time-boxed exception to the review rules (${BREAK_GLASS_PREDICATE_TYPE}): the deploy gate accepts it in one deploy run of its environment, only within its window, and says so in every record.`,
      },
      { table: { header: ['', ''], rows } },
    ]),
  };
}

/**
 * The people of the change (breakGlassChangePeople), read as the sign stage reads a change: the pull request merged as
 * the commit and its people (GraphQL, REST where GraphQL refuses the token), who put the commit on the default branch
 * (its activity feed), and the approvers' public profiles (a commit may name one by profile name or e-mail).
 */
async function readChangePeople(
  client: GitHubClient,
  request: {
    repository: string;
    commit: string;
    defaultBranch: string;
    commitData: { commit?: unknown };
    approvers: GitHubAccount[];
  },
): Promise<BreakGlassChangePeople> {
  const ref = `refs/heads/${request.defaultBranch}`;
  const [{ evidence: review }, arrivals, profiles] = await Promise.all([
    readReviewEvidence(client, { repository: request.repository, commit: request.commit, ref }),
    commitArrivals(client, { repository: request.repository, ref, commit: request.commit }),
    // One that cannot be read (or names another account now) is left out, as for a deploy's approvers: a git identity
    // matching no account refuses the break-glass anyway; only one GitHub ties to another account, under this
    // approver's profile name or e-mail, goes unrecognised.
    readProfiles(
      client,
      request.approvers.map((user) => ({ user, state: 'approved' })),
      () => {},
    ),
  ]);
  return breakGlassChangePeople({
    commit: restCommitOf(request.commitData),
    review,
    arrivals,
    defaultBranch: request.defaultBranch,
    profiles,
  });
}

function account(user: unknown): GitHubAccount {
  const u = user as { login?: unknown; id?: unknown; type?: unknown } | null;
  if (!u || typeof u.login !== 'string' || typeof u.id !== 'number') {
    throw new BreakGlassError('BREAK_GLASS_REFUSED', `GitHub named an account without a login or id`);
  }
  return { login: u.login, id: u.id, type: typeof u.type === 'string' ? u.type : 'User' };
}
