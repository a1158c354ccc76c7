#!/usr/bin/env node
// `npm run bench` (through scripts/toolchain.mjs, which sets up Node 24 and the locked dependencies first):
// bundles the bench harness and its hashing child with esbuild — they use the workspace's TypeScript packages — and
// runs it on this Node.
//
//   node bench/run.mjs [--tiny] [--out FILE]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const outdir = mkdtempSync(join(tmpdir(), 'twokey-bench-build-'));
try {
  const common = {
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
  };
  await build({ ...common, entryPoints: { bench: join(root, 'bench', 'bench.ts') } });
  // The hashing child is bundled as the product's bundles are (scripts/build.mjs): the workspace's own modules are
  // side-effect free, so that importing digestFile through @twokey/sigstore's index leaves out what the child never
  // calls. Without it the index brings all of sigstore-js and @twokey/core in (1.3 MB of code, ~2 MB more peak RSS),
  // which no process that hashes loads: the build action's subject step starts on ~124 KB.
  await build({
    ...common,
    entryPoints: { 'hash-child': join(root, 'bench', 'hash-child.ts') },
    plugins: [workspaceSideEffectFree(join(root, 'packages') + sep)],
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

/** Marks the workspace's own TypeScript modules side-effect free, as scripts/build.mjs does for the product. */
function workspaceSideEffectFree(packagesDir) {
  const isWorkspaceSource = (path) => path.startsWith(packagesDir) && !path.includes(`${sep}node_modules${sep}`);
  return {
    name: 'bench-workspace-side-effect-free',
    setup(build) {
      build.onResolve({ filter: /^(@twokey\/|\.)/ }, async (args) => {
        if (args.pluginData?.resolved || args.kind === 'entry-point') return undefined;
        const found = await build.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: { resolved: true },
        });
        if (found.errors.length > 0 || !isWorkspaceSource(found.path)) return found;
        return { ...found, sideEffects: false };
      });
    },
  };
}
