#!/usr/bin/env node
// The peer for the report figure (bench/report.ts): a plain serial @sigstore/verify loop over an organisation's
// evidence, one Verifier and its trust material built once, each bundle read, parsed and verified with the identity
// policy of the org's four workflow identities (an anchored alternation of their SANs, the exact issuer). It only
// verifies: what `twokey report` computes on top is not done here.
//
//   node bench/sigstore-js-report-loop.mjs ADDRESSES.json TRUSTED_ROOT.json SANS.json ISSUER
//
// ADDRESSES.json: ["path/to/bundle.json", "path/to/bundles.jsonl#L3", ...]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// pnpm keeps @sigstore/* in the package that depends on it: resolve them as packages/sigstore does.
const require = createRequire(new URL('../packages/sigstore/package.json', import.meta.url));
const { bundleFromJSON } = require('@sigstore/bundle');
const { TrustedRoot } = require('@sigstore/protobuf-specs');
const { toSignedEntity, toTrustMaterial, Verifier } = require('@sigstore/verify');

const [addressesFile, trustedRootFile, sansFile, issuer] = process.argv.slice(2);
if (!addressesFile || !trustedRootFile || !sansFile || !issuer) {
  process.stderr.write('usage: sigstore-js-report-loop.mjs ADDRESSES.json TRUSTED_ROOT.json SANS.json ISSUER\n');
  process.exit(2);
}

const addresses = JSON.parse(readFileSync(addressesFile, 'utf8'));
const trustedRoot = TrustedRoot.fromJSON(JSON.parse(readFileSync(trustedRootFile, 'utf8')));
const verifier = new Verifier(toTrustMaterial(trustedRoot), { tlogThreshold: 1, ctlogThreshold: 1 });
const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const policy = {
  subjectAlternativeName: `^(?:${JSON.parse(readFileSync(sansFile, 'utf8')).map(escapeRegExp).join('|')})$`,
  extensions: { issuer },
};

// The lines of the JSON Lines file read last: a file of many bundles is read once.
let lines = { file: '', lines: [] };
function textOf(address) {
  const line = /^(.*\.jsonl)#L([1-9][0-9]*)$/.exec(address);
  if (!line) return readFileSync(address, 'utf8');
  if (lines.file !== line[1]) lines = { file: line[1], lines: readFileSync(line[1], 'utf8').split('\n') };
  return lines.lines[Number(line[2]) - 1];
}

let failed = 0;
for (const address of addresses) {
  try {
    verifier.verify(toSignedEntity(bundleFromJSON(JSON.parse(textOf(address)))), policy);
  } catch {
    failed += 1;
  }
}
process.stdout.write(`${JSON.stringify({ bundles: addresses.length, verified: addresses.length - failed, failed })}\n`);
