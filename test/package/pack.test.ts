// @twokey/cli as people get it. `npm pack` of packages/cli makes one tarball with a bin and no dependencies; it is
// installed into an empty directory outside the repository with no registry (offline, a throwaway cache, a registry
// address nothing answers), and `npx twokey verify-bundle` runs the README's real example there — on the Node running
// these tests, and on Node 22, the oldest line the package supports (tools/toolchain/node22).
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: the build script is plain JavaScript without type declarations
import { bundle, targets } from '../../scripts/build.mjs';
// @ts-expect-error: the toolchain script is plain JavaScript without type declarations
import { nodePackage } from '../../scripts/toolchain.mjs';
import { realdataRoot, repoRoot } from '../conformance/paths';

const cliDir = join(repoRoot, 'packages', 'cli');
const cliPackage = JSON.parse(readFileSync(join(cliDir, 'package.json'), 'utf8'));

interface Packed {
  filename: string;
  size: number;
  files: { path: string; size: number }[];
}

let world: string;
let project: string;
let tarball: string;
let packed: Packed;
let env: NodeJS.ProcessEnv;
let licences: string;

interface BuildTarget {
  entry: string;
  outfile: string;
}

/** npm with no registry to reach: offline, a cache of its own, and a registry address where nothing listens. */
function offlineEnv(cache: string): NodeJS.ProcessEnv {
  // npm's own configuration from an outer `npm test` must not leak in.
  const outer = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  return {
    ...outer,
    npm_config_offline: 'true',
    npm_config_cache: cache,
    npm_config_registry: 'http://127.0.0.1:9/',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
}

function run(command: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 120_000 });
}

/** The README's example of verify-bundle on a real bundle: the command's arguments and the output it shows. */
function readmeExample(): { args: string[]; output: string } {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const match = /```sh\n(npx twokey verify-bundle \\\n(?:.*\\\n)*.*)\n```\n\n```\n(Verified OK:[^`]*)```/.exec(readme);
  if (!match) throw new Error('README.md: the verify-bundle example (```sh npx twokey verify-bundle …) is missing');
  const words = match[1]!.replace(/\\\n/g, ' ').trim().split(/\s+/);
  expect(words.slice(0, 2)).toEqual(['npx', 'twokey']);
  return { args: words.slice(2), output: match[2]! };
}

beforeAll(async () => {
  world = realpathSync(mkdtempSync(join(tmpdir(), 'twokey-package-')));
  env = offlineEnv(join(world, 'npm-cache'));
  // The package as `npm pack` in packages/cli makes it, from a copy: its prepack (scripts/build.mjs --cli) would
  // rewrite packages/cli/dist while other tests run the CLI from it, so the same build is made into the copy instead.
  const copy = join(world, 'cli');
  for (const file of ['package.json', 'LICENSE', 'README.md', 'bin/twokey.cjs']) {
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    copyFileSync(join(cliDir, file), join(copy, file));
  }
  for (const target of (targets as BuildTarget[]).filter((t) => t.outfile.startsWith('packages/cli/'))) {
    await bundle(target, join(copy, relative(cliDir, join(repoRoot, target.outfile))));
  }
  const packDir = join(world, 'pack');
  mkdirSync(packDir);
  const pack = run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', packDir], copy);
  expect(pack.status, pack.stderr).toBe(0);
  [packed] = JSON.parse(pack.stdout) as Packed[];
  tarball = join(packDir, packed!.filename);
  licences = readFileSync(join(copy, 'dist', 'THIRD-PARTY-LICENSES.txt'), 'utf8');
  // The README runs the example from the repository, with the bundle in ../shared/sigstore-realdata: the same layout,
  // with nothing of the repository in it.
  project = join(world, 'project');
  mkdirSync(project);
  mkdirSync(join(world, 'shared', 'sigstore-realdata'), { recursive: true });
  copyFileSync(
    join(realdataRoot, 'sigstore-js-2.1.0-bundle.json'),
    join(world, 'shared', 'sigstore-realdata', 'sigstore-js-2.1.0-bundle.json'),
  );
}, 180_000);

