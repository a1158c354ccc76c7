// GitHub's GraphQL API (`POST /graphql`) for the GitHub fake. A query is parsed, validated and executed by graphql-js
// against GitHub's own public schema (@octokit/graphql-schema), so a query GitHub would reject is rejected here and an
// answer has exactly the shape GitHub gives it: nullability, enums, interfaces and unions, `__typename`, aliases.
// The fake's state (github-fake.ts) is rendered as GitHub's GraphQL objects by the functions below. A field they do not
// model is an error naming it ("the GitHub fake does not model …"), never a silent null a product could read as "none".
//
// What it models, as GitHub answers it:
// - connections page by `first`/`after` (at most 100; a connection asked without `first` or `last` is an error, as on
//   GitHub), with `totalCount` and `pageInfo`; a pull request's commits page past the 250 REST lists at most;
// - a Bot's `login` without the `[bot]` suffix REST shows (`dependabot`, not `dependabot[bot]`);
// - a commit's `author.user` / `committer.user` is a `User`: an account of another type (a bot) is `null` there;
// - `User.email` is the public profile e-mail, `""` when none (or, with `graphqlEmailsHidden`, for every user, as a
//   token not shown e-mails sees it); `User.name` is `null` when none;
// - `Repository.collaborators(login:)` lists that login when it is a collaborator (with its `permission`), else nothing;
//   collaborators are Users: a bot the state lists among them is none GraphQL can name;
// - errors as GitHub words them: `type` (NOT_FOUND, FORBIDDEN…), `path`, `locations`, `message`, with partial `data`.
// Scalars are checked as GitHub defines them (DateTime is UTC ISO-8601, GitObjectID hex, BigInt a string of digits),
// and every answer is checked once more against the query and the schema by checkGraphQLAnswer before it is sent.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildSchema,
  type DirectiveNode,
  type DocumentNode,
  execute,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLFieldResolver,
  type GraphQLObjectType,
  type GraphQLOutputType,
  GraphQLScalarType,
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  isAbstractType,
  isEnumType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  Kind,
  type OperationDefinitionNode,
  parse,
  type SelectionSetNode,
  typeFromAST,
  validate,
} from 'graphql';
import type {
  FakeAccount,
  FakeCommit,
  FakePullRequest,
  FakeRepository,
  FakeReview,
  FakeSignature,
  FakeTimelineEvent,
  GitHubFakeState,
} from './github-fake';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

// ── The schema ────────────────────────────────────────────────────────────────────────────────────────────────

let cachedSchema: GraphQLSchema | undefined;

/**
 * GitHub's public GraphQL schema, built once per process (~0.4 s). The published SDL defines two fields of
 * `EnterpriseOwnerInfo` twice, which graphql-js's SDL validation refuses: it is built as published, unvalidated.
 */
export function githubGraphQLSchema(): GraphQLSchema {
  if (!cachedSchema) {
    cachedSchema = buildSchema(readFileSync(schemaPath(), 'utf8'), { assumeValidSDL: true });
    checkScalars(cachedSchema);
  }
  return cachedSchema;
}

/**
 * `schema.graphql` of @octokit/graphql-schema, which exports only its ESM entry: found beside that entry as resolved
 * from this module, else — bundled elsewhere (the demo, the bench) — in a `node_modules` above this module or above
 * the workspace's testkit in the current directory.
 */
function schemaPath(): string {
  const file = join('@octokit', 'graphql-schema', 'schema.graphql');
  try {
    const found = join(dirname(fileURLToPath(import.meta.resolve('@octokit/graphql-schema'))), 'schema.graphql');
    if (existsSync(found)) return found;
  } catch {
    // not resolvable from here (a bundle): search below
  }
  for (const start of [dirname(fileURLToPath(import.meta.url)), join(process.cwd(), 'packages', 'testkit')]) {
    for (let directory = start; ; directory = dirname(directory)) {
      const found = join(directory, 'node_modules', file);
      if (existsSync(found)) return found;
      if (dirname(directory) === directory) break;
    }
  }
  throw new Error('the GitHub fake cannot find @octokit/graphql-schema (run it from the workspace)');
}

