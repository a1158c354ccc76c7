// Every action's dist/ bundled from today's sources into a directory of the caller's, at its path relative to the
// repository (DIR/actions/<name>/dist/…): what the tests run the actions from (packages/testkit's runAction) and
// what test/dist.test.ts compares the committed dist/ with. Made once per test run — by `npm test` (scripts/check.mjs)
// while it type-checks, or else by vitest's global setup (test/fresh-dist.ts).
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle, targets } from './build.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Bundles every action into `directory`. */
export async function buildActionsInto(directory) {
  // One action's targets one after the other (they share its dist/), the actions side by side.
  const byAction = new Map();
  for (const target of targets.filter((t) => t.outfile.startsWith('actions/'))) {
    const dist = dirname(target.outfile);
    byAction.set(dist, [...(byAction.get(dist) ?? []), target]);
  }
  // Their modules are ES modules as the repository's package.json says (`"type": "module"`, which each action's
  // directory repeats): without it above them, Node would read each file as CommonJS first and then again.
  writeFileSync(join(directory, 'package.json'), `${JSON.stringify({ type: 'module' })}\n`);
  // From the repository, as `npm run build` builds them: the same bytes as the committed dist/.
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
}
