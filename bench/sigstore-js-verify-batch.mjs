#!/usr/bin/env node
// The peer for `batch_speedup_vs_sigstore_js`: a plain serial @sigstore/verify loop over a release's bundles, with
// one Verifier and trust material built once, as a careful user of sigstore-js would write it. Each bundle is read,
// parsed and verified against its artifact with the identity policy of its role (exact SAN, exact issuer).
//
//   node bench/sigstore-js-verify-batch.mjs JOBS.json TRUSTED_ROOT.json VERDICTS_OUT.json
//
// JOBS.json: [{ "bundle": PATH, "artifact": PATH, "identity": SAN, "issuer": ISSUER }, ...]
// VERDICTS_OUT.json: { "<bundle path>": "pass" | "fail: <code>: <message>" }
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// pnpm keeps @sigstore/* in the package that depends on it: resolve them as packages/sigstore does.
const require = createRequire(new URL('../packages/sigstore/package.json', import.meta.url));
const { bundleFromJSON } = require('@sigstore/bundle');
const { TrustedRoot } = require('@sigstore/protobuf-specs');
const { toSignedEntity, toTrustMaterial, Verifier } = require('@sigstore/verify');

const [jobsFile, trustedRootFile, verdictsFile] = process.argv.slice(2);
if (!jobsFile || !trustedRootFile || !verdictsFile) {
  process.stderr.write('usage: sigstore-js-verify-batch.mjs JOBS.json TRUSTED_ROOT.json VERDICTS_OUT.json\n');
  process.exit(2);
}

const jobs = JSON.parse(readFileSync(jobsFile, 'utf8'));
const trustedRoot = TrustedRoot.fromJSON(JSON.parse(readFileSync(trustedRootFile, 'utf8')));
const verifier = new Verifier(toTrustMaterial(trustedRoot), { tlogThreshold: 1, ctlogThreshold: 1 });
const policies = new Map();

const verdicts = {};
let failed = 0;
for (const job of jobs) {
  try {
    const bundle = bundleFromJSON(JSON.parse(readFileSync(job.bundle, 'utf8')));
    const blob = bundle.content.$case === 'messageSignature' ? readFileSync(job.artifact) : undefined;
    verifier.verify(toSignedEntity(bundle, blob), policyFor(job));
    verdicts[job.bundle] = 'pass';
  } catch (error) {
    failed += 1;
    verdicts[job.bundle] = `fail: ${error?.code ?? 'ERROR'}: ${error instanceof Error ? error.message : String(error)}`;
  }
}
writeFileSync(verdictsFile, JSON.stringify(verdicts));
process.stdout.write(`${jobs.length} bundles, ${failed} refused\n`);

function policyFor(job) {
  const key = `${job.identity}\n${job.issuer}`;
  if (!policies.has(key)) {
    policies.set(key, {
      subjectAlternativeName: `^${job.identity.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`,
      extensions: { issuer: job.issuer },
    });
  }
  return policies.get(key);
}
