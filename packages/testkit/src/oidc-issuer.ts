import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { exportJWK, generateKeyPair, type JSONWebKeySet, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { closeServer, listenOnLoopback } from './loopback';

/**
 * The claims of a GitHub Actions OIDC token that name a job: which repository, commit and ref it runs on, which
 * workflow file it runs (`job_workflow_ref`: for a reusable workflow, the reusable workflow's own file), which run.
 * Values are strings, as GitHub writes them.
 */
export interface WorkflowIdentity {
  sub: string;
  repository: string;
  repository_owner: string;
  repository_id: string;
  repository_owner_id: string;
  repository_visibility: 'public' | 'private' | 'internal';
  sha: string;
  ref: string;
  ref_type: string;
  /** The workflow's name. */
  workflow: string;
  /** `owner/repo/.github/workflows/file.yml@ref` of the caller workflow. */
  workflow_ref: string;
  workflow_sha: string;
  /** `owner/repo/.github/workflows/file.yml@ref` of the workflow whose job runs: what the certificate SAN names. */
  job_workflow_ref: string;
  job_workflow_sha: string;
  run_id: string;
  run_number: string;
  run_attempt: string;
  actor: string;
  actor_id: string;
  event_name: string;
  runner_environment: 'github-hosted' | 'self-hosted';
  environment?: string;
  head_ref?: string;
  base_ref?: string;
}

export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';

/**
 * The identity of a job running `workflowPath` of `repository` at `ref` and `sha`, e.g.
 * `identity('acme/app', '.github/workflows/build.yml', 'refs/heads/main', sha)` is
 * `acme/app/.github/workflows/build.yml@refs/heads/main`. Ids are derived from the names, so equal inputs give
 * equal identities; `overrides` sets any claim (a reusable workflow's `job_workflow_ref`, the run, the actor …).
 */
export function identity(
  repository: string,
  workflowPath: string,
  ref: string,
  sha: string,
  overrides: Partial<WorkflowIdentity> = {},
): WorkflowIdentity {
  const owner = repository.split('/')[0]!;
  const workflowRef = `${repository}/${workflowPath}@${ref}`;
  const name = workflowPath.replace(/^.*\//, '').replace(/\.ya?ml$/, '');
  return {
    sub: `repo:${repository}:ref:${ref}`,
    repository,
    repository_owner: owner,
    repository_id: stableId(`repository:${repository}`),
    repository_owner_id: stableId(`owner:${owner}`),
    repository_visibility: 'private',
    sha,
    ref,
    ref_type: ref.startsWith('refs/tags/') ? 'tag' : 'branch',
    workflow: name,
    workflow_ref: workflowRef,
    workflow_sha: sha,
    job_workflow_ref: workflowRef,
    job_workflow_sha: sha,
    run_id: stableId(`run:${workflowRef}:${sha}`),
    run_number: '1',
    run_attempt: '1',
    actor: 'octocat',
    actor_id: defaultActorId('octocat'),
    event_name: 'push',
    runner_environment: 'github-hosted',
    ...overrides,
    // The actor named without its id: a placeholder of its own (runAction replaces it with the id the GitHub fake
    // gives that login, as GitHub's token names the account that started the run).
    ...(overrides.actor !== undefined &&
      overrides.actor_id === undefined && { actor_id: defaultActorId(overrides.actor) }),
  };
}

/** The actor_id a token carries for a login when the test named none: replaced by the GitHub fake's, when it has one. */
export function defaultActorId(login: string): string {
  return stableId(`actor:${login}`);
}

function stableId(text: string): string {
  return String(100_000_000 + (createHash('sha256').update(text).digest().readUInt32BE(0) % 900_000_000));
}

/** The variables a runner gives a job with `permissions: id-token: write`. */
export interface OidcRequest {
  requestURL: string;
  requestToken: string;
}

export interface MintOptions {
  audience?: string;
  /** Seconds the token is valid for; negative mints an expired token. Default 600. */
  lifetimeSeconds?: number;
}

export interface OidcIssuer {
  /** The server's base URL. */
  url: string;
  /** The `iss` claim of every token. */
  issuer: string;
  jwks: JSONWebKeySet;
  /** A job: the runner variables that fetch a token for `identity` from this issuer. */
  register(identity: WorkflowIdentity): OidcRequest;
  /** A token for `identity`, signed by this issuer, for in-process use. */
  mint(identity: WorkflowIdentity, options?: MintOptions): Promise<string>;
  /** Checks a token's signature, issuer and expiry against this issuer's key; returns its claims. */
  verify(token: string): Promise<JWTPayload>;
  close(): Promise<void>;
}

export interface OidcIssuerOptions {
  issuer?: string;
}

/**
 * An OIDC issuer on loopback that answers the runner's `ACTIONS_ID_TOKEN_REQUEST_URL` as GitHub does:
 * `GET …&audience=sigstore` with `Authorization: Bearer <ACTIONS_ID_TOKEN_REQUEST_TOKEN>` returns
 * `{"value": "<jwt>"}` for the identity that request token was registered for.
 */
export async function startOidcIssuer(options: OidcIssuerOptions = {}): Promise<OidcIssuer> {
  const iss = options.issuer ?? GITHUB_ACTIONS_ISSUER;
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const kid = randomUUID();
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  const jwks: JSONWebKeySet = { keys: [publicJwk] };
  const jobs = new Map<string, WorkflowIdentity>();

  const mint = async (who: WorkflowIdentity, mintOptions: MintOptions = {}): Promise<string> => {
    const now = Math.floor(Date.now() / 1000);
    const lifetime = mintOptions.lifetimeSeconds ?? 600;
    return new SignJWT({ ...who })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid })
      .setIssuer(iss)
      .setAudience(mintOptions.audience ?? `https://github.com/${who.repository_owner}`)
      .setSubject(who.sub)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setNotBefore(now - 5)
      .setExpirationTime(now + lifetime)
      .sign(privateKey);
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const requestUrl = new URL(req.url ?? '/', 'http://127.0.0.1');
    const reply = (status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.method !== 'GET') return reply(405, { message: 'method not allowed' });
    switch (requestUrl.pathname) {
      case '/.well-known/openid-configuration':
        return reply(200, {
          issuer: iss,
          jwks_uri: `${url}/.well-known/jwks`,
          id_token_signing_alg_values_supported: ['ES256'],
        });
      case '/.well-known/jwks':
        return reply(200, jwks);
      case '/token': {
        const match = /^bearer (.+)$/i.exec(req.headers.authorization ?? '');
        const who = match ? jobs.get(match[1]!) : undefined;
        if (!who) return reply(401, { message: 'bad request token' });
        const audience = requestUrl.searchParams.get('audience') ?? undefined;
        mint(who, { audience }).then(
          (value) => reply(200, { count: value.length, value }),
          (error: unknown) => reply(500, { message: String(error) }),
        );
        return;
      }
      default:
        return reply(404, { message: 'not found' });
    }
  });
  const url = await listenOnLoopback(server);

  return {
    url,
    issuer: iss,
    jwks,
    register(who) {
      const requestToken = randomBytes(24).toString('base64url');
      jobs.set(requestToken, who);
      // The runner's URL already carries a query, so @actions/core appends `&audience=…`.
      return { requestURL: `${url}/token?api-version=2.0`, requestToken };
    },
    mint,
    async verify(token) {
      const { payload } = await jwtVerify(token, publicKey, { issuer: iss, algorithms: ['ES256'] });
      return payload;
    },
    close: () => closeServer(server),
  };
}
