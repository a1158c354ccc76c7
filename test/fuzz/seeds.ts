// The fuzzer's seed corpus: bundles that verify, each with what `twokey verify-bundle` checks it against. Real
// public-good bundles (../shared/sigstore-realdata), the Sigstore conformance suite's happy paths and bundles made on
// the loopback Sigstore stack (test/fuzz/seeds/loopback, made by `npm run fuzz -- --make-seeds`). A mutation of any of
// them must never verify.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository: set by scripts/fuzz.mjs (the fuzzer runs from a bundle elsewhere), else found from this file. */
export const repoRoot = process.env.TWOKEY_FUZZ_ROOT ?? resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const sharedRoot = resolve(repoRoot, '..', 'shared');
export const realdataRoot = join(sharedRoot, 'sigstore-realdata');
export const conformanceRoot = join(sharedRoot, 'conformance');
export const loopbackSeedsDir = join(repoRoot, 'test', 'fuzz', 'seeds', 'loopback');
export const policyExample = join(repoRoot, 'docs', 'policy.example.yml');

/** A bundle that verifies, and the verify-bundle arguments it verifies under (paths absolute). */
export interface BundleSeed {
  name: string;
  /** The bundle file. */
  path: string;
  /** The bundle file's bytes, as published. */
  text: string;
  json: Record<string, unknown>;
  trustedRoot: string;
  /** An artifact path, or `sha256:HEX` / `sha512:HEX`. */
  artifact: string;
  /** The signer's identity, or `key` for a bundle signed by a managed key. */
  identity?: { san: string; issuer: string };
  key?: string;
}

const GITHUB_ACTIONS = 'https://token.actions.githubusercontent.com';
const PUBLIC_GOOD_ROOT = join(realdataRoot, 'trusted_root.public-good.json');

const REALDATA: Omit<BundleSeed, 'path' | 'text' | 'json'>[] = [
  {
    name: 'realdata/sigstore-js-2.1.0',
    trustedRoot: PUBLIC_GOOD_ROOT,
    artifact:
      'sha512:90f223f992e4c88dd068cd2a5fc57f9d2b30798343dd6e38f29c240e04ba090ef831f84490847c4e82b9232c78e8a258463b1e55c0f7469f730265008fa6633f',
    identity: {
      san: 'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main',
      issuer: GITHUB_ACTIONS,
    },
  },
  {
    name: 'realdata/custom-issuer',
    trustedRoot: PUBLIC_GOOD_ROOT,
    artifact: join(realdataRoot, 'custom-issuer-artifact'),
    identity: {
      san: 'https://github.com/too-legit/attest/.github/workflows/integration.yml@refs/heads/main',
      issuer: `${GITHUB_ACTIONS}/hammer-time`,
    },
  },
  {
    name: 'realdata/reusable-workflow-attestation',
    trustedRoot: PUBLIC_GOOD_ROOT,
    artifact: 'sha256:49a3aa6075e0f49f82843e74b5baa614ad2a588e6675612bf108a0a008c5ac25',
    identity: {
      san: 'https://github.com/github/artifact-attestations-workflows/.github/workflows/attest.yml@09b495c3f12c7881b3cc17209a327792065c1a1d',
      issuer: GITHUB_ACTIONS,
    },
  },
  {
    name: 'realdata/hello-world.rekor-v2-hashedrekord',
    trustedRoot: PUBLIC_GOOD_ROOT,
    artifact: join(realdataRoot, 'hello-world.artifact'),
    identity: { san: 'brian@dehamer.com', issuer: 'https://github.com/login/oauth' },
  },
];

const REALDATA_FILES: Record<string, string> = {
  'realdata/sigstore-js-2.1.0': 'sigstore-js-2.1.0-bundle.json',
  'realdata/custom-issuer': 'custom-issuer.sigstore.json',
  'realdata/reusable-workflow-attestation': 'reusable-workflow-attestation.sigstore.json',
  'realdata/hello-world.rekor-v2-hashedrekord': 'hello-world.rekor-v2-hashedrekord.sigstore.json',
};

