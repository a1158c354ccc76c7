// A push to the pull request's head in the seconds before an approval that GitHub records on the new head, because
// the approving client named no commit (REST `commit_id`, GraphQL `commitOID`: "defaults to the most recent commit in
// the pull request"; `gh pr review --approve` sends none). alice opens a harmless pull request (H1); bob reads its diff
// and runs `gh pr review --approve`; just before it arrives, alice's script pushes a backdoor H2; GitHub records bob's
// approval on H2, in the push's own second or a few seconds after; alice merges. The approval is on the merged head,
// after the last push, by someone who pushed nothing: only its time, against the push's in the activity feed, tells
// that it may be of H1. The real sign stage, both ways of reading GitHub (GraphQL and REST), on the GitHub fake.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { provenanceStatement, type Subject, workflowProvenance, workflowRunClaims } from '@twokey/core';
import { evidenceDirectory, type GitHubApi, signStep } from '@twokey/github';
import { signStatement } from '@twokey/sigstore';
import {
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
  pushToPullRequest,
  type SigstoreStack,
  startGitHubFake,
  startOidcIssuer,
  startSigstoreStack,
} from '@twokey/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const ISSUER = 'https://token.actions.githubusercontent.com';
const BUILD_SAN = 'https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main';
const SIGN_WORKFLOW = 'acme/platform/.github/workflows/twokey-sign.yml@refs/heads/main';
const SIGN_SAN = `https://github.com/${SIGN_WORKFLOW}`;
const ARTIFACT = 'app.tar.gz';
const ORG_POLICY = `version: 1
identities:
  build:
    issuer: ${ISSUER}
    san: ${BUILD_SAN}
  sign:
    issuer: ${ISSUER}
    san: ${SIGN_SAN}
`;
const PUSHED_AT = '2026-03-02T10:00:00Z';
const APIS = ['graphql', 'rest'] as const;

