import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { trustedRootFromJSON } from '@twokey/sigstore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identity, type OidcIssuer, startOidcIssuer } from './oidc-issuer';
import { type SigstoreStack, startSigstoreStack } from './sigstore-stack';

let stack: SigstoreStack;
let issuer: OidcIssuer;
const build = identity('acme/app', '.github/workflows/build.yml', 'refs/heads/main', 'c'.repeat(40));

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
});
afterAll(async () => {
  await stack?.close();
  await issuer?.close();
});

async function requestCertificate(token: string): Promise<Response> {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return fetch(`${stack.fulcioURL}/api/v2/signingCert`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      credentials: { oidcIdentityToken: token },
      publicKeyRequest: {
        publicKey: { algorithm: 'ECDSA', content: publicKey.export({ format: 'pem', type: 'spki' }).toString() },
        proofOfPossession: '',
      },
    }),
  });
}

describe('the loopback Sigstore stack', () => {
  it('publishes a trusted root with a validity start on every authority, the same on disk', () => {
    const material = trustedRootFromJSON(stack.trustedRoot, 'testkit');
    expect(material.root.certificateAuthorities).toHaveLength(1);
    expect(material.root.tlogs).toHaveLength(1);
    expect(material.root.ctlogs).toHaveLength(1);
    expect(material.root.timestampAuthorities).toHaveLength(1);
    expect(JSON.parse(readFileSync(stack.trustedRootPath, 'utf8'))).toEqual(stack.trustedRoot);
    expect(stack.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('certifies a token signed by the issuer', async () => {
    const response = await requestCertificate(await issuer.mint(build, { audience: 'sigstore' }));
    expect(response.status).toBe(201);
  });

  it('refuses a token for another audience, an expired token and a forged one, as Fulcio does', async () => {
    const wrongAudience = await requestCertificate(await issuer.mint(build, { audience: 'https://github.com/acme' }));
    const expired = await requestCertificate(await issuer.mint(build, { audience: 'sigstore', lifetimeSeconds: -60 }));
    const other = await startOidcIssuer();
    const forged = await requestCertificate(await other.mint(build, { audience: 'sigstore' }));
    await other.close();
    expect([wrongAudience.status, expired.status, forged.status]).toEqual([401, 401, 401]);
    expect(await wrongAudience.text()).toContain('not sigstore');
  });

  it('answers unknown routes with 404', async () => {
    expect((await fetch(`${stack.url}/api/v1/nothing`, { method: 'POST' })).status).toBe(404);
  });
});