describe('npm pack of @twokey/cli', () => {
  it('ships the launcher, the bundles (the CLI, its batch worker, its GitHub client, its TUF client, its HTML report renderer), the licences and the README: nothing else', () => {
    expect(packed.filename).toBe(`twokey-cli-${cliPackage.version}.tgz`);
    expect(packed.files.map((f) => f.path).sort()).toEqual([
      'LICENSE',
      'README.md',
      'bin/twokey.cjs',
      'dist/THIRD-PARTY-LICENSES.txt',
      'dist/batch-worker.cjs',
      'dist/github.cjs',
      'dist/report-html.cjs',
      'dist/tuf.cjs',
      'dist/twokey.cjs',
      'package.json',
    ]);
    // Compressed, well under a megabyte.
    expect(packed.size).toBeLessThan(1024 * 1024);
  });

  it('is a public package with a bin, no dependencies, and the engines of the sigstore-js it bundles', () => {
    expect(cliPackage.private).toBeUndefined();
    expect(cliPackage.bin).toEqual({ twokey: 'bin/twokey.cjs' });
    expect(cliPackage.dependencies).toBeUndefined();
    expect(cliPackage.license).toBe('Apache-2.0');
    // `npm pack` in packages/cli builds what it ships (as the copy above was built).
    expect(cliPackage.scripts).toEqual({ prepack: 'node ../../scripts/build.mjs --cli' });
    const sigstoreVerify = JSON.parse(
      readFileSync(
        join(repoRoot, 'packages', 'sigstore', 'node_modules', '@sigstore', 'verify', 'package.json'),
        'utf8',
      ),
    );
    expect(cliPackage.engines).toEqual({ node: sigstoreVerify.engines.node });
  });

  it('names every npm package bundled in it, with its licence', () => {
    for (const name of ['@sigstore/verify', '@sigstore/core', 'fastest-levenshtein', 're2js', 'yaml', 'tinyglobby']) {
      expect(licences).toMatch(new RegExp(`^${name.replace('/', '\\/')} \\d+\\.\\d+\\.\\d+ \\(`, 'm'));
    }
  });
});

describe('installed from the tarball into an empty directory, with no registry and no repository', () => {
  beforeAll(() => {
    expect(relative(repoRoot, project).startsWith('..')).toBe(true);
    const install = run('npm', ['install', tarball], project);
    expect(install.status, `${install.stdout}${install.stderr}`).toBe(0);
  }, 180_000);

  it('installs one package and links its bin', () => {
    expect(readdirSync(join(project, 'node_modules')).sort()).toEqual(['.bin', '.package-lock.json', '@twokey']);
    expect(readdirSync(join(project, 'node_modules', '@twokey'))).toEqual(['cli']);
    expect(readdirSync(join(project, 'node_modules', '.bin'))).toEqual(['twokey']);
  });

  it("runs the README's example with npx: exit 0, and the signer exactly as the README shows it", () => {
    const { args, output } = readmeExample();
    const result = run('npx', ['--offline', 'twokey', ...args], project);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toBe(output);
    expect(result.stderr).toBe('');
    const version = run('npx', ['--offline', 'twokey', '--version'], project);
    expect(version.stdout).toMatch(new RegExp(`^twokey ${cliPackage.version.replaceAll('.', '\\.')} `));
  });

  it('runs it on Node 22, the oldest Node it supports, with no toolchain around it', () => {
    const lockfile = JSON.parse(
      readFileSync(join(repoRoot, 'tools', 'toolchain', 'node22', 'package-lock.json'), 'utf8'),
    );
    const node22 = nodePackage(lockfile, process.platform, process.arch);
    expect(node22, `no Node 22 is locked for ${process.platform}-${process.arch}`).toBeDefined();
    const binary = join(repoRoot, 'tools', 'toolchain', 'node22', node22.binary);
    const version = spawnSync(binary, ['--version'], { encoding: 'utf8' });
    expect(version.status, `${binary} is missing: run \`npm run setup\` (it installs tools/toolchain/node22)`).toBe(0);
    expect(version.stdout).toMatch(/^v22\./);
    const { args, output } = readmeExample();
    const launcher = join(project, 'node_modules', '@twokey', 'cli', 'bin', 'twokey.cjs');
    const result = run(binary, [launcher, ...args], project);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toBe(output);
  });

  it('refuses an older Node with one line saying which it needs, rather than failing somewhere inside', () => {
    const launcher = join(project, 'node_modules', '@twokey', 'cli', 'bin', 'twokey.cjs');
    // The launcher's own check, as Node 20 would meet it.
    const result = run(
      process.execPath,
      [
        '--import',
        'data:text/javascript,Object.defineProperty(process.versions,"node",{value:"20.20.2"})',
        launcher,
        '--version',
      ],
      project,
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      'twokey: needs Node 22 (22.22.2 or later), 24 (24.15 or later) or 26 and later (this is v20.20.2)\n',
    );
  });
});
