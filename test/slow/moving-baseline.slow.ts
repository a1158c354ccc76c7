// review.reviewed-history's moving baseline, through the whole sign stage (build → sign, the attestation store of the
// GitHub fake, the loopback Sigstore stack). The walk of the protected branch may stop at the newest merge of a commit
// whose own review attestation — by the policy's sign identity, carrying the `twokey-reviewed-commit` subject of that
// commit on that branch, with a passing walk back to no later than history-since — the store holds: by induction,
// everything before it was judged when it was signed. A busy branch (more than 100 reviewed merges since history-since)
// keeps signing; a forged or foreign entry (another identity, another repository or branch, a failed walk, a bundle
// that does not verify) is no baseline, and the walk goes on; the laundering of laundered-ancestor.test.ts is refused
// when an attested baseline is older than the laundered merge. Threat model row 90.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  DEFAULT_REVIEW_RULES,
  evaluateReview,
  evidenceFromPredicate,
  parseReviewPredicate,
  REVIEWED_COMMIT_SUBJECT,
  type ReviewPredicate,
  reviewedCommitDigest,
} from '@twokey/core';
import { signStatement } from '@twokey/sigstore';
import {
  type ActionRun,
  aCommit,
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
  pushToPullRequest,
  runAction,
  type SigstoreStack,
  startGitHubFake,
  startOidcIssuer,
  startSigstoreStack,
  type WorkflowIdentity,
} from '@twokey/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const repoRoot = resolve(import.meta.dirname, '..', '..');
const BUILD_ACTION = join(repoRoot, 'actions', 'build');
const SIGN_ACTION = join(repoRoot, 'actions', 'sign');
const ISSUER = 'https://token.actions.githubusercontent.com';
const BUILD_SAN = 'https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main';
const SIGN_WORKFLOW = 'acme/platform/.github/workflows/sign.yml@refs/heads/main';
const ARTIFACT = 'dist/app.tar.gz';
const POLICY = '.twokey/policy.yml';
/** The same policy with the sign identity not pinned to a repository, as an org policy serving every repository is. */
const UNPINNED_POLICY = '.twokey/org-policy.yml';
const SINCE = '2026-03-01T00:00:00.000Z';
const URI = 'https://github.com/acme/app';
const MAIN = 'refs/heads/main';

let issuer: OidcIssuer;
let stack: SigstoreStack;
let root: string;
let workspace: string;
const fakes: GitHubFake[] = [];

const endpoints = () => ({ 'fulcio-url': stack.fulcioURL, 'rekor-url': stack.rekorURL, 'tsa-url': stack.tsaURL });

function job(commit: string, workflowPath: string, jobWorkflow?: string) {
  return identity('acme/app', workflowPath, MAIN, commit, { ...(jobWorkflow && { job_workflow_ref: jobWorkflow }) });
}

/** Builds `commit` and runs the sign stage on it, storing its bundles in the fake's store unless `store` is false. */
async function buildAndSign(
  github: GitHubFake,
  commit: string,
  { store = true, artifact = ARTIFACT, policy = POLICY } = {},
): Promise<ActionRun> {
  const built = await runAction(BUILD_ACTION, {
    with: { 'subject-path': artifact, ...endpoints() },
    identity: job(commit, '.github/workflows/build.yml'),
    oidc: issuer,
    workspace,
  });
  expect(built.exitCode, built.log).toBe(0);
  return runAction(SIGN_ACTION, {
    with: {
      'subject-path': artifact,
      provenance: built.outputs['bundle-path']!,
      policy,
      'trusted-root': stack.trustedRootPath,
      ...(store && { 'store-attestations': 'true' }),
      ...endpoints(),
    },
    identity: job(commit, '.github/workflows/release.yml', SIGN_WORKFLOW),
    oidc: issuer,
    githubApiUrl: github.url,
    githubToken: 'ghs_sign_job_token',
    workspace,
  });
}

const alice = aUser('alice');
const bob = aUser('bob');

function aRepo(early: string | null = '2026-02-01T00:00:00Z'): FakeRepository {
  const repo = aRepository('acme/app', { collaborators: { alice: 'write', bob: 'write' } });
  if (early) pushCommit(repo, aCommit({ author: alice, message: 'Before twokey', date: early }), 'main', { by: alice });
  return repo;
}

