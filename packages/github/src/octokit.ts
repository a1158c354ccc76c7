// The GitHub REST client every stage uses: @actions/github's Octokit with GitHub's retry and rate-limit plugins,
// and a time limit on every attempt, so collecting evidence ends in bounded time whatever the API does.

import { getOctokit } from '@actions/github';
import { GitHub } from '@actions/github/lib/utils';
import { retry } from '@octokit/plugin-retry';
import { type ThrottlingOptions, throttling } from '@octokit/plugin-throttling';

export type GitHubClient = ReturnType<typeof getOctokit>;
type OctokitPlugin = Parameters<typeof getOctokit>[2];

export interface GitHubClientOptions {
  /** The token to send; empty for an anonymous client (public repositories' attestations need none, as gh reads
   * them). */
  token: string;
  /** The API root, e.g. `https://api.github.com` or a runner's `GITHUB_API_URL`. Explicit: @actions/github reads
   * `GITHUB_API_URL` once, when it is imported. */
  baseUrl: string;
  /** Further attempts after a failed one (5xx, network error, timeout, rate limit). Default 3. */
  retries?: number;
  /** Time limit of one attempt. Default 30 s. */
  timeoutMs?: number;
  /** Back-off unit: attempt n+1 waits n² × this after a server error. Default 1000 ms. */
  retryDelayMs?: number;
  /** The longest wait for a rate limit to lift before giving up on the request. Default 60 s. */
  maxRateLimitWaitSeconds?: number;
  /**
   * The throttling plugin spaces POSTs — GraphQL queries included — a second apart, as GitHub asks of writes. A client
   * that only reads, sending one GraphQL query at a time after the last has answered (the review evidence), turns
   * that off: `readsOnly: true`.
   */
  readsOnly?: boolean;
  /**
   * A client that writes a handful of times, one request after the other (a stage storing a decision's bundles), does
   * not wait a second between them either: GitHub asks that spacing of clients making many writes. A secondary rate
   * limit, should GitHub answer with one, is still waited out.
   */
  fewWrites?: boolean;
}

/** A limiter in the shape the throttling plugin uses (a Bottleneck group's `key().schedule()`) that runs each job at once. */
const UNSPACED = {
  key: () => ({ schedule: <T>(_options: unknown, job: () => Promise<T>) => job() }),
} as unknown as NonNullable<Extract<ThrottlingOptions, { onRateLimit: unknown }>['write']>;

/** Time limit of each attempt. Registered before the retry plugin so every retry gets a fresh limit. */
function attemptTimeout(timeoutMs: number): OctokitPlugin {
  const callerSignals = new WeakMap<object, AbortSignal | undefined>();
  return (octokit) => {
    octokit.hook.wrap('request', (request, options) => {
      if (!callerSignals.has(options)) callerSignals.set(options, options.request?.signal ?? undefined);
      const given = callerSignals.get(options);
      const limit = AbortSignal.timeout(timeoutMs);
      // Wrapped hooks all see the options object bound at the start: replace its `request` (it may be the shared
      // defaults object, never mutate that) rather than pass new options, which inner hooks would not see.
      options.request = { ...options.request, signal: given ? AbortSignal.any([given, limit]) : limit };
      return request(options);
    });
  };
}

export function createGitHubClient(options: GitHubClientOptions): GitHubClient {
  const retries = options.retries ?? 3;
  const maxWait = options.maxRateLimitWaitSeconds ?? 60;
  // Wait out a rate limit only when it lifts soon enough and attempts remain; otherwise the request fails.
  const waitForLimit = (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number): boolean =>
    retryCount < retries && retryAfter <= maxWait;
  const clientOptions = {
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    retry: { retries, retryAfterBaseValue: options.retryDelayMs ?? 1000 },
    throttle: {
      onRateLimit: waitForLimit,
      onSecondaryRateLimit: waitForLimit,
      ...((options.readsOnly || options.fewWrites) && { write: UNSPACED }),
    },
  };
  const plugins = [attemptTimeout(options.timeoutMs ?? 30_000), retry, throttling] as const;
  if (options.token) return getOctokit(options.token, clientOptions, ...plugins);
  // @actions/github's getOctokit insists on a token; the same client class with the same plugins, without one.
  const Anonymous = GitHub.plugin(...plugins);
  return new Anonymous(clientOptions) as unknown as GitHubClient;
}
