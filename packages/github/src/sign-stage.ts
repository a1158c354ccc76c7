// The sign stage: verify the build provenance under the policy's build identity, take the repository and commit from
// it, collect who reviewed that commit from GitHub, decide (packages/core), and only when every check passes sign each
// artifact and the review attestation with this job's own identity and write the bundles.
//
// Why here, in packages/github, and not in the action: the stage is what a GitHub job does with GitHub's evidence
// and the job's own token, and all of it is a decision (which inputs are usable, whose token may sign, how often to
// retry GitHub, how many signatures at once, what is written). So it is one function, runSignStage, taking a plain
// record (no environment variables) and tested in-process against the GitHub fake and the loopback Sigstore stack;
// actions/sign only reads its inputs into that record and reports the outcome.
import { isAbsolute, relative } from 'node:path';
import {
  type ArtifactRef,
  buildReviewStatement,
  CodedError,
  type IdentityRule,
  judgeBuildProvenance,
  type ProvenanceBundle,
  parseSubjectPatterns,
  type ReviewEvidence,
  type SignDecision,
  type SignerIdentity,
  type SubjectInputs,
  signDecision,
} from '@twokey/core';
import {
  BundleVerificationError,
  BundleVerifier,
  bundlePaths,
  deployTrustedRoot,
  type ExpectedIdentity,
  type RepositoryPolicyFile,
  readBundleFile,
  readPolicyFiles,
  type SerializedBundle,
  type SigningEndpoints,
  SigstoreInputError,
  signArtifact,
  signStatement,
} from '@twokey/sigstore';
import { resolveArtifacts } from './artifacts';
import { type AttestationStore, type StoredBundle, storeAttestations } from './attestations';
import { writeEvidence } from './evidence-directory';
import { type EvidenceRead, type GitHubApi, readReviewEvidence } from './evidence-graphql';
import { createGitHubClient } from './octokit';
import { jobIdentity, OidcTokenError } from './oidc';

export interface SignStageInputs extends SubjectInputs {
  /** Paths, directories or globs of the build provenance bundles, separated by newlines or commas. */
  provenance: string;
  /** The org policy file, relative to the workspace (or absolute: the action's own repository's). */
  policy: string;
  /** The repository's own policy (from its default branch), which can only tighten the org policy. */
  repositoryPolicy?: RepositoryPolicyFile;
  /** `public-good` for the embedded Sigstore public-good root, a trusted_root.json path, or empty for the policy's. */
  trustedRoot: string;
  endpoints: SigningEndpoints;
  /** The token that reads the pull request, its reviews and the activity feed. */
  githubToken: string;
  /**
   * How the review evidence is read: `graphql` (the default: GitHub's GraphQL API, REST for the activity feed, and
   * REST instead when GraphQL refuses the token) or `rest` (REST alone, for a token or a GitHub that cannot use
   * GraphQL).
   */
  githubApi?: GitHubApi;
  /** GITHUB_API_URL. */
  githubApiUrl: string;
  /** Where relative paths are resolved (GITHUB_WORKSPACE). */
  workspace: string;
  /** RUNNER_TEMP: the bundles are written to its evidence directory. */
  outputDirectory: string;
  /** Also store the bundles in the repository's attestations (`store-attestations: true`). */
  store?: AttestationStore;
  /** GITHUB_SERVER_URL. */
  serverUrl: string;
  /** The job's OIDC identity token, audience `sigstore`; asked again for each signature (tokens are short-lived). */
  identityToken: () => Promise<string>;
}

export interface SignedBundles {
  /** One message-signature bundle per artifact. */
  signatures: { artifact: ArtifactRef; path: string }[];
  /** The review attestation (DSSE). */
  review: string;
  /** Each bundle in the repository's attestations, when stored: the review attestation first, then the signatures. */
  stored?: StoredBundle[];
}

