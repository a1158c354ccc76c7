#!/usr/bin/env node
// The report figure on its own: bundles bench/report.ts with esbuild (it uses the workspace's TypeScript packages, as
// bench/run.mjs bundles the harness), builds the CLI it measures, and prints the figure as JSON.
//
//   node bench/report.mjs [--bundles N] [--runs R] [--cache-dir DIR] [--no-build] [--out FILE]
//   (default 2,000 bundles, 3 runs; the figure: `npm run bench -- --only report --report-bundles 100000`,
//   which runs this and records it in bench/results.json)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const { values } = parseArgs({
  options: {
    bundles: { type: 'string', default: '2000' },
    runs: { type: 'string', default: '3' },
    'cache-dir': { type: 'string' },
    // bench/bench.ts has built the CLI already.
    'no-build': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const bundles = Number(values.bundles);
const runs = Number(values.runs);
if (!Number.isInteger(bundles) || bundles < 1 || !Number.isInteger(runs) || runs < 1) {
  process.stderr.write(
    'usage: node bench/report.mjs [--bundles N] [--runs R] [--cache-dir DIR] [--no-build] [--out FILE]\n',
  );
  process.exit(2);
}

// The CLI measured is the one the sources make now.
if (!values['no-build']) {
  const built = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--cli'], { stdio: 'inherit' });
  if (built.status !== 0) process.exit(built.status ?? 1);
}

const outdir = mkdtempSync(join(tmpdir(), 'twokey-bench-report-'));
try {
  await build({
    entryPoints: { report: join(root, 'bench', 'report.ts') },
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
  process.chdir(root);
  const { measureReport } = await import(pathToFileURL(join(outdir, 'report.mjs')).href);
  const figure = await measureReport({
    root,
    cacheDir: values['cache-dir'] ?? join(root, 'bench', '.cache'),
    bundles,
    runs,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const text = `${JSON.stringify({ report_vs_sigstore_js: figure }, null, 2)}\n`;
  if (values.out) writeFileSync(values.out, text);
  process.stdout.write(text);
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
