#!/usr/bin/env node
// The `twokey` command: runs the CLI bundle (dist/twokey.cjs, built by scripts/build.mjs; `npm pack` builds it) on
// Node 22 or later. Run from the repository on an older Node, it re-runs itself with the Node that `npm test` /
// `npm run setup` installed in tools/toolchain (this launcher itself is plain JavaScript). It is a CommonJS file: an ES
// module as the entry starts Node's ES module loader first, ~3 ms of every run (bench/README.md, "Start-up").
//
// The bundle runs through a V8 code cache: the bytecode V8 compiled while a run of the same command worked is kept
// next to the bundle (dist/.code-cache/) and handed back to V8 on the next run, so that a run does not spend its
// first tens of milliseconds compiling the same functions again (bench/README.md, "code cache" and "start-up"). The
// build makes the caches of `verify` and `verify-bundle` with its own Node (scripts/build.mjs, makeCodeCache), so
// that the first run after a build has one; otherwise the first run that reaches a verdict makes it, and the next
// three make it again, so that it grows to hold every path those runs took. The cache changes nothing that is
// verified: it is only ever used for the exact bundle it was made from (its SHA-256 is in the file name), on the Node
// version and architecture it was made on (in the name too), and only when this user or the bundle's owner wrote it
// and no one else can write it or its directory, never through a symbolic link (it is code, as trusted as the bundle
// beside it); V8 itself rejects it for another V8
// version or other flags; a rejected or unreadable cache just means compiling (as when the installed package is not
// writable). TWOKEY_NO_CODE_CACHE=1 (or Node's own NODE_DISABLE_COMPILE_CACHE=1) turns it off.
const major = Number(process.versions.node.split('.')[0]);
// process.getBuiltinModule (Node 22.3) is what the rest of this file loads builtins with.
if (major < 22 || typeof process.getBuiltinModule !== 'function') {
  const { existsSync, readFileSync, realpathSync } = require('node:fs');
  const { spawnSync } = require('node:child_process');
  const { join } = require('node:path');
  const self = __filename;
  // npm links the toolchain's Node, whichever platform's package it is, as node_modules/.bin/node.
  const repository = join(__dirname, '..', '..', '..');
  const toolchainNode = join(repository, 'tools', 'toolchain', 'node_modules', '.bin', 'node');
  // Only in twokey's own repository: installed as a package (PREFIX/node_modules/@twokey/cli), that path would be a
  // file of whatever package is named `tools` beside it, run with the user's arguments.
  const inRepository = (() => {
    try {
      const manifest = JSON.parse(readFileSync(join(repository, 'package.json'), 'utf8'));
      return (
        manifest.name === 'twokey-workspace' &&
        realpathSync(join(repository, 'packages', 'cli', 'bin', 'twokey.cjs')) === realpathSync(self) &&
        realpathSync(toolchainNode).startsWith(realpathSync(join(repository, 'tools', 'toolchain', 'node_modules')))
      );
    } catch {
      return false;
    }
  })();
  if (!inRepository || !existsSync(toolchainNode)) {
    process.stderr.write(
      `twokey: needs Node 22 (22.22.2 or later), 24 (24.15 or later) or 26 and later (this is v${process.versions.node})\n`,
    );
    process.exit(2);
  }
  const result = spawnSync(toolchainNode, [self, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}

// Builtins through process.getBuiltinModule: an ES import of node:crypto would build its module namespace, and so
// load Web Crypto, which nothing here needs.
const { createHash } = process.getBuiltinModule('node:crypto');
const {
  closeSync,
  constants: fsConstants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} = process.getBuiltinModule('node:fs');
const Module = process.getBuiltinModule('node:module');
const { dirname, join } = process.getBuiltinModule('node:path');
const { constants, Script } = process.getBuiltinModule('node:vm');

const entry = join(__dirname, '..', 'dist', 'twokey.cjs');

/**
 * A cache is made again at the end of the next runs that reach a verdict, up to this many times: each holds what the
 * cache before it held and whatever else that run compiled, so a cache first made by a run that took a short path
 * (a refusal) still comes to hold the long one. Then it is left as it is (making one takes ~6 ms).
 */
const CACHE_REMAKES = 3;

let bytes;
let owner;
try {
  const fd = openSync(entry, 'r');
  try {
    owner = fstatSync(fd).uid;
    bytes = readFileSync(fd);
  } finally {
    closeSync(fd);
  }
} catch {
  process.stderr.write(`twokey: ${entry} is missing; in the repository, run \`npm run setup\` (it builds it)\n`);
  process.exit(2);
}
runCommonJS(entry, bytes.toString('utf8'), codeCache(entry, bytes, owner, process.argv[2]));

/** Runs a CommonJS file as Node's loader would, with V8's cached data for it when there is a usable cache. */
function runCommonJS(filename, text, cache) {
  const cached = cache?.read();
  // The function Node's CommonJS loader wraps every module in.
  const wrapped = `(function (exports, require, module, __filename, __dirname) { ${text}\n});`;
  const script = new Script(wrapped, {
    filename,
    cachedData: cached?.data,
    importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const usable = cached !== undefined && !script.cachedDataRejected;
  if (cache && (!usable || cached.remade < CACHE_REMAKES)) {
    // Made at exit, so that it holds every function this run compiled, and only from a run that got as far as a
    // verdict (exit 0 or 1): a run stopped by a usage error compiles too little to be worth keeping.
    const remade = usable ? cached.remade + 1 : 0;
    process.once('exit', (code) => {
      if (code === 0 || code === 1) cache.write(script.createCachedData(), remade);
    });
  }
  const module = new Module(filename);
  module.filename = filename;
  script.runInThisContext()(module.exports, Module.createRequire(filename), module, filename, dirname(filename));
}

/**
 * The code cache of a bundle (its bytes, and the user that owns it) for one command, or undefined when turned off.
 * Every failure is a cache miss.
 */
function codeCache(bundle, bytes, bundleOwner, command) {
  if (process.env.TWOKEY_NO_CODE_CACHE === '1' || process.env.NODE_DISABLE_COMPILE_CACHE === '1') return undefined;
  const dir = join(dirname(bundle), '.code-cache');
  // The bytes read, hashed as they are (a string would be encoded again).
  const digest = createHash('sha256').update(bytes).digest('hex');
  const user = process.getuid?.();
  const key = /^[a-z][a-z-]{0,31}$/.test(command ?? '') ? command : 'default';
  const file = join(dir, `${digest}-${process.version}-${process.arch}-${key}.v8cache`);
  // Of this user or the bundle's owner, what `is` asks, and writable by nobody else.
  const ownedPrivately = (stat, is) =>
    is(stat) && user !== undefined && (stat.uid === user || stat.uid === bundleOwner) && (stat.mode & 0o022) === 0;
  // The file: one byte counting how many times the cache was made again, then V8's cached data.
  return {
    read() {
      // The cache is code: it is used only when this user, or whoever owns the bundle (and so could change it as
      // well: the build's cache, in an installation another user owns), wrote it, and nobody else can change it —
      // neither the file (never reached through a symbolic link) nor the directory it is in (nobody else could have
      // put it there, or swap it).
      let fd;
      try {
        if (!ownedPrivately(lstatSync(dir), (stat) => stat.isDirectory())) return undefined;
        fd = openSync(file, fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0));
        const stat = fstatSync(fd);
        if (!ownedPrivately(stat, (s) => s.isFile())) return undefined;
        const bytes = readFileSync(fd);
        return bytes.length > 1 ? { remade: bytes[0], data: bytes.subarray(1) } : undefined;
      } catch {
        return undefined;
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
    },
    write(data, remade) {
      const temporary = `${file}.${process.pid}.tmp`;
      try {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        // Not into a directory another user made or could write: what it holds would not be read.
        if (!ownedPrivately(lstatSync(dir), (stat) => stat.isDirectory())) return;
        writeFileSync(temporary, Buffer.concat([Buffer.of(remade), data]), { flag: 'wx', mode: 0o600 });
        renameSync(temporary, file);
        // Caches of earlier builds are never used again.
        for (const name of readdirSync(dir)) if (!name.startsWith(digest)) unlinkSync(join(dir, name));
      } catch {
        try {
          unlinkSync(temporary);
        } catch {}
      }
    },
  };
}
