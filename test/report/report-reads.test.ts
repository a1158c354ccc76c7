// Every deploy report in the test suite validates against report.schema.json. Reports are made by evaluateDeploy,
// which checks each one against the schema before it returns it (the CLI, the deploy action, the demo and the unit
// tests all go through it); and every report read back — `twokey verify --json`'s output, the deploy action's
// report-path, the demo's report.json — is read with readDeployReport, which checks the JSON as a consumer gets it.
// This test finds reads that would bypass readDeployReport: a report cast from JSON.parse, or a JSON.parse of a
// report file or of `twokey verify --json`'s output.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DEPLOY_CHECK_IDS, readDeployReport } from '@twokey/core';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../conformance/paths';

/** Where reports are made and read: the tests, the actions, the packages (the demo), the benchmark. */
const SCANNED = ['test', 'actions', 'packages', 'bench'];
const SKIPPED = /(^|\/)(node_modules|dist|validators|\.cache)(\/|$)/;
/** The reader itself, and this test (its examples are bypasses on purpose). */
const READERS = ['packages/core/src/report.ts', 'test/report/report-reads.test.ts'];
/** Said on a line (or the line above) that parses some other JSON printed by a process that also runs verify --json. */
const NOT_A_REPORT = 'not a deploy report';

/** Every line of `text` that reads a deploy report without readDeployReport, with why (one reason a line). */
function bypasses(text: string): string[] {
  const found: string[] = [];
  const lines = text.split('\n');
  // An argv that starts with the verify command: this file runs `twokey verify`, whose stdout may be a report.
  const runsVerify = /\[\s*['"]verify['"]/.test(text);
  lines.forEach((line, index) => {
    const marked = line.includes(NOT_A_REPORT) || (lines[index - 1] ?? '').includes(NOT_A_REPORT);
    const parsed = parseArguments(lines.slice(index).join('\n'), line).filter((a) => !a.startsWith('JSON.stringify('));
    const why = /\bas\s+DeployReport\b|<DeployReport>|:\s*DeployReport\s*=\s*JSON\.parse/.test(line)
      ? 'a report cast, never checked'
      : parsed.some((a) => /report/i.test(a))
        ? 'JSON.parse of a report'
        : runsVerify && !marked && parsed.some((a) => /stdout/.test(a))
          ? 'JSON.parse of the output of a file that runs twokey verify'
          : undefined;
    if (why) found.push(`line ${index + 1}: ${line.trim()} (${why}: use readDeployReport)`);
  });
  return found;
}

/** The argument text of each `JSON.parse(` that starts on `line` (read on into `rest` until its parenthesis closes). */
function parseArguments(rest: string, line: string): string[] {
  const found: string[] = [];
  let from = 0;
  for (;;) {
    const at = line.indexOf('JSON.parse(', from);
    if (at === -1) return found;
    const start = at + 'JSON.parse('.length;
    let depth = 1;
    let end = start;
    while (end < rest.length && depth > 0) {
      if (rest[end] === '(') depth++;
      else if (rest[end] === ')') depth--;
      end++;
    }
    found.push(rest.slice(start, end - 1).trim());
    from = start;
  }
}

function sourceFiles(): string[] {
  return SCANNED.flatMap((top) =>
    readdirSync(join(repoRoot, top), { recursive: true, encoding: 'utf8' })
      .map((file) => `${top}/${file}`)
      .filter((file) => /\.(ts|mts|mjs|js)$/.test(file) && !SKIPPED.test(file) && !READERS.includes(file)),
  );
}

describe('every deploy report the test suite reads is checked against report.schema.json', () => {
  it('finds the bypasses it looks for (the check is real)', () => {
    expect(bypasses('const r = JSON.parse(cli.stdout) as DeployReport;')).toHaveLength(1);
    expect(bypasses("runCli(['verify', a, '--json']);\nconst { rejected } = JSON.parse(cli.stdout);")).toHaveLength(1);
    expect(bypasses("const r = JSON.parse(readFileSync(reportPath, 'utf8'));")).toHaveLength(1);
    expect(
      bypasses("const r: DeployReport = JSON.parse(\n  readFileSync(join(out, 'report.json'), 'utf8'),\n);"),
    ).toHaveLength(1);
    expect(bypasses("runCli(['verify', a, '--json']);\nconst r = JSON.parse(\n  result.stdout,\n);")).toHaveLength(1);
    expect(bypasses("const r = readDeployReport(cli.stdout, 'twokey verify --json');")).toEqual([]);
    expect(bypasses('expect(written).toEqual(JSON.parse(JSON.stringify(result.report)));')).toEqual([]);
    expect(
      bypasses(
        `runCli(['verify', a, '--json']);\n// the hash child's figures, ${NOT_A_REPORT}\nJSON.parse(run.stdout);`,
      ),
    ).toEqual([]);
  });

  it('no test, action, package or benchmark reads a report without readDeployReport', () => {
    const files = sourceFiles();
    expect(files.length).toBeGreaterThan(100);
    const found = files.flatMap((file) =>
      bypasses(readFileSync(join(repoRoot, file), 'utf8')).map((b) => `${file}: ${b}`),
    );
    expect(found).toEqual([]);
  });

  it('the tests that read reports (CLI, deploy action, end to end, demo, README) read them with readDeployReport', () => {
    const readers = [
      'test/cli/verify.test.ts',
      'test/e2e/pipeline.test.ts',
      'test/sign/no-one-ships-alone.test.ts',
      'test/slow/demo.slow.ts',
      'test/readme/readme-examples.ts',
      'packages/gate/src/deploy-step.test.ts',
      'packages/testkit/src/demo/pipeline.ts',
      'bench/bench.ts',
    ];
    for (const file of readers) {
      expect(readFileSync(join(repoRoot, file), 'utf8'), relative(repoRoot, file)).toContain('readDeployReport(');
    }
  });
});

describe('docs/report.md', () => {
  const doc = readFileSync(join(repoRoot, 'docs', 'report.md'), 'utf8');

  it('shows a report that validates against the schema', () => {
    const examples = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(examples.length).toBeGreaterThan(0);
    for (const example of examples) expect(readDeployReport(example, 'docs/report.md').schemaVersion).toBe(1);
  });

  it('describes every deploy check', () => {
    for (const id of DEPLOY_CHECK_IDS) expect(doc).toContain(`| \`${id}\``);
  });
});
