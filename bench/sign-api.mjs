#!/usr/bin/env node
// sign_api_requests on its own: bundles bench/sign-api.ts with esbuild (it uses the workspace's TypeScript packages,
// as bench/run.mjs bundles the harness) and prints the figure as JSON.
//
//   node bench/sign-api.mjs
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const outdir = mkdtempSync(join(tmpdir(), 'twokey-bench-sign-api-'));
try {
  await build({
    entryPoints: { 'sign-api': join(root, 'bench', 'sign-api.ts') },
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    // ESM bundles of CommonJS dependencies need `require` (as scripts/build.mjs does for the CLI and the actions).
    banner: {
      js: "import { createRequire as __twokeyCreateRequire } from 'node:module'; const require = __twokeyCreateRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
  // The GitHub fake finds GitHub's GraphQL schema from the workspace: run from its root.
  process.chdir(root);
  const { measureSignApiRequests } = await import(pathToFileURL(join(outdir, 'sign-api.mjs')).href);
  const figure = await measureSignApiRequests();
  process.stdout.write(`${JSON.stringify({ sign_api_requests: figure }, null, 2)}\n`);
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
