import { dirname, resolve } from 'node:path';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import seeds from '@sigstore/tuf/seeds.json';
import { type KeyFinderFunc, type TrustMaterial, toTrustMaterial } from '@sigstore/verify';
import type { Policy } from '@twokey/core';
import { cacheDerEncodings } from './der-cache';
import { describeCause, SigstoreInputError } from './error';
import { readBoundedFile } from './files';
import { MAX_TRUST_FILE_BYTES } from './limits';
import { newestValidityStart, readRefreshedTrustedRoot, refreshedTrustedRootUsed } from './root-cache';
import githubRoot from './roots/github-trusted-root.json' with { type: 'json' };
import { memoizeSignatureChecks } from './signature-memo';

const TRUSTED_ROOT_MEDIA_TYPES = ['application/vnd.dev.sigstore.trustedroot+json;version=0.1'];
const PUBLIC_GOOD_TUF = 'https://tuf-repo-cdn.sigstore.dev';

/** A trusted root, parsed and checked once, with the trust material sigstore-js verifies against. */
export interface TrustedRootMaterial {
  /** Where it came from: a file path, or `public-good` for the embedded Sigstore public-good root. */
  source: string;
  root: TrustedRoot;
  material: TrustMaterial;
  /**
   * The roots of a JSON Lines file of several (as `gh attestation trusted-root` prints them): each bundle is verified
   * against the one whose certificate authority issued its certificate, with that instance's guarantees. `root` and
   * `material` are then the first's.
   */
  components?: TrustedRootMaterial[];
  /** An embedded instance's root as `twokey trusted-root --refresh` last verified it through TUF: the file it is in. */
  refreshed?: string;
}

/**
 * The Sigstore public-good trusted root, embedded at build time from the seed that sigstore-js's TUF client
 * ships (@sigstore/tuf seeds.json), so that verifying never needs the network.
 */
