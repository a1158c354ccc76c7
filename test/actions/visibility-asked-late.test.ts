// An action asks GitHub its repository's visibility (to choose the Sigstore instance, when the job's event does not
// say it: a `schedule` run's) only when it first signs — never before its inputs and subjects are checked. Asked
// first, a job whose inputs were wrong waited on GitHub (retries: ~14 s when the API could not be reached) before
// saying so, and the actions' start (bench: action_cold_start_ratio_vs_attest) went from 0.55 to 80 × attest's.
// Each built action, run as the runner runs it with no subject and an event without a repository, fails on its inputs
// and has asked GitHub nothing.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../conformance/paths';

let server: Server;
let api: string;
const requests: string[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ visibility: 'public', private: false }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

function runAction(name: string): Promise<{ code: number | null; stdout: string }> {
  const runner = mkdtempSync(join(tmpdir(), 'twokey-visibility-late-'));
  const files = Object.fromEntries(
    ['GITHUB_OUTPUT', 'GITHUB_STEP_SUMMARY', 'GITHUB_ENV', 'GITHUB_PATH', 'GITHUB_STATE'].map((v) => {
      const file = join(runner, v.toLowerCase());
      writeFileSync(file, '');
      return [v, file];
    }),
  );
  // A scheduled run's event: no `repository`, so no visibility.
  writeFileSync(join(runner, 'event.json'), JSON.stringify({ schedule: '0 6 * * 1' }));
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    RUNNER_TEMP: runner,
    GITHUB_WORKSPACE: runner,
    GITHUB_REPOSITORY: 'acme/app',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: api,
    GITHUB_EVENT_NAME: 'schedule',
    GITHUB_EVENT_PATH: join(runner, 'event.json'),
    INPUT_GITHUB_TOKEN: 'ghs_job_token',
    ...files,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'actions', name, 'dist', 'index.js')], { env });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout }));
  });
}

describe('the repository visibility is asked of GitHub when first signing, not before the inputs are checked', () => {
  it.each(['build', 'sign', 'break-glass', 'deploy'])(
    '%s: no subject — fails on its inputs, GitHub asked nothing',
    async (name) => {
      requests.length = 0;
      const { code, stdout } = await runAction(name);
      expect(code).toBe(1);
      expect(stdout).toMatch(/^::error::/m);
      expect(requests).toEqual([]);
    },
  );
});
