// `npm test`: build, type-check, lint and format check, then every test (unit, end-to-end, conformance).
// Runs on the Node 24 toolchain (scripts/toolchain.mjs puts it first on PATH). The steps before the tests do not
// depend on one another and run side by side: building the CLI, bundling every action for the tests (vitest's global
// setup, test/fresh-dist.ts, then uses that build), type-checking, and the linter; each one's output is printed whole,
// in this order, once all have ended.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildActionsInto } from './fresh-dist.mjs';

const bin = (name) => join(process.cwd(), 'node_modules', '.bin', name);

/** A step run as a process, its output kept: { status, output }. */
function run(command, args) {
  return new Promise((done) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      output += chunk;
    });
    child.once('error', (error) => done({ status: 1, output: `${output}${error.message}\n` }));
    child.once('close', (code, signal) => done({ status: code ?? signal, output }));
  });
}

/** A step run in this process. */
async function inProcess(work) {
  try {
    await work();
    return { status: 0, output: '' };
  } catch (error) {
    return { status: 1, output: `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n` };
  }
}

const freshDist = mkdtempSync(join(tmpdir(), 'twokey-fresh-dist-'));
process.on('exit', () => rmSync(freshDist, { recursive: true, force: true }));
// Interrupted (Ctrl-C), the bundles are removed too: exit runs the handler above.
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
]) {
  process.on(signal, () => process.exit(code));
}
const steps = [
  ['build the CLI (esbuild)', run(process.execPath, ['scripts/build.mjs', '--cli'])],
  ['bundle every action for the tests (esbuild)', inProcess(() => buildActionsInto(freshDist))],
  ['type-check (tsc)', run(bin('tsc'), ['-p', 'tsconfig.json'])],
  ['lint and format (biome)', run(bin('biome'), ['check', '.'])],
];
let failedStep;
for (const [title, step] of steps) {
  const { status, output } = await step;
  process.stdout.write(`\n== ${title}\n${output}`);
  if (status !== 0) {
    process.stdout.write(`\n${title} failed (exit ${status})\n`);
    // An exit code, or 1 for a step that ended on a signal.
    failedStep ??= typeof status === 'number' && status !== 0 ? status : 1;
  }
}
if (failedStep !== undefined) process.exit(failedStep);

const reportDir = mkdtempSync(join(tmpdir(), 'twokey-vitest-'));
const reportFile = join(reportDir, 'report.json');
process.stdout.write('\n== tests (vitest)\n');
const tests = spawnSync(
  bin('vitest'),
  ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${reportFile}`, ...process.argv.slice(2)],
  { stdio: 'inherit', env: { ...process.env, TWOKEY_FRESH_DIST: freshDist } },
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
