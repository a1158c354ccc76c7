#!/usr/bin/env node
// Runs the demo (src/demo/main.ts) on Node 24. The workspace's TypeScript (extensionless imports, packages that
// export .ts sources) is not what Node's type stripping runs, so it is bundled with esbuild first, as the CLI is,
// into node_modules/.cache (ignored by git), then imported. `npm run demo` builds the actions and the CLI before this.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(`demo: needs Node 24 (this is ${process.version}); run it with \`npm run demo\`\n`);
  process.exit(2);
}

const directory = join(repoRoot, 'node_modules', '.cache', 'twokey-demo');
const outfile = join(directory, 'demo.mjs');
const result = await build({
  absWorkingDir: repoRoot,
  entryPoints: [join(repoRoot, 'packages', 'testkit', 'src', 'demo', 'main.ts')],
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  write: false,
  outfile,
  legalComments: 'none',
  // ESM bundles of CommonJS dependencies need `require` (as scripts/build.mjs does).
  banner: {
    js: "import { createRequire as __twokeyCreateRequire } from 'node:module'; const require = __twokeyCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
// Written under a name of its own, then renamed: two demos starting at once never import a half-written file.
mkdirSync(directory, { recursive: true });
const partial = `${outfile}.${process.pid}`;
writeFileSync(partial, result.outputFiles[0].contents);
renameSync(partial, outfile);

const { main } = await import(pathToFileURL(outfile).href);
process.exitCode = await main(process.argv.slice(2), { repoRoot });