export interface SignStageResult {
  decision: SignDecision;
  artifacts: ArtifactRef[];
  /** This job's identity: what the signatures are (or would have been) signed by. */
  signer: SignerIdentity;
  evidence?: ReviewEvidence;
  /** How the evidence was read: the API, and why not GraphQL when GraphQL refused the token. */
  evidenceRead?: Omit<EvidenceRead, 'evidence'>;
  /** Present only when everything held and everything was signed. */
  bundles?: SignedBundles;
}

export type SignStageErrorCode = 'GITHUB_TOKEN_MISSING' | 'PROVENANCE_INPUT_MISSING';

/** A usage error of the sign stage (nothing was judged, nothing was signed). */
export class SignInputError extends CodedError<SignStageErrorCode> {
  readonly kind = 'usage';
  override readonly name = 'SignInputError';
}

/** Signatures are requested a few at a time: one Fulcio certificate, Rekor entry and timestamp each. */
export const SIGNING_CONCURRENCY = 4;
/** GitHub's 5xx are short-lived: retry after 0.25 s, 1 s, 2.25 s. Rate limits wait for their own reset. */
export const GITHUB_RETRY_DELAY_MS = 250;

export async function runSignStage(inputs: SignStageInputs): Promise<SignStageResult> {
  const policy = readPolicyFiles(inputs.policy, inputs.repositoryPolicy, inputs.workspace);
  const patterns = provenancePatterns(inputs);
  const artifacts = await resolveArtifacts(inputs, inputs.workspace);
  // The trusted root deploy and `twokey verify` use: the input, else the policy's deploy.trusted-root.
  const verifier = new BundleVerifier(deployTrustedRoot(policy, inputs.trustedRoot || undefined, inputs.workspace));
  const signer = jobIdentity(await inputs.identityToken(), inputs.serverUrl);
  const bundles = verifyProvenance(verifier, policy.identities.build, patterns, inputs.workspace);
  const provenance = judgeBuildProvenance({ policy, artifacts, provenance: bundles });
  // Repository and commit come from verified provenance only, never from an input or the job's context.
  const read = provenance.source && (await collectEvidence(inputs, provenance.source));
  const evidence = read?.evidence;
  const decision = signDecision({ policy, artifacts, provenance, signer, evidence });
  const result: SignStageResult = {
    decision,
    artifacts,
    signer,
    ...(read && {
      evidence: read.evidence,
      evidenceRead: { api: read.api, ...(read.fallback && { fallback: read.fallback }) },
    }),
  };
  if (decision.verdict !== 'pass' || !evidence || !decision.review) return result;
  // Everything held: sign the review attestation and every artifact, then write them all (or nothing).
  const statement = buildReviewStatement({
    subjects: artifacts.map((a) => ({ name: a.name, digest: { sha256: a.digest.hex } })),
    evidence,
    rules: policy.review,
    result: decision.review,
    serverUrl: inputs.serverUrl,
  });
  return { ...result, bundles: await signAndWrite(inputs, signer, statement, artifacts, evidence.commit) };
}

/** The provenance patterns; a usage error, before anything is judged, for an empty one or a missing GitHub token. */
function provenancePatterns(inputs: SignStageInputs): string[] {
  if (!inputs.githubToken) {
    throw new SignInputError(
      'GITHUB_TOKEN_MISSING',
      "github-token is empty: the sign stage reads the pull request and its reviews with it (by default the job's GITHUB_TOKEN, which needs `pull-requests: read`)",
    );
  }
  const patterns = parseSubjectPatterns(inputs.provenance);
  if (patterns.length === 0) {
    throw new SignInputError(
      'PROVENANCE_INPUT_MISSING',
      'provenance is empty: give the paths or globs of the build provenance bundles',
    );
  }
  return patterns;
}

/** Verifies each provenance bundle under the policy's build identity; one that does not verify is rejected, with why. */
function verifyProvenance(
  verifier: BundleVerifier,
  build: IdentityRule,
  patterns: string[],
  workspace: string,
): ProvenanceBundle[] {
  const identity = expectedIdentity(build);
  return bundlePaths(patterns, workspace).map((path) => {
    const inside = relative(workspace, path);
    const source = inside.startsWith('..') || isAbsolute(inside) ? path : inside;
    try {
      return { source, verified: { ...verifier.verify(readBundleFile(path), { identity }), source } };
    } catch (error) {
      if (error instanceof BundleVerificationError || error instanceof SigstoreInputError) {
        return { source, rejected: { code: error.code, reason: error.message } };
      }
      throw error;
    }
  });
}

