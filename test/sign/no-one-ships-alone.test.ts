// No one ships alone, for real (issue 11). Each way one person alone could still get a change signed and deployed is
// built the way that person would build it — against a GitHub fake that says what the real one says (profiles with
// real names and e-mails, reviews after a merge, pull requests into any branch, the activity feed, merge queues) —
// and run: the sign step as actions/sign runs it (in-process, signStep) must refuse it with the right check; and a
// review attestation that says the same thing, signed by the sign identity (as the sign stage under the old rules
// would have signed it, or a forger holding that identity), must be refused by the bundled deploy action and by
// `twokey verify` too.

import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  type Check,
  type DeployReport,
  provenanceStatement,
  readDeployReport,
  workflowProvenance,
  workflowRunClaims,
} from '@twokey/core';
import { DEFAULT_POLICY_PATH, type GitHubApi, type StepOutcome, signStep } from '@twokey/github';
import { signArtifact, signStatement } from '@twokey/sigstore';
import {
  type ActionRun,
  aBot,
  aCommit,
  aGitHubState,
  aPullRequest,
  aRepository,
  aReview,
  aUser,
  type FakeRepository,
  type FakeUser,
  type GitHubFake,
  githubActionsBot,
  identity,
  mergePullRequest,
  moveBranch,
  type OidcIssuer,
  pushCommit,
  pushToPullRequest,
  runAction,
  type SigstoreStack,
  startGitHubFake,
  startOidcIssuer,
  startSigstoreStack,
  type WorkflowIdentity,
} from '@twokey/testkit';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CliResult, runCli } from '../conformance/run-cli';

const repoRoot = resolve(import.meta.dirname, '..', '..');
const ISSUER = 'https://token.actions.githubusercontent.com';
// The review evidence is read through GraphQL (the default) and through REST (the fallback): the sign tests that judge
// a review run through both, and must give the same verdicts.
const GITHUB_APIS: GitHubApi[] = ['graphql', 'rest'];
let githubApi: GitHubApi = 'graphql';
const BUILD_SAN = 'https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main';
const SHARED_BUILD_WORKFLOW = 'acme/platform/.github/workflows/build.yml@refs/heads/main';
const SIGN_WORKFLOW = 'acme/platform/.github/workflows/sign.yml@refs/heads/main';
const SIGN_SAN = `https://github.com/${SIGN_WORKFLOW}`;
const ARTIFACT = 'dist/app.tar.gz';
const POLICY = DEFAULT_POLICY_PATH;
/** The platform's shared build and sign workflows, no repository pinned: the README's example for one repository. */
const SHARED_POLICY = '.twokey/shared.yml';
/** POLICY, and review.bot-pushers: dependabot[bot]. */
const BOT_PUSHERS_POLICY = '.twokey/bot-pushers.yml';
/** POLICY, and review.unidentified-co-authors: allow. */
const ALLOW_UNIDENTIFIED_POLICY = '.twokey/allow-unidentified.yml';

let issuer: OidcIssuer;
let stack: SigstoreStack;
let root: string;
let workspace: string;
let artifactHex: string;
const fakes: GitHubFake[] = [];
let count = 0;

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  root = mkdtempSync(join(tmpdir(), 'twokey-alone-'));
  workspace = join(root, 'workspace');
  mkdirSync(join(workspace, 'dist'), { recursive: true });
  mkdirSync(join(workspace, '.twokey'), { recursive: true });
  const bytes = `app 2.0 ${'z'.repeat(2048)}\n`;
  writeFileSync(join(workspace, ARTIFACT), bytes);
  artifactHex = createHash('sha256').update(bytes).digest('hex');
  const deploy = `deploy:\n  max-age: 1d\n  trusted-root: ${stack.trustedRootPath}\n`;
  const identities = (build: string) =>
    `version: 1\nidentities:\n  build:\n    issuer: ${ISSUER}\n    san: ${build}\n  sign:\n    issuer: ${ISSUER}\n    san: ${SIGN_SAN}\n`;
  writeFileSync(join(workspace, POLICY), identities(BUILD_SAN) + deploy);
  writeFileSync(join(workspace, SHARED_POLICY), identities(`https://github.com/${SHARED_BUILD_WORKFLOW}`) + deploy);
  writeFileSync(
    join(workspace, BOT_PUSHERS_POLICY),
    `${identities(BUILD_SAN)}review:\n  bot-pushers: ["dependabot[bot]"]\n${deploy}`,
  );
  writeFileSync(
    join(workspace, ALLOW_UNIDENTIFIED_POLICY),
    `${identities(BUILD_SAN)}review:\n  unidentified-co-authors: allow\n${deploy}`,
  );
}, 60_000);

afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

afterAll(async () => {
  await Promise.all([stack?.close(), issuer?.close()]);
  if (root) rmSync(root, { recursive: true, force: true });
});

// ── the jobs ──────────────────────────────────────────────────────────────────────────────────────────────────

function buildJob(commit: string, repository = 'acme/app', ref = 'refs/heads/main'): WorkflowIdentity {
  return identity(repository, '.github/workflows/build.yml', ref, commit);
}

/** The platform's reusable sign workflow, called by `repository`'s release workflow at `commit`. */
function signJob(commit: string, repository = 'acme/app'): WorkflowIdentity {
  return identity(repository, '.github/workflows/release.yml', 'refs/heads/main', commit, {
    job_workflow_ref: SIGN_WORKFLOW,
  });
}

function deployJob(commit: string): WorkflowIdentity {
  return identity('acme/app', '.github/workflows/deploy.yml', 'refs/heads/main', commit, { environment: 'production' });
}

