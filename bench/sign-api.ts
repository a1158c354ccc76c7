// sign_api_requests: how many GitHub API requests the sign stage makes to judge a review, counted by the testkit's
// GitHub fake, for (a) a one-commit pull request with one review and (b) a pull request with 125 reviews by 5
// reviewers — both merged, approved by someone independent, and signed: the real sign stage (runSignStage) against
// the loopback Sigstore stack, reading GitHub through GraphQL (the default) and, for comparison, through REST alone.
// Every request counts: GraphQL queries, the activity feed, permissions, profiles.
//
// On its own: `node bench/sign-api.mjs` (bundles this file, prints the figure as JSON). From the bench harness:
// `await measureSignApiRequests()`.

import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { provenanceStatement, workflowProvenance, workflowRunClaims } from '@twokey/core';
import { type GitHubApi, runSignStage } from '@twokey/github';
import { signStatement } from '@twokey/sigstore';
import {
  aCommit,
  aGitHubState,
  aPullRequest,
  aRepository,
  aReview,
  aUser,
  type FakeRepository,
  identity,
  mergePullRequest,
  startGitHubFake,
  startOidcIssuer,
  startSigstoreStack,
} from '@twokey/testkit';

export interface SignApiRequests {
  /** Requests through GraphQL (the sign stage's default): the figure. */
  simple: number;
  reviews_125: number;
  /** The same pull requests read through REST alone. */
  rest: { simple: number; reviews_125: number };
  /** Every request, `METHOD route`, in arrival order. */
  details: Record<'simple' | 'reviews_125', Record<GitHubApi, string[]>>;
}

const ISSUER = 'https://token.actions.githubusercontent.com';
const SIGN_WORKFLOW = 'acme/platform/.github/workflows/twokey-sign.yml@refs/heads/main';
const ARTIFACT = 'app.tar.gz';
const POLICY = `version: 1
identities:
  build:
    issuer: ${ISSUER}
    san: https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main
  sign:
    issuer: ${ISSUER}
    san: https://github.com/${SIGN_WORKFLOW}
`;

/** alice's one-commit pull request, approved by bob, squash-merged. */
function simplePullRequest(): { repository: FakeRepository; commit: string } {
  const alice = aUser('alice');
  const bob = aUser('bob');
  const repository = aRepository('acme/app', { collaborators: { alice: 'write', bob: 'write' } });
  const head = aCommit({ author: alice, message: 'Add the parser' });
  const pullRequest = aPullRequest({ author: alice, commits: [head], baseSha: repository.branches.main });
  pullRequest.reviews.push(aReview({ by: bob, on: head.sha }));
  return { repository, commit: mergePullRequest(repository, pullRequest, { method: 'squash', by: bob }) };
}

/** alice's pull request reviewed 125 times by 5 reviewers (comments, then each one's approval), merged. */
function reviewedPullRequest(): { repository: FakeRepository; commit: string } {
  const alice = aUser('alice');
  const reviewers = ['bob', 'carol', 'dave', 'erin', 'frank'].map((login) => aUser(login));
  const repository = aRepository('acme/app', {
    collaborators: Object.fromEntries([alice, ...reviewers].map((user) => [user.login, 'write' as const])),
  });
  const head = aCommit({ author: alice, message: 'Rewrite the scheduler' });
  const pullRequest = aPullRequest({ author: alice, commits: [head], baseSha: repository.branches.main });
  for (let i = 0; i < 125; i += 1) {
    const state = i < 120 ? 'COMMENTED' : 'APPROVED';
    pullRequest.reviews.push(aReview({ by: reviewers[i % reviewers.length]!, on: head.sha, state }));
  }
  return { repository, commit: mergePullRequest(repository, pullRequest, { method: 'merge', by: reviewers[0]! }) };
}

export async function measureSignApiRequests(): Promise<SignApiRequests> {
  const issuer = await startOidcIssuer();
  const stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  const workspace = mkdtempSync(join(tmpdir(), 'twokey-bench-sign-api-'));
  try {
    const bytes = Buffer.from(`${ARTIFACT} ${'x'.repeat(1000)}\n`);
    writeFileSync(join(workspace, ARTIFACT), bytes);
    writeFileSync(join(workspace, 'policy.yml'), POLICY);
    const digest = createHash('sha256').update(bytes).digest('hex');
    const endpoints = { fulcioURL: stack.fulcioURL, rekorURL: stack.rekorURL, tsaURL: stack.tsaURL };

    /** The routes the GitHub fake answered while the sign stage judged and signed `change` through `api`. */
    const count = async (change: { repository: FakeRepository; commit: string }, api: GitHubApi) => {
      const build = identity('acme/app', '.github/workflows/build.yml', 'refs/heads/main', change.commit);
      const sign = identity('acme/app', '.github/workflows/release.yml', 'refs/heads/main', change.commit, {
        job_workflow_ref: SIGN_WORKFLOW,
      });
      const statement = provenanceStatement(
        [{ name: ARTIFACT, digest: { sha256: digest } }],
        workflowProvenance(workflowRunClaims({ ...build })),
      );
      const provenance = await signStatement(statement, {
        endpoints,
        identityToken: () => issuer.mint(build, { audience: 'sigstore' }),
      });
      const directory = mkdtempSync(join(workspace, 'provenance-'));
      writeFileSync(join(directory, 'provenance.sigstore.json'), JSON.stringify(provenance));
      const output = join(workspace, `out-${api}-${change.commit.slice(0, 8)}`);
      mkdirSync(output);
      const fake = await startGitHubFake(aGitHubState(change.repository));
      try {
        const result = await runSignStage({
          subjectPath: ARTIFACT,
          subjectDigest: '',
          subjectName: '',
          subjectChecksums: '',
          provenance: join(directory, '*.json'),
          policy: join(workspace, 'policy.yml'),
          trustedRoot: stack.trustedRootPath,
          endpoints,
          githubToken: 'ghs_bench',
          githubApiUrl: fake.url,
          githubApi: api,
          workspace,
          outputDirectory: output,
          serverUrl: 'https://github.com',
          identityToken: () => issuer.mint(sign, { audience: 'sigstore' }),
        });
        // A count is a figure only for a complete judgement that signed.
        if (result.decision.verdict !== 'pass' || result.evidenceRead?.api !== api) {
          const failed = result.decision.checks.filter((c) => c.verdict === 'fail');
          throw new Error(`sign_api_requests: the ${api} run did not sign: ${JSON.stringify(failed)}`);
        }
        return fake.requests.map((r) => r.route ?? `${r.method} ${r.path}`);
      } finally {
        await fake.close();
      }
    };

    const details: SignApiRequests['details'] = {
      simple: { graphql: await count(simplePullRequest(), 'graphql'), rest: await count(simplePullRequest(), 'rest') },
      reviews_125: {
        graphql: await count(reviewedPullRequest(), 'graphql'),
        rest: await count(reviewedPullRequest(), 'rest'),
      },
    };
    return {
      simple: details.simple.graphql.length,
      reviews_125: details.reviews_125.graphql.length,
      rest: { simple: details.simple.rest.length, reviews_125: details.reviews_125.rest.length },
      details,
    };
  } finally {
    await stack.close();
    await issuer.close();
    rmSync(workspace, { recursive: true, force: true });
  }
}
