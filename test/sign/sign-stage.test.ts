// The sign step in-process, as actions/sign runs it (signStep with a plain record, no environment variables): its
// own OIDC identity from the loopback issuer, the loopback Sigstore stack, and a GitHub API fake holding the
// repository's history. Each attack is built the way an attacker would build it — a commit pushed, a review left, a
// provenance signed by some workflow — and must be refused for its own reason, with no bundle written and no
// certificate requested. The bundled action itself runs in sign-action.test.ts.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Check,
  provenanceStatement,
  REVIEW_PREDICATE_TYPE,
  type Subject,
  workflowProvenance,
  workflowRunClaims,
} from '@twokey/core';
import {
  buildStep,
  DEFAULT_POLICY_PATH,
  evidenceDirectory,
  type GitHubApi,
  type SignStageInputs,
  type StepOutcome,
  signStep,
} from '@twokey/github';
import { signStatement } from '@twokey/sigstore';
import {
  aBot,
  aCommit,
  aForcePush,
  aGitHubState,
  aPullRequest,
  aRepository,
  aReview,
  aUser,
  type FakeRepository,
  type GitHubFake,
  identity,
  mergePullRequest,
  type OidcIssuer,
  pushCommit,
  type SigstoreStack,
  startGitHubFake,
  startOidcIssuer,
  startSigstoreStack,
  type WorkflowIdentity,
} from '@twokey/testkit';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { verifyBundleCli } from '../conformance/run-cli';

const ISSUER = 'https://token.actions.githubusercontent.com';
// The review evidence is read through GraphQL (the default) and through REST (the fallback): the sign tests that judge
// a review run through both, and must give the same verdicts.
const GITHUB_APIS: GitHubApi[] = ['graphql', 'rest'];
let githubApi: GitHubApi = 'graphql';
const BUILD_SAN = 'https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main';
// The platform team's reusable sign workflow: the certificate names its file, not the caller's.
const SIGN_WORKFLOW = 'acme/platform/.github/workflows/twokey-sign.yml@refs/heads/main';
const SIGN_SAN = `https://github.com/${SIGN_WORKFLOW}`;
const REVIEWS_ROUTE = 'GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews';
/** The request that reads the reviews: REST's reviews list, or GraphQL's queries. */
const REVIEWS_READ: Record<GitHubApi, string> = { rest: REVIEWS_ROUTE, graphql: 'POST /graphql' };
const LINUX = 'app-linux-amd64.tar.gz';
const DARWIN = 'app-darwin-arm64.tar.gz';

const POLICY = `version: 1
identities:
  build:
    issuer: ${ISSUER}
    san: ${BUILD_SAN}
  sign:
    issuer: ${ISSUER}
    san: ${SIGN_SAN}
`;

/** The same build identity as an anchored pattern: a prefix or a lookalike must still not match. */
const PATTERN_POLICY = `version: 1
identities:
  build:
    issuer: ${ISSUER}
    san-pattern: 'https://github\\.com/acme/app/\\.github/workflows/build\\.yml@refs/heads/main'
  sign:
    issuer: ${ISSUER}
    san: ${SIGN_SAN}
`;

let stack: SigstoreStack;
let issuer: OidcIssuer;
let workspace: string;
const artifacts: Record<string, string> = {};
const fakes: GitHubFake[] = [];
let provenanceCount = 0;

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  workspace = mkdtempSync(join(tmpdir(), 'twokey-sign-ws-'));
  mkdirSync(join(workspace, 'dist'));
  for (const name of [LINUX, DARWIN]) {
    const bytes = `${name} contents ${'y'.repeat(500)}\n`;
    writeFileSync(join(workspace, 'dist', name), bytes);
    artifacts[name] = createHash('sha256').update(bytes).digest('hex');
  }
  mkdirSync(join(workspace, '.twokey'));
  writeFileSync(join(workspace, '.twokey', 'policy.yml'), POLICY);
  writeFileSync(join(workspace, 'pattern-policy.yml'), PATTERN_POLICY);
});

afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

afterAll(async () => {
  await stack?.close();
  await issuer?.close();
});

// ── the people and the pipeline ───────────────────────────────────────────────────────────────────────────

function buildJob(
  commit: string,
  workflow = '.github/workflows/build.yml',
  repository = 'acme/app',
  ref = 'refs/heads/main',
) {
  return identity(repository, workflow, ref, commit);
}

/** The sign job: the caller's repository and commit, the platform's reusable workflow file. */
function signJob(commit: string): WorkflowIdentity {
  return identity('acme/app', '.github/workflows/release.yml', 'refs/heads/main', commit, {
    job_workflow_ref: SIGN_WORKFLOW,
  });
}

function endpoints() {
  return { fulcioURL: stack.fulcioURL, rekorURL: stack.rekorURL, tsaURL: stack.tsaURL };
}

function subjectsOf(...names: string[]): Subject[] {
  return names.map((name) => ({ name, digest: { sha256: artifacts[name]! } }));
}