function signingAs(who: WorkflowIdentity) {
  return {
    endpoints: { fulcioURL: stack.fulcioURL, rekorURL: stack.rekorURL, tsaURL: stack.tsaURL },
    identityToken: () => issuer.mint(who, { audience: 'sigstore' }),
  };
}

/** A fresh directory of evidence in the workspace; returns its path relative to the workspace. */
function evidenceDirectory(): string {
  count += 1;
  const relative = `evidence-${count}`;
  mkdirSync(join(workspace, relative));
  return relative;
}

/** Provenance for the artifact, signed by `builder` (its claims name the repository, commit and ref it ran on). */
async function provenanceBy(builder: WorkflowIdentity): Promise<string> {
  const statement = provenanceStatement(
    [{ name: ARTIFACT, digest: { sha256: artifactHex } }],
    workflowProvenance(workflowRunClaims({ ...builder })),
  );
  const directory = evidenceDirectory();
  const bundle = await signStatement(statement, signingAs(builder));
  writeFileSync(join(workspace, directory, 'provenance.sigstore.json'), JSON.stringify(bundle));
  return directory;
}

interface SignRun {
  outcome: StepOutcome;
  checks: Check[];
  /** The directory (in the workspace) the provenance was written to. */
  provenance: string;
}

/** Serves the repository (and the users whose profiles GitHub shows) and runs the sign step as the sign job. */
async function runSign(
  state: (FakeRepository | FakeUser)[],
  options: {
    commit: string;
    builder?: WorkflowIdentity;
    signer?: WorkflowIdentity;
    policy?: string;
    prepare?: (fake: GitHubFake) => void;
  },
): Promise<SignRun> {
  const fake = await startGitHubFake(aGitHubState(...state));
  fakes.push(fake);
  options.prepare?.(fake);
  const provenance = await provenanceBy(options.builder ?? buildJob(options.commit));
  const signer = options.signer ?? signJob(options.commit);
  const outcome = await signStep({
    subjectPath: ARTIFACT,
    subjectDigest: '',
    subjectName: '',
    subjectChecksums: '',
    provenance: `${provenance}/*.json`,
    policy: options.policy ?? POLICY,
    trustedRoot: stack.trustedRootPath,
    endpoints: { fulcioURL: stack.fulcioURL, rekorURL: stack.rekorURL, tsaURL: stack.tsaURL },
    githubToken: 'ghs_sign_job_token',
    githubApiUrl: fake.url,
    githubApi,
    workspace,
    outputDirectory: mkdtempSync(join(tmpdir(), 'twokey-runner-')),
    serverUrl: 'https://github.com',
    identityToken: () => issuer.mint(signer, { audience: 'sigstore' }),
  });
  const checks = outcome.outputs.checks ? (JSON.parse(outcome.outputs.checks) as Check[]) : [];
  return { outcome, checks, provenance };
}

/** Refused by the sign step: nothing signed, and check `id` failed with a reason containing each phrase. */
function expectSignRefused(result: SignRun, id: string, ...phrases: string[]): void {
  const { outcome, checks } = result;
  expect(outcome.failure, outcome.summary).toMatch(/^SIGN_REFUSED: nothing was signed; /);
  expect(outcome.outputs['bundle-paths']).toBeUndefined();
  const check = checks.find((c) => c.id === id);
  expect(check, `no check ${id}: ${outcome.outputs.checks}`).toBeDefined();
  expect(check!.verdict, check!.reason).toBe('fail');
  for (const phrase of phrases) expect(check!.reason).toContain(phrase);
  expect(outcome.errors).toContain(`${id}: ${check!.reason}`);
}

function expectSigned(result: SignRun): void {
  expect(result.outcome.failure, result.outcome.summary).toBeUndefined();
  expect(result.checks.filter((c) => c.verdict === 'fail')).toEqual([]);
  expect(result.outcome.outputs['review-bundle-path']).toBeDefined();
}

// ── the people and their repository ───────────────────────────────────────────────────────────────────────────

/** acme/app: alice, bob (whose profile shows his own name and e-mail) and carol, all with write access. */
function acme() {
  const alice = aUser('alice', { profile: { name: 'Alice Author', email: null } });
  const bob = aUser('bob', { profile: { name: 'Bob Builder', email: 'bob@acme.example' } });
  const carol = aUser('carol', { profile: { name: 'Carol Checker', email: null } });
  const repository = aRepository('acme/app', { collaborators: { alice: 'write', bob: 'write', carol: 'write' } });
  return { alice, bob, carol, repository, state: [repository, alice, bob, carol] as (FakeRepository | FakeUser)[] };
}

const HOUR = 3600_000;

function later(iso: string, ms: number): string {
  return new Date(Date.parse(iso) + ms).toISOString().replace('.000Z', 'Z');
}

// ── 1–5: the sign action refuses ──────────────────────────────────────────────────────────────────────────────

