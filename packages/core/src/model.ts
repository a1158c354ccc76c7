// The domain model shared by every package: what a verified bundle tells us, what GitHub tells us about a
// review, and how every decision is reported (a list of named checks, each with a verdict and a reason).

/** One named check and its outcome. The report, the step summary and the exit code all come from these. */
export interface Check {
  /** Stable identifier, e.g. `approval-on-merged-head`, `signature-by-sign-identity`. */
  id: string;
  verdict: 'pass' | 'fail';
  /** Plain words: what was expected and what was found. */
  reason: string;
}

export type Verdict = 'pass' | 'fail';

/** `alg:hex`, e.g. sha256 → hex digest. */
export type DigestSet = Record<string, string>;

/** The identity that signed a bundle, read from a certificate that chained to the trusted root. */
export interface SignerIdentity {
  /** The certificate's Subject Alternative Name (for GitHub Actions: `https://github.com/{job_workflow_ref}`). */
  san: string;
  /** The OIDC issuer extension (1.3.6.1.4.1.57264.1.8, or the legacy 1.1). */
  issuer: string;
  /** Fulcio's GitHub extensions present in the certificate, by name (sourceRepositoryURI, sourceRepositoryDigest, …). */
  extensions: Record<string, string>;
}

/** What the policy says an identity must be. Exactly one of `san` / `sanPattern`. */
export interface IdentityRule {
  issuer: string;
  /** Exact SAN. */
  san?: string;
  /** A regular expression matched against the whole SAN (anchored: `^(?:…)$`). */
  sanPattern?: string;
  /**
   * The repository whose workflow run the certificate was issued to (Fulcio's sourceRepositoryURI, exact), e.g.
   * `https://github.com/acme/app`. Needed when the SAN is a reusable workflow that any repository can call.
   */
  sourceRepository?: string;
}

/** A Sigstore bundle that verified cryptographically against the trusted root (signature, chain, tlog, timestamps). */
export interface VerifiedBundle {
  /** Where it came from (a file path), for messages. */
  source: string;
  /** The SHA-256 of the bundle file's bytes that were read and verified (absent for a bundle not read from a file). */
  sha256?: string;
  kind: 'message-signature' | 'dsse';
  signer: SignerIdentity;
  /** Verified signing times (Rekor integrated time, RFC 3161 timestamps): never a field the signer wrote. */
  signedAt: Date[];
  /** Message signatures: the digest that was signed. */
  messageDigest?: { algorithm: string; hex: string };
  /** DSSE: the payload type and, for in-toto payloads, the parsed statement. */
  payloadType?: string;
  statement?: unknown;
}

// ── Review evidence, as collected from the GitHub REST API by packages/github ──────────────────────────────

export interface GitHubAccount {
  login: string;
  id: number;
  /** GitHub's account type: `User`, `Bot`, `Organization`. */
  type: string;
}

/** A git identity in a commit (author or committer), with the GitHub account GitHub linked to it, if any. */
export interface GitPerson {
  name: string;
  email: string;
  account?: GitHubAccount;
}

export interface PullRequestCommit {
  sha: string;
  author: GitPerson;
  committer: GitPerson;
  /** `Co-authored-by:` trailers of the commit message. */
  coAuthors: { name: string; email: string }[];
  /** Committer date (ISO 8601). */
  committedAt: string;
}

export type ReviewState = 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED' | 'PENDING';

export interface Review {
  id: number;
  reviewer: GitHubAccount;
  state: ReviewState;
  /** The commit the review was given on. */
  commitId: string;
  submittedAt: string;
}

export type MergeMethod = 'merge' | 'squash' | 'rebase';

export type RepositoryPermission = 'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none';

export interface ReviewEvidence {
  /** `owner/name`. */
  repository: string;
  /** The commit that was built (40 hex). */
  commit: string;
  /** Every gap in the evidence (API failure after retries, pagination limit, unknown merge method…). Non-empty = incomplete = refuse. */
  gaps: string[];
  /** The pull request merged as `commit`; absent when the commit was pushed directly, or when a gap keeps it unknown. */
  pullRequest?: {
    number: number;
    url: string;
    title: string;
    author: GitHubAccount;
    /** The PR's head commit when it was merged. */
    headSha: string;
    mergeCommitSha: string;
    mergedAt: string;
    mergedBy?: GitHubAccount;
    mergeMethod: MergeMethod;
    baseRef: string;
  };
  /**
   * Other pull requests GitHub associates with `commit` but that were not merged as it (e.g. `commit` is one of
   * their branch commits, or an earlier commit of a rebase merge). Absent when there are none.
   */
  associatedPullRequests?: { number: number; url: string; merged: boolean; mergeCommitSha: string | null }[];
  commits: PullRequestCommit[];
  reviews: Review[];
  /**
   * Who pushed last. The REST API does not name the pusher of a commit: this is the actor of the latest
   * `head_ref_force_pushed` timeline event when it is newer than the head commit, else the head commit's
   * author and committer (`source` says which).
   */
  lastPush: { accounts: GitHubAccount[]; people: GitPerson[]; source: 'head_ref_force_pushed' | 'head-commit' };
  /** Each reviewer's permission on the repository, by login. */
  permissions: Record<string, RepositoryPermission>;
}

export interface ReviewRules {
  minApprovals: number;
  allowBots: boolean;
  requireApprovalOnHead: boolean;
  changesRequestedBlocks: boolean;
}
