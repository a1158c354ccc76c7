// What twokey runs is what it was built from: no bundle leaves a package to be found at run time. Bundled dependencies
// require some packages only if they are installed (debug's `supports-color`, linkedom's `canvas`, cacache's `p-map`,
// fdir's `picomatch` through a require of its own), and esbuild left those requires to run time, where Node looks in
// every node_modules above the bundle (a runner's _work directory, the project the CLI is installed in), NODE_PATH and
// ~/.node_modules: whoever could write one of those ran code inside twokey. The build now bundles each as a module
// that throws as a missing package does, and refuses a bundle that still loads a package at run time
// (scripts/build.mjs, absentPackages). The launcher's re-run with the repository's own Node happens only in the
// repository: installed, the same path named a file of whatever package is called `tools` beside it.
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repository = resolve(import.meta.dirname, '..', '..');
const cliDist = join(repository, 'packages', 'cli', 'dist');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'twokey-outside-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The CLI as a project installs it: PACKAGE/bin/twokey.cjs and PACKAGE/dist/*.cjs. Returns the launcher. */
function installCli(packageDir: string): string {
  mkdirSync(join(packageDir, 'bin'), { recursive: true });
  mkdirSync(join(packageDir, 'dist'), { recursive: true });
  copyFileSync(join(repository, 'packages', 'cli', 'bin', 'twokey.cjs'), join(packageDir, 'bin', 'twokey.cjs'));
  for (const name of readdirSync(cliDist)) {
    if (name.endsWith('.cjs')) copyFileSync(join(cliDist, name), join(packageDir, 'dist', name));
  }
  return join(packageDir, 'bin', 'twokey.cjs');
}

/** A package NAME in DIR/node_modules that writes MARKER when it is loaded: the attacker's. */
function plant(directory: string, name: string, marker: string): void {
  const path = join(directory, 'node_modules', name);
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'package.json'), JSON.stringify({ name, version: '9.9.9', main: 'index.js' }));
  writeFileSync(join(path, 'index.js'), `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\n`);
}

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, args, {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, GITHUB_ACTIONS: '', CI: '', TWOKEY_NO_CODE_CACHE: '1', ...env },
  });
}

