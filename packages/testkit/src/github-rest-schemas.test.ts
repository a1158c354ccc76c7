// The GitHub fake's REST answers against GitHub's own response schemas (`__fixtures__/github-rest-schemas.json`, from
// GitHub's OpenAPI description): scenarios make the fake answer every GitHub route it serves, and each answer is
// validated with ajv against the schema GitHub documents for that route and status — types, required fields, enums,
// nullability. The fake's answers are shaped after GitHub's examples (github-fake.test.ts checks their keys); this is
// what keeps them within what GitHub's schema allows.
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import fixture from './__fixtures__/github-rest-schemas.json' with { type: 'json' };
import {
  aBot,
  aCommit,
  aForcePush,
  aGitHubState,
  anActionsDeployment,
  anActivity,
  aPullRequest,
  aRepository,
  aReview,
  aTimelineEvent,
  aUser,
  aWorkflowRun,
  type FakeAttestation,
  GITHUB_FAKE_ROUTES,
  type GitHubFake,
  mergePullRequest,
  pushCommit,
  pushToPullRequest,
  startGitHubFake,
} from './github-fake';

// ── ajv, set up for GitHub's OpenAPI 3.0 schemas ───────────────────────────────────────────────────────────────

// ajv (and ajv-formats) are the workspace's, declared by @twokey/core: loaded from there rather than made a dependency
// of the testkit (which would change the workspace's lockfile).
const fromCore = createRequire(new URL('../../core/package.json', import.meta.url));

interface ValidationError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}
interface Validate {
  (data: unknown): boolean;
  errors?: ValidationError[] | null;
}
interface Ajv {
  addSchema(schema: object, key: string): Ajv;
  addVocabulary(keywords: string[]): Ajv;
  getSchema(ref: string): Validate | undefined;
}
type AjvClass = new (options: Record<string, unknown>) => Ajv;
const AjvConstructor = (fromCore('ajv') as { default: AjvClass }).default;
const addFormats = (fromCore('ajv-formats') as { default: (ajv: Ajv) => Ajv }).default;

type Schema = { [key: string]: unknown };
type Fixture = {
  routes: Record<string, { operationId: string; status: number; schema: Schema }>;
  components: { schemas: Record<string, Schema> };
};

/**
 * Where GitHub's API answers what its own schema forbids, the fake stays true to the API: each exception here is the
 * one documented difference, and nothing else is relaxed.
 */
function withDocumentedExceptions(original: Fixture): Fixture {
  const copy = structuredClone(original);
  const schemas = copy.components.schemas;
  // GitHub Actions writes a deployment status `waiting` while a job waits for its environment's reviewers (the
  // deployment's statuses run waiting → queued → in_progress → …); the OpenAPI enum of `deployment-status.state`
  // omits it (FakeDeploymentStatus in github-fake.ts).
  const state = (schemas['deployment-status']!.properties as Record<string, { enum: string[] }>).state!;
  state.enum = [...state.enum, 'waiting'];
  // The schema's own default of a deployment status's `environment_url` is "", which its `format: uri` forbids:
  // GitHub answers the default for a status without an environment URL (every one GitHub Actions writes for a job
  // whose environment names no `url`).
  const deploymentStatus = schemas['deployment-status']!.properties as Record<string, Schema>;
  deploymentStatus.environment_url = { anyOf: [deploymentStatus.environment_url, { const: '' }] };
  // A pull request from a fork deleted since has `"head": { "repo": null }` (github/rest-api-description#424 and
  // #1811: GitHub's schema still says a repository, in `pull-request` and in `pull-request-simple`).
  for (const name of ['pull-request', 'pull-request-simple']) {
    const head = (schemas[name]!.properties as Record<string, Schema>).head!;
    const properties = head.properties as Record<string, Schema>;
    properties.repo = { anyOf: [{ type: 'null' }, properties.repo] };
  }
  // The attestation store answers an attestation it keeps as a blob with `"bundle": null` and its `bundle_url`
  // (FakeAttestation.viaUrl, as GitHub's store does now). The schema of "List attestations" by organisation says so
  // (`bundle` nullable); those of the repository's list and of the bulk list still say `bundle` is an object.
  const repositoryList = copy.routes['GET /repos/{owner}/{repo}/attestations/{subject_digest}']!.schema;
  attestationItem(repositoryList, ['attestations', 'items']).bundle.nullable = true;
  const bulkList = copy.routes['POST /orgs/{org}/attestations/bulk-list']!.schema;
  attestationItem(bulkList, ['attestations_subject_digests', 'additionalProperties', 'items']).bundle.nullable = true;
  return copy;
}