/** Provenance as a build job signs it: its statement, its token, the loopback Fulcio and Rekor. */
async function signProvenance(
  job: WorkflowIdentity,
  options: { subjects?: Subject[]; claimedCommit?: string } = {},
): Promise<string> {
  const claims = workflowRunClaims({ ...job, ...(options.claimedCommit && { sha: options.claimedCommit }) });
  const statement = provenanceStatement(options.subjects ?? subjectsOf(LINUX, DARWIN), workflowProvenance(claims));
  const bundle = await signStatement(statement, {
    endpoints: endpoints(),
    identityToken: () => issuer.mint(job, { audience: 'sigstore' }),
  });
  provenanceCount += 1;
  const directory = join(workspace, `provenance-${provenanceCount}`);
  mkdirSync(directory);
  writeFileSync(join(directory, 'provenance.sigstore.json'), JSON.stringify(bundle));
  return `provenance-${provenanceCount}/*.json`;
}

interface SignRun {
  outcome: StepOutcome;
  /** The job's RUNNER_TEMP: the bundles are written to its evidence directory. */
  runnerTemp: string;
  fake: GitHubFake;
  /** Identity tokens Fulcio was asked to certify during the sign run. */
  certified: number;
}

/** Serves `repository` on a GitHub fake and runs the sign step as the sign job (or `as`). */
async function runSign(
  repository: FakeRepository,
  options: {
    provenance: string;
    commit: string;
    as?: WorkflowIdentity;
    with?: Partial<SignStageInputs>;
    prepare?: (fake: GitHubFake) => void;
  },
): Promise<SignRun> {
  const fake = await startGitHubFake(aGitHubState(repository));
  fakes.push(fake);
  options.prepare?.(fake);
  const before = stack.presentedTokens.length;
  const runnerTemp = mkdtempSync(join(tmpdir(), 'twokey-runner-'));
  const job = options.as ?? signJob(options.commit);
  const outcome = await signStep({
    subjectPath: `dist/${LINUX}`,
    subjectDigest: '',
    subjectName: '',
    subjectChecksums: '',
    provenance: options.provenance,
    policy: DEFAULT_POLICY_PATH,
    trustedRoot: stack.trustedRootPath,
    endpoints: endpoints(),
    githubToken: 'ghs_sign_job_token',
    githubApiUrl: fake.url,
    githubApi,
    workspace,
    outputDirectory: runnerTemp,
    serverUrl: 'https://github.com',
    identityToken: () => issuer.mint(job, { audience: 'sigstore' }),
    ...options.with,
  });
  return { outcome, runnerTemp, fake, certified: stack.presentedTokens.length - before };
}

/** Builds provenance for `commit` by the build identity (unless told otherwise) and runs the sign action. */
async function signCommit(
  repository: FakeRepository,
  commit: string,
  options: { as?: WorkflowIdentity; with?: Partial<SignStageInputs>; prepare?: (fake: GitHubFake) => void } = {},
): Promise<SignRun> {
  const provenance = await signProvenance(buildJob(commit));
  return runSign(repository, { provenance, commit, ...options });
}

function checksOf(result: SignRun): Check[] {
  expect(result.outcome.outputs.checks, result.outcome.failure).toBeDefined();
  return JSON.parse(result.outcome.outputs.checks!);
}

function failedIds(result: SignRun): string[] {
  return checksOf(result)
    .filter((c) => c.verdict === 'fail')
    .map((c) => c.id);
}

function bundlesIn(result: SignRun): string[] {
  const directory = evidenceDirectory(result.runnerTemp);
  return existsSync(directory) ? readdirSync(directory) : [];
}

/**
 * The step was refused: it fails, check `id` failed with a reason containing each phrase (in the outputs, an error
 * annotation and the summary), no bundle written, no certificate requested.
 */
function expectRefused(result: SignRun, id: string, ...phrases: string[]): Check {
  const { outcome } = result;
  expect(outcome.failure, outcome.summary).toMatch(/^SIGN_REFUSED: nothing was signed; /);
  const check = checksOf(result).find((c) => c.id === id);
  expect(check, `no check ${id}: ${outcome.outputs.checks}`).toBeDefined();
  expect(check!.verdict, check!.reason).toBe('fail');
  for (const phrase of phrases) expect(check!.reason).toContain(phrase);
  expect(outcome.errors).toContain(`${id}: ${check!.reason}`);
  expect(outcome.outputs.verdict).toBe('fail');
  expect(outcome.summary).toContain('## twokey sign: nothing signed');
  expect(outcome.summary).toContain(`| ❌ | <code>${id}</code> |`);
  expect(outcome.outputs['bundle-paths']).toBeUndefined();
  expect(outcome.outputs['review-bundle-path']).toBeUndefined();
  expect(bundlesIn(result)).toEqual([]);
  expect(result.certified).toBe(0);
  return check!;
}

/** Refused for the review only: every provenance and identity check passed, these review checks failed. */
function expectReviewRefusal(result: SignRun, ids: string[]): void {
  expect(failedIds(result).sort()).toEqual([...ids].sort());
}

