// The sign stage: verify the build provenance under the policy's build identity, take the repository and commit
// from it, collect who reviewed that commit from GitHub, decide (packages/core), and only when every check passes
// sign each artifact and the review attestation with this job's own identity.
import { mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import {
  buildReviewStatement,
  CodedError,
  type IdentityRule,
  judgeBuildProvenance,
  type ProvenanceBundle,
  parseSubjectPatterns,
  type ReviewEvidence,
  type SignArtifact,
  type SignDecision,
  type SignerIdentity,
  SubjectError,
  type SubjectInputs,
  signDecision,
  workflowSigner,
} from '@twokey/core';
import { collectReviewEvidence, createGitHubClient, idTokenClaims, OidcTokenError } from '@twokey/github';
import {
  BundleVerificationError,
  BundleVerifier,
  bundlePaths,
  deployTrustedRoot,
  type ExpectedIdentity,
  readBundleFile,
  readPolicyFile,
  resolveSubjects,
  type SerializedBundle,
  type SigningEndpoints,
  SigstoreInputError,
  signArtifact,
  signStatement,
} from '@twokey/sigstore';

export interface SignInputs extends SubjectInputs {
  /** Paths, directories or globs of the build provenance bundles, separated by newlines or commas. */
  provenance: string;
  /** The policy file, relative to the workspace. */
  policy: string;
  /** `public-good` (or empty) for the embedded Sigstore public-good root, else a trusted_root.json path. */
  trustedRoot: string;
  endpoints: SigningEndpoints;
  githubToken: string;
  /** GITHUB_API_URL. */
  githubApiUrl: string;
  /** Where relative paths are resolved (GITHUB_WORKSPACE). */
  workspace: string;
  /** Where the bundles are written, under `twokey/` (RUNNER_TEMP). */
  outputDirectory: string;
  /** GITHUB_SERVER_URL. */
  serverUrl: string;
  /** The job's OIDC identity token, audience `sigstore`; asked again for each signature (tokens are short-lived). */
  identityToken: () => Promise<string>;
}

export interface SignedBundles {
  /** One message-signature bundle per artifact. */
  signatures: { artifact: SignArtifact; path: string }[];
  /** The review attestation (DSSE). */
  review: string;
}

export interface SignResult {
  decision: SignDecision;
  artifacts: SignArtifact[];
  /** This job's identity: what the signatures are (or would have been) signed by. */
  signer: SignerIdentity;
  evidence?: ReviewEvidence;
  /** Present only when everything held and everything was signed. */
  bundles?: SignedBundles;
}

export type SignErrorCode = 'GITHUB_TOKEN_MISSING' | 'PROVENANCE_INPUT_MISSING';

/** A usage error of the sign action (nothing was judged, nothing was signed). */
export class SignInputError extends CodedError<SignErrorCode> {
  readonly kind = 'usage';
  override readonly name = 'SignInputError';
}

/** Signatures are requested a few at a time: one Fulcio certificate, Rekor entry and timestamp each. */
const SIGNING_CONCURRENCY = 4;

export async function run(inputs: SignInputs): Promise<SignResult> {
  const policy = readPolicyFile(inputs.policy, inputs.workspace);
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
  const artifacts = (await resolveSubjects(inputs, inputs.workspace)).map(sha256Artifact);
  // The trusted root deploy and `twokey verify` use: the input, else the policy's deploy.trusted-root.
  const trust = deployTrustedRoot(policy, inputs.trustedRoot || undefined, inputs.workspace);
  const signer = signerOf(await inputs.identityToken(), inputs.serverUrl);

  const verifier = new BundleVerifier(trust);
  const build = expectedIdentity(policy.identities.build);
  const provenance = bundlePaths(patterns, inputs.workspace).map((path) =>
    verifyProvenance(verifier, path, build, inputs.workspace),
  );
  const judged = judgeBuildProvenance({ policy, artifacts, provenance });

  // Repository and commit come from verified provenance only, never from an input or the job's context.
  let evidence: ReviewEvidence | undefined;
  if (judged.source) {
    const client = createGitHubClient({
      token: inputs.githubToken,
      baseUrl: inputs.githubApiUrl,
      // GitHub's 5xx are short-lived: retry after 0.25 s, 1 s, 2.25 s. Rate limits wait for their own reset.
      retryDelayMs: 250,
    });
    evidence = await collectReviewEvidence(client, {
      repository: judged.source.repository,
      commit: judged.source.commit,
      ref: judged.source.ref,
    });
  }
  const decision = signDecision({ policy, artifacts, provenance: judged, signer, evidence });
  const result: SignResult = { decision, artifacts, signer, ...(evidence && { evidence }) };
  if (decision.verdict !== 'pass' || !evidence || !decision.review) return result;

  // Everything held: sign the review attestation and every artifact, then write them all (or nothing).
  const options = { endpoints: inputs.endpoints, identityToken: () => sameSignerToken(inputs, signer) };
  const statement = buildReviewStatement({
    subjects: artifacts.map((a) => ({ name: a.name, digest: { sha256: a.sha256 } })),
    evidence,
    rules: policy.review,
    result: decision.review,
    serverUrl: inputs.serverUrl,
  });
  const reviewBundle = await signStatement(statement, options);
  const signatures = await mapConcurrently(artifacts, SIGNING_CONCURRENCY, (artifact) =>
    signArtifact({ digest: { algorithm: 'sha256', hex: artifact.sha256 } }, options),
  );
  result.bundles = writeBundles(inputs.outputDirectory, evidence.commit, reviewBundle, artifacts, signatures);
  return result;
}

/** The sign stage signs sha256 digests: the review attestation and the signatures name artifacts by sha256. */
function sha256Artifact(subject: { name?: string; digest: Record<string, string> }): SignArtifact {
  const hex = subject.digest.sha256;
  if (!hex) {
    throw new SubjectError(
      'SUBJECT_DIGEST_INVALID',
      `${subject.name}: expected a sha256 digest to sign, found ${Object.keys(subject.digest).join(', ')}`,
    );
  }
  return { name: subject.name ?? `sha256:${hex}`, sha256: hex };
}

function signerOf(token: string, serverUrl: string): SignerIdentity {
  const signer = workflowSigner(idTokenClaims(token), serverUrl);
  if (!signer) {
    throw new OidcTokenError(
      'OIDC_TOKEN_MALFORMED',
      'the OIDC identity token has no job_workflow_ref or iss claim: it is not a GitHub Actions job token',
    );
  }
  return signer;
}

/** A fresh token for each signature, refused if it names another identity than the one the decision was about. */
async function sameSignerToken(inputs: SignInputs, decided: SignerIdentity): Promise<string> {
  const token = await inputs.identityToken();
  const now = signerOf(token, inputs.serverUrl);
  if (now.san !== decided.san || now.issuer !== decided.issuer) {
    throw new OidcTokenError(
      'OIDC_TOKEN_MALFORMED',
      `expected a token for ${decided.san}, the identity that was checked, found one for ${now.san}`,
    );
  }
  return token;
}

function expectedIdentity(rule: IdentityRule): ExpectedIdentity {
  return rule.san !== undefined
    ? { issuer: rule.issuer, san: rule.san }
    : { issuer: rule.issuer, sanPattern: rule.sanPattern };
}

/** Verifies one provenance bundle under the build identity; a bundle that does not verify is rejected, with why. */
function verifyProvenance(
  verifier: BundleVerifier,
  path: string,
  build: ExpectedIdentity,
  workspace: string,
): ProvenanceBundle {
  const inside = relative(workspace, path);
  const source = inside.startsWith('..') || isAbsolute(inside) ? path : inside;
  try {
    return { source, verified: { ...verifier.verify(readBundleFile(path), { identity: build }), source } };
  } catch (error) {
    if (error instanceof BundleVerificationError || error instanceof SigstoreInputError) {
      return { source, rejected: { code: error.code, reason: error.message } };
    }
    throw error;
  }
}

function writeBundles(
  outputDirectory: string,
  commit: string,
  review: SerializedBundle,
  artifacts: SignArtifact[],
  signatures: SerializedBundle[],
): SignedBundles {
  const directory = join(outputDirectory, 'twokey');
  mkdirSync(directory, { recursive: true });
  const reviewPath = join(directory, `review-${commit.slice(0, 12)}.sigstore.json`);
  const names = signatureFileNames(artifacts);
  const written = artifacts.map((artifact, i) => ({ artifact, path: join(directory, names[i]!) }));
  writeFileSync(reviewPath, `${JSON.stringify(review)}\n`);
  for (const [i, { path }] of written.entries()) writeFileSync(path, `${JSON.stringify(signatures[i])}\n`);
  return { signatures: written, review: reviewPath };
}

/** `<artifact-name>.sig.sigstore.json`, the name made safe for a file; names that would collide get the digest too. */
function signatureFileNames(artifacts: SignArtifact[]): string[] {
  const safe = artifacts.map((a) => a.name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_') || 'artifact');
  const counts = new Map<string, number>();
  for (const name of safe) counts.set(name, (counts.get(name) ?? 0) + 1);
  return safe.map((name, i) =>
    counts.get(name)! > 1
      ? `${name}-${artifacts[i]!.sha256.slice(0, 12)}.sig.sigstore.json`
      : `${name}.sig.sigstore.json`,
  );
}

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