/** Conformance happy paths, one per shape: v0.1/v0.2/v0.3, DSSE, Rekor v2, TSA with certificates, cosigned checkpoint, key. */
const CONFORMANCE_CASES = [
  'happy-path-v0.1',
  'happy-path-v0.2',
  'happy-path-v0.3',
  'happy-path-intoto-in-dsse-v3',
  'bundle-with-sct-with-extensions',
  'rekor2-happy-path',
  'rekor2-dsse-happy-path',
  'rekor2-timestamp-with-embedded-cert',
  'rekor2-checkpoint-cosigned',
  'managed-key-happy-path',
];

interface ConformanceCase {
  id: string;
  bundle: string;
  artifact: string;
  key: string | null;
  certificate_identity: string | null;
  certificate_oidc_issuer: string | null;
  trusted_root_offline: string;
}

function readSeed(seed: Omit<BundleSeed, 'path' | 'text' | 'json'>, path: string): BundleSeed {
  const text = readFileSync(path, 'utf8');
  return { ...seed, path, text, json: JSON.parse(text) };
}

function conformanceSeeds(): BundleSeed[] {
  const dir = join(conformanceRoot, 'sigstore-conformance');
  const { cases } = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')) as { cases: ConformanceCase[] };
  return CONFORMANCE_CASES.map((id) => {
    const c = cases.find((x) => x.id === id);
    if (!c) throw new Error(`sigstore-conformance/cases.json: no case ${id}`);
    return readSeed(
      {
        name: `conformance/${id}`,
        trustedRoot: join(dir, c.trusted_root_offline),
        artifact: join(dir, c.artifact),
        ...(c.key
          ? { key: join(dir, c.key) }
          : { identity: { san: c.certificate_identity!, issuer: c.certificate_oidc_issuer! } }),
      },
      join(dir, c.bundle),
    );
  });
}

/** The loopback stack's identity for the committed loopback seeds (see make-seeds.ts). */
export const LOOPBACK_IDENTITY = {
  san: 'https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main',
  issuer: GITHUB_ACTIONS,
};

function loopbackSeeds(): BundleSeed[] {
  return ['dsse', 'message-signature'].map((stem) =>
    readSeed(
      {
        name: `loopback/${stem}`,
        trustedRoot: join(loopbackSeedsDir, 'trusted_root.json'),
        artifact: join(loopbackSeedsDir, 'artifact.txt'),
        identity: LOOPBACK_IDENTITY,
      },
      join(loopbackSeedsDir, `${stem}.sigstore.json`),
    ),
  );
}

let cached: BundleSeed[] | undefined;

/** Every bundle seed, in a fixed order (a case names its seed by index, so the order is part of a replay). */
export function bundleSeeds(): BundleSeed[] {
  cached ??= [
    ...REALDATA.map((seed) => readSeed(seed, join(realdataRoot, REALDATA_FILES[seed.name]!))),
    ...conformanceSeeds(),
    ...loopbackSeeds(),
  ];
  return cached;
}

/** The verify-bundle arguments of a seed, with `bundle` in place of its own file. */
export function verifyBundleArgv(seed: BundleSeed, bundle: string): string[] {
  const signer = seed.key
    ? ['--key', seed.key]
    : ['--certificate-identity', seed.identity!.san, '--certificate-oidc-issuer', seed.identity!.issuer];
  return ['verify-bundle', '--bundle', bundle, ...signer, '--trusted-root', seed.trustedRoot, seed.artifact];
}

/** Policies to mutate: the documented example and the smallest valid one (naming the chain corpus's identities). */
export function policySeeds(): { name: string; text: string }[] {
  return [
    { name: 'docs/policy.example.yml', text: readFileSync(policyExample, 'utf8') },
    { name: 'minimal', text: MINIMAL_POLICY },
  ];
}

export const MINIMAL_POLICY = `version: 1
identities:
  build:
    issuer: https://token.actions.githubusercontent.com
    san: https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main
  sign:
    issuer: https://token.actions.githubusercontent.com
    san-pattern: https://github\\.com/acme/platform/\\.github/workflows/twokey-sign\\.yml@refs/heads/main
`;