function expectSigned(result: SignRun): void {
  const { outcome } = result;
  expect(outcome.failure, outcome.summary).toBeUndefined();
  expect(failedIds(result)).toEqual([]);
  expect(outcome.errors).toEqual([]);
  expect(outcome.outputs.verdict).toBe('pass');
  expect(outcome.summary).toContain('## twokey sign: signed');
  expect(result.certified).toBe(2);
  expect(bundlesIn(result).sort()).toEqual(
    [`${LINUX}.sig.sigstore.json`, `review-${outcome.outputs.commit!.slice(0, 12)}.sigstore.json`].sort(),
  );
}

function verifyBundle(bundlePath: string, artifact: string, san = SIGN_SAN) {
  return verifyBundleCli(bundlePath, artifact, { san, issuer: ISSUER, trustedRoot: stack.trustedRootPath }, workspace);
}

// ── the GitHub history each scenario starts from ──────────────────────────────────────────────────────────

/** alice (write) opens a two-commit pull request; bob and carol have write access too. Nothing merged yet. */
function aChange(options: { visibility?: 'public' | 'private'; title?: string } = {}) {
  const alice = aUser('alice');
  const bob = aUser('bob');
  const carol = aUser('carol');
  const repository = aRepository('acme/app', {
    visibility: options.visibility,
    collaborators: { alice: 'write', bob: 'write', carol: 'write' },
  });
  const first = aCommit({ author: alice, message: 'Add the parser' });
  const head = aCommit({ author: alice, message: 'Handle empty input' });
  const pullRequest = aPullRequest({ author: alice, commits: [first, head], title: options.title ?? 'Parser' });
  return { alice, bob, carol, repository, pullRequest, first, head };
}