/** GitHub's custom scalars, as its schema documents them: an answer the fake renders otherwise is its own bug. */
const SCALAR_FORMATS: Record<string, { test: (value: unknown) => boolean; what: string }> = {
  DateTime: {
    test: (v) => typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(v),
    what: 'an ISO-8601 UTC date-time (2026-03-02T09:00:00Z)',
  },
  GitTimestamp: {
    test: (v) => typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:Z|[+-]\d\d:\d\d)$/.test(v),
    what: 'an ISO-8601 date-time with its offset',
  },
  GitObjectID: {
    test: (v) => typeof v === 'string' && /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(v),
    what: 'a git object id (40 or 64 lower-case hex)',
  },
  BigInt: { test: (v) => typeof v === 'string' && /^-?\d+$/.test(v), what: 'a whole number as a string' },
  URI: { test: (v) => typeof v === 'string' && URL.canParse(v), what: 'a URI' },
};

function checkScalars(schema: GraphQLSchema): void {
  for (const [name, format] of Object.entries(SCALAR_FORMATS)) {
    const type = schema.getType(name);
    if (!(type instanceof GraphQLScalarType)) throw new Error(`GitHub's schema has no scalar ${name}`);
    type.serialize = (value: unknown) => {
      if (!format.test(value)) throw new TypeError(`${name} must be ${format.what}, the fake gave ${String(value)}`);
      return value;
    };
  }
}

/** What GitHub's schema finds wrong with a query (parse and validation errors); empty: GitHub would run it. */
export function checkGraphQLQuery(query: string): string[] {
  let document: DocumentNode;
  try {
    document = parse(query);
  } catch (error) {
    return [(error as GraphQLError).message];
  }
  return validate(githubGraphQLSchema(), document).map((error) => error.message);
}

// ── Failure injection ─────────────────────────────────────────────────────────────────────────────────────────

/** A field GitHub refuses, e.g. `{ field: 'Repository.collaborators', type: 'FORBIDDEN' }` for a token without push access. */
export interface GraphQLFieldFailure {
  /** `Type.field`. */
  field: string;
  /** GitHub's error `type`: FORBIDDEN, NOT_FOUND, INSUFFICIENT_SCOPES, RATE_LIMITED, INTERNAL… */
  type: string;
  message?: string;
  /** How many resolutions fail; default: every one. */
  count?: number;
  /** How many resolutions answer before the failures start; default: none. */
  skip?: number;
}

const fieldFailures = new WeakMap<GitHubFakeState, (GraphQLFieldFailure & { left: number; skipped: number })[]>();

/** Makes the fake's GraphQL API refuse a field (with partial data, as GitHub does), e.g. collaborators without push access. */
export function failGraphQLField(fake: { state: GitHubFakeState }, failure: GraphQLFieldFailure): void {
  const failures = fieldFailures.get(fake.state) ?? [];
  failures.push({ ...failure, left: failure.count ?? Number.POSITIVE_INFINITY, skipped: 0 });
  fieldFailures.set(fake.state, failures);
}

// ── Answering a request ───────────────────────────────────────────────────────────────────────────────────────

/** An error as GitHub's GraphQL API words it: a `type` beside the message. */
class GitHubGraphQLError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

interface ExecutionContext {
  state: GitHubFakeState;
  api: string;
}

/**
 * `POST /graphql`: `{ query, variables, operationName }` answered as GitHub answers it (200, `data` and `errors`); an
 * anonymous caller gets 401 (GitHub's GraphQL API has no anonymous access).
 */
export function answerGraphQL(
  state: GitHubFakeState,
  body: unknown,
  api: string,
  authenticated = true,
): { status: number; body: Json } {
  try {
    return answer(state, body, api, authenticated);
  } catch (error) {
    // The fake's own bug: an answer GitHub would never give, so no product can take it for data.
    return {
      status: 500,
      body: { message: `the GitHub fake failed: ${(error as Error).message}`, documentation_url: DOCS },
    };
  }
}