describe.each(GITHUB_APIS)('the review evidence read through %s', (through) => {
  beforeEach(() => {
    githubApi = through;
  });
  afterEach(() => {
    githubApi = 'graphql';
  });

  describe('the sign action refuses a change one person alone stood behind', () => {
    it('1. a co-author named only by e-mail approves: bob co-authored under his public profile name and e-mail', async () => {
      const { alice, bob, repository, state } = acme();
      const commit = aCommit({
        author: alice,
        message: 'Rework the token cache',
        coAuthors: [{ name: 'Bob Builder', email: 'bob@acme.example' }],
      });
      const pullRequest = aPullRequest({ author: alice, commits: [commit], baseSha: repository.branches.main });
      pullRequest.reviews.push(aReview({ by: bob, on: commit.sha }));
      const merged = mergePullRequest(repository, pullRequest, { method: 'squash', by: alice });

      const result = await runSign(state, { commit: merged });

      expectSignRefused(result, 'reviewer-not-contributor', 'bob co-authored commit');
      expectSignRefused(result, 'min-independent-approvals', 'found 0 independent approvals');
    });

    it('1b. bob co-authored under his public e-mail and another name, unidentified co-authors allowed, and GraphQL shows the token no e-mail', async () => {
      // GraphQL's User.email is the public e-mail only as far as the token may see it (an OAuth token needs user:email;
      // an installation token's is not documented): read as "no public e-mail", the trailer matched nobody, counted as
      // an unidentified co-author the policy allows, and bob's approval counted. The approver's profile is read through
      // REST then, as the REST reads read it.
      const { alice, bob, repository, state } = acme();
      const commit = aCommit({
        author: alice,
        message: 'Rework the token cache',
        coAuthors: [{ name: 'Robert', email: 'bob@acme.example' }],
      });
      const pullRequest = aPullRequest({ author: alice, commits: [commit], baseSha: repository.branches.main });
      pullRequest.reviews.push(aReview({ by: bob, on: commit.sha }));
      const merged = mergePullRequest(repository, pullRequest, { method: 'squash', by: alice });

      const result = await runSign(state, {
        commit: merged,
        policy: ALLOW_UNIDENTIFIED_POLICY,
        prepare: (fake) => {
          fake.state.graphqlEmailsHidden = true;
        },
      });

      expectSignRefused(result, 'reviewer-not-contributor', 'bob co-authored commit');
      expectSignRefused(result, 'min-independent-approvals', 'found 0 independent approvals');
    });

    it('1c. the same, and bob’s profile cannot be read through REST either: his approval does not count (a gap, not a pass)', async () => {
      const { alice, bob, repository, state } = acme();
      const commit = aCommit({
        author: alice,
        message: 'Rework the token cache',
        coAuthors: [{ name: 'Robert', email: 'bob@acme.example' }],
      });
      const pullRequest = aPullRequest({ author: alice, commits: [commit], baseSha: repository.branches.main });
      pullRequest.reviews.push(aReview({ by: bob, on: commit.sha }));
      const merged = mergePullRequest(repository, pullRequest, { method: 'squash', by: alice });

      const result = await runSign(state, {
        commit: merged,
        policy: ALLOW_UNIDENTIFIED_POLICY,
        prepare: (fake) => {
          fake.state.graphqlEmailsHidden = true;
          fake.failOn('GET /users/{username}', { status: 404 });
        },
      });

      expectSignRefused(result, 'min-independent-approvals', 'found 0 independent approvals');
    });

    it('2. an approval given after the merge: alice merges unreviewed, bob approves the merged head an hour later', async () => {
      const { alice, bob, repository, state } = acme();
      const commit = aCommit({ author: alice, message: 'Disable the rate limiter' });
      const pullRequest = aPullRequest({ author: alice, commits: [commit], baseSha: repository.branches.main });
      const merged = mergePullRequest(repository, pullRequest, { method: 'merge', by: alice });
      pullRequest.reviews.push(aReview({ by: bob, on: commit.sha, at: later(pullRequest.mergedAt!, HOUR) }));

      const result = await runSign(state, { commit: merged });

      expectSignRefused(result, 'approval-before-merge', 'after the merge at', 'never counts');
    });

    it('2b. a second required approval given after the merge does not count toward min-approvals: 2', async () => {
      const { alice, bob, carol, repository, state } = acme();
      const commit = aCommit({ author: alice, message: 'Open the admin API' });
      const pullRequest = aPullRequest({ author: alice, commits: [commit], baseSha: repository.branches.main });
      pullRequest.reviews.push(aReview({ by: carol, on: commit.sha }));
      const merged = mergePullRequest(repository, pullRequest, { method: 'merge', by: alice });
      pullRequest.reviews.push(aReview({ by: bob, on: commit.sha, at: later(pullRequest.mergedAt!, HOUR) }));
      writeFileSync(
        join(workspace, '.twokey', 'two.yml'),
        `${readFileSync(join(workspace, POLICY), 'utf8')}review:\n  min-approvals: 2\n`,
      );

      const result = await runSign(state, { commit: merged, policy: '.twokey/two.yml' });

      expectSignRefused(
        result,
        'min-independent-approvals',
        'expected at least 2, found 1 independent approval (carol)',
      );
      expectSignRefused(result, 'min-independent-approvals', 'bob approved at', 'after the merge');
    });

    it('3. a reviewed pull request into a side branch, then main moved onto its merge commit', async () => {
      const { alice, bob, repository, state } = acme();
      // alice pushes an unreviewed commit to her own branch …
      moveBranch(repository, 'alice-scratch', repository.branches.main!, { by: alice });
      const unreviewed = aCommit({ author: alice, message: 'Add a backdoor' });
      pushCommit(repository, unreviewed, 'alice-scratch', { by: alice });
      // … bob approves a small pull request into that branch (its diff never shows her commit) …
      const small = aCommit({ author: alice, message: 'Fix a typo' });
      const pullRequest = aPullRequest({
        author: alice,
        commits: [small],
        baseRef: 'alice-scratch',
        baseSha: unreviewed.sha,
      });
      pullRequest.reviews.push(aReview({ by: bob, on: small.sha }));
      const merged = mergePullRequest(repository, pullRequest, { method: 'merge', by: alice });
      // … and main is moved to that merge commit; the build runs on main.
      moveBranch(repository, 'main', merged, { by: alice, force: true });

      const result = await runSign(state, { commit: merged });

      expectSignRefused(
        result,
        'base-is-protected-branch',
        `expected pull request #${pullRequest.number} to be merged into main, the branch the build ran on; its base is alice-scratch`,
      );
      expectSignRefused(result, 'reached-branch-by-merge', 'pushed to refs/heads/main directly: force_push by alice');
    });

    it("4. another repository's valid chain: shared workflows, no repository pinned, acme/other's build signed for acme/app", async () => {
      const carol = aUser('carol');
      const dave = aUser('dave');
      const other = aRepository('acme/other', { collaborators: { carol: 'write', dave: 'write' } });
      const commit = aCommit({ author: carol, message: 'Ship the other service' });
      const pullRequest = aPullRequest({ author: carol, commits: [commit], baseSha: other.branches.main });
      pullRequest.reviews.push(aReview({ by: dave, on: commit.sha }));
      const merged = mergePullRequest(other, pullRequest, { method: 'merge', by: dave });
      const sharedBuild = identity('acme/other', '.github/workflows/release.yml', 'refs/heads/main', merged, {
        job_workflow_ref: SHARED_BUILD_WORKFLOW,
      });

      // The sign workflow, called by acme/app's release, is handed acme/other's (valid, reviewed) provenance.
      const result = await runSign([other, carol, dave], {
        commit: merged,
        builder: sharedBuild,
        signer: signJob(merged, 'acme/app'),
        policy: SHARED_POLICY,
      });

      expectSignRefused(
        result,
        'source-repository-bound',
        "expected provenance of acme/app (bound by the sign job's repository), found provenance of acme/other",
      );
    });

    it('5. a plain push to the pull request by bob (commits authored and committed as alice), then bob approves', async () => {
      const { alice, bob, repository, state } = acme();
      const first = aCommit({ author: alice, message: 'Add the exporter' });
      const pullRequest = aPullRequest({ author: alice, commits: [first], baseSha: repository.branches.main });
      const sneaky = aCommit({ author: alice, message: 'Export to one more place' });
      pushToPullRequest(pullRequest, sneaky, { by: bob });
      pullRequest.reviews.push(aReview({ by: bob, on: sneaky.sha }));
      const merged = mergePullRequest(repository, pullRequest, { method: 'squash', by: alice });

      const result = await runSign(state, { commit: merged });

      expectSignRefused(
        result,
        'reviewer-not-last-pusher',
        'bob is the last pusher (push by bob at',
        'from the activity feed',
      );
      expectSignRefused(result, 'reviewer-not-contributor', 'bob pushed to refs/heads/');
    });

    it('6. bob’s own workflow pushes his commit to alice’s pull request with its GITHUB_TOKEN (the feed names github-actions[bot]), then bob approves and merges', async () => {
      const { alice, bob, repository, state } = acme();
      const first = aCommit({ author: alice, message: 'Add the exporter' });
      const pullRequest = aPullRequest({ author: alice, commits: [first], baseSha: repository.branches.main });
      // A workflow bob pushed to a branch of his own (permissions: contents: write) checks out alice's head branch,
      // commits his code under the identity actions/checkout users give it, and pushes with the job's GITHUB_TOKEN.
      const sneaky = aCommit({
        author: { name: 'github-actions[bot]', email: '41898282+github-actions[bot]@users.noreply.github.com' },
        message: 'chore: regenerate the exporter config',
      });
      pushToPullRequest(pullRequest, sneaky, { by: githubActionsBot });
      pullRequest.reviews.push(aReview({ by: bob, on: sneaky.sha }));
      const merged = mergePullRequest(repository, pullRequest, { method: 'squash', by: bob });

      const result = await runSign(state, { commit: merged });

      expectSignRefused(
        result,
        'contributors-identified',
        'was made by github-actions[bot], a bot, so whoever had it push',
        'review.bot-pushers',
      );
    });

    it('6b. bob’s workflow opens the pull request itself and pushes to it, bob approves and merges: no second person', async () => {
      const { alice, bob, repository, state } = acme();
      // Under alice's git identity (self-asserted): she appears as an author, bob nowhere.
      const sneaky = aCommit({ author: alice, message: 'Export to one more place' });
      const pullRequest = aPullRequest({
        author: githubActionsBot,
        commits: [sneaky],
        baseSha: repository.branches.main,
      });
      pullRequest.headActivity = pullRequest.headActivity.map((change) => ({ ...change, by: githubActionsBot }));
      pullRequest.reviews.push(aReview({ by: bob, on: sneaky.sha }));
      const merged = mergePullRequest(repository, pullRequest, { method: 'squash', by: bob });

      const result = await runSign(state, { commit: merged });

      expectSignRefused(result, 'contributors-identified', 'was made by github-actions[bot], a bot');
    });

    it('7. bob merges a pull request of his own into alice’s pull request branch (a stacked pull request), then approves and merges hers', async () => {
      const { alice, bob, repository, state } = acme();
      const honest = aCommit({ author: alice, message: 'Add the exporter' });
      const stackedOn = aPullRequest({ author: alice, commits: [honest], baseSha: repository.branches.main });
      repository.pullRequests.push(stackedOn);
      // bob's commit, under alice's git identity, on a branch of his own; his pull request's base is her branch.
      const sneaky = aCommit({ author: alice, message: 'Export to one more place' });
      const his = aPullRequest({
        author: bob,
        commits: [sneaky],
        headRef: 'bob/exporter-tweak',
        baseRef: stackedOn.head.ref,
        baseSha: stackedOn.head.sha,
      });
      // He rebase-merges it himself (her branch is not protected): the feed of her branch records a pr_merge by bob.
      const replayedSha = mergePullRequest(repository, his, { method: 'rebase', by: bob });
      stackedOn.commits.push(repository.commits.find((c) => c.sha === replayedSha)!);
      stackedOn.head.sha = replayedSha;
      stackedOn.reviews.push(aReview({ by: bob, on: replayedSha }));
      const merged = mergePullRequest(repository, stackedOn, { method: 'merge', by: bob });
      expect(
        repository.activity.some(
          (a) =>
            a.ref === `refs/heads/${stackedOn.head.ref}` && a.activityType === 'pr_merge' && a.actor?.login === 'bob',
        ),
      ).toBe(true);

      const result = await runSign(state, { commit: merged });

      expectSignRefused(result, 'reviewer-not-last-pusher', 'bob is the last pusher (pr_merge by bob at');
      expectSignRefused(
        result,
        'reviewer-not-contributor',
        `bob merged a pull request into refs/heads/${stackedOn.head.ref}`,
      );
    });

    it('8. bob authored a commit of alice’s pull request under his address from before a rename (login@users.noreply…, linked to no account)', async () => {
      const { alice, bob, repository, state } = acme();
      const bobs = aCommit({
        author: { name: 'Robert B.', email: 'bobby@users.noreply.github.com' },
        message: 'Relax the token audience check',
      });
      const head = aCommit({ author: alice, message: 'Wire the new audience in' });
      const pullRequest = aPullRequest({ author: alice, commits: [bobs, head], baseSha: repository.branches.main });
      pullRequest.reviews.push(aReview({ by: bob, on: head.sha }));
      const merged = mergePullRequest(repository, pullRequest, { method: 'merge', by: bob });

      const result = await runSign(state, { commit: merged });

      expectSignRefused(
        result,
        'contributors-identified',
        `author of ${bobs.sha.slice(0, 7)} "Robert B. <bobby@users.noreply.github.com>" has no GitHub account`,
      );
    });

    it('9. bob paired on alice’s change (her trailer names him), renamed his profile, and a decoy account without access took his name and approved after the merge', async () => {
      const { alice, repository } = acme();
      const bob = aUser('bob', { profile: { name: 'Robert', email: null } });
      const decoy = aUser('builder-fan-42', { profile: { name: 'Bob Builder', email: null } });
      const commit = aCommit({
        author: alice,
        message: 'Rework the token cache',
        coAuthors: [{ name: 'Bob Builder', email: 'bob@home.example' }],
      });
      const pullRequest = aPullRequest({ author: alice, commits: [commit], baseSha: repository.branches.main });
      pullRequest.reviews.push(aReview({ by: bob, on: commit.sha, at: later(commit.committer.date, 120_000) }));
      const merged = mergePullRequest(repository, pullRequest, {
        method: 'merge',
        by: alice,
        at: later(commit.committer.date, 600_000),
      });
      // Anyone may review a public repository's pull request, merged or not: the decoy's profile is read as an approver's.
      pullRequest.reviews.push(aReview({ by: decoy, on: commit.sha, at: later(pullRequest.mergedAt!, 60_000) }));

      const result = await runSign([repository, alice, bob, decoy], { commit: merged });

      expectSignRefused(result, 'contributors-identified', '"Bob Builder <bob@home.example>"');
    });

    it('9b. the same with the trailer’s e-mail: bob moved his private address to the decoy and made it its public e-mail', async () => {
      const { alice, repository } = acme();
      const bob = aUser('bob', { profile: { name: 'Robert', email: null } });
      const decoy = aUser('builder-fan-42', { profile: { name: 'B', email: 'bob@home.example' } });
      const commit = aCommit({
        author: alice,
        message: 'Rework the token cache',
        coAuthors: [{ name: 'Bob Builder', email: 'bob@home.example' }],
      });
      const pullRequest = aPullRequest({ author: alice, commits: [commit], baseSha: repository.branches.main });
      pullRequest.reviews.push(aReview({ by: bob, on: commit.sha, at: later(commit.committer.date, 120_000) }));
      const merged = mergePullRequest(repository, pullRequest, {
        method: 'merge',
        by: alice,
        at: later(commit.committer.date, 600_000),
      });
      pullRequest.reviews.push(aReview({ by: decoy, on: commit.sha, at: later(pullRequest.mergedAt!, 60_000) }));

      const result = await runSign([repository, alice, bob, decoy], { commit: merged });

      expectSignRefused(result, 'contributors-identified', '"Bob Builder <bob@home.example>"');
    });

    it('10. bob’s commit in alice’s pull request under an address linked to no account, and a decoy account without access named like him approves after the merge', async () => {
      const { alice, repository } = acme();
      const bob = aUser('bob', { profile: { name: 'Robert', email: null } });
      const decoy = aUser('builder-fan-42', { profile: { name: 'Bob Builder', email: null } });
      const first = aCommit({ author: alice, message: 'Add the exporter' });
      const bobs = aCommit({ author: { name: 'Bob Builder', email: 'bob@laptop.local' }, message: 'Export more' });
      const pullRequest = aPullRequest({ author: alice, commits: [first, bobs], baseSha: repository.branches.main });
      pullRequest.reviews.push(aReview({ by: bob, on: bobs.sha, at: later(bobs.committer.date, 120_000) }));
      const merged = mergePullRequest(repository, pullRequest, {
        method: 'squash',
        by: alice,
        at: later(bobs.committer.date, 600_000),
      });
      pullRequest.reviews.push(aReview({ by: decoy, on: bobs.sha, at: later(pullRequest.mergedAt!, 60_000) }));

      const result = await runSign([repository, alice, bob, decoy], { commit: merged });

      expectSignRefused(
        result,
        'contributors-identified',
        `author of ${bobs.sha.slice(0, 7)} "Bob Builder <bob@laptop.local>" has no GitHub account`,
      );
    });

    it('11. a commit of alice’s pull request authored under an ID+login noreply address GitHub links to no account (an id nobody has)', async () => {
      const { alice, bob, repository, state } = acme();
      const first = aCommit({ author: alice, message: 'Add the exporter' });
      const ghost = aCommit({
        author: { name: 'Nobody', email: '999999999+nobody@users.noreply.github.com' },
        message: 'Export more',
      });
      const pullRequest = aPullRequest({ author: alice, commits: [first, ghost], baseSha: repository.branches.main });
      pullRequest.reviews.push(aReview({ by: bob, on: ghost.sha }));
      const merged = mergePullRequest(repository, pullRequest, { method: 'squash', by: alice });

      const result = await runSign(state, { commit: merged });

      expectSignRefused(
        result,
        'contributors-identified',
        `author of ${ghost.sha.slice(0, 7)} "Nobody <999999999+nobody@users.noreply.github.com>" has no GitHub account`,
      );
    });

    it('refuses when the activity feed cannot answer (403), saying how the policy may accept the fallback', async () => {
      const { alice, bob, repository, state } = acme();
      const commit = aCommit({ author: alice, message: 'Tidy' });
      const pullRequest = aPullRequest({ author: alice, commits: [commit], baseSha: repository.branches.main });
      pullRequest.reviews.push(aReview({ by: bob, on: commit.sha }));
      const merged = mergePullRequest(repository, pullRequest, { method: 'merge', by: bob });

      const result = await runSign(state, {
        commit: merged,
        prepare: (fake) => fake.failOn('GET /repos/{owner}/{repo}/activity', { status: 403 }),
      });

      expectSignRefused(result, 'reached-branch-by-merge', 'HTTP 403', 'review.allow-activity-fallback: true');
      expectSignRefused(result, 'reviewer-not-last-pusher', 'who pushed last is not established');
    });
  });
});