describe.each(GITHUB_APIS)('the review evidence read through %s', (through) => {
  beforeEach(() => {
    githubApi = through;
  });
  afterEach(() => {
    githubApi = 'graphql';
  });

  describe('the sign action signs an independently reviewed change', () => {
    it('approved on its merged head by one independent reviewer: signs every artifact and the review attestation; both verify under the sign identity', async () => {
      const change = aChange({ title: 'Parser <b>fast</b> | [x](https://evil.example)' });
      change.pullRequest.reviews.push(aReview({ by: change.bob, on: change.head.sha }));
      const merged = mergePullRequest(change.repository, change.pullRequest, { method: 'squash', by: change.bob });

      // The build job runs the build step on the merged commit.
      const runnerTemp = mkdtempSync(join(tmpdir(), 'twokey-runner-'));
      const build = await buildStep({
        subjectPath: 'dist/*.tar.gz',
        subjectDigest: '',
        subjectName: '',
        subjectChecksums: '',
        endpoints: endpoints(),
        workspace,
        outputDirectory: runnerTemp,
        serverUrl: 'https://github.com',
        identityToken: () => issuer.mint(buildJob(merged), { audience: 'sigstore' }),
      });
      expect(build.failure).toBeUndefined();

      const result = await runSign(change.repository, {
        provenance: build.outputs['bundle-path']!,
        commit: merged,
        with: { subjectPath: 'dist/*.tar.gz' },
      });
      const { outcome } = result;
      expect(outcome.failure, outcome.summary).toBeUndefined();
      expect(failedIds(result)).toEqual([]);
      expect(result.certified).toBe(3);
      expect(outcome.outputs.commit).toBe(merged);

      const paths = outcome.outputs['bundle-paths']!.split('\n');
      const reviewPath = outcome.outputs['review-bundle-path']!;
      const evidence = evidenceDirectory(result.runnerTemp);
      expect(paths).toEqual([
        join(evidence, `${DARWIN}.sig.sigstore.json`),
        join(evidence, `${LINUX}.sig.sigstore.json`),
        join(evidence, `review-${merged.slice(0, 12)}.sigstore.json`),
      ]);
      expect(paths.at(-1)).toBe(reviewPath);

      for (const name of [LINUX, DARWIN]) {
        const signature = await verifyBundle(join(evidence, `${name}.sig.sigstore.json`), `dist/${name}`);
        expect(signature.status, signature.stderr).toBe(0);
        const review = await verifyBundle(reviewPath, `dist/${name}`);
        expect(review.status, review.stderr).toBe(0);
      }
      // Signed by the sign identity, not by the build's.
      const asBuild = await verifyBundle(reviewPath, `dist/${LINUX}`, BUILD_SAN);
      expect(asBuild.status).toBe(1);
      expect(asBuild.stderr).toContain('IDENTITY_MISMATCH');

      const envelope = JSON.parse(readFileSync(reviewPath, 'utf8')).dsseEnvelope;
      const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
      expect(statement.predicateType).toBe(REVIEW_PREDICATE_TYPE);
      expect(statement.subject).toEqual([
        { name: DARWIN, digest: { sha256: artifacts[DARWIN] } },
        { name: LINUX, digest: { sha256: artifacts[LINUX] } },
        {
          name: `git+https://github.com/acme/app@${merged}`,
          uri: 'https://github.com/acme/app',
          digest: { gitCommit: merged },
        },
      ]);
      expect(statement.predicate).toMatchObject({
        reviewers: [{ name: 'bob' }],
        commit: merged,
        mergeMethod: 'squash',
        mergedHead: change.head.sha,
        author: { login: 'alice' },
        verdict: 'pass',
      });

      // The summary shows the pull request, its author and approver, and neutralises the title's markup.
      expect(outcome.summary).toContain('## twokey sign: signed');
      expect(outcome.summary).toContain('| author | alice |');
      expect(outcome.summary).toContain('| independent approvers | bob |');
      expect(outcome.summary).toContain(
        `| pull request | [\\#${change.pullRequest.number} Parser &lt;b&gt;fast&lt;/b&gt; \\| \\[x\\](https\\://evil.example)](https://github.com/acme/app/pull/${change.pullRequest.number}) |`,
      );
      expect(outcome.summary).not.toContain('<b>fast');
      expect(outcome.summary).not.toContain('[x](https://evil.example)');
      // The GitHub API was read with the job's token.
      expect(result.fake.requests.length).toBeGreaterThan(0);
      expect(result.fake.requests.every((r) => r.authorization === 'token ghs_sign_job_token')).toBe(true);
    });

    it('finds the only valid approval on the last page of more than 100 reviews', async () => {
      const change = aChange();
      for (let i = 0; i < 120; i++) {
        change.pullRequest.reviews.push(aReview({ by: change.carol, on: change.head.sha, state: 'COMMENTED' }));
      }
      change.pullRequest.reviews.push(aReview({ by: change.bob, on: change.head.sha }));
      const merged = mergePullRequest(change.repository, change.pullRequest, { method: 'merge', by: change.bob });

      const result = await signCommit(change.repository, merged);

      expectSigned(result);
      const reads = result.fake.requests.filter((r) => r.route === REVIEWS_READ[through]);
      // REST: two pages of reviews. GraphQL: the first 100 in the first query, the rest (and carol's permission) in a
      // second, bob's permission — he first appears on the second page — in a third.
      if (through === 'rest') expect(reads.map((r) => r.query.page ?? '1')).toEqual(['1', '2']);
      else expect(reads).toHaveLength(3);
    });

    it('retries an API failure: failing once, then answering, is accepted', async () => {
      const change = aChange();
      change.pullRequest.reviews.push(aReview({ by: change.bob, on: change.head.sha }));
      const merged = mergePullRequest(change.repository, change.pullRequest, { method: 'rebase', by: change.bob });

      const result = await signCommit(change.repository, merged, {
        prepare: (fake) => fake.failOn(REVIEWS_READ[through], { status: 502, count: 1 }),
      });

      expectSigned(result);
      const statuses = result.fake.requests.filter((r) => r.route === REVIEWS_READ[through]).map((r) => r.status);
      expect(statuses.slice(0, 2)).toEqual([502, 200]);
    });

    it('GraphQL refusing the token (403): the evidence read through REST instead, the same verdict, and the summary says so', async () => {
      const change = aChange();
      change.pullRequest.reviews.push(aReview({ by: change.bob, on: change.head.sha }));
      const merged = mergePullRequest(change.repository, change.pullRequest, { method: 'squash', by: change.bob });

      const result = await signCommit(change.repository, merged, {
        prepare: (fake) => fake.failOn('POST /graphql', { status: 403 }),
      });

      expectSigned(result);
      expect(result.fake.requests.some((r) => r.route === REVIEWS_ROUTE)).toBe(true);
      expect(result.outcome.summary).toContain('GitHub read through');
      if (through === 'graphql')
        expect(result.outcome.summary).toContain('GraphQL refused the token: POST /graphql: HTTP 403');
      else expect(result.outcome.summary).toContain('REST (as asked)');
    });
  });
});

