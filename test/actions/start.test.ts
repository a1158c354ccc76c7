// The actions and the CLI start lean (scripts/build.mjs; bench/README.md, "Start-up"): what a bundle reads before its
// first line of code runs holds neither the GitHub client (@actions/github, Octokit, undici) nor the signing client
// (@sigstore/sign); those are files beside it, read when first used.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: the build script is plain JavaScript without type declarations
import { targets } from '../../scripts/build.mjs';
import { repoRoot } from '../conformance/paths';

interface Target {
  entry: string;
  outfile: string;
}

const entries = (targets as Target[]).filter((t) => t.outfile.startsWith('actions/'));

/** An ES module and the files it imports statically, transitively: what Node reads before the entry runs. */
function loadedAtStart(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/^(?:import|export)\s[^;]*?\bfrom\s*"(\.\/[^"]+)"|^import\s*"(\.\/[^"]+)"/gm)) {
    loadedAtStart(resolve(dirname(file), (m[1] ?? m[2])!), seen);
  }
  return seen;
}

/** The npm packages a readable (unminified) esbuild output holds: its `// node_modules/.pnpm/NAME@…` comments. */
function packagesIn(text: string): Set<string> {
  return new Set(
    [...text.matchAll(/^\/\/ node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)\//gm)].map((m) => m[1]!),
  );
}

const HEAVY = ['undici', '@actions/github', '@octokit/core', '@octokit/plugin-retry', '@actions/http-client'];

describe('what an action reads at start', () => {
  it.each(entries.map((t) => [t.outfile, t] as const))('%s: not the GitHub or signing clients', (_name, target) => {
    const main = join(repoRoot, target.outfile);
    const files = [...loadedAtStart(main)];
    const atStart = new Set(files.flatMap((f) => [...packagesIn(readFileSync(f, 'utf8'))]));
    for (const name of [...HEAVY, '@sigstore/sign']) expect(atStart.has(name), `${name} in ${files}`).toBe(false);
    // Chunks of dynamic imports and the GitHub client beside it: all of them committed, none loaded at start.
    const dist = dirname(main);
    const beside = readdirSync(dist).map((f) => join(dist, f));
    if (existsSync(join(dist, 'github.cjs'))) {
      const client = packagesIn(readFileSync(join(dist, 'github.cjs'), 'utf8'));
      for (const name of ['undici', '@actions/github', '@octokit/core']) expect(client.has(name)).toBe(true);
    }
    expect(beside.filter((f) => !files.includes(f)).length).toBeGreaterThan(0);
  });
});

describe('what the CLI reads at start', () => {
  const dist = join(repoRoot, 'packages', 'cli', 'dist');

  it('twokey.cjs holds no HTTP client (undici) and no Octokit: github.cjs beside it does', () => {
    expect(existsSync(join(dist, 'twokey.cjs')), 'run `node scripts/build.mjs --cli`').toBe(true);
    const bundle = readFileSync(join(dist, 'twokey.cjs'), 'utf8');
    const client = readFileSync(join(dist, 'github.cjs'), 'utf8');
    // undici's error codes and Octokit's user agent: in the client, and not in the bundle.
    for (const mark of ['UND_ERR_CONNECT_TIMEOUT', 'octokit-core.js/']) {
      expect(client).toContain(mark);
      expect(bundle).not.toContain(mark);
    }
  });
});
