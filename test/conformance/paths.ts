import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The external suites: `../shared/conformance` beside the repository (never edited). */
export const conformanceRoot = resolve(repoRoot, '..', 'shared', 'conformance');
export const realdataRoot = resolve(repoRoot, '..', 'shared', 'sigstore-realdata');
/** The `twokey` command as users run it: the launcher, which runs the built bundle. */
export const cliEntry = join(repoRoot, 'packages', 'cli', 'bin', 'twokey.cjs');
const cliBundle = join(repoRoot, 'packages', 'cli', 'dist', 'twokey.cjs');

export function requireBuiltCli(): string {
  if (!existsSync(cliBundle)) throw new Error(`${cliBundle} is missing: run \`npm test\` (it builds first)`);
  return cliEntry;
}