let minute = 0;
/** One pull request of alice's, approved by bob on its head, merged on main's tip by alice: a reviewed merge. */
function reviewedMerge(repo: FakeRepository, title = `Change ${minute}`): string {
  const at = (offset: number) => new Date(Date.parse('2026-03-02T00:00:00Z') + (minute * 60 + offset) * 1000);
  minute += 1;
  const tip = repo.branches.main;
  const change = aCommit({ author: alice, message: title, date: at(0).toISOString().replace('.000', '') });
  if (tip) change.parents = [tip];
  const pr = aPullRequest({ author: alice, commits: [change], title });
  if (tip) pr.base.sha = tip;
  pr.reviews.push(aReview({ by: bob, on: change.sha, state: 'APPROVED', at: at(30).toISOString() }));
  return mergePullRequest(repo, pr, { method: 'squash', by: alice, at: at(50).toISOString() });
}

/** The review statement of a sign run's review attestation. */
function reviewStatementOf(sign: ActionRun): {
  subject: { name?: string; digest: Record<string, string> }[];
  predicate: ReviewPredicate;
} {
  const path = sign.outputs['bundle-paths']!.split('\n').find((p) => p.includes('review-'))!;
  const bundle = JSON.parse(readFileSync(path, 'utf8'));
  return JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
}

const ON = { ...DEFAULT_REVIEW_RULES, reviewedHistory: true, historySince: SINCE };

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  root = mkdtempSync(join(tmpdir(), 'moving-baseline-'));
  workspace = join(root, 'workspace');
  mkdirSync(join(workspace, 'dist'), { recursive: true });
  mkdirSync(join(workspace, 'reserved'), { recursive: true });
  mkdirSync(join(workspace, '.twokey'), { recursive: true });
  writeFileSync(join(workspace, ARTIFACT), `app ${'x'.repeat(2048)}\n`);
  writeFileSync(join(workspace, 'reserved', REVIEWED_COMMIT_SUBJECT), `not a commit ${'y'.repeat(2048)}\n`);
  writeFileSync(
    join(workspace, POLICY),
    `version: 1
identities:
  build:
    issuer: ${ISSUER}
    san: ${BUILD_SAN}
  sign:
    issuer: ${ISSUER}
    san: https://github.com/${SIGN_WORKFLOW}
    source-repository: https://github.com/acme/app
review:
  reviewed-history: true
  history-since: 2026-03-01
deploy:
  max-age: 1d
  trusted-root: ${stack.trustedRootPath}
`,
  );
  writeFileSync(
    join(workspace, UNPINNED_POLICY),
    `version: 1
identities:
  build:
    issuer: ${ISSUER}
    san: ${BUILD_SAN}
  sign:
    issuer: ${ISSUER}
    san: https://github.com/${SIGN_WORKFLOW}
review:
  reviewed-history: true
  history-since: 2026-03-01
deploy:
  max-age: 1d
  trusted-root: ${stack.trustedRootPath}
`,
  );
}, 120_000);

afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

afterAll(async () => {
  await Promise.all([stack?.close(), issuer?.close()]);
  if (root) rmSync(root, { recursive: true, force: true });
});

async function fakeOf(repo: FakeRepository): Promise<GitHubFake> {
  const github = await startGitHubFake(aGitHubState(repo));
  fakes.push(github);
  return github;
}

/** A bundle put in the fake's attestation store as actions/attest would (found by each of its subjects' digests). */
async function store(github: GitHubFake, bundle: object): Promise<void> {
  const response = await fetch(`${github.url}/repos/acme/app/attestations`, {
    method: 'POST',
    headers: { authorization: 'Bearer ghs_writer', 'content-type': 'application/json' },
    body: JSON.stringify({ bundle }),
  });
  expect(response.status).toBe(201);
}

