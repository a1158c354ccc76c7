// vitest's global setup: every action's dist/ bundled once from today's sources (scripts/fresh-dist.mjs), into a
// temporary directory that runAction (packages/testkit/src/runner.ts) runs from — rather than once in each test file
// that runs an action, and test/dist.test.ts compares the committed dist/ with it. The tests still run the code they
// sit next to, never a committed dist/ that lags it. `npm test` (scripts/check.mjs) makes that directory while it
// type-checks and names it in TWOKEY_FRESH_DIST: then it is used as it is, and removed by its maker.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FRESH_DIST_VARIABLE } from '@twokey/testkit';

export default async function setup(): Promise<() => void> {
  const made = process.env[FRESH_DIST_VARIABLE];
  if (made && existsSync(join(made, 'actions'))) return () => {};
  const root = resolve(import.meta.dirname, '..');
  const { buildActionsInto } = (await import(pathToFileURL(join(root, 'scripts', 'fresh-dist.mjs')).href)) as {
    buildActionsInto: (directory: string) => Promise<void>;
  };
  const directory = mkdtempSync(join(tmpdir(), 'twokey-fresh-dist-'));
  await buildActionsInto(directory);
  process.env[FRESH_DIST_VARIABLE] = directory;
  return () => rmSync(directory, { recursive: true, force: true });
}
