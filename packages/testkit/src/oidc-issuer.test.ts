import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identity, type OidcIssuer, startOidcIssuer } from './oidc-issuer';

const SHA = '0123456789abcdef0123456789abcdef01234567';
let issuer: OidcIssuer;

beforeAll(async () => {
  issuer = await startOidcIssuer();
});
afterAll(async () => {
  await issuer?.close();
});

describe('identity', () => {
  it('names a workflow file at a ref, as job_workflow_ref', () => {
    const build = identity('acme/app', '.github/workflows/build.yml', 'refs/heads/main', SHA);
    expect(build.job_workflow_ref).toBe('acme/app/.github/workflows/build.yml@refs/heads/main');
    expect(build.workflow_ref).toBe(build.job_workflow_ref);
    expect(build).toMatchObject({
      repository_owner: 'acme',
      ref_type: 'branch',
      sub: 'repo:acme/app:ref:refs/heads/main',
    });
    expect(identity('acme/app', '.github/workflows/build.yml', 'refs/heads/main', SHA)).toEqual(build);
  });

  it('takes a reusable workflow as an override of job_workflow_ref', () => {
    const sign = identity('acme/app', '.github/workflows/release.yml', 'refs/tags/v1.0.0', SHA, {
      job_workflow_ref: 'acme/platform/.github/workflows/sign.yml@refs/tags/v1',
    });
    expect(sign.workflow_ref).toBe('acme/app/.github/workflows/release.yml@refs/tags/v1.0.0');
    expect(sign.ref_type).toBe('tag');
    expect(sign.job_workflow_ref).toBe('acme/platform/.github/workflows/sign.yml@refs/tags/v1');
  });
});

describe('the OIDC issuer', () => {
  it('answers the runner request URL with a GitHub-shaped token for the registered identity', async () => {
    const build = identity('acme/app', '.github/workflows/build.yml', 'refs/heads/main', SHA);
    const deploy = identity('acme/app', '.github/workflows/deploy.yml', 'refs/heads/main', SHA);
    const job = issuer.register(build);
    issuer.register(deploy);
    const response = await fetch(`${job.requestURL}&audience=sigstore`, {
      headers: { authorization: `Bearer ${job.requestToken}` },
    });
    expect(response.status).toBe(200);
    const { value } = (await response.json()) as { value: string };
    const claims = await issuer.verify(value);
    expect(claims).toMatchObject({ ...build, iss: 'https://token.actions.githubusercontent.com', aud: 'sigstore' });
    expect(claims.exp! - claims.iat!).toBeGreaterThan(0);
  });

  it('refuses a request without the registered request token', async () => {
    const job = issuer.register(identity('acme/app', '.github/workflows/build.yml', 'refs/heads/main', SHA));
    const missing = await fetch(job.requestURL);
    const wrong = await fetch(job.requestURL, { headers: { authorization: 'Bearer not-the-token' } });
    expect([missing.status, wrong.status]).toEqual([401, 401]);
  });

  it('mints in process; a token from another issuer does not verify', async () => {
    const build = identity('acme/app', '.github/workflows/build.yml', 'refs/heads/main', SHA);
    const token = await issuer.mint(build, { audience: 'sigstore' });
    expect(decodeJwt(token).job_workflow_ref).toBe(build.job_workflow_ref);
    const other = await startOidcIssuer();
    try {
      await expect(issuer.verify(await other.mint(build))).rejects.toThrow();
    } finally {
      await other.close();
    }
  });
});
