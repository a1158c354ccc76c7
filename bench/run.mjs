#!/usr/bin/env node
// `npm run bench` (through scripts/toolchain.mjs, which sets up Node 24 and the locked dependencies first):
// bundles the bench harness and its hashing child with esbuild — they use the workspace's TypeScript packages — and
// runs it on this Node.
//
//   node bench/run.mjs [--tiny] [--out FILE]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const outdir = mkdtempSync(join(tmpdir(), 'twokey-bench-build-'));
try {
  await build({
    entryPoints: { bench: join(root, 'bench', 'bench.ts'), 'hash-child': join(root, 'bench', 'hash-child.ts') },
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
  const result = spawnSync(
    process.execPath,
    [
      join(outdir, 'bench.mjs'),
      '--root',
      root,
      '--hash-child',
      join(outdir, 'hash-child.mjs'),
      ...process.argv.slice(2),
    ],
    { stdio: 'inherit', cwd: root },
  );
  process.exitCode = result.status ?? 1;
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
