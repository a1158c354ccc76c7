// The README's `npx twokey …` examples, run the way a user runs them: through npx, from the repository root. The
// `twokey verify` examples run on the output of the demo, as the README tells users to run them after `npm run demo`.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readDeployReport } from '@twokey/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../conformance/paths';

const run = promisify(execFile);
const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');

interface Example {
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

async function shell(command: string) {
  try {
    const { stdout, stderr } = await run('bash', ['-c', command], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
    return { status: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { status: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const examples = twokeyExamples(readme);
const verifyBundle = examples.filter((e) => e.command.startsWith('npx twokey verify-bundle '));
const verify = examples.filter((e) => e.command.startsWith('npx twokey verify '));

describe('README: twokey verify-bundle', () => {
  it('has examples', () => {
    expect(verifyBundle.length).toBeGreaterThan(0);
  });

  it.each(verifyBundle.map((e) => [e.command, e] as const))('%s', async (_name, example) => {
    const result = await shell(example.command);
    expect(result.status, result.stderr).toBe(example.exit);
    expect(result.stdout).toMatch(/^Verified OK: /);
  });

  it('refuses the sigstore@2.1.0 provenance for a lookalike fork identity, as the README says', async () => {
    const honest = verifyBundle.find((e) => e.command.includes('sigstore-js-2.1.0-bundle.json'))!;
    const forged = honest.command.replace('/sigstore/sigstore-js/', '/sigstore/sigstore-js-fork/');
    const result = await shell(forged);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^error IDENTITY_MISMATCH: .*expected identity/m);
  });
});

describe('README: twokey verify on the demo output', () => {
  let out: string;

  beforeAll(async () => {
    out = join(mkdtempSync(join(tmpdir(), 'twokey-readme-')), 'demo-output');
    const demo = join(repoRoot, 'packages', 'testkit', 'bin', 'demo.mjs');
    await run(process.execPath, [demo, '--out', out], { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1' } });
  }, 120_000);

  it('has accepted and refused examples', () => {
    expect(verify.map((e) => e.exit)).toEqual(expect.arrayContaining([0, 1]));
  });

  it.each(verify.map((e) => [e.command, e] as const))('%s', async (_name, example) => {
    const result = await shell(example.command.replaceAll('demo-output/', `${out}/`));
    expect(result.status, result.stderr).toBe(example.exit);
    if (example.command.includes('--json')) {
      const report = readDeployReport(result.stdout, example.command);
      expect(report.verdict).toBe(example.exit === 0 ? 'pass' : 'fail');
    } else {
      expect(result.stdout).toMatch(example.exit === 0 ? /ACCEPTED/ : /REFUSED/);
    }
  });
});
