// What the deploy action and `twokey verify` both do before and around the one evaluation in packages/core: read the
// policy file, pick the trusted root (given, else the policy's, else public-good), hash the artifacts, verify every
// bundle once against that root, and hand verified and rejected bundles to evaluateDeploy. Sharing this is what
// makes the action and the CLI give the same verdict on the same files.
import { basename, dirname, resolve } from 'node:path';
import {
  type ArtifactRef,
  CodedError,
  type DeployReport,
  evaluateDeploy,
  type Policy,
  parsePolicy,
  type RejectedEvidence,
  type RepositoryBinding,
  type SignerIdentity,
  type VerifiedBundle,
} from '@twokey/core';
import { verifyEvidenceBatch } from './batch';
import { isDigestReference, parseDigestReference, readArtifactFile } from './digest';
import { bundlePaths, isRejected } from './evidence';
import { readBoundedFile } from './files';
import { MAX_TRUST_FILE_BYTES } from './limits';
import { loadTrustedRoot, publicGoodTrustedRoot, type TrustedRootMaterial } from './trust';

export type DeployInputErrorCode = 'ARTIFACT_DIGEST_UNSUPPORTED';

/** An input of the deploy gate that cannot be used (exit 2 / a failed step), naming the file or value. */
export class DeployInputError extends CodedError<DeployInputErrorCode> {
  readonly kind = 'usage';
  override readonly name = 'DeployInputError';
}

/**
 * Reads and validates a policy file. `path` is kept as written for messages and the report; it is read relative to
 * `cwd`. Throws SigstoreInputError POLICY_UNREADABLE (unreadable, or over the size limit) or PolicyError (not YAML,
 * or not a valid policy, naming each key).
 */
export function readPolicyFile(path: string, cwd = process.cwd()): Policy {
  const bytes = readBoundedFile(resolve(cwd, path), MAX_TRUST_FILE_BYTES, 'POLICY_UNREADABLE', 'policy', path);
  return parsePolicy(bytes.toString('utf8'), path);
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
  if (override) return override === 'public-good' ? publicGoodTrustedRoot() : loadTrustedRoot(resolve(cwd, override));
  const named = policy.deploy.trustedRoot;
  if (named === undefined || named === 'public-good') return publicGoodTrustedRoot();
  return loadTrustedRoot(resolve(dirname(resolve(cwd, policy.source)), named));
}

/**
 * An artifact named on a command line: a file (hashed streaming; its name is the file's base name) or `sha256:HEX`
 * (digest only; the name is the digest). Other digest algorithms are refused: the evidence is matched by sha256.
 */
export function artifactFromArgument(argument: string, cwd = process.cwd()): DeployArtifact {
  if (isDigestReference(argument)) {
    const digest = parseDigestReference(argument);
    if (digest.algorithm !== 'sha256') {
      throw new DeployInputError(
        'ARTIFACT_DIGEST_UNSUPPORTED',
        `${argument}: expected a sha256 digest (signatures and attestations name artifacts by sha256), found ${digest.algorithm}`,
      );
    }
    return { name: `sha256:${digest.hex}`, digest: { algorithm: 'sha256', hex: digest.hex } };
  }
  const file = resolve(cwd, argument);
  const { digests, content } = readArtifactFile(file, ['sha256']);
  return {
    name: basename(argument),
    digest: { algorithm: 'sha256', hex: digests[0]!.hex },
    file,
    ...(content && { content }),
  };
}

/**
 * Small artifacts' bytes are kept, from the read that hashed them to their signature check, up to this many bytes in
 * all; past it an artifact's bytes are dropped (memory stays bounded) and its signature is checked against its digest.
 */
export const KEPT_ARTIFACT_BYTES = 64 * 1024 * 1024;

/** artifactFromArgument for each argument, keeping at most KEPT_ARTIFACT_BYTES of artifact bytes in all. */
export function artifactsFromArguments(
  argumentList: readonly string[],
  cwd = process.cwd(),
  budget = KEPT_ARTIFACT_BYTES,
): DeployArtifact[] {
  let kept = 0;
  return argumentList.map((argument) => {
    const { content, ...artifact } = artifactFromArgument(argument, cwd);
    if (!content || kept + content.length > budget) return artifact;
    kept += content.length;
    return { ...artifact, content };
  });
}

/** An artifact to judge; `file` when it was given as a file, so that its signature can be checked against it. */
export interface DeployArtifact extends ArtifactRef {
  file?: string;
  /** The file's bytes, when it is small: read once, hashed, and checked against its signature as they are. */
  content?: Buffer;
}