describe('the sign action shows a hostile pull request title as text', () => {
  /** Characters with no backslash before them (a `\\` pair is one escaped backslash). */
  function unescaped(line: string, characters: string): string[] {
    const found: string[] = [];
    for (let i = 0; i < line.length; i++) {
      if (line[i] === '\\') i++;
      else if (characters.includes(line[i]!)) found.push(line[i]!);
    }
    return found;
  }

  it('a title written to forge the summary (HTML, links, an image, a table row, a heading, control characters) stays one cell of text', async () => {
    const title =
      'Fix <img src=x onerror=alert(1)> <details open><summary>ok</summary></details> **now** ' +
      '| ✅ | <code>min-independent-approvals</code> | approved |\n## ✅ twokey sign: signed\r\n' +
      '[re-approve](https://evil.example/login) ![p](https://evil.example/p.png) www.evil.example `x` $y$ ' +
      '\u001b[31m red \u202egnp.exe\u2028';
    // Refused (nobody approved): the title must not make it read otherwise.
    const change = aChange({ title });
    const merged = mergePullRequest(change.repository, change.pullRequest, { method: 'squash', by: change.alice });

    const result = await signCommit(change.repository, merged);

    expectRefused(result, 'min-independent-approvals');
    const lines = result.outcome.summary.split('\n');
    const row = lines.filter((line) => line.startsWith('| pull request | '));
    expect(row).toHaveLength(1);
    expect(unescaped(row[0]!, '|')).toHaveLength(3);
    expect(unescaped(row[0]!, '`*_~$')).toEqual([]);
    // The one link is the pull request's own; the title's brackets are escaped.
    expect(unescaped(row[0]!, '[]')).toEqual(['[', ']']);
    expect(row[0]).toContain(`](https://github.com/acme/app/pull/${change.pullRequest.number}) |`);
    expect(result.outcome.summary).not.toMatch(/<(?!\/?code>|\/?pre>)/);
    expect(result.outcome.summary).not.toMatch(/(?<!\\):\/\/evil|(?<!\\)www\.evil/);
    expect(lines.filter((line) => /[\p{Cc}\u2028\u202e]/u.test(line))).toEqual([]);
    expect(lines.filter((line) => line.startsWith('## '))).toEqual(['## twokey sign: nothing signed']);
    expect(result.outcome.summary).toContain('| verdict | ❌ refused |');
  });
});