function attestationItem(schema: Schema, path: string[]): { bundle: Schema } {
  let node = schema;
  for (const [i, key] of path.entries()) node = (i === 0 ? (node.properties as Schema)[key] : node[key]) as Schema;
  return node.properties as { bundle: Schema };
}

/**
 * OpenAPI 3.0's `nullable` beside `oneOf`/`anyOf` and no `type` (`commit.author`, `commit.committer`: a user, an
 * empty object, or null): ajv implements `nullable` only beside `type`, so such a schema is written as JSON Schema
 * says the same — null, or what it was.
 */
function nullableWithoutType(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(nullableWithoutType);
  if (node === null || typeof node !== 'object') return node;
  const entries = Object.entries(node as Schema).map(([key, value]) => [key, nullableWithoutType(value)] as const);
  const schema = Object.fromEntries(entries) as Schema;
  if (schema.nullable === true && schema.type === undefined) {
    const { nullable: _, ...rest } = schema;
    return { anyOf: [{ type: 'null' }, rest] };
  }
  return schema;
}

const SCHEMAS = 'https://twokey.invalid/github-rest-schemas.json';

function validators(): Map<string, { status: number; validate: Validate }> {
  // Strict in every respect (no `strict: false` is needed): an unknown keyword or format, an ignored keyword, a type
  // mismatch between a schema and its branches would each throw rather than validate less than it says. Only OpenAPI
  // 3.0 is adapted, below: `discriminator` and `nullable` without `type`.
  const ajv = new AjvConstructor({ allErrors: true, strict: true });
  addFormats(ajv);
  // OpenAPI's keyword, not JSON Schema's: `GET /users/{username}` picks private-user or public-user by
  // `user_view_type`. ajv's own `discriminator` does not take a `mapping`; the `oneOf` beside it decides alone.
  ajv.addVocabulary(['discriminator']);
  const schema = nullableWithoutType(withDocumentedExceptions(fixture as unknown as Fixture)) as Fixture;
  // The whole fixture, so that each `#/components/schemas/…` resolves within it; `routes` is only a container.
  ajv.addVocabulary(['routes', 'components']);
  ajv.addSchema({ ...schema, $id: SCHEMAS }, SCHEMAS);
  const result = new Map<string, { status: number; validate: Validate }>();
  for (const [route, { status }] of Object.entries(schema.routes)) {
    const pointer = `/routes/${route.replaceAll('~', '~0').replaceAll('/', '~1')}/schema`;
    const validate = ajv.getSchema(`${SCHEMAS}#${encodeURI(pointer)}`);
    if (!validate) throw new Error(`no schema for ${route}`);
    result.set(route, { status, validate });
  }
  return result;
}

// ── Driving the fake ───────────────────────────────────────────────────────────────────────────────────────────

/** Routes of the fake that are not GitHub's REST API, so have no schema here. */
const NOT_REST: Record<string, string> = {
  // GitHub's GraphQL API: executed against GitHub's GraphQL schema (github-graphql.test.ts).
  'POST /graphql': 'GraphQL',
  // The attestation store's blob (a pre-signed blob-storage URL): raw Snappy bytes, not JSON.
  'GET /_attestation-blobs/{repository_id}/{index}': 'a blob',
  // The testkit runner's own note of a job's run.
  'POST /_testkit/runs/{owner}/{repo}/{run_id}/{attempt_number}': 'the testkit’s',
};