describe.each(GITHUB_APIS)('the review evidence read through %s', (through) => {
  beforeEach(() => {
    githubApi = through;
  });
  afterEach(() => {
    githubApi = 'graphql';
  });

  describe('the sign action still signs what was reviewed', () => {
    it('a Dependabot pull request approved by two people, when the policy lists dependabot[bot] as a bot pusher (refused when it does not)', async () => {
      const { bob, carol, repository, state } = acme();
      const dependabot = aBot('dependabot', { id: 49699333 });
      const bump = aCommit({ author: dependabot, message: 'Bump yaml from 2.8.0 to 2.8.1' });
      const pullRequest = aPullRequest({ author: dependabot, commits: [bump], baseSha: repository.branches.main });
      pullRequest.reviews.push(aReview({ by: bob, on: bump.sha }), aReview({ by: carol, on: bump.sha }));
      const merged = mergePullRequest(repository, pullRequest, { method: 'squash', by: bob });

      expectSigned(await runSign([...state, dependabot], { commit: merged, policy: BOT_PUSHERS_POLICY }));
      expectSignRefused(
        await runSign([...state, dependabot], { commit: merged }),
        'contributors-identified',
        'was made by dependabot[bot], a bot',
      );
    });

    it('a Dependabot pull request approved by one person alone, listed bot or not: its bump pins what a writer may have pushed upstream', async () => {
      // Found by the review of bots and agents: alice pushes her code to acme/internal-lib (or moves an action tag),
      // Dependabot opens "Bump internal-lib from 1a2b3c4 to 9f8e7d6" — author, committer and pusher are the bot — and
      // alice approves and merges it. Nobody stands behind a bot's change as its author: one more approval is asked.
      const { alice, repository, state } = acme();
      const dependabot = aBot('dependabot', { id: 49699333 });
      const bump = aCommit({ author: dependabot, message: 'Bump internal-lib from 1a2b3c4 to 9f8e7d6' });
      const pullRequest = aPullRequest({ author: dependabot, commits: [bump], baseSha: repository.branches.main });
      pullRequest.reviews.push(aReview({ by: alice, on: bump.sha }));
      const merged = mergePullRequest(repository, pullRequest, { method: 'squash', by: alice });

      expectSignRefused(
        await runSign([...state, dependabot], { commit: merged, policy: BOT_PUSHERS_POLICY }),
        'min-independent-approvals',
        '1 + 1: the author dependabot[bot] is a bot: nobody stands behind its change as its author',
      );
    });

    for (const method of ['merge', 'squash', 'rebase'] as const) {
      it(`a ${method} of a pull request approved on its head by someone independent`, async () => {
        const { alice, bob, repository, state } = acme();
        const first = aCommit({ author: alice, message: 'Add the parser' });
        const head = aCommit({ author: alice, message: 'Handle empty input' });
        const pullRequest = aPullRequest({ author: alice, commits: [first, head], baseSha: repository.branches.main });
        pullRequest.reviews.push(aReview({ by: bob, on: head.sha }));
        const merged = mergePullRequest(repository, pullRequest, { method, by: bob });
        expectSigned(await runSign(state, { commit: merged }));
      });
    }

    it('a merge-queue merge of a properly reviewed pull request: accepted; the same commit pushed straight to main: refused', async () => {
      const queued = acme();
      const commit = aCommit({ author: queued.alice, message: 'Speed up the cache' });
      const pullRequest = aPullRequest({
        author: queued.alice,
        commits: [commit],
        baseSha: queued.repository.branches.main,
      });
      pullRequest.reviews.push(aReview({ by: queued.bob, on: commit.sha }));
      const merged = mergePullRequest(queued.repository, pullRequest, {
        method: 'merge',
        by: queued.bob,
        mergeQueue: true,
      });
      const arrival = queued.repository.activity.find((a) => a.after === merged && a.ref === 'refs/heads/main');
      expect(arrival?.activityType).toBe('merge_queue_merge');

      expectSigned(await runSign(queued.state, { commit: merged }));

      // The same commit, but main was pushed to it instead of the queue moving it there.
      arrival!.activityType = 'push';
      arrival!.actor = { login: 'alice', id: queued.alice.id, type: 'User' };
      const pushed = await runSign(queued.state, { commit: merged });
      expectSignRefused(pushed, 'reached-branch-by-merge', 'pushed to refs/heads/main directly: push by alice');
    });
  });
});

