// The actions and the CLI start lean (scripts/build.mjs; bench/README.md, "Start-up"): what a bundle reads before its
// first line of code runs holds neither the GitHub client (@actions/github, Octokit, undici) nor the signing client
// (@sigstore/sign); those are files beside it, read when first used. Each action reads at start only what its first
// step needs (its inputs checked, and the sign action's policy read): what comes later — verifying bundles, reading
// GitHub, judging, signing, the report's run — is a chunk beside it, imported when the step gets there.
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

/** The workspace's own modules a readable esbuild output holds: its `// packages/NAME/src/…` comments. */
function workspaceModulesIn(text: string): Set<string> {
  return new Set([...text.matchAll(/^\/\/ (packages\/[^/]+\/src\/\S+)$/gm)].map((m) => m[1]!));
}

/** What an action's dist/index.js reads before it runs: its files, the npm packages and workspace modules in them. */
function start(outfile: string) {
  const files = [...loadedAtStart(join(repoRoot, outfile))];
  const texts = files.map((f) => readFileSync(f, 'utf8'));
  return {
    files,
    packages: new Set(texts.flatMap((t) => [...packagesIn(t)])),
    modules: new Set(texts.flatMap((t) => [...workspaceModulesIn(t)])),
  };
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

  // What verifying and signing need: Sigstore's libraries, the curves, the embedded trusted roots and TUF seeds.
  const VERIFY_AND_SIGN = [
    '@sigstore/verify',
    '@sigstore/core',
    '@sigstore/bundle',
    '@sigstore/protobuf-specs',
    '@sigstore/tuf',
    '@noble/curves',
    '@noble/hashes',
  ];
  // The policy's parser (packages/core/src/policy.ts): YAML, RE2 and its validator.
  const POLICY = ['yaml', 're2js'];

  it('the build action: the subjects resolved, nothing of the policy, the token or signing', () => {
    const { packages, modules } = start('actions/build/dist/index.js');
    for (const name of [...VERIFY_AND_SIGN, ...POLICY, 'jose', 'snappyjs']) expect(packages).not.toContain(name);
    expect(packages).toContain('tinyglobby'); // its first step: the subjects, found and hashed
    for (const module of ['packages/github/src/build-sign.ts', 'packages/sigstore/src/sign.ts']) {
      expect(modules).not.toContain(module);
    }
  });

  it('the sign action: its inputs and the policy, not the provenance verification, GitHub reads or signing', () => {
    const { packages, modules } = start('actions/sign/dist/index.js');
    for (const name of [...VERIFY_AND_SIGN, 'jose', 'snappyjs', 'tinyglobby']) expect(packages).not.toContain(name);
    for (const name of POLICY) expect(packages).toContain(name); // its first step reads the policy
    expect(modules).toContain('packages/core/src/validators/policy.validate.js');
    expect(modules).toContain('packages/sigstore/src/policy-file.ts');
    for (const module of [
      'packages/github/src/sign-decide.ts',
      'packages/github/src/evidence.ts',
      'packages/github/src/evidence-graphql.ts',
      'packages/core/src/validators/review-predicate.validate.js',
      'packages/sigstore/src/trust.ts', // the choice of trusted root, apart from the policy's reader (policy-file.ts)
      'packages/sigstore/src/verify.ts',
      'packages/sigstore/src/sign.ts',
    ]) {
      expect(modules).not.toContain(module);
    }
  });

  it('the break-glass action: its required inputs, not the duration parser (the policy), GitHub or signing', () => {
    const { packages, modules } = start('actions/break-glass/dist/index.js');
    for (const name of [...VERIFY_AND_SIGN, ...POLICY, 'jose', 'snappyjs']) expect(packages).not.toContain(name);
    for (const module of [
      'packages/github/src/break-glass-sign.ts',
      'packages/core/src/validators/break-glass-predicate.validate.js',
    ]) {
      expect(modules).not.toContain(module);
    }
  });

  it('the report action: its inputs, not the report run (verification, GitHub, the ledger)', () => {
    const { packages, modules } = start('actions/report/dist/index.js');
    for (const name of [...VERIFY_AND_SIGN, 'snappyjs', 'tinyglobby']) expect(packages).not.toContain(name);
    for (const module of [
      'packages/cli/src/report-run.ts',
      'packages/cli/src/report-evidence.ts',
      'packages/core/src/sod-metrics.ts',
      'packages/sigstore/src/verify.ts',
    ]) {
      expect(modules).not.toContain(module);
    }
  });

  it('the deploy action: its inputs checked, not the decision, the verification or signing', () => {
    const { packages, modules } = start('actions/deploy/dist/index.js');
    for (const name of [...VERIFY_AND_SIGN, ...POLICY, 'jose', 'snappyjs']) expect(packages).not.toContain(name);
    expect(modules).toContain('packages/gate/src/deploy-step.ts');
    for (const module of [
      'packages/gate/src/deploy-run.ts',
      'packages/gate/src/gate.ts',
      'packages/gate/src/evaluate.ts',
      'packages/gate/src/sarif-file.ts',
      'packages/sigstore/src/verify.ts',
      'packages/sigstore/src/sign.ts',
    ]) {
      expect(modules).not.toContain(module);
    }
  });

  it('every action: Snappy (a bundle_url of the attestation store) is read only when used', () => {
    for (const { outfile } of entries) expect(start(outfile).packages).not.toContain('snappyjs');
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