describe('review.reviewed-history: the moving baseline', () => {
  it('signs a release after more than 100 reviewed merges since history-since: the walk stops at the last signed one, in a few requests', async () => {
    const repo = aRepo();
    for (let i = 0; i < 3; i++) reviewedMerge(repo);
    const github = await fakeOf(repo);
    // The first signed release: its walk goes back to history-since, and it carries the reviewed-commit subject.
    const first = repo.branches.main!;
    const signedFirst = await buildAndSign(github, first);
    expect(signedFirst.exitCode, signedFirst.log).toBe(0);
    const firstStatement = reviewStatementOf(signedFirst);
    const digest = reviewedCommitDigest(URI, MAIN, first);
    expect(firstStatement.subject).toContainEqual({ name: REVIEWED_COMMIT_SUBJECT, digest: { sha256: digest } });
    expect(firstStatement.predicate.history?.baseline?.attestation).toBeUndefined();
    expect((repo.attestations ?? []).some((a) => a.subjects.includes(`sha256:${digest}`))).toBe(true);
    // 96 more reviewed merges, a release (its walk stops at the first), then 5 more: 104 merges since history-since.
    for (let i = 0; i < 96; i++) reviewedMerge(repo);
    const middle = repo.branches.main!;
    const signedMiddle = await buildAndSign(github, middle);
    expect(signedMiddle.exitCode, signedMiddle.log).toBe(0);
    expect(reviewStatementOf(signedMiddle).predicate.history).toMatchObject({
      verdict: 'pass',
      baseline: {
        commit: first,
        attestation: expect.stringContaining(`/repos/acme/app/attestations/sha256:${digest}#`),
      },
    });
    for (let i = 0; i < 5; i++) reviewedMerge(repo);
    const release = repo.branches.main!;

    // Without the store (store-attestations off), the walk goes back to history-since: too many arrivals, refused.
    const alone = await buildAndSign(github, release, { store: false });
    expect(alone.exitCode, alone.log).not.toBe(0);
    expect(alone.log).toContain('more than 100 arrivals on refs/heads/main since 2026-03-01');

    github.requests.splice(0);
    const signed = await buildAndSign(github, release);
    expect(signed.exitCode, signed.log).toBe(0);
    const { predicate } = reviewStatementOf(signed);
    const middleDigest = reviewedCommitDigest(URI, MAIN, middle);
    expect(predicate.history).toMatchObject({
      verdict: 'pass',
      baseline: {
        commit: middle,
        attestation: expect.stringContaining(`/repos/acme/app/attestations/sha256:${middleDigest}#`),
      },
    });
    expect(predicate.history!.arrivals).toHaveLength(4);
    // Few requests: one store read per merge walked, one page of the feed.
    const storeReads = github.requests.filter(
      (r) => r.route === 'GET /repos/{owner}/{repo}/attestations/{subject_digest}',
    );
    expect(storeReads).toHaveLength(5);
    // Each of the 4 arrivals' evidence is read as the built commit's (a few requests each), not 103 of them.
    expect(github.requests.filter((r) => r.route === 'GET /repos/{owner}/{repo}/activity').length).toBeLessThan(25);
    expect(github.requests.length, String(github.requests.length)).toBeLessThan(100);
    // The deploy gate's re-check (evaluateReview on the attestation) takes the attested baseline as recorded.
    const gate = evaluateReview(evidenceFromPredicate(parseReviewPredicate(predicate)), ON);
    expect(gate.checks.find((c) => c.id === 'reviewed-history')).toMatchObject({ verdict: 'pass' });
    expect(gate.checks.find((c) => c.id === 'reviewed-history')!.reason).toContain('found');
    // …but not a baseline after history-since without the attestation that made it one.
    const { attestation: _, ...bare } = predicate.history!.baseline!;
    const forged = evidenceFromPredicate(
      parseReviewPredicate({ ...predicate, history: { ...predicate.history!, baseline: bare } }),
    );
    expect(evaluateReview(forged, ON).checks.find((c) => c.id === 'reviewed-history')?.verdict).toBe('fail');
  }, 600_000);

  describe('a forged or foreign baseline does not count: the walk goes on and refuses where it cannot reach history-since', () => {
    /**
     * A branch whose feed does not reach history-since (no entry before it): only a baseline can end the walk. M1's
     * review statement, made from a genuine one's (`template`) with `change`, is stored under M1's reviewed-commit
     * digest, signed by `who`; then M3 (on M2 on M1) is signed.
     */
    let template: { subject: { name?: string; digest: Record<string, string> }[]; predicate: ReviewPredicate };
    beforeAll(async () => {
      const repo = aRepo();
      reviewedMerge(repo);
      const github = await fakeOf(repo);
      const signed = await buildAndSign(github, repo.branches.main!);
      expect(signed.exitCode, signed.log).toBe(0);
      template = reviewStatementOf(signed);
      await github.close();
    }, 300_000);

    const SIGN: WorkflowIdentity = job('0'.repeat(40), '.github/workflows/release.yml', SIGN_WORKFLOW);
    const OTHER: WorkflowIdentity = job('0'.repeat(40), '.github/workflows/evil.yml');

    async function attempt(
      who: WorkflowIdentity,
      change: (statement: typeof template, m1: string) => typeof template,
      tamper = false,
      policy = POLICY,
    ): Promise<{ sign: ActionRun; m1: string }> {
      const repo = aRepo(null);
      const m1 = reviewedMerge(repo, 'M1');
      reviewedMerge(repo, 'M2');
      const m3 = reviewedMerge(repo, 'M3');
      const github = await fakeOf(repo);
      const genuine = {
        ...template,
        subject: [
          ...template.subject.filter((s) => s.digest.sha256 !== undefined && s.name !== REVIEWED_COMMIT_SUBJECT),
          { name: `git+${URI}@${m1}`, uri: URI, digest: { gitCommit: m1 } },
          { name: REVIEWED_COMMIT_SUBJECT, digest: { sha256: reviewedCommitDigest(URI, MAIN, m1) } },
        ],
        predicate: { ...template.predicate, commit: m1, mergeCommit: m1 },
      };
      const statement = change(genuine, m1);
      const bundle = (await signStatement(statement, {
        endpoints: { fulcioURL: stack.fulcioURL, rekorURL: stack.rekorURL, tsaURL: stack.tsaURL },
        identityToken: () => issuer.mint(who, { audience: 'sigstore' }),
      })) as unknown as { dsseEnvelope: { payload: string } };
      if (tamper) {
        // The same bundle, its statement changed after signing (a walk's verdict made to pass).
        const text = Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8').replace('"fail"', '"pass"');
        bundle.dsseEnvelope.payload = Buffer.from(text, 'utf8').toString('base64');
      }
      await store(github, bundle);
      return { sign: await buildAndSign(github, m3, { policy }), m1 };
    }

    const refusedAsBefore = (sign: ActionRun) => {
      expect(sign.exitCode, sign.log).not.toBe(0);
      expect(sign.outputs['bundle-paths'] ?? '').toBe('');
      expect(sign.log).toMatch(/the activity feed of refs\/heads\/main ends at pr_merge of [0-9a-f]{12}/);
    };

    it('counts the genuine one (the control): M3 signs, its walk ending at M1, which the sign stage signed', async () => {
      // M1's own release, signed (and stored) by the sign stage: its review and its walk are the policy's own. (The
      // statements below are made from a template, their evidence another commit's: re-judged under the policy's
      // rules, as a baseline's review is, none of them passes.)
      const repo = aRepo();
      const m1 = reviewedMerge(repo, 'M1');
      reviewedMerge(repo, 'M2');
      const m3 = reviewedMerge(repo, 'M3');
      const github = await fakeOf(repo);
      const first = await buildAndSign(github, m1);
      expect(first.exitCode, first.log).toBe(0);
      const sign = await buildAndSign(github, m3);
      expect(sign.exitCode, sign.log).toBe(0);
      expect(reviewStatementOf(sign).predicate.history).toMatchObject({
        verdict: 'pass',
        baseline: { commit: m1 },
        arrivals: [{ commit: expect.any(String) }],
      });
    }, 300_000);

    it("refuses a review signed by the sign workflow run in another repository (a writer's own, without the repository's policy)", async () => {
      const sandbox = identity('acme/sandbox', '.github/workflows/release.yml', MAIN, '0'.repeat(40), {
        job_workflow_ref: SIGN_WORKFLOW,
      });
      // The policy's sign identity not pinned to a repository: the SAN is the shared workflow's, whoever calls it.
      const { sign } = await attempt(sandbox, (s) => s, false, UNPINNED_POLICY);
      refusedAsBefore(sign);
      expect(sign.log).toContain('its certificate says the sign workflow ran in https://github.com/acme/sandbox');
    }, 300_000);

    it('refuses a review judged under looser review rules (an earlier policy, a sign workflow version still listed)', async () => {
      const { sign } = await attempt(SIGN, (s) => ({
        ...s,
        predicate: { ...s.predicate, rules: { ...s.predicate.rules, requireApprovalOnHead: false } },
      }));
      refusedAsBefore(sign);
      expect(sign.log).toContain(
        "it was judged under looser review rules than the policy's (require-approval-on-head off, where the policy's is on)",
      );
    }, 300_000);

    it("refuses a review that does not pass under the policy's rules, though judged under them", async () => {
      const { sign } = await attempt(SIGN, (s) => s);
      refusedAsBefore(sign);
      expect(sign.log).toContain("its review does not pass under the policy's review rules");
    }, 300_000);

    it('refuses one signed by another identity', async () => {
      const { sign } = await attempt(OTHER, (s) => s);
      refusedAsBefore(sign);
      expect(sign.log).toContain("not signed by the policy's sign identity");
    }, 300_000);

    it("refuses another repository's review of the commit", async () => {
      const { sign } = await attempt(SIGN, (s) => ({
        ...s,
        predicate: { ...s.predicate, repository: { name: 'acme/other', uri: 'https://github.com/acme/other' } },
      }));
      refusedAsBefore(sign);
      expect(sign.log).toContain('it is a review in https://github.com/acme/other');
    }, 300_000);

    it("refuses another branch's review of the commit", async () => {
      const { sign } = await attempt(SIGN, (s) => ({
        ...s,
        predicate: { ...s.predicate, history: { ...s.predicate.history!, ref: 'refs/heads/release' } },
      }));
      refusedAsBefore(sign);
      expect(sign.log).toContain("its walk is refs/heads/release's, not refs/heads/main's");
    }, 300_000);

    it('refuses a review whose walk failed', async () => {
      const { sign } = await attempt(SIGN, (s) => ({
        ...s,
        predicate: { ...s.predicate, history: { ...s.predicate.history!, verdict: 'fail', reason: 'a push' } },
      }));
      refusedAsBefore(sign);
      expect(sign.log).toContain('its walk did not pass');
    }, 300_000);

    it('refuses a bundle that does not verify', async () => {
      const { sign } = await attempt(
        SIGN,
        (s) => ({ ...s, predicate: { ...s.predicate, history: { ...s.predicate.history!, verdict: 'fail' } } }),
        true,
      );
      refusedAsBefore(sign);
      expect(sign.log).toContain('does not verify');
    }, 300_000);
  });

  it('still refuses the laundered ancestor when an older commit before M1 is an attested baseline', async () => {
    const repo = aRepo();
    const m0 = reviewedMerge(repo, 'M0');
    const github = await fakeOf(repo);
    const signedM0 = await buildAndSign(github, m0);
    expect(signedM0.exitCode, signedM0.log).toBe(0);
    // M1: alice's backdoor under bob's stale approval of her first head (GitHub's defaults); M2: a harmless line.
    const typo = aCommit({ author: alice, message: 'Fix typo in README', date: '2026-03-03T09:00:00Z' });
    typo.parents = [m0];
    const pr1 = aPullRequest({ author: alice, commits: [typo], title: 'Fix typo' });
    pr1.base.sha = m0;
    pr1.reviews.push(aReview({ by: bob, on: typo.sha, state: 'APPROVED', at: '2026-03-03T09:30:00Z' }));
    pushToPullRequest(pr1, aCommit({ author: alice, message: 'Tidy (backdoor)', date: '2026-03-03T10:00:00Z' }), {
      by: alice,
      at: '2026-03-03T10:00:00Z',
    });
    const m1 = mergePullRequest(repo, pr1, { method: 'squash', by: alice, at: '2026-03-03T10:05:00Z' });
    const harmless = aCommit({ author: alice, message: 'Bump the changelog date', date: '2026-03-03T11:00:00Z' });
    harmless.parents = [m1];
    const pr2 = aPullRequest({ author: alice, commits: [harmless], title: 'Changelog date' });
    pr2.base.sha = m1;
    pr2.reviews.push(aReview({ by: bob, on: harmless.sha, state: 'APPROVED', at: '2026-03-03T11:30:00Z' }));
    const m2 = mergePullRequest(repo, pr2, { method: 'merge', by: alice, at: '2026-03-03T11:35:00Z' });

    const sign = await buildAndSign(github, m2);
    expect(sign.exitCode, sign.log).not.toBe(0);
    expect(sign.outputs['bundle-paths'] ?? '').toBe('');
    expect(sign.log).toContain(
      `the pr_merge of ${m1.slice(0, 12)} by alice at 2026-03-03T10:05:00Z (pull request #${pr1.number}) fails approval-on-merged-head`,
    );
  }, 600_000);

  it(`refuses an artifact named ${REVIEWED_COMMIT_SUBJECT}`, async () => {
    const repo = aRepo();
    const github = await fakeOf(repo);
    const sign = await buildAndSign(github, reviewedMerge(repo), { artifact: `reserved/${REVIEWED_COMMIT_SUBJECT}` });
    expect(sign.exitCode, sign.log).not.toBe(0);
    expect(sign.outputs['bundle-paths'] ?? '').toBe('');
    expect(sign.log).toContain(`an artifact may not be named ${REVIEWED_COMMIT_SUBJECT}`);
  }, 300_000);
});