describe.each(GITHUB_APIS)('the review evidence read through %s', (through) => {
  beforeEach(() => {
    githubApi = through;
  });
  afterEach(() => {
    githubApi = 'graphql';
  });

  describe('the sign action refuses a change nobody independent approved', () => {
    it('a commit pushed directly, with no pull request', async () => {
      const { repository } = aChange();
      const mallory = aUser('mallory');
      repository.collaborators.mallory = 'admin';
      const pushed = pushCommit(repository, aCommit({ author: mallory, message: 'Hotfix' }));

      const result = await signCommit(repository, pushed);

      expectRefused(result, 'merged-by-pull-request', pushed, 'pushed directly');
      expectRefused(result, 'built-commit-is-merged-commit', `no pull request was merged as ${pushed}`);
    });

    it('a pull request approved only by its author', async () => {
      // alice opens a pull request of dave's commits and approves it herself.
      const change = aChange();
      const dave = aUser('dave');
      const commit = aCommit({ author: dave, message: 'Dave’s change' });
      const pullRequest = aPullRequest({ author: change.alice, commits: [commit] });
      pullRequest.reviews.push(aReview({ by: change.alice, on: commit.sha }));
      const merged = mergePullRequest(change.repository, pullRequest, { method: 'squash', by: change.alice });

      const result = await signCommit(change.repository, merged);

      expectRefused(result, 'reviewer-not-author', `alice is the author of pull request #${pullRequest.number}`);
      // alice also pushed dave's commits to the head branch: by the activity feed she pushed, and pushed last.
      expectReviewRefusal(result, [
        'reviewer-not-author',
        'reviewer-not-contributor',
        'reviewer-not-last-pusher',
        'min-independent-approvals',
      ]);
    });

    it('approved only by someone who co-authored one of its commits', async () => {
      const change = aChange();
      const paired = aCommit({ author: change.alice, message: 'Pair on the parser', coAuthors: [change.carol] });
      const head = aCommit({ author: change.alice, message: 'Tidy up' });
      const pullRequest = aPullRequest({ author: change.alice, commits: [paired, head] });
      pullRequest.reviews.push(aReview({ by: change.carol, on: head.sha }));
      const merged = mergePullRequest(change.repository, pullRequest, { method: 'merge', by: change.carol });

      const result = await signCommit(change.repository, merged);

      expectRefused(result, 'reviewer-not-contributor', `carol co-authored commit ${paired.sha.slice(0, 7)}`);
      expectReviewRefusal(result, ['reviewer-not-contributor', 'min-independent-approvals']);
    });

    it('approved only by someone who authored one of its commits', async () => {
      const change = aChange();
      const byCarol = aCommit({ author: change.carol, message: 'Carol fixes a test' });
      const head = aCommit({ author: change.alice, message: 'Finish' });
      const pullRequest = aPullRequest({ author: change.alice, commits: [byCarol, head] });
      pullRequest.reviews.push(aReview({ by: change.carol, on: head.sha }));
      const merged = mergePullRequest(change.repository, pullRequest, { method: 'squash', by: change.carol });

      const result = await signCommit(change.repository, merged);

      expectRefused(result, 'reviewer-not-contributor', `carol authored commit ${byCarol.sha.slice(0, 7)}`);
      expectReviewRefusal(result, ['reviewer-not-contributor', 'min-independent-approvals']);
    });

    it('approved only before the last push (the approval is not on the merged head)', async () => {
      const { alice, bob, repository } = aChange();
      const first = aCommit({ author: alice, message: 'Looks harmless' });
      const approval = aReview({ by: bob, on: first.sha });
      const sneaky = aCommit({ author: alice, message: 'And one more thing' });
      const pullRequest = aPullRequest({ author: alice, commits: [first, sneaky], reviews: [approval] });
      const merged = mergePullRequest(repository, pullRequest, { method: 'squash', by: alice });

      const result = await signCommit(repository, merged);

      expectRefused(
        result,
        'approval-on-merged-head',
        `bob approved ${first.sha.slice(0, 7)}, not the merged head ${sneaky.sha.slice(0, 7)}`,
      );
      expectReviewRefusal(result, ['approval-on-merged-head', 'min-independent-approvals']);
    });

    it('an approval that was dismissed', async () => {
      const change = aChange();
      change.pullRequest.reviews.push(aReview({ by: change.bob, on: change.head.sha, state: 'DISMISSED' }));
      const merged = mergePullRequest(change.repository, change.pullRequest, { method: 'merge', by: change.alice });

      const result = await signCommit(change.repository, merged);

      expectRefused(result, 'latest-review-per-reviewer', 'found none', 'bob DISMISSED');
      expectRefused(result, 'min-independent-approvals', 'expected at least 1, found 0 independent approvals');
      expect(result.outcome.summary).toContain('dismissed: a dismissed review never counts');
    });

    it('an approval followed by "changes requested" from the same reviewer', async () => {
      const change = aChange();
      const approval = aReview({ by: change.bob, on: change.head.sha });
      const objection = aReview({ by: change.bob, on: change.head.sha, state: 'CHANGES_REQUESTED' });
      change.pullRequest.reviews.push(approval, objection);
      const merged = mergePullRequest(change.repository, change.pullRequest, { method: 'merge', by: change.alice });

      const result = await signCommit(change.repository, merged);

      expectRefused(result, 'changes-requested', `bob (review ${objection.id}`);
      expectRefused(
        result,
        'latest-review-per-reviewer',
        `bob's approval (review ${approval.id}) was superseded by CHANGES_REQUESTED (review ${objection.id})`,
      );
    });

    it('an approval only by a bot', async () => {
      const change = aChange();
      const renovate = aBot('renovate');
      change.repository.collaborators['renovate[bot]'] = 'write';
      change.pullRequest.reviews.push(aReview({ by: renovate, on: change.head.sha }));
      const merged = mergePullRequest(change.repository, change.pullRequest, { method: 'squash', by: change.alice });

      const result = await signCommit(change.repository, merged);

      expectRefused(result, 'reviewer-not-bot', 'renovate[bot] is a bot', 'allow-bots: false');
      expectReviewRefusal(result, ['reviewer-not-bot', 'min-independent-approvals']);
    });

    it('an approval only by the last pusher (who force-pushed the head)', async () => {
      const { alice, bob, repository } = aChange();
      // bob rewrites alice's branch (keeping alice as author and committer), force-pushes it, and approves it.
      const rewritten = aCommit({ author: alice, message: 'Add the parser (now with a backdoor)' });
      const pullRequest = aPullRequest({ author: alice, commits: [rewritten] });
      pullRequest.events.push(aForcePush({ by: bob, headSha: rewritten.sha }));
      pullRequest.reviews.push(aReview({ by: bob, on: rewritten.sha }));
      const merged = mergePullRequest(repository, pullRequest, { method: 'squash', by: bob });

      const result = await signCommit(repository, merged);

      expectRefused(result, 'reviewer-not-last-pusher', 'bob is the last pusher (force_push by bob at');
      expectRefused(result, 'reviewer-not-last-pusher', 'from the activity feed');
      expectReviewRefusal(result, [
        'reviewer-not-contributor',
        'reviewer-not-last-pusher',
        'min-independent-approvals',
      ]);
    });

    it('an approval only by an outsider with no write access (a sock-puppet account)', async () => {
      const change = aChange({ visibility: 'public' });
      const sockPuppet = aUser('totally-not-alice');
      change.pullRequest.reviews.push(aReview({ by: sockPuppet, on: change.head.sha }));
      const merged = mergePullRequest(change.repository, change.pullRequest, { method: 'squash', by: change.alice });

      const result = await signCommit(change.repository, merged);

      expectRefused(
        result,
        'reviewer-has-write-access',
        'totally-not-alice has read permission on acme/app, expected write, maintain or admin',
      );
      expectReviewRefusal(result, ['reviewer-has-write-access', 'min-independent-approvals']);
    });

    it('the pull request was merged as a different commit than the one built', async () => {
      const change = aChange();
      change.pullRequest.reviews.push(aReview({ by: change.bob, on: change.head.sha }));
      const merged = mergePullRequest(change.repository, change.pullRequest, { method: 'squash', by: change.bob });

      // The build ran on the branch head, not on what was merged.
      const result = await signCommit(change.repository, change.head.sha);

      expectRefused(
        result,
        'built-commit-is-merged-commit',
        `the built commit ${change.head.sha} belongs to pull request #${change.pullRequest.number}`,
        `was merged as ${merged}`,
      );
      expectRefused(result, 'merged-by-pull-request');
    });

    it('review evidence that cannot be had (the API fails every time) is incomplete: refused', async () => {
      const change = aChange();
      change.pullRequest.reviews.push(aReview({ by: change.bob, on: change.head.sha }));
      const merged = mergePullRequest(change.repository, change.pullRequest, { method: 'merge', by: change.bob });

      const result = await signCommit(change.repository, merged, {
        prepare: (fake) => fake.failOn(REVIEWS_READ[through], { status: 503 }),
      });

      const failed = {
        rest: `GET /repos/acme/app/pulls/${change.pullRequest.number}/reviews: HTTP 503, after retries`,
        graphql: `POST /graphql (the pull request merged as ${merged}): HTTP 503, after retries`,
      };
      expectRefused(result, 'evidence-complete', 'the review evidence is incomplete', failed[through]);
      // One attempt and three retries, then a refusal; never a pass on partial evidence.
      expect(result.fake.requests.filter((r) => r.route === REVIEWS_READ[through]).map((r) => r.status)).toEqual([
        503, 503, 503, 503,
      ]);
    });

    it('never takes the commit from the job context: an approved GITHUB_SHA does not vouch for an unreviewed build', async () => {
      const change = aChange();
      change.pullRequest.reviews.push(aReview({ by: change.bob, on: change.head.sha }));
      const approved = mergePullRequest(change.repository, change.pullRequest, { method: 'squash', by: change.bob });
      const unreviewed = pushCommit(change.repository, aCommit({ author: change.alice, message: 'Straight to main' }));

      const provenance = await signProvenance(buildJob(unreviewed));
      const result = await runSign(change.repository, {
        provenance,
        commit: approved,
      });

      expectRefused(result, 'merged-by-pull-request', unreviewed);
      expect(result.outcome.outputs.commit).toBe(unreviewed);
    });
  });
});

