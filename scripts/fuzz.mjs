#!/usr/bin/env node
// `npm run fuzz`: bundles the fuzzer (test/fuzz/main.ts, which uses the workspace's TypeScript packages) with esbuild,
// as bench/run.mjs bundles the benchmark, and runs it on Node 24.
//
//   npm run fuzz -- [--cases N | --seconds S] [--seed N] [--workers N] [--target bundle,policy,argv,chain]
//                   [--replay I,J...] [--findings DIR] [--make-seeds]
//
// Exit status: 0 no finding; 1 a finding (each printed with the line that replays it); 2 a usage error.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

// Run by an older Node (npm's own), re-run on the Node 24 of tools/toolchain, as packages/cli/bin/twokey.cjs does.
if (Number(process.versions.node.split('.')[0]) < 24) {
  const node24 = join(
    root,
    'tools',
    'toolchain',
    'node_modules',
    `node-${process.platform}-${process.arch}`,
    'bin',
    'node',
  );
  if (!existsSync(node24)) {
    process.stderr.write(`fuzz: needs Node 24 (this is ${process.version}); run \`npm run setup\` first\n`);
    process.exit(2);
  }
  const result = spawnSync(node24, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}

process.chdir(root);
const { build } = await import('esbuild');
const { bundle, targets } = await import('./build.mjs');
const outdir = mkdtempSync(join(tmpdir(), 'twokey-fuzz-build-'));
try {
  // The CLI as users run it, built from the sources being fuzzed, for the cases also run as a subprocess.
  const cli = join(outdir, 'twokey.cjs');
  await bundle(
    targets.find((t) => t.outfile.startsWith('packages/cli/')),
    cli,
  );
  await build({
    entryPoints: { fuzz: join(root, 'test', 'fuzz', 'main.ts') },
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
      ...(process.env.TWOKEY_FUZZ_NODE_OPTIONS ?? '').split(' ').filter(Boolean),
      '--no-warnings',
      join(outdir, 'fuzz.mjs'),
      ...process.argv.slice(2),
    ],
    {
      stdio: 'inherit',
      cwd: root,
      env: { ...process.env, TWOKEY_FUZZ_ROOT: root, ...(cli && { TWOKEY_FUZZ_CLI: cli }) },
    },
  );
  process.exitCode = result.status ?? 1;
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