function expectedIdentity(rule: IdentityRule): ExpectedIdentity {
  if (rule.san !== undefined) return { issuer: rule.issuer, san: rule.san };
  if (rule.sans !== undefined) return { issuer: rule.issuer, sans: rule.sans };
  return { issuer: rule.issuer, sanPattern: rule.sanPattern };
}

/** The review evidence of the built commit, read from GitHub with the job's token; API failures become gaps. */
function collectEvidence(
  inputs: SignStageInputs,
  source: { repository: string; commit: string; ref: string },
): Promise<EvidenceRead> {
  const client = createGitHubClient({
    token: inputs.githubToken,
    baseUrl: inputs.githubApiUrl,
    retryDelayMs: GITHUB_RETRY_DELAY_MS,
    readsOnly: true,
  });
  const request = { repository: source.repository, commit: source.commit, ref: source.ref };
  return readReviewEvidence(client, request, inputs.githubApi ?? 'graphql');
}

/** Signs the review attestation, then every artifact (a few at a time), each with a fresh token of the same job. */
async function signAndWrite(
  inputs: SignStageInputs,
  signer: SignerIdentity,
  statement: object,
  artifacts: ArtifactRef[],
  commit: string,
): Promise<SignedBundles> {
  const options = { endpoints: inputs.endpoints, identityToken: () => sameSignerToken(inputs, signer) };
  const review = await signStatement(statement, options);
  const signatures = await mapConcurrently(artifacts, SIGNING_CONCURRENCY, (artifact) =>
    signArtifact({ digest: artifact.digest }, options),
  );
  const written = writeBundles(inputs.outputDirectory, commit, review, artifacts, signatures);
  if (!inputs.store) return written;
  return { ...written, stored: await storeAttestations(inputs.store, [review, ...signatures]) };
}

/** A fresh token for each signature, refused if it names another identity than the one the decision was about. */
async function sameSignerToken(inputs: SignStageInputs, decided: SignerIdentity): Promise<string> {
  const token = await inputs.identityToken();
  const now = jobIdentity(token, inputs.serverUrl);
  if (now.san !== decided.san || now.issuer !== decided.issuer) {
    throw new OidcTokenError(
      'OIDC_TOKEN_MALFORMED',
      `expected a token for ${decided.san}, the identity that was checked, found one for ${now.san}`,
    );
  }
  return token;
}

function writeBundles(
  runnerTemp: string,
  commit: string,
  review: SerializedBundle,
  artifacts: ArtifactRef[],
  signatures: SerializedBundle[],
): SignedBundles {
  const names = signatureFileNames(artifacts);
  const [reviewPath, ...paths] = writeEvidence(runnerTemp, [
    { name: `review-${commit.slice(0, 12)}.sigstore.json`, text: `${JSON.stringify(review)}\n` },
    ...artifacts.map((_, i) => ({ name: names[i]!, text: `${JSON.stringify(signatures[i])}\n` })),
  ]);
  return { signatures: artifacts.map((artifact, i) => ({ artifact, path: paths[i]! })), review: reviewPath! };
}

/** `<artifact-name>.sig.sigstore.json`, the name made safe for a file; names that would collide get the digest too. */
function signatureFileNames(artifacts: ArtifactRef[]): string[] {
  const safe = artifacts.map((a) => a.name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_') || 'artifact');
  const counts = new Map<string, number>();
  for (const name of safe) counts.set(name, (counts.get(name) ?? 0) + 1);
  return safe.map((name, i) =>
    counts.get(name)! > 1
      ? `${name}-${artifacts[i]!.digest.hex.slice(0, 12)}.sig.sigstore.json`
      : `${name}.sig.sigstore.json`,
  );
}

/** `work` on every item, at most `limit` at a time; results in the items' order. */
async function mapConcurrently<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
