#!/usr/bin/env node
// The peer for `gate_ratio_vs_sigstore_js`: verifies ONE bundle the way the Sigstore project's own Node CLI does
// (`sigstore verify BUNDLE --blob-file FILE --certificate-identity-uri URI --certificate-issuer ISSUER`, which calls
// sigstore.verify → createVerifier), minus its TUF refresh, which needs the network: the trusted root is read from
// a file instead. @sigstore/verify is loaded from node_modules, as that CLI loads it.
//
// Honest by construction: it does everything twokey does for a bundle and nothing less — read and parse the trusted
// root and build trust material, read and parse the bundle, read the artifact, verify timestamps, certificate chain,
// SCT, transparency log and signature, and check the identity exactly (anchored SAN and the issuer extension).
//
//   node bench/sigstore-js-verify-one.mjs --bundle B --blob-file F --trusted-root T \
//        --certificate-identity-uri URI --certificate-issuer ISSUER
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

// pnpm keeps @sigstore/* in the package that depends on it: resolve them as packages/sigstore does.
const require = createRequire(new URL('../packages/sigstore/package.json', import.meta.url));
const { bundleFromJSON } = require('@sigstore/bundle');
const { TrustedRoot } = require('@sigstore/protobuf-specs');
const { toSignedEntity, toTrustMaterial, Verifier } = require('@sigstore/verify');

const { values } = parseArgs({
  options: {
    bundle: { type: 'string' },
    'blob-file': { type: 'string' },
    'trusted-root': { type: 'string' },
    'certificate-identity-uri': { type: 'string' },
    'certificate-issuer': { type: 'string' },
  },
});
for (const name of ['bundle', 'blob-file', 'trusted-root', 'certificate-identity-uri', 'certificate-issuer']) {
  if (!values[name]) {
    process.stderr.write(`missing --${name}\n`);
    process.exit(2);
  }
}

try {
  // createVerifier: trust material from the trusted root (here a file, there TUF), default thresholds.
  const trustedRoot = TrustedRoot.fromJSON(JSON.parse(await readFile(values['trusted-root'], 'utf8')));
  const verifier = new Verifier(toTrustMaterial(trustedRoot), { tlogThreshold: 1, ctlogThreshold: 1 });
  // The identity policy twokey applies: the exact SAN (sigstore-js takes a pattern, so it is anchored and escaped)
  // and the exact issuer.
  const policy = {
    subjectAlternativeName: `^${escapeRegExp(values['certificate-identity-uri'])}$`,
    extensions: { issuer: values['certificate-issuer'] },
  };
  const bundle = bundleFromJSON(JSON.parse(await readFile(values.bundle, 'utf8')));
  const blob = await readFile(values['blob-file']);
  verifier.verify(toSignedEntity(bundle, blob), policy);
  process.stderr.write('Verification succeeded\n');
} catch (error) {
  process.stderr.write(`Verification failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