export function publicGoodTrustedRoot(): TrustedRootMaterial {
  const seed = (seeds as Record<string, { targets: Record<string, string> }>)[PUBLIC_GOOD_TUF];
  const encoded = seed?.targets['trusted_root.json'];
  if (!encoded)
    throw new SigstoreInputError('TRUSTED_ROOT_INVALID', 'the embedded public-good trusted root is missing');
  return newestCopy(trustedRootFromJSON(JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')), 'public-good'));
}

/**
 * GitHub's Sigstore instance (private and internal repositories: fulcio.githubapp.com, timestamp.githubapp.com, no
 * transparency log), embedded as GitHub publishes it (`gh attestation trusted-root`; roots/github-trusted-root.json).
 */
export function githubTrustedRoot(): TrustedRootMaterial {
  return newestCopy(trustedRootFromJSON(githubRoot, 'github'));
}

/**
 * The embedded root, or the copy `twokey trusted-root --refresh` verified through TUF when there is one (the CLI
 * only, root-cache.ts) and it is newer. A kept copy that is no trusted root is ignored, as an unsafe one is.
 */
function newestCopy(embedded: TrustedRootMaterial): TrustedRootMaterial {
  const kept = readRefreshedTrustedRoot(embedded.source);
  if (!kept) return embedded;
  let refreshed: TrustedRootMaterial;
  try {
    refreshed = trustedRootFromJSON(kept.json, embedded.source);
  } catch {
    return embedded;
  }
  if (newestValidityStart(refreshed.root) < newestValidityStart(embedded.root)) return embedded;
  refreshedTrustedRootUsed(kept.path);
  return { ...refreshed, refreshed: kept.path };
}

/** The embedded trusted roots by name, as `--trusted-root`, the trusted-root inputs and `deploy.trusted-root` name them. */
export const EMBEDDED_TRUSTED_ROOTS = ['public-good', 'github'] as const;

/** An embedded root by its name, or a trusted_root.json file. */
export function trustedRootNamed(nameOrPath: string): TrustedRootMaterial {
  if (nameOrPath === 'public-good') return publicGoodTrustedRoot();
  if (nameOrPath === 'github') return githubTrustedRoot();
  return loadTrustedRoot(nameOrPath);
}

/** An embedded trusted root as its trusted_root.json (`twokey trusted-root`). */
export function embeddedTrustedRootJSON(name: (typeof EMBEDDED_TRUSTED_ROOTS)[number]): unknown {
  return TrustedRoot.toJSON(trustedRootNamed(name).root);
}

/** What a build says of the trusted root it embeds (`twokey --version`): where it came from and what it holds. */
export interface EmbeddedTrustedRoot {
  name: string;
  /** The TUF root the trusted root was seeded with: its version and when it expires (ISO 8601); absent: as published. */
  tufRoot?: { version: number; expires: string };
  certificateAuthorities: number;
  transparencyLogs: number;
  ctLogs: number;
  timestampAuthorities: number;
}

export function embeddedTrustedRoots(): EmbeddedTrustedRoot[] {
  const seed = (seeds as Record<string, { 'root.json'?: string }>)[PUBLIC_GOOD_TUF];
  const tuf = JSON.parse(Buffer.from(seed?.['root.json'] ?? '', 'base64').toString('utf8') || '{}') as {
    signed?: { version?: number; expires?: string };
  };
  const { root } = publicGoodTrustedRoot();
  const github = githubTrustedRoot().root;
  return [
    {
      name: 'Sigstore public-good',
      tufRoot: { version: tuf.signed?.version ?? 0, expires: tuf.signed?.expires ?? 'unknown' },
      certificateAuthorities: root.certificateAuthorities.length,
      transparencyLogs: root.tlogs.length,
      ctLogs: root.ctlogs.length,
      timestampAuthorities: root.timestampAuthorities.length,
    },
    {
      name: 'GitHub',
      // Embedded as GitHub publishes it; `twokey trusted-root --refresh` updates it from tuf-repo.github.com.
      certificateAuthorities: github.certificateAuthorities.length,
      transparencyLogs: github.tlogs.length,
      ctLogs: github.ctlogs.length,
      timestampAuthorities: github.timestampAuthorities.length,
    },
  ];
}

export function loadTrustedRoot(path: string): TrustedRootMaterial {
  const bytes = readBoundedFile(path, MAX_TRUST_FILE_BYTES, 'TRUSTED_ROOT_UNREADABLE', 'trusted root');
  const lines = bytes
    .toString('utf8')
    .split('\n')
    .map((line, i) => ({ line, number: i + 1 }))
    .filter(({ line }) => line.trim() !== '');
  // JSON Lines of several roots: every line a whole trusted root (a pretty-printed root's lines are not).
  if (lines.length > 1 && lines.every(({ line }) => line.trimStart().startsWith('{') && line.trimEnd().endsWith('}'))) {
    return trustedRootsFromJSON(
      lines.map(({ line, number }) => {
        try {
          return { json: JSON.parse(line) as unknown, source: `${path}#L${number}` };
        } catch (error) {
          throw new SigstoreInputError(
            'TRUSTED_ROOT_INVALID',
            `${path}#L${number}: trusted root is not JSON: ${describeCause(error)}`,
          );
        }
      }),
      path,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new SigstoreInputError('TRUSTED_ROOT_INVALID', `${path}: trusted root is not JSON: ${describeCause(error)}`);
  }
  return trustedRootFromJSON(json, path);
}

/** Several trusted roots, as one: each bundle is verified against the root that issued its certificate. */
export function trustedRootsFromJSON(
  roots: readonly { json: unknown; source: string }[],
  source: string,
): TrustedRootMaterial {
  const components = roots.map((r) => trustedRootFromJSON(r.json, r.source));
  const [first] = components;
  if (!first) throw new SigstoreInputError('TRUSTED_ROOT_INVALID', `${source}: no trusted root`);
  return { source, root: first.root, material: first.material, components };
}

export function trustedRootFromJSON(json: unknown, source: string): TrustedRootMaterial {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new SigstoreInputError('TRUSTED_ROOT_INVALID', `${source}: trusted root is not a JSON object`);
  }
  const mediaType = (json as { mediaType?: unknown }).mediaType;
  if (typeof mediaType !== 'string' || !TRUSTED_ROOT_MEDIA_TYPES.includes(mediaType)) {
    throw new SigstoreInputError(
      'TRUSTED_ROOT_INVALID',
      `${source}: mediaType: expected ${TRUSTED_ROOT_MEDIA_TYPES.join(' or ')}, found ${JSON.stringify(mediaType)}`,
    );
  }
  let root: TrustedRoot;
  try {
    root = TrustedRoot.fromJSON(json);
  } catch (error) {
    throw new SigstoreInputError('TRUSTED_ROOT_INVALID', `${source}: not a trusted root: ${describeCause(error)}`);
  }
  requireLogValidityStarts(root, source);
  // The trust material's certificates and keys are read through the same caches as every bundle's (verify.ts).
  cacheDerEncodings();
  memoizeSignatureChecks();
  let material: TrustMaterial;
  try {
    material = toTrustMaterial(root);
  } catch (error) {
    throw new SigstoreInputError('TRUSTED_ROOT_INVALID', `${source}: unusable trusted root: ${describeCause(error)}`);
  }
  return { source, root, material };
}

/**
 * A transparency or CT log key whose validity interval is present but has no start is malformed, and the root is
 * refused, as sigstore-go refuses it: sigstore-js would read the missing start as "valid since forever"
 * (sigstore-conformance `trust-root-tlog-missing-validity-start_fail`). A log key with no interval at all is
 * unbounded (sigstore-js's own fixture roots have such keys), and so is a CA or TSA interval without a start,
 * which sigstore-go reads the same way.
 */
function requireLogValidityStarts(root: TrustedRoot, source: string): void {
  const missing = [
    ...root.tlogs.map((log, i) => [`tlogs[${i}]`, log] as const),
    ...root.ctlogs.map((log, i) => [`ctlogs[${i}]`, log] as const),
  ]
    .filter(([, log]) => log.publicKey?.validFor !== undefined && log.publicKey.validFor.start === undefined)
    .map(([field]) => `${field}.publicKey.validFor.start`);
  if (missing.length > 0) {
    throw new SigstoreInputError(
      'TRUSTED_ROOT_INVALID',
      `${source}: ${missing.join(', ')}: missing (a log key's validity interval needs a start)`,
    );
  }
}

/** The same trust material, with `key` answering for every public-key hint (verification with `--key`). */
export function withPublicKey(trust: TrustedRootMaterial, key: KeyFinderFunc): TrustMaterial {
  return { ...trust.material, publicKey: key };
}

/**
 * The trusted root bundles must chain to: `override` (a path relative to `cwd`) when given, else the policy's
 * `deploy.trusted-root` (`public-good`, or a path relative to the policy file), else the embedded public-good root.
 */
export function deployTrustedRoot(
  policy: Policy,
  override: string | undefined,
  cwd = process.cwd(),
): TrustedRootMaterial {
  const embedded = (name: string) => (EMBEDDED_TRUSTED_ROOTS as readonly string[]).includes(name);
  if (override) return trustedRootNamed(embedded(override) ? override : resolve(cwd, override));
  const named = policy.deploy.trustedRoot;
  if (named === undefined) return publicGoodTrustedRoot();
  return trustedRootNamed(embedded(named) ? named : resolve(dirname(resolve(cwd, policy.source)), named));
}