describe('the sign action refuses provenance that is not the build identity’s word for these artifacts', () => {
  /** An approved, merged change: everything about the review holds, so only the provenance can fail. */
  function approvedChange() {
    const change = aChange();
    change.pullRequest.reviews.push(aReview({ by: change.bob, on: change.head.sha }));
    const merged = mergePullRequest(change.repository, change.pullRequest, { method: 'squash', by: change.bob });
    return { ...change, merged };
  }

  it('provenance signed by another workflow of the repository than the policy’s build', async () => {
    const { repository, merged } = approvedChange();
    const provenance = await signProvenance(buildJob(merged, '.github/workflows/ci.yml'));

    const result = await runSign(repository, { provenance, commit: merged });

    expectRefused(
      result,
      'provenance-build-identity',
      `expected identity ${BUILD_SAN}, found https://github.com/acme/app/.github/workflows/ci.yml@refs/heads/main`,
    );
    expectRefused(result, 'review-evidence', 'not collected');
    expect(result.fake.requests).toEqual([]);
  });

  it('provenance whose subjects do not include the artifact', async () => {
    const { repository, merged } = approvedChange();
    const provenance = await signProvenance(buildJob(merged), { subjects: subjectsOf(DARWIN) });

    const result = await runSign(repository, { provenance, commit: merged });

    expectRefused(result, 'artifacts-in-provenance', `${LINUX} (sha256:${artifacts[LINUX]}) in none`, DARWIN);
    expect(failedIds(result)).toEqual(['artifacts-in-provenance']);
  });

  it('provenance that names a reviewed commit while its certificate says the build ran on another', async () => {
    const { repository, merged, alice } = approvedChange();
    const unreviewed = pushCommit(repository, aCommit({ author: alice, message: 'Unreviewed' }));
    const provenance = await signProvenance(buildJob(unreviewed), { claimedCommit: merged });

    const result = await runSign(repository, { provenance, commit: merged });

    expectRefused(
      result,
      'provenance-certificate-agrees',
      `the provenance says commit ${merged}, but the build identity's certificate says the workflow ran on ${unreviewed}`,
    );
  });

  for (const [policy, label] of [
    ['.twokey/policy.yml', 'an exact SAN'],
    ['pattern-policy.yml', 'an anchored pattern'],
  ] as const) {
    it.each([
      ['a branch named like the policy’s', 'acme/app', 'refs/heads/main-evil'],
      ['a fork named like the repository', 'acme/app-fork', 'refs/heads/main'],
    ])(`a build identity that is a prefix-lookalike of the policy’s (${label}): %s`, async (_, repo, ref) => {
      const { repository, merged } = approvedChange();
      const provenance = await signProvenance(buildJob(merged, '.github/workflows/build.yml', repo, ref));

      const result = await runSign(repository, { provenance, commit: merged, with: { policy } });

      expectRefused(
        result,
        'provenance-build-identity',
        `found https://github.com/${repo}/.github/workflows/build.yml@${ref}`,
      );
    });
  }
});

