// The demo's sample repository, acme/app: a few source files and its build, as a build job's `run:` step runs it
// (`esbuild src/main.js --bundle …` → dist/app.js). Each change the demo merges is a different greeting.

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What a commit of acme/app changes: the greeting module's text. */
export interface AppChange {
  /** The greeting the app prints, e.g. `Bonjour`. */
  greeting: string;
  /** Extra code in the greeting module (what an attacker slips in). */
  payload?: string;
}

/** Writes acme/app's sources at a commit with `change` into `workspace`. */
export function checkoutSampleApp(workspace: string, change: AppChange): void {
  mkdirSync(join(workspace, 'src'), { recursive: true });
  const files: Record<string, string> = {
    'package.json': `${JSON.stringify(
      {
        name: 'app',
        version: '1.0.0',
        private: true,
        type: 'module',
        scripts: { build: 'esbuild src/main.js --bundle --platform=node --format=esm --outfile=dist/app.js' },
      },
      null,
      2,
    )}\n`,
    'README.md': '# acme/app\n\nGreets whoever runs it: `node dist/app.js NAME`.\n',
    'src/main.js': "import { greet } from './greeting.js';\n\nconsole.log(greet(process.argv[2] ?? 'world'));\n",
    'src/greeting.js': [
      `export function greet(name) {`,
      ...(change.payload ? [`  ${change.payload}`] : []),
      `  return \`${change.greeting}, \${name}!\`;`,
      `}`,
      '',
    ].join('\n'),
  };
  for (const [path, text] of Object.entries(files)) writeFileSync(join(workspace, path), text);
}

/** Builds the app as its `build` script does; returns the artifact's path (`dist/app.js` in the workspace). */
export function buildSampleApp(workspace: string, repoRoot: string): string {
  const esbuild = join(repoRoot, 'node_modules', '.bin', 'esbuild');
  const outfile = join(workspace, 'dist', 'app.js');
  const result = spawnSync(
    esbuild,
    ['src/main.js', '--bundle', '--platform=node', '--format=esm', `--outfile=${outfile}`, '--log-level=warning'],
    { cwd: workspace, encoding: 'utf8' },
  );
  if (result.status !== 0) {
    throw new Error(`building acme/app failed (${esbuild}): ${result.error?.message ?? result.stderr.trim()}`);
  }
  return outfile;
}