// ── the same attacks in a signed review attestation: the deploy action and `twokey verify` refuse them ─────────

interface Judged {
  action: ActionRun;
  cli: CliResult;
  actionReport?: DeployReport;
  cliReport?: DeployReport;
}

/** The deploy action (as acme/app's deploy job) and `twokey verify --repo acme/app`, on the same evidence. */
async function judge(directory: string, commit: string): Promise<Judged> {
  const [action, cli] = await Promise.all([
    runAction(repoRoot, {
      with: {
        'subject-path': ARTIFACT,
        bundles: directory,
        policy: POLICY,
        'fulcio-url': stack.fulcioURL,
        'rekor-url': stack.rekorURL,
        'tsa-url': stack.tsaURL,
      },
      identity: deployJob(commit),
      oidc: issuer,
      workspace,
    }),
    runCli(['verify', ARTIFACT, '--policy', POLICY, '--repo', 'acme/app', '--bundle', directory, '--json'], workspace),
  ]);
  const reportPath = action.outputs['report-path'];
  return {
    action,
    cli,
    ...(reportPath && { actionReport: readDeployReport(readFileSync(reportPath, 'utf8'), reportPath) }),
    ...(cli.stdout.startsWith('{') && { cliReport: readDeployReport(cli.stdout, 'twokey verify --json') }),
  };
}

