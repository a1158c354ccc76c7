import { join } from 'node:path';
import { identity, type OidcIssuer, parseFileCommand, runAction, startOidcIssuer } from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ECHO = join(import.meta.dirname, 'fixtures', 'echo-action');
const build = identity('acme/app', '.github/workflows/build.yml', 'refs/heads/main', 'd'.repeat(40));
let issuer: OidcIssuer;

beforeAll(async () => {
  issuer = await startOidcIssuer();
});
afterAll(async () => {
  await issuer?.close();
});

describe('runAction', () => {
  it('runs the action on Node 24 with inputs, defaults, context and file commands as the runner does', async () => {
    const run = await runAction(ECHO, {
      with: { greeting: 'hi there' },
      identity: build,
      githubApiUrl: 'http://127.0.0.1:9',
      event: { pull_request: { number: 7 } },
      githubToken: 'ghs_example',
      env: { EXTRA: 'extra value' },
    });
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({
      greeting: 'hi there',
      token: 'ghs_example',
      oidc: 'no',
      github_repository: 'acme/app',
      github_sha: build.sha,
      github_ref: 'refs/heads/main',
      github_workflow_ref: build.workflow_ref,
      github_run_id: build.run_id,
      github_api_url: 'http://127.0.0.1:9',
      github_workspace: run.workspace,
      runner_temp: run.runnerTemp,
      cwd: run.workspace,
      extra: 'extra value',
    });
    expect(run.outputs.node).toMatch(/^v2[4-9]\./);
    expect(JSON.parse(run.outputs.event!)).toEqual({ pull_request: { number: 7 } });
    expect(run.summary).toBe('### echo\nall done\n');
    expect(run.log).toContain('to stdout');
    expect(run.log).toContain('to stderr');
  });

  it('gives the OIDC request variables only when the job has an issuer, and the exit code as is', async () => {
    const withOidc = await runAction(ECHO, { identity: build, oidc: issuer, with: { 'exit code': '3' } });
    expect(withOidc.outputs.oidc).toBe('yes');
    expect(withOidc.outputs.greeting).toBe('hello');
    expect(withOidc.exitCode).toBe(3);
  });
});

describe('parseFileCommand', () => {
  it('reads name=value lines and the heredoc form', () => {
    const text = 'a=1\nb<<EOF_X\nline one\nline=two\nEOF_X\nc=x=y\n';
    expect(parseFileCommand(text)).toEqual({ a: '1', b: 'line one\nline=two', c: 'x=y' });
  });

  it('refuses a heredoc without its closing delimiter', () => {
    expect(() => parseFileCommand('b<<EOF\nnever closed\n')).toThrow(/no closing delimiter/);
  });
});
