// The README's `npx twokey …` examples and how a user runs them: through npx, from the repository root. Shared by
// readme-examples.test.ts (the verify-bundle examples) and test/slow/demo.slow.ts, whose demo output the `twokey
// verify` examples run on (the README tells users to run them after `npm run demo`): one demo run for both.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readDeployReport } from '@twokey/core';
import { expect } from 'vitest';
import { repoRoot } from '../conformance/paths';

const run = promisify(execFile);
const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');

export interface Example {
  command: string;
  /** The exit status the README announces with a trailing `# exit N` (0 when it announces none). */
  exit: number;
}

/** Every `sh` code block line that runs `npx twokey`, with backslash continuations joined. */
function twokeyExamples(markdown: string): Example[] {
  const blocks = [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks
    .flatMap((block) => block.replace(/\\\n\s*/g, ' ').split('\n'))
    .map((line) => line.trim())
    .filter((line) => line.startsWith('npx twokey '))
    .map((line) => {
      const announced = /\s+# exit (\d)$/.exec(line);
      return announced
        ? { command: line.slice(0, announced.index), exit: Number(announced[1]) }
        : { command: line, exit: 0 };
    });
}

export async function shell(command: string) {
  try {
    const { stdout, stderr } = await run('bash', ['-c', command], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
    return { status: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { status: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const examples = twokeyExamples(readme);
export const verifyBundleExamples = examples.filter((e) => e.command.startsWith('npx twokey verify-bundle '));
export const verifyExamples = examples.filter((e) => e.command.startsWith('npx twokey verify '));

/** Runs a README `twokey verify` example on a demo output directory (`demo-output/` in the README) and checks it. */
export async function checkVerifyExample(example: Example, demoOutput: string): Promise<void> {
  const result = await shell(example.command.replaceAll('demo-output/', `${demoOutput}/`));
  expect(result.status, result.stderr).toBe(example.exit);
  if (example.command.includes('--json')) {
    const report = readDeployReport(result.stdout, example.command);
    expect(report.verdict).toBe(example.exit === 0 ? 'pass' : 'fail');
  } else {
    expect(result.stdout).toMatch(example.exit === 0 ? /ACCEPTED/ : /REFUSED/);
  }
}