function answer(
  state: GitHubFakeState,
  body: unknown,
  api: string,
  authenticated: boolean,
): { status: number; body: Json } {
  if (!authenticated) {
    return {
      status: 401,
      body: {
        message: 'This endpoint requires you to be authenticated.',
        documentation_url:
          'https://docs.github.com/graphql/guides/forming-calls-with-graphql#authenticating-with-graphql',
        status: '401',
      },
    };
  }
  const request = (body ?? {}) as { query?: unknown; variables?: unknown; operationName?: unknown };
  if (typeof request.query !== 'string') {
    return {
      status: 400,
      body: { message: 'A query attribute must be specified and must be a string.', documentation_url: DOCS },
    };
  }
  const schema = githubGraphQLSchema();
  let document: DocumentNode;
  try {
    document = parse(request.query);
  } catch (error) {
    return { status: 200, body: { errors: [formatError(error as GraphQLError)] } };
  }
  const invalid = validate(schema, document);
  if (invalid.length > 0) return { status: 200, body: { errors: invalid.map(formatError) } };
  const variables = (request.variables ?? {}) as Record<string, unknown>;
  const operationName = typeof request.operationName === 'string' ? request.operationName : undefined;
  const result = execute({
    schema,
    document,
    rootValue: queryRoot(),
    contextValue: { state, api } satisfies ExecutionContext,
    variableValues: variables,
    ...(operationName && { operationName }),
    fieldResolver: strictFieldResolver,
  });
  if ('then' in result) throw new Error('the GitHub fake resolves GraphQL synchronously');
  const answer: { data?: Json; errors?: Json[] } = {};
  if (result.data !== undefined) answer.data = result.data as Json;
  if (result.errors?.length) answer.errors = result.errors.map(formatError);
  // The answer checked once more, independently of the executor, against the query and GitHub's schema.
  const problems = checkGraphQLAnswer(document, answer.data ?? null, { variables, operationName });
  if (problems.length > 0) {
    return {
      status: 500,
      body: {
        message: `the GitHub fake's GraphQL answer is off-schema: ${problems.join('; ')}`,
        documentation_url: DOCS,
      },
    };
  }
  return { status: 200, body: answer as Json };
}

const DOCS = 'https://docs.github.com/graphql';

function formatError(error: GraphQLError): Json {
  const original = error.originalError;
  const type = original instanceof GitHubGraphQLError ? original.type : undefined;
  // A resolver's own bug (the fake's) is not GitHub's answer: say so.
  const message =
    original && !(original instanceof GitHubGraphQLError) && !(original instanceof GraphQLError)
      ? `the GitHub fake failed: ${original.message}`
      : error.message;
  return {
    ...(type && { type }),
    ...(error.path && { path: [...error.path] }),
    ...(error.locations && { locations: error.locations.map((l) => ({ line: l.line, column: l.column })) }),
    message,
  };
}

/**
 * Every field is read from the object the fake built for it: a value, or a function of the field's arguments. A
 * field that object does not have is one the fake does not model: an error naming it, not a null.
 */
const strictFieldResolver: GraphQLFieldResolver<Record<string, unknown>, ExecutionContext> = (
  source,
  args,
  context,
  info,
) => {
  const field = `${info.parentType.name}.${info.fieldName}`;
  const failure = fieldFailures.get(context.state)?.find((f) => f.field === field && f.left > 0);
  if (failure && failure.skipped < (failure.skip ?? 0)) {
    failure.skipped += 1;
  } else if (failure) {
    failure.left -= 1;
    throw new GitHubGraphQLError(failure.type, failure.message ?? `${field} is not accessible with this token`);
  }
  if (!Object.hasOwn(source, info.fieldName)) {
    throw new Error(`the GitHub fake does not model ${field}`);
  }
  const value = source[info.fieldName];
  return typeof value === 'function'
    ? (value as (a: typeof args, c: ExecutionContext) => unknown)(args, context)
    : value;
};

// ── The state as GitHub's GraphQL objects ──────────────────────────────────────────────────────────────────────

type Model = Record<string, unknown>;
type Args = Record<string, unknown>;

function queryRoot(): Model {
  return {
    repository: ({ owner, name }: Args, { state, api }: ExecutionContext) => {
      const repository = findRepository(state, `${owner}/${name}`);
      if (!repository) {
        throw new GitHubGraphQLError(
          'NOT_FOUND',
          `Could not resolve to a Repository with the name '${owner}/${name}'.`,
        );
      }
      return repositoryModel(state, repository, api);
    },
    user: ({ login }: Args, { state }: ExecutionContext) => {
      const account = findAccount(state, String(login));
      if (account?.type !== 'User') {
        throw new GitHubGraphQLError('NOT_FOUND', `Could not resolve to a User with the login of '${login}'.`);
      }
      return actorModel(state, account);
    },
  };
}