let stack: SigstoreStack;
let issuer: OidcIssuer;
let workspace: string;
let digest: string;
const fakes: GitHubFake[] = [];
let count = 0;

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  workspace = mkdtempSync(join(tmpdir(), 'approval-after-push-'));
  mkdirSync(join(workspace, 'dist'));
  const bytes = `artifact ${'z'.repeat(200)}\n`;
  writeFileSync(join(workspace, 'dist', ARTIFACT), bytes);
  digest = createHash('sha256').update(bytes).digest('hex');
});
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});
afterAll(async () => {
  await stack?.close();
  await issuer?.close();
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

const endpoints = () => ({ fulcioURL: stack.fulcioURL, rekorURL: stack.rekorURL, tsaURL: stack.tsaURL });

/** alice's harmless pull request, her backdoor pushed at PUSHED_AT, bob's approval recorded on it at `approvedAt`. */
function approvedRightAfterPush(approvedAt: string) {
  const alice = aUser('alice');
  const bob = aUser('bob');
  const repository = aRepository('acme/app', { collaborators: { alice: 'write', bob: 'write' } });
  const harmless = aCommit({ author: alice, message: 'Fix typo in README', date: '2026-03-02T09:00:00Z' });
  const pullRequest = aPullRequest({ author: alice, commits: [harmless], title: 'Fix typo' });
  // alice's script pushes the backdoor on top: a plain push by alice, which the activity feed records.
  const backdoor = aCommit({ author: alice, message: 'Tidy', date: PUSHED_AT });
  const newHead = pushToPullRequest(pullRequest, backdoor, { by: alice, at: PUSHED_AT });
  // bob's `gh pr review --approve`, sent after he read the harmless head's diff: GitHub records it on the newest head.
  pullRequest.reviews.push(aReview({ by: bob, on: newHead, at: approvedAt }));
  const merged = mergePullRequest(repository, pullRequest, { method: 'squash', by: alice, at: '2026-03-02T10:05:00Z' });
  return { repository, merged, newHead };
}

/** Policies of the run: the org policy with `orgReview` added, and a repository policy when given. */
interface Policies {
  orgReview?: string;
  repositoryReview?: string;
}

/** The genuine build identity signs provenance of the merged commit; the genuine sign job runs the real sign step. */
async function signThroughStage(repository: FakeRepository, commit: string, api: GitHubApi, policies: Policies = {}) {
  count += 1;
  const build = identity('acme/app', '.github/workflows/build.yml', 'refs/heads/main', commit);
  const subjects: Subject[] = [{ name: ARTIFACT, digest: { sha256: digest } }];
  const statement = provenanceStatement(subjects, workflowProvenance(workflowRunClaims({ ...build })));
  const bundle = await signStatement(statement, {
    endpoints: endpoints(),
    identityToken: () => issuer.mint(build, { audience: 'sigstore' }),
  });
  mkdirSync(join(workspace, `prov-${count}`));
  writeFileSync(join(workspace, `prov-${count}`, 'provenance.sigstore.json'), JSON.stringify(bundle));
  const orgPolicy = `org-policy-${count}.yml`;
  writeFileSync(
    join(workspace, orgPolicy),
    `${ORG_POLICY}${policies.orgReview ? `review:\n${policies.orgReview}` : ''}`,
  );
  const repositoryPolicy = `repository-policy-${count}.yml`;
  if (policies.repositoryReview) {
    writeFileSync(join(workspace, repositoryPolicy), `version: 1\nreview:\n${policies.repositoryReview}`);
  }
  const fake = await startGitHubFake(aGitHubState(repository));
  fakes.push(fake);
  const runnerTemp = mkdtempSync(join(tmpdir(), 'approval-after-push-runner-'));
  const signJob = identity('acme/app', '.github/workflows/release.yml', 'refs/heads/main', commit, {
    job_workflow_ref: SIGN_WORKFLOW,
  });
  const outcome = await signStep({
    subjectPath: `dist/${ARTIFACT}`,
    subjectDigest: '',
    subjectName: '',
    subjectChecksums: '',
    provenance: `prov-${count}/*.json`,
    policy: orgPolicy,
    ...(policies.repositoryReview && { repositoryPolicy: { path: repositoryPolicy } }),
    trustedRoot: stack.trustedRootPath,
    endpoints: endpoints(),
    githubToken: 'ghs_sign_job_token',
    githubApiUrl: fake.url,
    githubApi: api,
    workspace,
    outputDirectory: runnerTemp,
    serverUrl: 'https://github.com',
    identityToken: () => issuer.mint(signJob, { audience: 'sigstore' }),
  });
  const directory = evidenceDirectory(runnerTemp);
  const written = existsSync(directory) ? readdirSync(directory) : [];
  rmSync(runnerTemp, { recursive: true, force: true });
  return { outcome, written };
}

async function signApprovedAt(approvedAt: string, api: GitHubApi, policies: Policies = {}) {
  const { repository, merged, newHead } = approvedRightAfterPush(approvedAt);
  return { ...(await signThroughStage(repository, merged, api, policies)), newHead };
}

type Outcome = Awaited<ReturnType<typeof signApprovedAt>>;

function expectRefusedAsTooSoon({ outcome, written, newHead }: Outcome, words: string) {
  expect(outcome.outputs.verdict).toBe('fail');
  expect(outcome.failure).toContain('approval-on-merged-head');
  expect(written).toEqual([]);
  const error = outcome.errors.find((e) => e.startsWith('approval-on-merged-head: '));
  expect(error).toContain(`bob approved the merged head ${newHead.slice(0, 7)} at `);
  expect(error).toContain(words);
  expect(error).toContain(
    'an approval that soon after a push may be of the head before it (a review submitted without naming its commit is recorded on the newest head); approve again',
  );
}

function expectSigned({ outcome, written }: Outcome) {
  expect(outcome.failure, outcome.summary).toBeUndefined();
  expect(outcome.outputs.verdict).toBe('pass');
  expect(written.length).toBe(2); // the artifact's signature and the review attestation
}

describe('an approval GitHub recorded on a head pushed in the seconds before it', () => {
  it.each(APIS)('is refused in the push’s own second (%s)', async (api) => {
    const signed = await signApprovedAt(PUSHED_AT, api);
    expectRefusedAsTooSoon(
      signed,
      `in the same second as alice pushed it at ${PUSHED_AT}: an approval that soon after a push may be of the head before it`,
    );
    expect(signed.outcome.errors.join('\n')).toContain('(review.min-seconds-after-push: 30)');
  });

  it.each(APIS)(
    'is refused a second after the push (review.min-seconds-after-push: 30, the default) (%s)',
    async (api) => {
      const signed = await signApprovedAt('2026-03-02T10:00:01Z', api);
      expectRefusedAsTooSoon(signed, `1 s after alice pushed it at ${PUSHED_AT}`);
    },
  );

  it.each(APIS)('counts, and is signed, 31 s after the push (%s)', async (api) => {
    expectSigned(await signApprovedAt('2026-03-02T10:00:31Z', api));
  });
});

describe('review.min-seconds-after-push', () => {
  it.each(APIS)(
    'at 0 in the org policy still refuses the push’s own second (whole seconds: the push may have come just before), and counts the next (%s)',
    async (api) => {
      const none = { orgReview: '  min-seconds-after-push: 0\n' };
      const sameSecond = await signApprovedAt(PUSHED_AT, api, none);
      expectRefusedAsTooSoon(sameSecond, `in the same second as alice pushed it at ${PUSHED_AT}`);
      expect(sameSecond.outcome.errors.join('\n')).toContain('(review.min-seconds-after-push: 0)');
      expectSigned(await signApprovedAt('2026-03-02T10:00:01Z', api, none));
    },
  );

  it.each(APIS)('cannot be lowered by a repository policy: nothing is signed (%s)', async (api) => {
    const { outcome, written } = await signApprovedAt('2026-03-02T10:00:01Z', api, {
      repositoryReview: '  min-seconds-after-push: 0\n',
    });
    expect(outcome.failure).toBeDefined();
    expect(outcome.failure).toContain('review.min-seconds-after-push');
    expect(outcome.failure).toContain("0 is fewer seconds than the org policy's 30");
    expect(outcome.outputs.verdict).not.toBe('pass');
    expect(written).toEqual([]);
  });

  it.each(APIS)('can be raised by a repository policy: 31 s after the push is then too soon (%s)', async (api) => {
    const signed = await signApprovedAt('2026-03-02T10:00:31Z', api, {
      repositoryReview: '  min-seconds-after-push: 120\n',
    });
    expectRefusedAsTooSoon(signed, `31 s after alice pushed it at ${PUSHED_AT}`);
    expect(signed.outcome.errors.join('\n')).toContain('(review.min-seconds-after-push: 120)');
  });
});
