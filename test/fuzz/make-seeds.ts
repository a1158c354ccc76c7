// Makes the loopback seeds (test/fuzz/seeds/loopback): a DSSE in-toto statement and a message signature over one
// artifact, signed on the loopback Sigstore stack (Fulcio, CT log, Rekor v1 with an inclusion proof and a signed
// checkpoint, TSA), and the stack's trusted root. They are committed, so that a fuzz case replays on the same bytes;
// make them again with `npm run fuzz -- --make-seeds`.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { signArtifact, signStatement } from '@twokey/sigstore';
import { identity, startOidcIssuer, startSigstoreStack } from '@twokey/testkit';

const ARTIFACT = 'the artifact the fuzzer signs\n';

export async function makeLoopbackSeeds(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const issuer = await startOidcIssuer();
  const stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  try {
    const build = identity('acme/app', '.github/workflows/build.yml', 'refs/heads/main', 'a'.repeat(40));
    const options = {
      endpoints: { fulcioURL: stack.fulcioURL, rekorURL: stack.rekorURL, tsaURL: stack.tsaURL },
      identityToken: () => issuer.mint(build, { audience: 'sigstore' }),
    };
    const artifact = join(dir, 'artifact.txt');
    writeFileSync(artifact, ARTIFACT);
    const sha256 = createHash('sha256').update(ARTIFACT).digest('hex');
    const statement = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'artifact.txt', digest: { sha256 } }],
      predicateType: 'https://example.com/twokey-fuzz/v1',
      predicate: {},
    };
    const dsse = await signStatement(statement, options);
    const message = await signArtifact({ file: artifact }, options);
    writeFileSync(join(dir, 'dsse.sigstore.json'), `${JSON.stringify(dsse, null, 2)}\n`);
    writeFileSync(join(dir, 'message-signature.sigstore.json'), `${JSON.stringify(message, null, 2)}\n`);
    writeFileSync(join(dir, 'trusted_root.json'), `${JSON.stringify(stack.trustedRoot, null, 2)}\n`);
  } finally {
    await stack.close();
    await issuer.close();
  }
}