function repositoryModel(state: GitHubFakeState, repository: FakeRepository, api: string): Model {
  const fullName = fullNameOf(repository);
  return {
    __typename: 'Repository',
    id: nodeId('R_', repository.id),
    databaseId: repository.id,
    name: repository.name,
    nameWithOwner: fullName,
    url: `https://github.com/${fullName}`,
    isPrivate: repository.visibility !== 'public',
    visibility: repository.visibility.toUpperCase(),
    owner: actorModel(state, repository.owner),
    defaultBranchRef: { name: repository.defaultBranch, prefix: 'refs/heads/', id: nodeId('REF_', fullName) },
    object: ({ oid, expression }: Args) => {
      const commit = findCommit(repository, String(oid ?? expression ?? ''));
      return commit ? commitModel(state, repository, commit, api) : null;
    },
    pullRequest: ({ number }: Args) => {
      const pullRequest = repository.pullRequests.find((pr) => pr.number === number);
      if (!pullRequest) {
        throw new GitHubGraphQLError('NOT_FOUND', `Could not resolve to a PullRequest with the number of ${number}.`);
      }
      return pullRequestModel(state, repository, pullRequest, api);
    },
    collaborators: (args: Args) => {
      const wanted = typeof args.login === 'string' ? args.login.toLowerCase() : undefined;
      const query = typeof args.query === 'string' ? args.query.toLowerCase() : undefined;
      // Collaborators are users: a bot the state lists among them is no collaborator GraphQL can name.
      const collaborators = Object.entries(repository.collaborators)
        .filter(([login]) => wanted === undefined || login.toLowerCase() === wanted)
        .filter(([login]) => query === undefined || login.toLowerCase().includes(query))
        .map(([login, role]) => {
          const account = findAccount(state, login) ?? { login, id: syntheticId(login), type: 'User' as const };
          return { account, permission: typeof role === 'string' ? role.toUpperCase() : role.permission.toUpperCase() };
        })
        .filter(({ account }) => account.type === 'User');
      return connection('collaborators', collaborators, args, {
        node: ({ account }) => actorModel(state, account),
        edge: ({ permission }) => ({ permission, permissionSources: null }),
      });
    },
  };
}

function commitModel(state: GitHubFakeState, repository: FakeRepository, commit: FakeCommit, api: string): Model {
  const fullName = fullNameOf(repository);
  return {
    __typename: 'Commit',
    id: nodeId('C_', `${repository.id}:${commit.sha}`),
    oid: commit.sha,
    abbreviatedOid: commit.sha.slice(0, 7),
    message: commit.message,
    messageHeadline: commit.message.split('\n')[0],
    url: `https://github.com/${fullName}/commit/${commit.sha}`,
    authoredDate: dateTime(commit.author.date),
    committedDate: dateTime(commit.committer.date),
    author: gitActorModel(state, commit.author, commit.authorAccount),
    committer: gitActorModel(state, commit.committer, commit.committerAccount),
    parents: (args: Args) =>
      connection('parents', commit.parents, args, {
        node: (sha) => {
          const parent = findCommit(repository, sha);
          return parent ? commitModel(state, repository, parent, api) : unknownCommitModel(sha);
        },
      }),
    associatedPullRequests: (args: Args) =>
      connection(
        'associatedPullRequests',
        repository.pullRequests.filter(
          (pr) =>
            pr.mergeCommitSha === commit.sha ||
            pr.associatedShas.includes(commit.sha) ||
            pr.commits.some((c) => c.sha === commit.sha),
        ),
        args,
        { node: (pr) => pullRequestModel(state, repository, pr, api) },
      ),
  };
}

/** A commit GitHub names but the fake holds nothing else about (a base commit, a reviewed commit since rewritten). */
function unknownCommitModel(sha: string): Model {
  return { __typename: 'Commit', oid: sha, abbreviatedOid: sha.slice(0, 7) };
}

/** `Commit.author` / `committer`: the signature, and the account GitHub linked to its e-mail when that is a User. */
function gitActorModel(state: GitHubFakeState, signature: FakeSignature, account: FakeAccount | null): Model {
  return {
    name: signature.name,
    email: signature.email,
    date: dateTime(signature.date),
    user: account && account.type === 'User' ? actorModel(state, account) : null,
  };
}

