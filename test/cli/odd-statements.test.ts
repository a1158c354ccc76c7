// Statements anyone can sign under an identity of their own, which twokey must read one way only: a subject digest
// that is not a string (verify-bundle stopped with an internal error, exit 3), in uppercase hex or beside a null
// subject (read as the artifact's by verify-bundle, refused by the gate), and a payload writing "subject" twice
// (JSON.parse keeps the last one, protojson readers refuse it or keep the first: two readers, two statements).
// Signed on the loopback Sigstore stack by the testkit's OIDC issuer; run through the built CLI as a user runs it.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IN_TOTO_PAYLOAD_TYPE } from '@twokey/core';
import { signPayload } from '@twokey/sigstore';
import { identity, type OidcIssuer, type SigstoreStack, startOidcIssuer, startSigstoreStack } from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../conformance/run-cli';

const ARTIFACT = 'app 1.0\n';
const HEX = createHash('sha256').update(ARTIFACT).digest('hex');
const SAN = 'https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';

let stack: SigstoreStack;
let issuer: OidcIssuer;
let dir: string;

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  dir = mkdtempSync(join(tmpdir(), 'twokey-odd-statements-'));
  writeFileSync(join(dir, 'app.tar.gz'), ARTIFACT);
});
afterAll(async () => {
  await stack?.close();
  await issuer?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The payload text, signed as an in-toto statement by acme/app's build workflow. */
async function signed(name: string, payload: string): Promise<string> {
  const who = identity('acme/app', '.github/workflows/build.yml', 'refs/heads/main', 'c'.repeat(40));
  const bundle = await signPayload(Buffer.from(payload, 'utf8'), IN_TOTO_PAYLOAD_TYPE, {
    endpoints: { fulcioURL: stack.fulcioURL, rekorURL: stack.rekorURL, tsaURL: stack.tsaURL },
    identityToken: () => issuer.mint(who, { audience: 'sigstore' }),
  });
  const path = join(dir, `${name}.sigstore.json`);
  writeFileSync(path, JSON.stringify(bundle));
  return path;
}

const statement = (subject: unknown) =>
  JSON.stringify({
    _type: 'https://in-toto.io/Statement/v1',
    subject,
    predicateType: 'https://example.com/x/v1',
    predicate: {},
  });

const verifyBundle = (bundle: string) =>
  runCli(
    [
      'verify-bundle',
      '--bundle',
      bundle,
      '--certificate-identity',
      SAN,
      '--certificate-oidc-issuer',
      ISSUER,
      '--trusted-root',
      stack.trustedRootPath,
      join(dir, 'app.tar.gz'),
    ],
    dir,
  );

describe('verify-bundle reads a signed statement one way', () => {
  it('accepts the statement written plainly (the control)', async () => {
    const result = await verifyBundle(await signed('plain', statement([{ name: 'app', digest: { sha256: HEX } }])));
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('Verified OK');
  });

  it.each([
    ['a number', 5],
    ['an array', [HEX]],
    ['an object', {}],
  ])('refuses (exit 1, never exit 3) a subject digest that is %s', async (what, value) => {
    const result = await verifyBundle(
      await signed(`digest-${what.replace(/ /g, '-')}`, statement([{ name: 'a', digest: { sha256: value } }])),
    );
    expect(result.status, result.stderr).toBe(1);
    expect(result.stderr).toContain('error ARTIFACT_MISMATCH: ');
    expect(result.stderr).toContain("no subject of the statement has the artifact's digest");
  });

  it('refuses a subject digest in uppercase hex: in-toto digests are lowercase, as the gate reads them', async () => {
    const result = await verifyBundle(
      await signed('upper', statement([{ name: 'app', digest: { sha256: HEX.toUpperCase() } }])),
    );
    expect(result.status, result.stderr).toBe(1);
    expect(result.stdout + result.stderr).toContain('ARTIFACT_MISMATCH');
  });

  it('refuses a payload that writes "subject" twice, whichever names the artifact', async () => {
    const other = '0'.repeat(64);
    const twice = `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"x","digest":{"sha256":"${other}"}}],"subject":[{"name":"app","digest":{"sha256":"${HEX}"}}],"predicateType":"https://example.com/x/v1","predicate":{}}`;
    const result = await verifyBundle(await signed('twice', twice));
    expect(result.status, result.stderr).toBe(1);
    expect(result.stdout + result.stderr).toContain('PAYLOAD_INVALID');
    expect(result.stdout + result.stderr).toContain('the in-toto payload: subject: written twice');
  });

  it.each([
    ['"ſubject" (U+017F: Go folds it to Subject)', '\u017fubject'],
    ['"digeſt" in a subject', 'dige\u017ft'],
  ])('refuses a payload with the field name %s', async (_what, name) => {
    const payload =
      name === '\u017fubject'
        ? `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"app","digest":{"sha256":"${HEX}"}}],"${name}":[{"name":"x","digest":{"sha256":"${'0'.repeat(64)}"}}],"predicateType":"https://example.com/x/v1","predicate":{}}`
        : `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"app","digest":{"sha256":"${HEX}"},"${name}":{"sha256":"${'0'.repeat(64)}"}}],"predicateType":"https://example.com/x/v1","predicate":{}}`;
    const result = await verifyBundle(await signed(`long-s-${name.length}-${name.charCodeAt(0)}`, payload));
    expect(result.status, result.stderr).toBe(1);
    expect(result.stderr).toContain('PAYLOAD_INVALID');
    expect(result.stderr).toContain('a field name beyond ASCII');
  });

  it.each([
    ['"subject" then "Subject" (Go readers match either and keep the last)', 'Subject', 'Subject'],
    ['a digest algorithm in two cases', 'digest', 'subject[0].digest.SHA256'],
  ])('refuses a payload writing %s', async (_what, which, named) => {
    const other = '0'.repeat(64);
    const payload =
      which === 'Subject'
        ? `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"app","digest":{"sha256":"${HEX}"}}],"Subject":[{"name":"x","digest":{"sha256":"${other}"}}],"predicateType":"https://example.com/x/v1","predicate":{}}`
        : `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"app","digest":{"sha256":"${HEX}","SHA256":"${other}"}}],"predicateType":"https://example.com/x/v1","predicate":{}}`;
    const result = await verifyBundle(await signed(`case-${which}`, payload));
    expect(result.status, result.stderr).toBe(1);
    expect(result.stderr).toContain(`PAYLOAD_INVALID`);
    expect(result.stderr).toContain(`the in-toto payload: ${named}: written twice in other cases`);
  });
});