function reviewRulesReason(report: DeployReport | undefined): string {
  return report?.artifacts[0]?.checks.find((c) => c.id === 'review-rules')?.reason ?? '(no review-rules check)';
}

/** Both refuse: the action fails the step, the CLI exits 1, and review-rules fails naming each review check. */
function expectDeployRefused(judged: Judged, ...reviewChecks: string[]): void {
  const { action, cli, actionReport, cliReport } = judged;
  expect(action.exitCode, action.log).not.toBe(0);
  expect(action.outputs.verified).toBe('false');
  expect(action.outputs).not.toHaveProperty('digests');
  expect(cli.status, cli.stderr).toBe(1);
  for (const report of [actionReport, cliReport]) {
    expect(report?.verdict).toBe('fail');
    const failed = report!.artifacts[0]!.checks.filter((c) => c.verdict === 'fail').map((c) => c.id);
    expect(failed).toEqual(['review-rules']);
    for (const id of reviewChecks) expect(reviewRulesReason(report)).toContain(`${id}: `);
  }
}

type Predicate = Record<string, unknown> & {
  reviews: { submittedAt: string }[];
  commits: { coAuthors: { name: string; email: string }[] }[];
  pullRequest: { baseRef: string; mergedAt: string };
  activity: { headPushes: unknown[]; builtCommitArrivals: { activityType: string; actor: unknown }[] };
};

