// Each action's dist/ is committed (GitHub runs it as is, as actions/attest does): a fresh esbuild bundle of the
// sources must be byte for byte what is committed, so no action runs code that is not in its sources.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: the build script is plain JavaScript without type declarations
import { bundle, targets } from '../scripts/build.mjs';
import { repoRoot } from './conformance/paths';

interface Target {
  entry: string;
  outfile: string;
}

const actions = (targets as Target[]).filter((t) => t.outfile.startsWith('actions/'));

describe('committed dist/', () => {
  it('covers the five actions, and the batch worker entry of the one that verifies evidence in batches', () => {
    expect(actions.map((t) => t.outfile)).toEqual([
      'actions/build/dist/index.js',
      'actions/sign/dist/index.js',
      'actions/break-glass/dist/index.js',
      'actions/deploy/dist/index.js',
      'actions/deploy/dist/batch-worker.js',
      'actions/report/dist/index.js',
    ]);
  });

  it.each(actions.map((t) => [t.outfile, t] as const))('%s matches a fresh build', async (_name, target) => {
    const committed = join(repoRoot, target.outfile);
    expect(existsSync(committed), `${target.outfile} is not committed: run \`npm run build\``).toBe(true);
    const fresh = join(mkdtempSync(join(tmpdir(), 'twokey-dist-')), 'index.js');
    const cwd = process.cwd();
    process.chdir(repoRoot);
    try {
      await bundle(target, fresh);
    } finally {
      process.chdir(cwd);
    }
    const same = readFileSync(fresh).equals(readFileSync(committed));
    expect(
      same,
      `${target.outfile} differs from a fresh build of ${target.entry}: run \`npm run build\` and commit`,
    ).toBe(true);
  });
});
