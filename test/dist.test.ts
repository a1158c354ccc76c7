// Each action's dist/ is committed (GitHub runs it as is, as actions/attest does): a fresh esbuild build of the
// sources must be byte for byte what is committed, file for file — the entry, the files its dynamic imports and the
// GitHub client are read from (scripts/build.mjs), and nothing else — so no action runs code that is not in its
// sources.
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { FRESH_DIST_VARIABLE } from '@twokey/testkit';
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

  const distDirectories = [...new Set(actions.map((t) => dirname(t.outfile)))];

  it.each(distDirectories)('%s matches a fresh build, file for file', async (dist) => {
    const here = actions.filter((t) => dirname(t.outfile) === dist);
    for (const target of here) {
      expect(
        existsSync(join(repoRoot, target.outfile)),
        `${target.outfile} is not committed: run \`npm run build\``,
      ).toBe(true);
    }
    // The fresh build the test run's global setup made (test/fresh-dist.ts), else one made here.
    const shared = process.env[FRESH_DIST_VARIABLE] && join(process.env[FRESH_DIST_VARIABLE], dist);
    const fresh = shared && existsSync(shared) ? shared : mkdtempSync(join(tmpdir(), 'twokey-dist-'));
    if (fresh !== shared) {
      const cwd = process.cwd();
      process.chdir(repoRoot);
      try {
        for (const target of here) await bundle(target, join(fresh, basename(target.outfile)));
      } finally {
        process.chdir(cwd);
      }
    }
    const made = readdirSync(fresh).sort();
    expect(
      readdirSync(join(repoRoot, dist)).sort(),
      `${dist}: run \`npm run build\` and commit what it writes`,
    ).toEqual(made);
    for (const file of made) {
      const same = readFileSync(join(fresh, file)).equals(readFileSync(join(repoRoot, dist, file)));
      expect(same, `${dist}/${file} differs from a fresh build: run \`npm run build\` and commit`).toBe(true);
    }
  });
});