describe('a review attestation that records one person alone is refused by the deploy gate and twokey verify', () => {
  let honest: { directory: string; commit: string; predicate: Predicate; statement: Record<string, unknown> };

  beforeAll(async () => {
    // The honest release: alice's change, bob approved its head before his merge; built on main, signed.
    const { alice, bob, repository, state } = acme();
    const head = aCommit({ author: alice, message: 'Release notes' });
    const pullRequest = aPullRequest({ author: alice, commits: [head], baseSha: repository.branches.main });
    pullRequest.reviews.push(aReview({ by: bob, on: head.sha }));
    const commit = mergePullRequest(repository, pullRequest, { method: 'merge', by: bob });
    const signed = await runSign(state, { commit });
    expectSigned(signed);
    const reviewPath = signed.outcome.outputs['review-bundle-path']!;
    const statement = JSON.parse(
      Buffer.from(JSON.parse(readFileSync(reviewPath, 'utf8')).dsseEnvelope.payload, 'base64').toString('utf8'),
    );
    const directory = join(workspace, signed.provenance);
    const signature = signed.outcome.outputs['bundle-paths']!.split('\n').find((p) => p !== reviewPath)!;
    copyFileSync(signature, join(directory, 'artifact.sig.sigstore.json'));
    copyFileSync(reviewPath, join(directory, 'review.sigstore.json'));
    honest = { directory: signed.provenance, commit, predicate: statement.predicate, statement };
    const accepted = await judge(honest.directory, commit);
    expect(accepted.cli.status, accepted.cli.stdout + accepted.cli.stderr).toBe(0);
    expect(accepted.action.outputs.verified, accepted.action.log).toBe('true');
    // What passed, for the job that ships it to check it downloaded the same bytes (row 237).
    const hex = createHash('sha256')
      .update(readFileSync(join(workspace, ARTIFACT)))
      .digest('hex');
    expect(accepted.action.outputs.digests).toBe(`${hex}  app.tar.gz`);
    // And until when it passes, for that job to check before it ships (row 253): the report's, a time to come.
    const validUntil = accepted.actionReport!.validUntil!;
    expect(accepted.action.outputs['valid-until']).toBe(validUntil);
    expect(accepted.cliReport!.validUntil).toBe(validUntil);
    expect(Date.parse(validUntil)).toBeGreaterThan(Date.now());
  }, 120_000);

  /** The honest provenance and signature, with a review attestation saying `edit`, signed by the sign identity. */
  async function attested(edit: (predicate: Predicate) => void): Promise<string> {
    const statement = structuredClone(honest.statement) as { predicate: Predicate };
    edit(statement.predicate);
    const directory = evidenceDirectory();
    for (const file of ['provenance.sigstore.json', 'artifact.sig.sigstore.json']) {
      copyFileSync(join(workspace, honest.directory, file), join(workspace, directory, file));
    }
    const bundle = await signStatement(statement, signingAs(signJob(honest.commit)));
    writeFileSync(join(workspace, directory, 'review.sigstore.json'), JSON.stringify(bundle));
    return directory;
  }

  it('1. bob co-authored under his public profile e-mail', async () => {
    const directory = await attested((p) => {
      p.commits[0]!.coAuthors.push({ name: 'B.', email: 'Bob@Acme.example' });
    });
    expectDeployRefused(await judge(directory, honest.commit), 'reviewer-not-contributor', 'min-independent-approvals');
  });

  it('2. bob approved after the merge', async () => {
    const directory = await attested((p) => {
      for (const review of p.reviews) review.submittedAt = later(p.pullRequest.mergedAt, HOUR);
    });
    expectDeployRefused(await judge(directory, honest.commit), 'approval-before-merge', 'min-independent-approvals');
  });

  it('3. the pull request went into a side branch and main was pushed to its merge commit', async () => {
    const directory = await attested((p) => {
      p.pullRequest.baseRef = 'alice-scratch';
      p.activity.builtCommitArrivals[0]!.activityType = 'force_push';
    });
    expectDeployRefused(await judge(directory, honest.commit), 'base-is-protected-branch', 'reached-branch-by-merge');
  });

  it('5. bob pushed to the pull request last', async () => {
    const directory = await attested((p) => {
      const last = structuredClone(p.activity.headPushes.at(-1)) as { actor: unknown; timestamp: string };
      last.actor = (p.reviews[0] as unknown as { reviewer: unknown }).reviewer;
      last.timestamp = later(last.timestamp, 1000);
      p.activity.headPushes.push(last);
    });
    expectDeployRefused(await judge(directory, honest.commit), 'reviewer-not-last-pusher', 'reviewer-not-contributor');
  });

  it('6. bob’s workflow pushed to the pull request last, as github-actions[bot] (signed before bot pushes refused)', async () => {
    const directory = await attested((p) => {
      const last = structuredClone(p.activity.headPushes.at(-1)) as { actor: unknown; timestamp: string };
      last.actor = { login: 'github-actions[bot]', id: 41898282, type: 'Bot' };
      last.timestamp = later(last.timestamp, 1000);
      p.activity.headPushes.push(last);
    });
    expectDeployRefused(await judge(directory, honest.commit), 'contributors-identified');
  });

  it('8. a commit authored under a login@users.noreply… address GitHub linked to no account (signed before it counted as unidentified)', async () => {
    const directory = await attested((p) => {
      const commit = p.commits[0] as unknown as { author: Record<string, unknown> };
      commit.author = { name: 'Robert B.', email: 'bobby@users.noreply.github.com' };
    });
    expectDeployRefused(await judge(directory, honest.commit), 'contributors-identified');
  });

  it('an attestation signed under the old rules (no branch, no profiles, no activity feed) is refused', async () => {
    const directory = await attested((p) => {
      for (const field of ['builtRef', 'defaultBranch', 'profiles', 'activity', 'mergeCommitCoAuthors'])
        delete p[field];
      p.lastPush = { ...(p.lastPush as object), source: 'head-commit' };
    });
    const judged = await judge(directory, honest.commit);
    for (const report of [judged.actionReport, judged.cliReport]) {
      const failed = report!.artifacts[0]!.checks.filter((c) => c.verdict === 'fail').map((c) => c.id);
      expect(failed).toEqual(['review-rules', 'same-commit']);
      expect(reviewRulesReason(report)).toContain('reached-branch-by-merge: ');
      expect(reviewRulesReason(report)).toContain('base-is-protected-branch: ');
      expect(reviewRulesReason(report)).toContain('reviewer-not-contributor: ');
    }
    expect(judged.cli.status).toBe(1);
    expect(judged.action.outputs.verified).toBe('false');
  });

  it('a signature over the artifact by the sign identity alone (no attestation at all) is refused', async () => {
    const directory = evidenceDirectory();
    copyFileSync(join(workspace, honest.directory, 'provenance.sigstore.json'), join(workspace, directory, 'p.json'));
    const signature = await signArtifact(
      { digest: { algorithm: 'sha256', hex: artifactHex } },
      signingAs(signJob(honest.commit)),
    );
    writeFileSync(join(workspace, directory, 'sig.json'), JSON.stringify(signature));
    const judged = await judge(directory, honest.commit);
    expect(judged.cli.status).toBe(1);
    expect(judged.cliReport?.artifacts[0]?.checks.find((c) => c.id === 'review-attestation')?.verdict).toBe('fail');
  });
});