describe('packages found at run time', () => {
  it('the CLI’s TUF client does not load a supports-color planted above where the CLI is installed, or on NODE_PATH', () => {
    const project = join(dir, 'project');
    const launcher = installCli(join(project, 'node_modules', '@twokey', 'cli'));
    const marker = join(dir, 'supports-color.ran');
    plant(project, 'supports-color', marker);
    plant(join(dir, 'elsewhere'), 'supports-color', marker);
    const tufRoot = join(dir, 'tuf-root.json');
    writeFileSync(tufRoot, '{}');
    // The TUF client is loaded before the mirror (a closed port) is asked anything.
    const refresh = run(
      [
        launcher,
        'trusted-root',
        '--refresh',
        '--name',
        'public-good',
        '--tuf-url',
        'http://127.0.0.1:9',
        '--tuf-root',
        tufRoot,
      ],
      { TWOKEY_CACHE_DIR: join(dir, 'cache'), NODE_PATH: join(dir, 'elsewhere', 'node_modules') },
    );
    expect(refresh.status, refresh.stderr).toBe(2);
    expect(refresh.stderr).toContain('TUF_REFRESH_FAILED');
    expect(existsSync(marker)).toBe(false);
  });

  it('`twokey report --html` does not load a canvas planted above where the CLI is installed', () => {
    const project = join(dir, 'project-report');
    const launcher = installCli(join(project, 'node_modules', '@twokey', 'cli'));
    const marker = join(dir, 'canvas.ran');
    plant(project, 'canvas', marker);
    const release = join(repository, 'packages', 'cli', '__fixtures__', 'code-cache-release');
    const html = join(dir, 'report.html');
    const report = run([
      launcher,
      'report',
      '--policy',
      join(release, 'policy.yml'),
      '--bundle',
      join(release, 'app-0000.provenance.sigstore.json'),
      '--html',
      html,
    ]);
    expect([0, 1], report.stderr).toContain(report.status);
    expect(readFileSync(html, 'utf8')).toContain('<svg');
    expect(existsSync(marker)).toBe(false);
  });

  it('without its tuf.cjs, the CLI does not load an @sigstore/tuf found above where it is installed, or on NODE_PATH', () => {
    // Bundled, the TUF client is tuf.cjs beside the bundle and nothing else: the package by name is for the sources.
    const project = join(dir, 'project-no-tuf');
    const launcher = installCli(join(project, 'node_modules', '@twokey', 'cli'));
    rmSync(join(project, 'node_modules', '@twokey', 'cli', 'dist', 'tuf.cjs'));
    const marker = join(dir, 'sigstore-tuf.ran');
    plant(project, '@sigstore/tuf', marker);
    plant(join(dir, 'elsewhere-tuf'), '@sigstore/tuf', marker);
    const tufRoot = join(dir, 'tuf-root-no-tuf.json');
    writeFileSync(tufRoot, '{}');
    const refresh = run(
      [
        launcher,
        'trusted-root',
        '--refresh',
        '--name',
        'public-good',
        '--tuf-url',
        'http://127.0.0.1:9',
        '--tuf-root',
        tufRoot,
      ],
      { TWOKEY_CACHE_DIR: join(dir, 'cache-no-tuf'), NODE_PATH: join(dir, 'elsewhere-tuf', 'node_modules') },
    );
    expect(existsSync(marker)).toBe(false);
    expect(refresh.status, refresh.stderr).toBe(3);
    expect(refresh.stderr).toMatch(
      /^twokey: internal error .*tuf\.cjs beside the CLI's bundle cannot be loaded \(Cannot find module '.*tuf\.cjs'/,
    );
  });

  it('without its report-html.cjs, `twokey report --html` does not load a report-html.ts beside it', () => {
    // Bundled, the renderer is report-html.cjs beside the bundle and nothing else: the module is for the sources.
    // A copy of the CLI outside any node_modules (vendored), where Node strips a .ts file's types and runs it.
    const packageDir = join(dir, 'vendored', 'twokey');
    const launcher = installCli(packageDir);
    rmSync(join(packageDir, 'dist', 'report-html.cjs'));
    const marker = join(dir, 'report-html.ran');
    // Where the sources' module would be from the bundle's directory (../report-html.ts).
    writeFileSync(
      join(packageDir, 'report-html.ts'),
      `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\n`,
    );
    const release = join(repository, 'packages', 'cli', '__fixtures__', 'code-cache-release');
    const html = join(dir, 'report-no-renderer.html');
    const report = run([
      launcher,
      'report',
      '--policy',
      join(release, 'policy.yml'),
      '--bundle',
      join(release, 'app-0000.provenance.sigstore.json'),
      '--html',
      html,
    ]);
    expect(existsSync(marker)).toBe(false);
    expect(report.status, report.stderr).toBe(3);
    expect(report.stderr).toMatch(
      /^twokey: internal error .*report-html\.cjs beside the CLI's bundle cannot be loaded \(Cannot find module '.*report-html\.cjs'/,
    );
    expect(existsSync(html)).toBe(false);
  });

  it('the actions load nothing from a node_modules of the runner’s work directory (outside the action’s checkout)', () => {
    // The runner's layout: _work/_actions/OWNER/REPO/REF/actions/<stage>/dist; _work outlives a job on a self-hosted
    // runner, and _actions is fetched afresh.
    const work = join(dir, '_work');
    const checkout = join(work, '_actions', 'acme', 'twokey', 'v1');
    const marker = join(dir, 'action.ran');
    for (const name of ['supports-color', 'picomatch', 'p-map', 'kerberos']) plant(work, name, marker);
    for (const stage of ['build', 'deploy']) {
      const dist = join(checkout, 'actions', stage, 'dist');
      cpSync(join(repository, 'actions', stage, 'dist'), dist, { recursive: true });
      // Every file of the stage, as each step loads it (the signing chunk when a record is signed, the glob library
      // when subjects are resolved): imported, so that their top levels run.
      const files = readdirSync(dist).filter(
        (name) => name.endsWith('.js') && !['index.js', 'batch-worker.js'].includes(name),
      );
      const script = files
        .map((name) => `await import(${JSON.stringify(join(dist, name))}).catch(() => {});`)
        .join('\n');
      const imported = run(['--input-type=module', '-e', script]);
      expect(imported.status, imported.stderr).toBe(0);
    }
    expect(existsSync(marker)).toBe(false);
  });

  it('no action’s dist/ requires or imports a package by name (only Node’s own modules and its own files)', () => {
    const found: string[] = [];
    for (const stage of readdirSync(join(repository, 'actions'))) {
      const dist = join(repository, 'actions', stage, 'dist');
      if (!existsSync(dist)) continue;
      for (const name of readdirSync(dist).filter((n) => /\.(c?js)$/.test(n))) {
        const text = readFileSync(join(dist, name), 'utf8');
        for (const match of text.matchAll(
          /\b(?:__require|require|import)(?:\.resolve)?\(\s*["']([^"'./][^"']*)["']\s*\)/g,
        )) {
          if (!isBuiltin(match[1]!)) found.push(`actions/${stage}/dist/${name}: ${match[0]}`);
        }
      }
    }
    expect(found).toEqual([]);
  });
});

describe('the launcher on a Node too old for it', () => {
  // Node 22.0–22.2 have no process.getBuiltinModule, which is what the launcher checks: removed here before it runs.
  const tooOld = join(tmpdir(), `twokey-too-old-${process.pid}.cjs`);
  beforeAll(() => writeFileSync(tooOld, 'delete process.getBuiltinModule;\n'));
  afterAll(() => rmSync(tooOld, { force: true }));

  it('installed, runs no `tools` package beside it, and says which Node it needs', () => {
    const project = join(dir, 'project-old');
    const launcher = installCli(join(project, 'node_modules', '@twokey', 'cli'));
    const marker = join(dir, 'tools-node.ran');
    const bin = join(project, 'node_modules', 'tools', 'toolchain', 'node_modules', '.bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'node'), `#!/bin/sh\necho ran > ${JSON.stringify(marker)}\necho not twokey\n`, {
      mode: 0o755,
    });
    const old = run(['--require', tooOld, launcher, '--version']);
    expect(old.stdout).not.toContain('not twokey');
    expect(old.status).toBe(2);
    expect(old.stderr).toMatch(
      /^twokey: needs Node 22 \(22\.22\.2 or later\), 24 \(24\.15 or later\) or 26 and later \(this is v[\d.]+\)\n$/,
    );
    expect(existsSync(marker)).toBe(false);
  });

  it('in the repository, runs itself again with the toolchain’s Node', () => {
    const old = run(['--require', tooOld, join(repository, 'packages', 'cli', 'bin', 'twokey.cjs'), '--version']);
    expect(old.status, old.stderr).toBe(0);
    expect(old.stdout).toMatch(/^twokey \S+ \(@twokey\/cli, Node v\d+/);
  });
});
