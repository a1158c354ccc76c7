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

// Each file read once: the addresses grouped by file (a JSON Lines file holds many bundles, `FILE.jsonl#Ln`), each
// JSON Lines file read whole when its group starts and let go when it ends, as `twokey report` reads each file once.
// (Read in the order given, addresses of many files interleave, and re-reading a file for each of its lines made
// this loop read hundreds of gigabytes over a large corpus: a peer slowed by the harness, not by its verification.)
const byFile = new Map();
for (const address of addresses) {
  const line = /^(.*\.jsonl)#L([1-9][0-9]*)$/.exec(address);
  const file = line ? line[1] : address;
  const group = byFile.get(file) ?? [];
  group.push(line ? Number(line[2]) : 0);
  byFile.set(file, group);
}

let failed = 0;
const verify = (text) => {
  try {
    verifier.verify(toSignedEntity(bundleFromJSON(JSON.parse(text))), policy);
  } catch {
    failed += 1;
  }
};
for (const [file, lineNumbers] of byFile) {
  if (lineNumbers[0] === 0) {
    verify(readFileSync(file, 'utf8'));
    continue;
  }
  const lines = readFileSync(file, 'utf8').split('\n');
  for (const n of lineNumbers) verify(lines[n - 1]);
}
process.stdout.write(`${JSON.stringify({ bundles: addresses.length, verified: addresses.length - failed, failed })}\n`);
