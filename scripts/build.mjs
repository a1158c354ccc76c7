// Bundles the CLI and every action with esbuild. The actions' dist/ is committed (as actions/attest does);
// test/dist.test.ts rebuilds it and fails when it differs from what is committed.
//
// The actions are ES modules (GitHub runs dist/index.js). The CLI is one CommonJS file, because its launcher
// (packages/cli/bin/twokey.mjs) runs it through a V8 code cache, and only a classic script can be run that way.

import { existsSync } from 'node:fs';
import { build } from 'esbuild';

// ESM bundles of CommonJS dependencies need `require` (FIELD-NOTES: "Dynamic require of net").
const ESM_BANNER =
  "import { createRequire as __twokeyCreateRequire } from 'node:module'; const require = __twokeyCreateRequire(import.meta.url);";
// A CommonJS bundle has no import.meta: its one use (the batch's worker threads load this same file) gets the file's URL.
const CJS_BANNER = "const __twokeyImportMetaUrl = require('node:url').pathToFileURL(__filename).href;";

export const targets = [
  { entry: 'packages/cli/src/main.ts', outfile: 'packages/cli/dist/twokey.cjs', format: 'cjs' },
  { entry: 'actions/build/src/index.ts', outfile: 'actions/build/dist/index.js' },
  { entry: 'actions/sign/src/index.ts', outfile: 'actions/sign/dist/index.js' },
  { entry: 'actions/deploy/src/index.ts', outfile: 'actions/deploy/dist/index.js' },
];

export async function bundle(target, outfile = target.outfile) {
  const format = target.format ?? 'esm';
  await build({
    entryPoints: [target.entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format,
    minify: true,
    legalComments: 'none',
    banner: { js: format === 'cjs' ? CJS_BANNER : ESM_BANNER },
    ...(format === 'cjs' && { define: { 'import.meta.url': '__twokeyImportMetaUrl' } }),
    logLevel: 'warning',
  });
}

// `node scripts/build.mjs` bundles everything; `--cli` only the CLI (a build output, not committed), which is what
// `npm test` does, so that test/dist.test.ts compares the committed actions' dist/ with a fresh build.
if (import.meta.url === `file://${process.argv[1]}`) {
  const cliOnly = process.argv.includes('--cli');
  for (const target of targets) {
    if (cliOnly && !target.outfile.startsWith('packages/cli/')) continue;
    if (existsSync(target.entry)) await bundle(target);
  }
}