interface Answer {
  route: string | undefined;
  path: string;
  status: number;
  body: unknown;
}

const fakes: GitHubFake[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

/** One request to `fake`: its answer, and the route the fake says answered it (its request log). */
async function ask(fake: GitHubFake, method: string, path: string, body?: unknown): Promise<Answer> {
  const response = await fetch(`${fake.url}${path}`, {
    method,
    headers: { authorization: 'token t', ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const record = fake.requests.at(-1)!;
  return { route: record.route, path, status: response.status, body: await response.json() };
}

/** A sigstore bundle whose message signature is over `hex` (a sha256): the store files it under `sha256:hex`. */
function aBundle(hex: string): FakeAttestation['bundle'] {
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: { publicKey: { hint: 'key' }, tlogEntries: [] },
    messageSignature: {
      messageDigest: { algorithm: 'SHA2_256', digest: Buffer.from(hex, 'hex').toString('base64') },
      signature: 'c2ln',
    },
  };
}

/**
 * One state that has something for every route: a merged pull request (reviewed, one review by a deleted account and
 * one pending, commits by linked and unlinked authors, a force push, a base change, merged through the merge queue), a
 * pull request from a fork and one from a deleted fork, direct pushes, collaborators of every role, a run re-run by
 * another with its approvals, an environment with reviewers and a wait timer, an Actions deployment and its statuses,
 * users with and without a public profile, attestations inline and behind a URL.
 */
async function everything() {
  const alice = aUser('alice');
  const bob = aUser('bob', { profile: { name: 'Bob Builder', email: 'bob@acme.example' } });
  const carol = aUser('carol');
  const dependabot = aBot('dependabot');
  const repository = aRepository('acme/app', {
    visibility: 'public',
    collaborators: {
      alice: 'write',
      bob: 'maintain',
      carol: { roleName: 'deployer', permission: 'write' },
      dana: 'triage',
      admin: 'admin',
    },
  });
  const fork = aRepository('alice/app', { ownerType: 'User' });

  const first = aCommit({ author: alice, message: 'Add the parser' });
  const unlinked = aCommit({ author: { name: 'Someone', email: 'someone@example.com' }, coAuthors: [bob] });
  const pullRequest = aPullRequest({
    author: alice,
    commits: [first, unlinked],
    body: 'The parser.',
    reviews: [
      aReview({ by: bob, on: first.sha, state: 'CHANGES_REQUESTED', body: 'Not yet' }),
      aReview({ by: null, on: first.sha, state: 'COMMENTED' }),
    ],
    events: [aTimelineEvent('base_ref_changed', { by: alice }), aTimelineEvent('review_requested', { by: alice })],
  });
  const pushed = aCommit({ author: alice, message: 'Address the review' });
  pushToPullRequest(pullRequest, pushed, { by: carol });
  pullRequest.events.push(aForcePush({ by: alice, headSha: pushed.sha }));
  pullRequest.reviews.push(
    aReview({ by: bob, on: pushed.sha }),
    aReview({ by: carol, on: pushed.sha, state: 'PENDING' }),
  );
  const merged = mergePullRequest(repository, pullRequest, { method: 'squash', by: bob, mergeQueue: true });

  const rebased = aPullRequest({ author: alice, commits: [aCommit({ author: alice }), aCommit({ author: bob })] });
  mergePullRequest(repository, rebased, { method: 'rebase', by: bob, deleteBranch: true });
  const mergeCommit = aPullRequest({ author: dependabot, commits: [aCommit({ author: dependabot })] });
  const mergedAsMerge = mergePullRequest(repository, mergeCommit, { method: 'merge', by: alice });

  const fromFork = aPullRequest({ author: alice, commits: [aCommit({ author: alice })], headRepository: 'alice/app' });
  const fromDeletedFork = aPullRequest({ author: alice, commits: [aCommit({ author: alice })], headRepository: null });
  fromDeletedFork.draft = true;
  repository.pullRequests.push(fromFork, fromDeletedFork);

  const direct = pushCommit(repository, aCommit({ author: carol }));
  pushCommit(repository, aCommit({ author: carol }), 'release');
  repository.activity.push(anActivity('force_push', { ref: 'main', after: direct, by: null }));

  aWorkflowRun(repository, { id: 42, actor: alice, reRunBy: [bob] });
  repository.workflowRunApprovals['42'] = [
    { state: 'approved', comment: 'Ship it', environments: ['production', 'staging'], user: bob },
    { state: 'rejected', comment: '', environments: ['production'], user: carol },
  ];
  repository.environments = {
    production: { reviewers: [bob, carol], preventSelfReview: true, waitTimer: 5 },
    staging: { reviewers: [], preventSelfReview: false },
  };
  const deployment = anActionsDeployment(repository, {
    runId: 42,
    environment: 'production',
    sha: merged,
    afterwards: ['queued', 'in_progress', 'success', 'inactive'],
  });
  anActionsDeployment(repository, { runId: 43, environment: 'staging', sha: merged, afterwards: ['failure'] });

  const inline = 'a'.repeat(64);
  const viaUrl = 'b'.repeat(64);
  repository.attestations = [
    { subjects: [`sha256:${inline}`], bundle: aBundle(inline) },
    { subjects: [`sha256:${viaUrl}`], bundle: aBundle(viaUrl), viaUrl: true, initiator: 'github' },
  ];

  const fake = await startGitHubFake(aGitHubState(repository, fork, bob, alice));
  fakes.push(fake);
  return {
    fake,
    repository,
    pullRequests: [pullRequest, rebased, mergeCommit, fromFork, fromDeletedFork],
    commits: [merged, mergedAsMerge, direct, first.sha, unlinked.sha],
    deployment,
    digests: { inline, viaUrl, stored: 'c'.repeat(64) },
  };
}

/** Asks the fake everything it answers, each route at least once with the status GitHub documents for it. */
async function askEverything(): Promise<Answer[]> {
  const { fake, pullRequests, commits, deployment, digests } = await everything();
  const answers: Answer[] = [];
  const get = async (path: string) => answers.push(await ask(fake, 'GET', path));
  const post = async (path: string, body: unknown) => answers.push(await ask(fake, 'POST', path, body));

  await get('/repos/acme/app');
  await get('/repos/alice/app');
  for (const { number } of pullRequests) {
    await get(`/repos/acme/app/pulls/${number}`);
    await get(`/repos/acme/app/pulls/${number}/reviews`);
    await get(`/repos/acme/app/pulls/${number}/commits`);
    await get(`/repos/acme/app/issues/${number}/timeline`);
    await get(`/repos/acme/app/issues/${number}/events`);
  }
  for (const sha of commits) {
    await get(`/repos/acme/app/commits/${sha}`);
    await get(`/repos/acme/app/commits/${sha}/pulls`);
  }
  for (const login of ['alice', 'bob', 'carol', 'dana', 'admin', 'stranger']) {
    await get(`/repos/acme/app/collaborators/${login}/permission`);
  }
  await get('/repos/alice/app/collaborators/bob/permission');
  await get('/repos/acme/app/actions/runs/42/approvals');
  await get('/repos/acme/app/actions/runs/42/attempts/1');
  await get('/repos/acme/app/actions/runs/42/attempts/2');
  await get('/repos/acme/app/environments/production');
  await get('/repos/acme/app/environments/staging');
  await get('/repos/acme/app/deployments');
  await get('/repos/acme/app/deployments?environment=production');
  await get(`/repos/acme/app/deployments/${deployment.id}/statuses`);
  await post('/repos/acme/app/attestations', { bundle: aBundle(digests.stored) });
  for (const hex of Object.values(digests)) {
    await get(`/repos/acme/app/attestations/sha256:${hex}`);
    await get(`/orgs/acme/attestations/sha256:${hex}`);
  }
  await post('/orgs/acme/attestations/bulk-list', {
    subject_digests: [...Object.values(digests), `sha256:${'d'.repeat(64)}`].map((hex) => `sha256:${hex}`),
  });
  await post('/orgs/acme/attestations/bulk-list?per_page=1', { subject_digests: [`sha256:${digests.inline}`] });
  await get('/repos/acme/app/activity?per_page=100');
  await get('/repos/alice/app/activity');
  for (const login of ['bob', 'alice', 'carol', 'dependabot[bot]', 'github-merge-queue[bot]', 'acme']) {
    await get(`/users/${encodeURIComponent(login)}`);
  }
  return answers;
}

function failures(answers: Answer[], validate = validators()): string[] {
  const found: string[] = [];
  for (const answer of answers) {
    const expected = answer.route === undefined ? undefined : validate.get(answer.route);
    if (!expected) {
      found.push(`${answer.path}: answered by ${answer.route ?? 'no route'}, which has no schema`);
    } else if (answer.status !== expected.status) {
      found.push(`${answer.path}: ${answer.status}, not the ${expected.status} GitHub documents`);
    } else if (!expected.validate(answer.body)) {
      for (const error of expected.validate.errors ?? []) {
        // An anyOf's branches each say why they failed; the anyOf itself says only that none matched.
        found.push(`${answer.path}${error.instancePath}: ${error.message} ${JSON.stringify(error.params)}`);
      }
    }
  }
  return found;
}

describe('the GitHub fake’s REST answers follow GitHub’s OpenAPI response schemas', () => {
  it('has GitHub’s schema for every REST route the fake serves, from @octokit/openapi', () => {
    const rest = GITHUB_FAKE_ROUTES.filter((route) => NOT_REST[route] === undefined);
    expect(Object.keys(fixture.routes).sort()).toEqual([...rest].sort());
    expect(Object.keys(NOT_REST).every((route) => GITHUB_FAKE_ROUTES.includes(route))).toBe(true);
    expect(fixture.$comment).toContain('@octokit/openapi@23.0.2');
  });

  it('answers every route, each answer valid against its route’s schema', async () => {
    const answers = await askEverything();

    expect(failures(answers)).toEqual([]);
    const answered = new Set(answers.map((answer) => answer.route));
    expect(Object.keys(fixture.routes).filter((route) => !answered.has(route))).toEqual([]);
    // Each list answered with items at least once, not only empty.
    const lists = new Set(answers.filter((answer) => Array.isArray(answer.body)).map((answer) => answer.route));
    const filled = new Set(answers.filter((answer) => (answer.body as unknown[]).length > 0).map((a) => a.route));
    expect([...lists].filter((route) => !filled.has(route))).toEqual([]);
  });

  it('fails an answer GitHub’s schema forbids', () => {
    const validate = validators();
    const answer = (route: string, body: unknown): Answer => ({ route, path: route, status: 200, body });
    const activity = {
      id: 1,
      node_id: 'x',
      before: '0',
      after: '1',
      ref: 'refs/heads/main',
      timestamp: '2026-03-02T09:00:00Z',
      activity_type: 'push',
      actor: null,
    };
    const route = 'GET /repos/{owner}/{repo}/activity';
    expect(failures([answer(route, [activity])], validate)).toEqual([]);
    expect(failures([answer(route, [{ ...activity, activity_type: 'merge' }])], validate)).not.toEqual([]);
    expect(failures([answer(route, [{ ...activity, id: '1' }])], validate)).not.toEqual([]);
    expect(failures([answer(route, [{ ...activity, timestamp: 'yesterday' }])], validate)).not.toEqual([]);
    const { actor: _, ...withoutActor } = activity;
    expect(failures([answer(route, [withoutActor])], validate)).not.toEqual([]);
    // The one exception to the deployment-status enum is `waiting`, no other state.
    const statuses = 'GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses';
    expect(failures([answer(statuses, [{ state: 'held' }])], validate).join('\n')).toMatch(/allowedValues/);
  });
});