describe('the sign action refuses to run as the build identity', () => {
  it('sign running under the same workflow identity as build', async () => {
    const change = aChange();
    change.pullRequest.reviews.push(aReview({ by: change.bob, on: change.head.sha }));
    const merged = mergePullRequest(change.repository, change.pullRequest, { method: 'squash', by: change.bob });

    const result = await signCommit(change.repository, merged, { as: buildJob(merged) });

    expectRefused(
      result,
      'sign-identity-distinct',
      `the sign job runs as ${BUILD_SAN}, the identity that signed the build provenance`,
    );
    expectRefused(result, 'sign-identity-in-policy', `expected ${SIGN_SAN}, found ${BUILD_SAN}`);
  });

  it('sign running as another workflow that the policy’s build pattern matches', async () => {
    writeFileSync(
      join(workspace, 'wide-build-policy.yml'),
      POLICY.replace(
        `san: ${BUILD_SAN}`,
        "san-pattern: 'https://github\\.com/acme/app/\\.github/workflows/build(-release)?\\.yml@refs/heads/main'",
      ),
    );
    const change = aChange();
    change.pullRequest.reviews.push(aReview({ by: change.bob, on: change.head.sha }));
    const merged = mergePullRequest(change.repository, change.pullRequest, { method: 'squash', by: change.bob });

    const result = await signCommit(change.repository, merged, {
      as: buildJob(merged, '.github/workflows/build-release.yml'),
      with: { policy: 'wide-build-policy.yml' },
    });

    expectRefused(
      result,
      'sign-identity-distinct',
      "the sign job runs as https://github.com/acme/app/.github/workflows/build-release.yml@refs/heads/main, which the policy's build identity",
    );
  });
});

describe('the sign action signs only as the identity it checked', () => {
  it('a token for another identity handed out after the decision (a swapped token) signs nothing', async () => {
    const change = aChange();
    change.pullRequest.reviews.push(aReview({ by: change.bob, on: change.head.sha }));
    const merged = mergePullRequest(change.repository, change.pullRequest, { method: 'squash', by: change.bob });
    const tokens = [signJob(merged), buildJob(merged)];

    const result = await signCommit(change.repository, merged, {
      with: { identityToken: () => issuer.mint(tokens.shift() ?? buildJob(merged), { audience: 'sigstore' }) },
    });

    // Refused by the token check before Fulcio is asked (the signer reports it as the token it could not get).
    expect(result.outcome.failure).toMatch(/^OIDC_TOKEN_UNAVAILABLE: /);
    expect(result.outcome.failure).toContain(
      `expected a token for ${SIGN_SAN}, the identity that was checked, found one for ${BUILD_SAN}`,
    );
    expect(result.outcome.outputs).toEqual({});
    expect(bundlesIn(result)).toEqual([]);
    expect(result.certified).toBe(0);
  });
});

describe('the sign action verifies provenance against the trusted root deploy uses', () => {
  it("takes the policy's deploy.trusted-root when the trusted-root input is empty", async () => {
    writeFileSync(join(workspace, 'rooted-policy.yml'), `${POLICY}deploy:\n  trusted-root: ${stack.trustedRootPath}\n`);
    const change = aChange();
    change.pullRequest.reviews.push(aReview({ by: change.bob, on: change.head.sha }));
    const merged = mergePullRequest(change.repository, change.pullRequest, { method: 'squash', by: change.bob });

    expectSigned(
      await signCommit(change.repository, merged, { with: { policy: 'rooted-policy.yml', trustedRoot: '' } }),
    );
  });

  it("refuses provenance that does not chain to the policy's root (here the public-good default)", async () => {
    const change = aChange();
    change.pullRequest.reviews.push(aReview({ by: change.bob, on: change.head.sha }));
    const merged = mergePullRequest(change.repository, change.pullRequest, { method: 'squash', by: change.bob });

    const result = await signCommit(change.repository, merged, { with: { trustedRoot: '' } });
    expectRefused(result, 'provenance-verified');
  });
});

describe('the sign action refuses a policy it cannot use', () => {
  it('names the unknown key, exits non-zero, asks for no token and signs nothing', async () => {
    writeFileSync(join(workspace, 'typo-policy.yml'), `${POLICY}review:\n  min-aprovals: 2\n`);
    const change = aChange();
    change.pullRequest.reviews.push(aReview({ by: change.bob, on: change.head.sha }));
    const merged = mergePullRequest(change.repository, change.pullRequest, { method: 'squash', by: change.bob });

    const result = await signCommit(change.repository, merged, { with: { policy: 'typo-policy.yml' } });

    expect(result.outcome.failure).toMatch(/^POLICY_INVALID: typo-policy.yml: review.min-aprovals: unknown key/);
    expect(result.outcome.summary).toContain('## twokey sign: nothing signed');
    expect(result.outcome.summary).toContain('<pre>POLICY_INVALID: typo-policy.yml: review.min-aprovals: unknown key');
    expect(result.outcome.outputs.checks).toBeUndefined();
    expect(bundlesIn(result)).toEqual([]);
    expect(result.certified).toBe(0);
    expect(result.fake.requests).toEqual([]);
  });
});
