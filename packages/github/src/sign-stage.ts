// The sign stage: verify the build provenance under the policy's build identity, take the repository and commit from
// it, collect who reviewed that commit from GitHub, decide (packages/core), and only when every check passes sign each
// artifact and the review attestation with this job's own identity and write the bundles.
//
// Why here, in packages/github, and not in the action: the stage is what a GitHub job does with GitHub's evidence
// and the job's own token, and all of it is a decision (which inputs are usable, whose token may sign, how often to
// retry GitHub, how many signatures at once, what is written). So it is one function, runSignStage, taking a plain
// record (no environment variables) and tested in-process against the GitHub fake and the loopback Sigstore stack;
// actions/sign only reads its inputs into that record and reports the outcome.
//
// This module is the stage's first step, read at the action's start: the policy, and the inputs checked. What comes
// after is sign-decide.ts, imported (through later-steps.ts) when the step gets there (bench/README.md, "Start-up").
import {
  type ArtifactRef,
  CodedError,
  parseSubjectPatterns,
  type ReviewEvidence,
  type SignDecision,
  type SignerIdentity,
  type SubjectInputs,
} from '@twokey/core';
import { type RepositoryPolicyFile, readPolicyFiles, type SigningEndpointsSource } from '@twokey/sigstore';
import type { AttestationStore, StoredBundle } from './attestations';
import type { EvidenceRead, GitHubApi } from './evidence-graphql';

export interface SignStageInputs extends SubjectInputs {
  /** Paths, directories or globs of the build provenance bundles, separated by newlines or commas. */
  provenance: string;
  /** The org policy file, relative to the workspace (or absolute: the action's own repository's). */
  policy: string;
  /** The repository's own policy (from its default branch), which can only tighten the org policy. */
  repositoryPolicy?: RepositoryPolicyFile;
  /** `public-good` for the embedded Sigstore public-good root, a trusted_root.json path, or empty for the policy's. */
  trustedRoot: string;
  /** Where to sign, or how to find out when first signing (asking GitHub the repository's visibility). */
  endpoints: SigningEndpointsSource;
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
  // The rest (verifying the provenance, reading GitHub, signing) is read from here on first use: a step whose inputs
  // or policy are unusable fails without loading it.
  const { signUnderPolicy } = await import('./later-steps');
  return signUnderPolicy(inputs, policy, patterns);
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
