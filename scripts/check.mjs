// `npm test`: build, type-check, lint and format check, then every test (unit, end-to-end, conformance).
// Runs on the Node 24 toolchain (scripts/toolchain.mjs puts it first on PATH).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bin = (name) => join(process.cwd(), 'node_modules', '.bin', name);

function step(title, command, args) {
  process.stdout.write(`\n== ${title}\n`);
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.status !== 0) {
    process.stdout.write(`\n${title} failed (exit ${result.status ?? result.signal})\n`);
    process.exit(result.status || 1);
  }
}

step('build the CLI (esbuild)', process.execPath, ['scripts/build.mjs', '--cli']);
step('type-check (tsc)', bin('tsc'), ['-p', 'tsconfig.json']);
step('lint and format (biome)', bin('biome'), ['check', '.']);

const reportDir = mkdtempSync(join(tmpdir(), 'twokey-vitest-'));
const reportFile = join(reportDir, 'report.json');
process.stdout.write('\n== tests (vitest)\n');
const tests = spawnSync(
  bin('vitest'),
  ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${reportFile}`, ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
let passed = 0;
let failed = 0;
try {
  const report = JSON.parse(readFileSync(reportFile, 'utf8'));
  passed = report.numPassedTests;
  failed =
    report.numFailedTests +
    (report.numTotalTestSuites > 0 && report.success === false && report.numFailedTests === 0 ? 1 : 0);
} catch {
  failed = Math.max(failed, 1);
}
process.stdout.write(`\ntests: ${passed} passed, ${failed} failed\n`);
process.exit(tests.status === 0 && failed === 0 ? 0 : 1);