function pullRequestModel(
  state: GitHubFakeState,
  repository: FakeRepository,
  pullRequest: FakePullRequest,
  api: string,
): Model {
  const fullName = fullNameOf(repository);
  const url = pullRequest.htmlUrl ?? `https://github.com/${fullName}/pull/${pullRequest.number}`;
  const headName = pullRequest.head.repository;
  const headRepository =
    headName === undefined ? repository : headName === null ? undefined : findRepository(state, headName);
  const commit = (sha: string) => {
    const found = findCommit(repository, sha);
    return found ? commitModel(state, repository, found, api) : unknownCommitModel(sha);
  };
  return {
    __typename: 'PullRequest',
    id: nodeId('PR_', pullRequest.id),
    fullDatabaseId: String(pullRequest.id),
    number: pullRequest.number,
    title: pullRequest.title,
    body: pullRequest.body,
    url,
    state: pullRequest.merged ? 'MERGED' : pullRequest.state.toUpperCase(),
    isDraft: pullRequest.draft,
    closed: pullRequest.state === 'closed',
    author: actorModel(state, pullRequest.user),
    createdAt: dateTime(pullRequest.createdAt),
    closedAt: pullRequest.closedAt && dateTime(pullRequest.closedAt),
    merged: pullRequest.merged,
    mergedAt: pullRequest.mergedAt && dateTime(pullRequest.mergedAt),
    mergedBy: pullRequest.mergedBy && actorModel(state, pullRequest.mergedBy),
    mergeCommit: pullRequest.mergeCommitSha ? commit(pullRequest.mergeCommitSha) : null,
    headRefName: pullRequest.head.ref,
    headRefOid: pullRequest.head.sha,
    headRepository: headRepository ? repositoryModel(state, headRepository, api) : null,
    baseRefName: pullRequest.base.ref,
    baseRefOid: pullRequest.base.sha,
    baseRepository: repositoryModel(state, repository, api),
    commits: (args: Args) =>
      connection('commits', pullRequest.commits, args, {
        totalCount: pullRequest.commitCount ?? pullRequest.commits.length,
        node: (c) => ({
          id: nodeId('PURC_', `${pullRequest.id}:${c.sha}`),
          url: `${url}/commits/${c.sha}`,
          commit: commitModel(state, repository, c, api),
        }),
      }),
    reviews: (args: Args) => {
      const states = Array.isArray(args.states) ? (args.states as string[]) : undefined;
      const author = typeof args.author === 'string' ? args.author.toLowerCase() : undefined;
      const reviews = pullRequest.reviews.filter(
        (review) =>
          (!states || states.includes(review.state)) &&
          (author === undefined || review.user?.login.toLowerCase() === author),
      );
      return connection('reviews', reviews, args, { node: (review) => reviewModel(state, url, review, commit) });
    },
    timelineItems: (args: Args) => {
      const types = Array.isArray(args.itemTypes) ? (args.itemTypes as string[]) : undefined;
      const since = typeof args.since === 'string' ? Date.parse(args.since) : Number.NEGATIVE_INFINITY;
      const items = timelineOf(state, pullRequest, url, commit)
        .filter((item) => !types || types.includes(itemType(item.model.__typename as string)))
        .filter((item) => Date.parse(item.at) >= since)
        .slice(typeof args.skip === 'number' ? args.skip : 0);
      return connection('timelineItems', items, args, { node: (item) => item.model, counts: true });
    },
  };
}

function reviewModel(state: GitHubFakeState, url: string, review: FakeReview, commit: (sha: string) => Model): Model {
  return {
    __typename: 'PullRequestReview',
    id: nodeId('PRR_', review.id),
    fullDatabaseId: String(review.id),
    author: review.user && actorModel(state, review.user),
    state: review.state,
    body: review.body,
    url: `${url}#pullrequestreview-${review.id}`,
    commit: review.commitId ? commit(review.commitId) : null,
    submittedAt: review.submittedAt === undefined ? null : dateTime(review.submittedAt),
    createdAt: dateTime(review.submittedAt ?? '2026-01-01T00:00:00Z'),
  };
}

