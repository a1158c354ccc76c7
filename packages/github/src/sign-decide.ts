// The sign stage after its first step (sign-stage.ts: the inputs checked, the policy read): verify the build
// provenance under the policy's build identity, take the repository and commit from it, collect who reviewed that
// commit from GitHub, decide (packages/core), and only when every check passes sign each artifact and the review
// attestation with this job's own identity and write the bundles. A module of its own, which runSignStage imports
// (through later-steps.ts) when it gets here: what it needs (@sigstore/verify and its curves, the trusted roots, the
// GitHub evidence readers, the review predicate's validator) is not read at the start of a step that stops at its
// inputs or its policy.
import { isAbsolute, relative } from 'node:path';
import {
  type ArtifactRef,
  buildReviewStatement,
  type IdentityRule,
  judgeBuildProvenance,
  type Policy,
  type ProvenanceBundle,
  REVIEWED_COMMIT_SUBJECT,
  type SignerIdentity,
  SubjectError,
  signDecision,
} from '@twokey/core';
import {
  BundleVerificationError,
  BundleVerifier,
  bundlePaths,
  deployTrustedRoot,
  type ExpectedIdentity,
  readBundleFile,
  resolveSigningEndpoints,
  type SerializedBundle,
  SigstoreInputError,
  signArtifact,
  signStatement,
} from '@twokey/sigstore';
import { resolveArtifacts } from './artifacts';
import { storeAttestations } from './attestations';
import { mapConcurrently } from './concurrently';
import { writeEvidence } from './evidence-directory';
import { type EvidenceRead, readReviewEvidence } from './evidence-graphql';
import { attestedBaselines, reviewedHistoryOf } from './history';
import { jobIdentity } from './job-identity';
import { createGitHubClient } from './octokit';
import { OidcTokenError } from './oidc';
import {
  GITHUB_RETRY_DELAY_MS,
  SIGNING_CONCURRENCY,
  type SignedBundles,
  type SignStageInputs,
  type SignStageResult,
} from './sign-stage';

/**
 * The sign stage once its inputs and policy are read (runSignStage): resolve the artifacts, verify the provenance
 * `patterns` name under the policy's build identity, read who reviewed the built commit, decide, and on a pass sign.
 */
export async function signUnderPolicy(
  inputs: SignStageInputs,
  policy: Policy,
  patterns: string[],
): Promise<SignStageResult> {
  const artifacts = await resolveArtifacts(inputs, inputs.workspace);
  // A review attestation under review.reviewed-history carries one more subject, the reviewed commit
  // (buildReviewStatement): no artifact takes its name.
  if (artifacts.some((a) => a.name === REVIEWED_COMMIT_SUBJECT)) {
    throw new SubjectError(
      'SUBJECT_NAME_INVALID',
      `an artifact may not be named ${REVIEWED_COMMIT_SUBJECT}: the review attestation's subject of that name is the reviewed commit`,
    );
  }
  // The trusted root deploy and `twokey verify` use: the input, else the policy's deploy.trusted-root.
  const verifier = new BundleVerifier(deployTrustedRoot(policy, inputs.trustedRoot || undefined, inputs.workspace));
  const signer = jobIdentity(await inputs.identityToken(), inputs.serverUrl);
  const bundles = verifyProvenance(verifier, policy.identities.build, patterns, inputs.workspace);
  const provenance = judgeBuildProvenance({ policy, artifacts, provenance: bundles });
  // Repository and commit come from verified provenance only, never from an input or the job's context.
  const read = provenance.source && (await collectEvidence(inputs, provenance.source, policy, verifier));
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

/**
 * The review evidence of the built commit, read from GitHub with the job's token; API failures become gaps. With
 * review.reviewed-history, also the walk of how its base reached the branch (history.ts), through the same API; when
 * the stage stores its attestations (`store-attestations`), the walk may stop at the moving baseline, read from that
 * store and verified with the provenance's verifier (the policy's trusted root) under the policy's sign identity.
 */
async function collectEvidence(
  inputs: SignStageInputs,
  source: { repository: string; commit: string; ref: string },
  policy: Policy,
  verifier: BundleVerifier,
): Promise<EvidenceRead> {
  const client = createGitHubClient({
    token: inputs.githubToken,
    baseUrl: inputs.githubApiUrl,
    retryDelayMs: GITHUB_RETRY_DELAY_MS,
    readsOnly: true,
  });
  const request = { repository: source.repository, commit: source.commit, ref: source.ref };
  const read = await readReviewEvidence(client, request, inputs.githubApi ?? 'graphql');
  if (policy.review.reviewedHistory === true) {
    const store = inputs.store;
    const attested =
      store?.token && policy.review.historySince !== undefined
        ? attestedBaselines({
            store,
            serverUrl: inputs.serverUrl,
            verifier,
            identities: policy.identities,
            since: policy.review.historySince,
            rules: policy.review,
          })
        : undefined;
    read.evidence.history = await reviewedHistoryOf(client, read.evidence, policy.review, read.api, attested);
  }
  return read;
}

/** Signs the review attestation, then every artifact (a few at a time), each with a fresh token of the same job. */
async function signAndWrite(
  inputs: SignStageInputs,
  signer: SignerIdentity,
  statement: object,
  artifacts: ArtifactRef[],
  commit: string,
): Promise<SignedBundles> {
  const options = {
    endpoints: await resolveSigningEndpoints(inputs.endpoints),
    identityToken: () => sameSignerToken(inputs, signer),
  };
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

/**
 * `<artifact-name>.sig.sigstore.json`, the name made safe for a file; names that would collide get the digest too,
 * and a name still taken (another artifact named like that suffixed name, or the same but for case, as a macOS
 * runner's file system compares them) the whole digest, then a count: one file for each signature, never one
 * overwriting another. A name is cut to its first MAX_NAME characters first, so that the longest file (the name, the
 * digest, a count, the suffix) stays well under a file system's 255 bytes: a longer name (a legal file's) made the
 * write fail after everything was signed.
 */
export function signatureFileNames(artifacts: ArtifactRef[]): string[] {
  const safe = artifacts.map(
    (a) =>
      a.name
        .replace(/[^A-Za-z0-9._-]+/g, '_')
        .replace(/^\.+/, '_')
        .slice(0, MAX_NAME) || 'artifact',
  );
  const counts = new Map<string, number>();
  for (const name of safe) counts.set(name, (counts.get(name) ?? 0) + 1);
  const taken = new Set<string>();
  return safe.map((name, i) => {
    const hex = artifacts[i]!.digest.hex;
    let file = counts.get(name)! > 1 ? `${name}-${hex.slice(0, 12)}.sig.sigstore.json` : `${name}.sig.sigstore.json`;
    if (taken.has(file.toLowerCase())) file = `${name}-${hex}.sig.sigstore.json`;
    for (let n = 2; taken.has(file.toLowerCase()); n += 1) file = `${name}-${hex}-${n}.sig.sigstore.json`;
    taken.add(file.toLowerCase());
    return file;
  });
}

/** The characters of an artifact's name kept in its signature's file name. */
const MAX_NAME = 120;
