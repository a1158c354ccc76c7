import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The external suites: `../shared/conformance` beside the repository (never edited). */
export const conformanceRoot = resolve(repoRoot, '..', 'shared', 'conformance');
export const realdataRoot = resolve(repoRoot, '..', 'shared', 'sigstore-realdata');
export const cliEntry = join(repoRoot, 'packages', 'cli', 'dist', 'twokey.mjs');

export function requireBuiltCli(): string {
  if (!existsSync(cliEntry)) throw new Error(`${cliEntry} is missing: run \`npm test\` (it builds first)`);
  return cliEntry;
}
