// The README's `npx twokey …` examples, run the way a user runs them: through npx, from the repository root.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../conformance/paths';

const run = promisify(execFile);
const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');

/** Every `sh` code block line that runs `npx twokey`, with backslash continuations joined. */
function twokeyExamples(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks
    .flatMap((block) => block.replace(/\\\n\s*/g, ' ').split('\n'))
    .map((line) => line.trim())
    .filter((line) => line.startsWith('npx twokey '));
}

async function shell(command: string) {
  try {
    const { stdout, stderr } = await run('bash', ['-c', command], { cwd: repoRoot });
    return { status: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { status: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('README examples', () => {
  const examples = twokeyExamples(readme);

  it('has verify-bundle examples', () => {
    expect(examples.some((e) => e.startsWith('npx twokey verify-bundle'))).toBe(true);
  });

  it.each(examples)('%s', async (command) => {
    const result = await shell(command);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Verified OK: /);
  });

  it('refuses the sigstore@2.1.0 provenance for a lookalike fork identity, as the README says', async () => {
    const honest = examples.find((e) => e.includes('sigstore-js-2.1.0-bundle.json'))!;
    const forged = honest.replace('/sigstore/sigstore-js/', '/sigstore/sigstore-js-fork/');
    const result = await shell(forged);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^error IDENTITY_MISMATCH: .*expected identity/m);
  });
});