/** Commits, reviews and the other events, in time order (`PullRequestCommit`, `PullRequestReview`, `…Event`). */
function timelineOf(
  state: GitHubFakeState,
  pullRequest: FakePullRequest,
  url: string,
  commit: (sha: string) => Model,
): { at: string; model: Model }[] {
  const items: { at: string; model: Model }[] = [];
  for (const c of pullRequest.commits) {
    items.push({
      at: c.committer.date,
      model: { __typename: 'PullRequestCommit', id: nodeId('PURC_', c.sha), commit: commit(c.sha) },
    });
  }
  for (const review of pullRequest.reviews) {
    if (review.submittedAt === undefined) continue;
    items.push({
      at: review.submittedAt,
      model: reviewModel(state, url, review, commit),
    });
  }
  for (const event of pullRequest.events) items.push({ at: event.createdAt, model: eventModel(state, event, commit) });
  return items.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

/** A timeline event (`head_ref_force_pushed` → `HeadRefForcePushedEvent`): its actor and time, and what the fake knows. */
function eventModel(state: GitHubFakeState, event: FakeTimelineEvent, commit: (sha: string) => Model): Model {
  const typename = `${event.event.replace(/(?:^|_)([a-z])/g, (_, c: string) => c.toUpperCase())}Event`;
  const type = githubGraphQLSchema().getType(typename);
  if (!type || !isObjectType(type)) throw new Error(`GitHub's GraphQL API has no timeline event ${typename}`);
  const model: Model = {
    __typename: typename,
    id: nodeId('EV_', event.id),
    actor: event.actor && actorModel(state, event.actor),
    createdAt: dateTime(event.createdAt),
  };
  if (typename === 'HeadRefForcePushedEvent') {
    model.afterCommit = event.commitId ? commit(event.commitId) : null;
  }
  return model;
}

/** `PullRequestReview` → `PULL_REQUEST_REVIEW`, the `itemTypes` value naming it. */
function itemType(typename: string): string {
  return typename.replace(/(?<=[a-z])(?=[A-Z])/g, '_').toUpperCase();
}

/** An account as an `Actor`: a `User` (with its public profile), a `Bot` (its login without `[bot]`), an `Organization`. */
function actorModel(state: GitHubFakeState, account: FakeAccount): Model {
  const common = {
    id: nodeId(account.type === 'Bot' ? 'BOT_' : account.type === 'Organization' ? 'O_' : 'U_', account.id),
    databaseId: account.id,
    avatarUrl: `https://avatars.githubusercontent.com/u/${account.id}?v=4`,
  };
  if (account.type === 'Bot') {
    const login = account.login.replace(/\[bot\]$/, '');
    return { __typename: 'Bot', ...common, login, url: `https://github.com/apps/${login}` };
  }
  const profile = state.users?.find(
    (u) => u.id === account.id && u.login.toLowerCase() === account.login.toLowerCase(),
  )?.profile;
  return {
    __typename: account.type,
    ...common,
    login: account.login,
    url: `https://github.com/${account.login}`,
    name: profile?.name ?? null,
    email: state.graphqlEmailsHidden ? '' : (profile?.email ?? ''),
  };
}

// ── Connections ──────────────────────────────────────────────────────────────────────────────────────────────

const MAX_PAGE = 100;

/**
 * A page of `items` as GitHub pages a connection: `first` (1–100) and `after`, or `last` and `before`; one of `first`
 * and `last` is required. Cursors are opaque to the caller.
 */
function connection<T>(
  name: string,
  items: T[],
  args: Args,
  shape: { node: (item: T) => unknown; edge?: (item: T) => Model; totalCount?: number; counts?: boolean },
): Model {
  const first = args.first as number | null | undefined;
  const last = args.last as number | null | undefined;
  if (first == null && last == null) {
    throw new GitHubGraphQLError(
      'MISSING_PAGINATION_BOUNDARIES',
      `You must provide a \`first\` or \`last\` value to properly paginate the \`${name}\` connection.`,
    );
  }
  for (const [argument, value] of [
    ['first', first],
    ['last', last],
  ] as const) {
    if (value != null && (value < 0 || value > MAX_PAGE)) {
      throw new GitHubGraphQLError(
        'EXCESSIVE_PAGE_SIZE',
        `Requesting ${value} records on the \`${name}\` connection exceeds the \`${argument}\` limit of ${MAX_PAGE} records.`,
      );
    }
  }
  let start = 0;
  let end = items.length;
  if (typeof args.after === 'string') start = cursorIndex(args.after) + 1;
  if (typeof args.before === 'string') end = Math.min(end, cursorIndex(args.before));
  const filtered = Math.max(0, end - start);
  if (first != null) end = Math.min(end, start + first);
  if (last != null) start = Math.max(start, end - last);
  const page = items.slice(start, end).map((item, i) => ({ item, cursor: cursorOf(start + i) }));
  return {
    totalCount: shape.totalCount ?? items.length,
    ...(shape.counts && { filteredCount: filtered, pageCount: page.length }),
    pageInfo: {
      hasNextPage: end < items.length,
      hasPreviousPage: start > 0,
      startCursor: page[0]?.cursor ?? null,
      endCursor: page.at(-1)?.cursor ?? null,
    },
    nodes: page.map(({ item }) => shape.node(item)),
    edges: page.map(({ item, cursor }) => ({ cursor, node: shape.node(item), ...shape.edge?.(item) })),
  };
}

function cursorOf(index: number): string {
  return Buffer.from(`cursor:v2:${index}`).toString('base64');
}

function cursorIndex(cursor: string): number {
  const match = /^cursor:v2:(\d+)$/.exec(Buffer.from(cursor, 'base64').toString('utf8'));
  if (!match)
    throw new GitHubGraphQLError('INVALID_CURSOR_ARGUMENTS', `\`${cursor}\` does not appear to be a valid cursor.`);
  return Number(match[1]);
}

// ── The state ─────────────────────────────────────────────────────────────────────────────────────────────────

function fullNameOf(repository: FakeRepository): string {
  return `${repository.owner.login}/${repository.name}`;
}

function findRepository(state: GitHubFakeState, fullName: string): FakeRepository | undefined {
  return state.repositories.find((r) => fullNameOf(r).toLowerCase() === fullName.toLowerCase());
}

function findCommit(repository: FakeRepository, sha: string): FakeCommit | undefined {
  return (
    repository.commits.find((c) => c.sha === sha) ??
    repository.pullRequests.flatMap((pr) => pr.commits).find((c) => c.sha === sha)
  );
}

/** A registered user, else an account seen anywhere in the state; logins ignore case. */
function findAccount(state: GitHubFakeState, login: string): FakeAccount | undefined {
  const wanted = login.toLowerCase();
  const user = state.users?.find((u) => u.login.toLowerCase() === wanted);
  if (user) return { login: user.login, id: user.id, type: user.type };
  for (const repository of state.repositories) {
    const accounts: (FakeAccount | null)[] = [repository.owner];
    for (const commit of repository.commits) accounts.push(commit.authorAccount, commit.committerAccount);
    for (const pr of repository.pullRequests) {
      accounts.push(pr.user, pr.mergedBy, ...pr.reviews.map((r) => r.user), ...pr.events.map((e) => e.actor));
      for (const commit of pr.commits) accounts.push(commit.authorAccount, commit.committerAccount);
    }
    const found = accounts.find((a) => a?.login.toLowerCase() === wanted);
    if (found) return { login: found.login, id: found.id, type: found.type };
  }
  return undefined;
}

/** A stable id for a collaborator the state names only by login. */
export function syntheticId(login: string): number {
  let hash = 0;
  for (const c of login.toLowerCase()) hash = (hash * 31 + c.charCodeAt(0)) % 1_000_000_007;
  return 50_000_000 + (hash % 50_000_000);
}

function nodeId(prefix: string, key: string | number): string {
  return `${prefix}${Buffer.from(String(key)).toString('base64url')}`;
}

/** The state's ISO-8601 times as GitHub's DateTime: UTC, whole seconds. */
function dateTime(iso: string): string {
  const time = Date.parse(iso);
  if (!Number.isFinite(time)) throw new Error(`the fake's state holds a time that is not one: ${iso}`);
  return new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// ── Checking an answer against the query and the schema ──────────────────────────────────────────────────────

/**
 * What is wrong with `data` as the answer to `document` under GitHub's schema, checked field by field without the
 * executor: every selected field present (under its alias) and nothing else, `null` only where the schema allows it,
 * lists as lists, enum values of their enum, scalars of their kind (GitHub's custom scalars of their documented
 * format), and each object's `__typename`, when selected, one of the field type's possible types. Empty: it conforms.
 */
export function checkGraphQLAnswer(
  document: DocumentNode | string,
  data: unknown,
  options: { variables?: Record<string, unknown>; operationName?: string } = {},
): string[] {
  const schema = githubGraphQLSchema();
  const parsed = typeof document === 'string' ? parse(document) : document;
  const operations = parsed.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  const operation = options.operationName
    ? operations.find((o) => o.name?.value === options.operationName)
    : operations[0];
  if (!operation) return ['no operation to check'];
  const fragments = new Map(
    parsed.definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((d) => [d.name.value, d]),
  );
  const root = operation.operation === 'query' ? schema.getQueryType() : schema.getMutationType();
  if (!root) return [`the schema has no ${operation.operation} type`];
  if (data === null) return [];
  const problems: string[] = [];
  const variables = options.variables ?? {};

  const included = (node: { directives?: readonly DirectiveNode[] }): boolean => {
    for (const directive of node.directives ?? []) {
      const argument = directive.arguments?.find((a) => a.name.value === 'if');
      const value =
        argument?.value.kind === Kind.VARIABLE
          ? Boolean(variables[argument.value.name.value])
          : argument?.value.kind === Kind.BOOLEAN && argument.value.value;
      if (directive.name.value === 'skip' && value) return false;
      if (directive.name.value === 'include' && !value) return false;
    }
    return true;
  };

  /** The fields a selection set selects on an object of type `type`, by response key. */
  const collect = (type: GraphQLObjectType, selections: SelectionSetNode, into: Map<string, FieldNode[]>) => {
    for (const selection of selections.selections) {
      if (!included(selection)) continue;
      if (selection.kind === Kind.FIELD) {
        const key = selection.alias?.value ?? selection.name.value;
        into.set(key, [...(into.get(key) ?? []), selection]);
      } else {
        const fragment = selection.kind === Kind.FRAGMENT_SPREAD ? fragments.get(selection.name.value) : selection;
        if (!fragment) continue;
        const condition = fragment.typeCondition ? typeFromAST(schema, fragment.typeCondition) : type;
        if (!condition) continue;
        const applies = condition === type || (isAbstractType(condition) && schema.isSubType(condition, type));
        if (applies) collect(type, fragment.selectionSet, into);
      }
    }
    return into;
  };

  const checkObject = (type: GraphQLObjectType, selections: SelectionSetNode[], value: unknown, path: string) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push(`${path}: expected a ${type.name} object, found ${JSON.stringify(value)}`);
      return;
    }
    const fields = new Map<string, FieldNode[]>();
    for (const selection of selections) collect(type, selection, fields);
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!fields.has(key)) problems.push(`${path}.${key}: not selected`);
    }
    for (const [key, nodes] of fields) {
      if (!Object.hasOwn(record, key)) {
        problems.push(`${path}.${key}: missing`);
        continue;
      }
      const name = nodes[0]!.name.value;
      if (name === '__typename') {
        if (record[key] !== type.name) problems.push(`${path}.${key}: expected ${type.name}, found ${record[key]}`);
        continue;
      }
      const field = type.getFields()[name];
      if (!field) {
        problems.push(`${path}.${key}: ${type.name} has no field ${name}`);
        continue;
      }
      const nested = nodes.flatMap((n) => (n.selectionSet ? [n.selectionSet] : []));
      checkValue(field.type, nested, record[key], `${path}.${key}`);
    }
  };

  const checkValue = (type: GraphQLOutputType, selections: SelectionSetNode[], value: unknown, path: string) => {
    if (value === null) {
      if (isNonNullType(type)) problems.push(`${path}: null where ${type} is required`);
      return;
    }
    const nullable = getNullableType(type);
    if (isListType(nullable)) {
      if (!Array.isArray(value)) {
        problems.push(`${path}: expected a list (${nullable}), found ${JSON.stringify(value)}`);
        return;
      }
      for (const [i, item] of value.entries()) checkValue(nullable.ofType, selections, item, `${path}[${i}]`);
      return;
    }
    const named = getNamedType(type);
    if (isScalarType(named)) {
      const format = SCALAR_FORMATS[named.name];
      const ok = format
        ? format.test(value)
        : named.name === 'Int'
          ? Number.isInteger(value)
          : named.name === 'Float'
            ? typeof value === 'number'
            : named.name === 'Boolean'
              ? typeof value === 'boolean'
              : typeof value === 'string';
      if (!ok) problems.push(`${path}: expected ${named.name}, found ${JSON.stringify(value)}`);
      return;
    }
    if (isEnumType(named)) {
      if (!named.getValues().some((v) => v.value === value)) {
        problems.push(`${path}: ${JSON.stringify(value)} is not a value of ${named.name}`);
      }
      return;
    }
    if (isObjectType(named)) {
      checkObject(named, selections, value, path);
      return;
    }
    // An interface or union: the object's own type, named by its __typename when the query selected it, else any
    // possible type the object conforms to as that type.
    const typename = (value as { __typename?: unknown }).__typename;
    if (typename !== undefined) {
      const concrete = typeof typename === 'string' ? schema.getType(typename) : undefined;
      if (!concrete || !isObjectType(concrete) || !schema.isSubType(named, concrete)) {
        problems.push(`${path}: ${JSON.stringify(typename)} is not a possible type of ${named.name}`);
        return;
      }
      checkObject(concrete, selections, value, path);
      return;
    }
    const found = problems.length;
    const fits = schema.getPossibleTypes(named).some((candidate) => {
      checkObject(candidate, selections, value, path);
      const fitted = problems.length === found;
      problems.length = found;
      return fitted;
    });
    if (!fits) problems.push(`${path}: no possible type of ${named.name} has this shape: ${JSON.stringify(value)}`);
  };

  checkObject(root, [operation.selectionSet], data, 'data');
  return problems;
}
