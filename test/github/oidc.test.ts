import { idTokenClaims, jobIdentity, OidcTokenError, requestIdToken } from '@twokey/github';
import { identity, type OidcIssuer, startOidcIssuer } from '@twokey/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const build = identity('acme/app', '.github/workflows/build.yml', 'refs/heads/main', 'b'.repeat(40));
/** A reusable workflow: the certificate names the platform's workflow file, not the caller's. */
const sign = identity('acme/app', '.github/workflows/release.yml', 'refs/heads/main', 'c'.repeat(40), {
  job_workflow_ref: 'acme/platform/.github/workflows/sign.yml@refs/heads/main',
});
let issuer: OidcIssuer;

beforeAll(async () => {
  issuer = await startOidcIssuer();
});
afterAll(async () => {
  await issuer?.close();
});
afterEach(() => {
  delete process.env.ACTIONS_ID_TOKEN_REQUEST_URL;
  delete process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
});

describe('requestIdToken', () => {
  it('gets the job token for audience sigstore from the runner variables', async () => {
    const job = issuer.register(build);
    process.env.ACTIONS_ID_TOKEN_REQUEST_URL = job.requestURL;
    process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = job.requestToken;
    const token = await requestIdToken();
    expect(await issuer.verify(token)).toMatchObject({ aud: 'sigstore', job_workflow_ref: build.job_workflow_ref });
    expect(idTokenClaims(token)).toMatchObject({ sha: build.sha, run_id: build.run_id });
  });

  it('without id-token: write (no request URL), says which permission to add and how', async () => {
    const error = await requestIdToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OidcTokenError);
    expect(error).toMatchObject({ code: 'OIDC_PERMISSION_MISSING' });
    expect((error as Error).message).toContain('ACTIONS_ID_TOKEN_REQUEST_URL');
    expect((error as Error).message).toMatch(/permissions:\n\s+id-token: write/);
  });

  it('reports a request the runner refuses as OIDC_TOKEN_UNAVAILABLE', async () => {
    const job = issuer.register(build);
    process.env.ACTIONS_ID_TOKEN_REQUEST_URL = job.requestURL;
    process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = 'revoked';
    await expect(requestIdToken()).rejects.toMatchObject({ code: 'OIDC_TOKEN_UNAVAILABLE' });
  });

  it('refuses a token that is not a JWT', () => {
    expect(() => idTokenClaims('not-a-jwt')).toThrow(expect.objectContaining({ code: 'OIDC_TOKEN_MALFORMED' }));
  });
});

describe('jobIdentity', () => {
  it('is the identity Fulcio will certify: {server}/{job_workflow_ref}, the issuer, the source repository, the trigger, the runner, the run', async () => {
    const token = await issuer.mint(sign, { audience: 'sigstore' });
    expect(jobIdentity(token, 'https://github.com')).toEqual({
      san: 'https://github.com/acme/platform/.github/workflows/sign.yml@refs/heads/main',
      issuer: issuer.issuer,
      extensions: {
        issuer: issuer.issuer,
        buildSignerURI: 'https://github.com/acme/platform/.github/workflows/sign.yml@refs/heads/main',
        sourceRepositoryURI: 'https://github.com/acme/app',
        sourceRepositoryDigest: 'c'.repeat(40),
        sourceRepositoryRef: 'refs/heads/main',
        buildTrigger: 'push',
        runnerEnvironment: 'github-hosted',
        runInvocationURI: `https://github.com/acme/app/actions/runs/${sign.run_id}/attempts/${sign.run_attempt}`,
      },
    });
    expect(jobIdentity(token, 'https://ghe.example/').san).toBe(
      'https://ghe.example/acme/platform/.github/workflows/sign.yml@refs/heads/main',
    );
  });

  it('refuses a token that is not a GitHub Actions job token (no job_workflow_ref), or not a JWT', async () => {
    const token = await issuer.mint({ ...build, job_workflow_ref: '' }, { audience: 'sigstore' });
    expect(() => jobIdentity(token, 'https://github.com')).toThrow(
      expect.objectContaining({ code: 'OIDC_TOKEN_MALFORMED', kind: 'usage' }),
    );
    expect(() => jobIdentity('not-a-jwt', 'https://github.com')).toThrow(
      expect.objectContaining({ code: 'OIDC_TOKEN_MALFORMED' }),
    );
  });
});
