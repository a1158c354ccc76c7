// vitest's global setup: every action's dist/ bundled once from today's sources, with scripts/build.mjs, into a
// temporary directory that runAction (packages/testkit/src/runner.ts) runs from — rather than once in each test file
// that runs an action, and test/dist.test.ts compares the committed dist/ with it. The tests still run the code they
// sit next to, never a committed dist/ that lags it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FRESH_DIST_VARIABLE } from '@twokey/testkit';

interface BuildTarget {
  entry: string;
  outfile: string;
}

export default async function setup(): Promise<() => void> {
  const root = resolve(import.meta.dirname, '..');
  const { bundle, targets } = (await import(pathToFileURL(join(root, 'scripts', 'build.mjs')).href)) as {
    bundle: (target: BuildTarget, outfile: string) => Promise<void>;
    targets: BuildTarget[];
  };
  const directory = mkdtempSync(join(tmpdir(), 'twokey-fresh-dist-'));
  // One action's targets one after the other (they share its dist/), the actions side by side.
  const byAction = new Map<string, BuildTarget[]>();
  for (const target of targets.filter((t) => t.outfile.startsWith('actions/'))) {
    const dist = dirname(target.outfile);
    byAction.set(dist, [...(byAction.get(dist) ?? []), target]);
  }
  // From the repository, as `npm run build` builds them: the same bytes as the committed dist/ (test/dist.test.ts
  // compares the committed files with these).
  const cwd = process.cwd();
  process.chdir(root);
  try {
    await Promise.all(
      [...byAction.values()].map(async (group) => {
        for (const target of group) await bundle(target, join(directory, target.outfile));
      }),
    );
  } finally {
    process.chdir(cwd);
  }
  process.env[FRESH_DIST_VARIABLE] = directory;
  return () => rmSync(directory, { recursive: true, force: true });
}
