// The Sigstore instance of a run whose event does not say the repository's visibility (threat model row 212): GitHub's
// `schedule` event payload holds no `repository` (nor do a few other events'), so a nightly deploy of a PUBLIC
// repository chose GitHub's instance from "unreadable: private" — and its decision record never verified under a
// policy that trusts public-good only. The actions now ask GitHub (`GET /repos/{owner}/{repo}`) with the job's token;
// an answer they cannot read still means private: nothing is published that should not be.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createGitHubClient,
  instanceEndpoints,
  type JobRepository,
  signingEndpointsOfJob,
  sigstoreInstanceFromInputs,
} from '@twokey/github';
import { aGitHubState, aRepository, type GitHubFake, startGitHubFake } from '@twokey/testkit';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

let dir: string;
let github: GitHubFake;
/** What the runner writes to GITHUB_EVENT_PATH for `on: schedule`: no repository, no sender. */
let schedule: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twokey-schedule-instance-'));
  schedule = join(dir, 'schedule.json');
  writeFileSync(schedule, JSON.stringify({ schedule: '17 2 * * *', workflow: '.github/workflows/nightly.yml' }));
  github = await startGitHubFake(
    aGitHubState(aRepository('acme/app', { visibility: 'public' }), aRepository('acme/internal-tools')),
  );
});

afterAll(async () => {
  await github?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  github.requests.length = 0;
  vi.stubEnv('INPUT_SIGSTORE-INSTANCE', '');
  vi.stubEnv('GITHUB_EVENT_PATH', schedule);
});

afterEach(() => vi.unstubAllEnvs());

const job = (repository: string, token = 'ghs_nightly_job'): JobRepository => ({
  repository,
  token,
  apiUrl: github.url,
  client: createGitHubClient({ token, baseUrl: github.url, retries: 0 }),
});
const asked = () => github.requests.map((r) => `${r.method} ${r.path} ${r.status}`);

describe('a scheduled run (an event without its repository)', () => {
  it('of a public repository signs on public-good once GitHub says the repository is public', async () => {
    expect(await sigstoreInstanceFromInputs(job('acme/app'))).toBe('public-good');
    expect(asked()).toEqual(['GET /repos/acme/app 200']);
    // As the actions call it: the job's repository, its github-token input and API from the runner's variables.
    vi.stubEnv('GITHUB_REPOSITORY', 'acme/app');
    vi.stubEnv('GITHUB_API_URL', github.url);
    vi.stubEnv('INPUT_GITHUB-TOKEN', 'ghs_nightly_job');
    for (const name of ['FULCIO-URL', 'REKOR-URL', 'TSA-URL']) vi.stubEnv(`INPUT_${name}`, '');
    expect(await signingEndpointsOfJob()).toEqual(instanceEndpoints('public-good'));
    expect(github.requests.at(-1)?.authorization).toBe('token ghs_nightly_job');
  });

  it('signs on GitHub’s instance when GitHub cannot be read, or says private', async () => {
    // The token may not read the repository (403), or GitHub does not answer: private, as an unreadable event was.
    github.failOn('GET /repos/{owner}/{repo}', { status: 403, count: 1 });
    expect(await sigstoreInstanceFromInputs(job('acme/app'))).toBe('github');
    expect(await sigstoreInstanceFromInputs(job('acme/app', ''))).toBe('public-good'); // anonymous: public is public
    expect(await sigstoreInstanceFromInputs(job('acme/internal-tools'))).toBe('github');
    expect(await sigstoreInstanceFromInputs(job('acme/gone'))).toBe('github');
    github.failOn('GET /repos/{owner}/{repo}', { status: 502, count: 1 });
    expect(await sigstoreInstanceFromInputs(job('acme/app'))).toBe('github');
    expect(asked()).toEqual([
      'GET /repos/acme/app 403',
      'GET /repos/acme/app 200',
      'GET /repos/acme/internal-tools 200',
      'GET /repos/acme/gone 404',
      'GET /repos/acme/app 502',
    ]);
  });

  it('asks nothing when the event says, or when every endpoint is given (the instance then changes nothing)', async () => {
    const dispatch = join(dir, 'dispatch.json');
    writeFileSync(dispatch, JSON.stringify({ ref: 'refs/heads/main', repository: { visibility: 'private' } }));
    vi.stubEnv('GITHUB_EVENT_PATH', dispatch);
    expect(await sigstoreInstanceFromInputs(job('acme/app'))).toBe('github'); // the event's word stands
    vi.stubEnv('GITHUB_EVENT_PATH', schedule);
    vi.stubEnv('GITHUB_REPOSITORY', 'acme/app');
    vi.stubEnv('GITHUB_API_URL', github.url);
    vi.stubEnv('INPUT_FULCIO-URL', 'http://127.0.0.1:1001');
    vi.stubEnv('INPUT_REKOR-URL', 'none');
    vi.stubEnv('INPUT_TSA-URL', 'http://127.0.0.1:1003/api/v1/timestamp');
    expect(await signingEndpointsOfJob()).toEqual({
      fulcioURL: 'http://127.0.0.1:1001',
      tsaURL: 'http://127.0.0.1:1003/api/v1/timestamp',
    });
    expect(asked()).toEqual([]);
    vi.stubEnv('INPUT_SIGSTORE-INSTANCE', 'private');
    expect(() => signingEndpointsOfJob()).toThrow(/sigstore-instance: expected public-good or github, found private/);
  });
});