export interface DeployGateRequest {
  policy: Policy;
  /** The repositories each artifact's chain may come from (bindRepositories: the policy's, else the caller's). */
  binding: RepositoryBinding;
  trust: TrustedRootMaterial;
  artifacts: readonly DeployArtifact[];
  /** Bundle files, directories (every `*.json` below) and globs, relative to `cwd`. */
  bundles: readonly string[];
  cwd?: string;
  /** The identity running the deploy (the deploy job's certificate identity); absent offline. */
  deployIdentity?: SignerIdentity;
  /** Freshness is judged against this; default now. */
  now?: Date;
}

export interface DeployGateResult {
  report: DeployReport;
  /** Every bundle that verified, whoever signed it (the decision record hashes the ones the report used). */
  verified: VerifiedBundle[];
}

/**
 * Verifies every bundle once (a malformed file is an input error naming it, never skipped), keeps each signed
 * event once (by its evidenceKey, never by its file's bytes), then judges every artifact with evaluateDeploy under
 * one policy and one clock.
 */
export async function judgeDeploy(request: DeployGateRequest): Promise<DeployGateResult> {
  const paths = bundlePaths(request.bundles, request.cwd);
  // A signature over an artifact whose bytes were kept is checked over those bytes; any other against the digest it
  // names, which the evaluation then compares with the artifact's (a large file is hashed once, not per signature).
  const artifactFiles = request.artifacts.flatMap((a) =>
    a.file && a.content ? [{ file: a.file, digest: a.digest, content: a.content }] : [],
  );
  const results = await verifyEvidenceBatch(paths, request.trust, { artifactFiles });
  const verified: VerifiedBundle[] = [];
  const rejected: RejectedEvidence[] = [];
  // Each signed event is evidence once, however many files carry it and in whatever bytes: the first file stands.
  const seen = new Set<string>();
  for (const result of results) {
    if (isRejected(result)) rejected.push({ source: result.source, code: result.code, reason: result.reason });
    else if (result.evidenceKey === undefined || !seen.has(result.evidenceKey)) {
      if (result.evidenceKey !== undefined) seen.add(result.evidenceKey);
      verified.push(result);
    }
  }
  const now = request.now ?? new Date();
  const evidenceOf = evidenceIndex(verified, request.artifacts);
  const report = evaluateDeploy(
    request.artifacts.map(({ name, digest }) => ({
      artifact: { name, digest },
      bundles: evidenceOf({ name, digest }),
      policy: request.policy,
      binding: request.binding,
      now,
      rejected,
      ...(request.deployIdentity && { deployIdentity: request.deployIdentity }),
    })),
  );
  return { report, verified };
}

/**
 * The bundles each artifact is judged on: those about it (what a message signature signs, or an in-toto subject's
 * sha256), and those about none of the artifacts judged, so that a refusal can still name them. A bundle about
 * another judged artifact can never qualify for this one (evaluateArtifact requires the digest), so leaving it out
 * changes no verdict, and a release of N artifacts is judged in O(N) instead of O(N²). Input order is kept: the
 * evaluation breaks ties by it.
 */
function evidenceIndex(
  verified: readonly VerifiedBundle[],
  artifacts: readonly ArtifactRef[],
): (artifact: ArtifactRef) => VerifiedBundle[] {
  const judged = new Set(artifacts.map((a) => a.digest.hex.toLowerCase()));
  const about = new Map<string, number[]>();
  const unrelated: number[] = [];
  verified.forEach((bundle, index) => {
    const named = new Set(sha256Named(bundle).filter((hex) => judged.has(hex)));
    if (named.size === 0) unrelated.push(index);
    for (const hex of named) {
      const list = about.get(hex);
      if (list) list.push(index);
      else about.set(hex, [index]);
    }
  });
  return (artifact) => {
    const own = about.get(artifact.digest.hex.toLowerCase()) ?? [];
    const merged: VerifiedBundle[] = [];
    let i = 0;
    let j = 0;
    while (i < own.length || j < unrelated.length) {
      const next = j >= unrelated.length || (i < own.length && own[i]! < unrelated[j]!) ? own[i++]! : unrelated[j++]!;
      merged.push(verified[next]!);
    }
    return merged;
  };
}

/** The sha256 digests a bundle is about, as the evaluation compares them (a subject's digest exactly as written). */
function sha256Named(bundle: VerifiedBundle): string[] {
  if (bundle.messageDigest) {
    return bundle.messageDigest.algorithm === 'sha256' ? [bundle.messageDigest.hex.toLowerCase()] : [];
  }
  const subject = (bundle.statement as { subject?: unknown } | undefined)?.subject;
  if (!Array.isArray(subject)) return [];
  return subject.flatMap((s) => {
    const hex = (s as { digest?: { sha256?: unknown } } | null)?.digest?.sha256;
    return typeof hex === 'string' ? [hex] : [];
  });
}
