// The domain model shared by every package: what a verified bundle tells us, what GitHub tells us about a
// review, and how every decision is reported (a list of named checks, each with a verdict and a reason).

/**
 * A check's outcome, in the words every report, summary and terminal shows: `pass`; `fail` (what it checks does not
 * hold); `not-evaluated` (what it needs is missing, e.g. no review attestation to compare commits with). Only `pass`
 * passes: a decision with any other check fails. The review rules and the sign stage's checks say `pass` or `fail`;
 * the deploy checks use all three, and `waived` for a review check a valid break-glass stands in for (which counts as
 * passing, and is shown in capitals wherever the decision is).
 */
export type CheckVerdict = 'pass' | 'fail' | 'not-evaluated' | 'waived';

/** One named check and its outcome. The report, the step summary and the exit code all come from these. */
export interface Check {
  /** Stable identifier, e.g. `approval-on-merged-head`, `signature-by-sign-identity`. */
  id: string;
  verdict: CheckVerdict;
  /** Plain words: what was expected and what was found (or, not evaluated, what was missing). */
  reason: string;
}

/** A decision: `pass` only when every one of its checks passes. */
export type Verdict = 'pass' | 'fail';

/**
 * An artifact's digest, in the one shape it keeps from a command line, a step's inputs or a file's bytes to the
 * report: sha256, as 64 lowercase hex digits. Made by parseDigest and sha256Digest (digest.ts), which normalise it
 * once, so that it is compared as it is everywhere else; shown as `sha256:HEX` (formatDigest).
 */
export interface Digest {
  algorithm: 'sha256';
  hex: string;
}

/** An artifact to sign or deploy: its name (a file name, a subject name) and its digest. */
export interface ArtifactRef {
  name: string;
  digest: Digest;
}

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

/** What the policy says an identity must be. Exactly one of `san` / `sans` / `sanPattern`. */
export interface IdentityRule {
  issuer: string;
  /** Exact SAN. */
  san?: string;
  /**
   * Exact SANs, any one of them: the same workflow at two pinned versions while callers move from one to the next
   * (README, "For platform teams"). A policy's `san:` list.
   */
  sans?: readonly string[];
  /** A regular expression matched against the whole SAN (anchored: `^(?:…)$`). */
  sanPattern?: string;
  /**
   * The repository whose workflow run the certificate was issued to (Fulcio's sourceRepositoryURI, exact), e.g.
   * `https://github.com/acme/app`. Needed when the SAN is a reusable workflow that any repository can call.
   */
  sourceRepository?: string;
  /**
   * The runner the job must have run on (Fulcio's Runner Environment, exact): `github-hosted`. Absent: any. A policy's
   * GitHub Actions identities require it unless they say `runner-environment: any`.
   */
  runnerEnvironment?: 'github-hosted';
  /**
   * identities.build only: the events that may have started the build run (Fulcio's Build Trigger, exact), any one of
   * them. A policy's GitHub Actions build identity requires one unless it lists its own: `push`, `workflow_dispatch`.
   * Not part of matchIdentity (which also tells the sign identity apart from the build's): every check that accepts
   * build provenance calls buildRunProblem too (with `workflows`).
   */
  triggers?: readonly string[];
  /**
   * identities.build only: the workflow files (paths in the repository that ran them, globs) whose runs' build
   * provenance counts, compared with the certificate's Build Config URI (the top-level workflow a run of the reusable
   * build workflow was called from). Absent: any workflow of the repository.
   */
  workflows?: readonly string[];
}

/** A Sigstore bundle that verified cryptographically against the trusted root (signature, chain, tlog, timestamps). */
export interface VerifiedBundle {
  /** Where it came from (a file path), for messages. */
  source: string;
  /**
   * The SHA-256 of the bundle file's bytes that were read and verified (absent for a bundle not read from a file):
   * which file it was, for the decision record. The same signed event can be written in other bytes.
   */
  sha256?: string;
  /**
   * What was signed, whatever bytes carried it (the signer's certificate TBS or key, and the signed content):
   * anything that counts or de-duplicates evidence keys it by this, never by `sha256`.
   */
  evidenceKey?: string;
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

/** What GitHub's repository activity feed (`GET /repos/{owner}/{repo}/activity`) calls a change of a ref. */
export type RefActivityType =
  | 'push'
  | 'force_push'
  | 'branch_creation'
  | 'branch_deletion'
  | 'pr_merge'
  | 'merge_queue_merge';

/** One entry of the repository activity feed: who moved which ref from what to what, and when. */
export interface RefActivity {
  id: number;
  /** Full ref, e.g. `refs/heads/main`. */
  ref: string;
  /** The commit the ref pointed at before (all zeros for a creation). */
  before: string;
  /** The commit the ref points at after (all zeros for a deletion). */
  after: string;
  /** ISO 8601. */
  timestamp: string;
  activityType: RefActivityType;
  /** Who did it; `null` when GitHub shows no actor (a deleted account). */
  actor: GitHubAccount | null;
}

/**
 * Everything GitHub will say about who an account is: its public profile (`GET /users/{login}`). Commit identities
 * are matched against it, with the noreply forms of the account and the e-mails GitHub links to it in the commits.
 */
export interface AccountProfile {
  account: GitHubAccount;
  /** The profile name, when the account shows one. */
  name?: string;
  /** The public e-mail, when the account shows one. */
  email?: string;
}

/**
 * What the repository activity feed said about the pull request: who pushed to its head branch and how the built
 * commit reached the branch it was built on. `available: false` when the feed could not answer (403, 404, an
 * error): then the last pusher is a fallback guess and the merge is not established, which the policy refuses
 * unless it accepts the fallback (`review.allow-activity-fallback`).
 */
export type ActivityEvidence =
  | {
      available: true;
      /** Pushes and force pushes to the pull request's head branch from its creation up to the merge, oldest first. */
      headPushes: RefActivity[];
      /** Every entry of the built branch whose `after` is the built commit, oldest first. */
      builtCommitArrivals: RefActivity[];
    }
  | { available: false; reason: string };

/** A change of a pull request's base branch (ReviewEvidence.pullRequest.baseChanges). */
export interface BaseChange {
  at: string;
  actor: GitHubAccount | null;
  /** GitHub's own retarget of a stacked pull request (`automatic_base_change_succeeded`); absent: a person's. */
  automatic?: true;
}

export interface ReviewEvidence {
  /** `owner/name`. */
  repository: string;
  /** The commit that was built (40 hex). */
  commit: string;
  /**
   * The ref the build ran on, from verified build provenance (e.g. `refs/heads/main`). Absent only in evidence
   * recorded before it was collected: then the pull request's base cannot be shown to be the built branch.
   */
  builtRef?: string;
  /** The repository's default branch (`GET /repos/{owner}/{repo}`): the protected branch when the policy names none. */
  defaultBranch?: string;
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
    /** The head branch name and the repository it lives in (`owner/name`; a fork for a pull request from a fork). */
    headRef?: string;
    headRepository?: string;
    mergeCommitSha: string;
    /** When the pull request was opened (ISO 8601). */
    createdAt?: string;
    mergedAt: string;
    mergedBy?: GitHubAccount;
    mergeMethod: MergeMethod;
    baseRef: string;
    /**
     * When the pull request's base branch was changed, oldest first: by a person (`base_ref_changed`), or by GitHub
     * (`automatic_base_change_succeeded`, `automatic: true`: a stacked pull request moved onto the base of the one
     * merged before it, when its base branch was deleted). An approval never names the base it saw: after any change
     * none counts.
     */
    baseChanges?: BaseChange[];
    /**
     * When the pull request was reopened (`reopened`), oldest first: a closed pull request does not follow its branch,
     * and reopened its head moves to what was pushed while it was closed — then, not at that push. Absent in evidence
     * signed before it was read.
     */
    reopens?: { at: string; actor: GitHubAccount | null }[];
  };
  /**
   * Other pull requests GitHub associates with `commit` but that were not merged as it (e.g. `commit` is one of
   * their branch commits, or an earlier commit of a rebase merge). Absent when there are none.
   */
  associatedPullRequests?: { number: number; url: string; merged: boolean; mergeCommitSha: string | null }[];
  commits: PullRequestCommit[];
  /** `Co-authored-by:` trailers of the merge or squash commit's own message (the merger can add them). */
  mergeCommitCoAuthors?: { name: string; email: string }[];
  reviews: Review[];
  /** The public profile of every reviewer who approved (absent in evidence recorded before it was collected). */
  profiles?: AccountProfile[];
  /**
   * Who pushed last: from the activity feed (`source: 'activity'`), else a fallback — the actor of the latest
   * `head_ref_force_pushed` timeline event when it is newer than the head commit, else the head commit's author and
   * committer (`source` says which).
   */
  lastPush: {
    accounts: GitHubAccount[];
    people: GitPerson[];
    source: 'activity' | 'head_ref_force_pushed' | 'head-commit';
  };
  /** What the repository activity feed said (absent in evidence recorded before it was read: not available). */
  activity?: ActivityEvidence;
  /** Each reviewer's permission on the repository, by login. */
  permissions: Record<string, RepositoryPermission>;
  /**
   * How the built commit's base came to be on the built branch (review.reviewed-history): the walk of the branch's
   * activity feed back to `review.history-since`. Absent when the policy did not ask for it.
   */
  history?: ReviewedHistory;
}

/** One arrival on the built branch since `review.history-since`, and whether the change it brought was reviewed. */
export interface HistoryArrival {
  /** The commit the arrival put on the branch (the feed entry's `after`). */
  commit: string;
  /** The commit the branch held before (the feed entry's `before`). */
  before: string;
  type: RefActivityType;
  /** ISO 8601. */
  at: string;
  actor: GitHubAccount | null;
  /** The pull request merged as `commit`, when one was found. */
  pullRequest?: number;
  verdict: Verdict;
  /** Why it passes, or which rule it fails. */
  reason: string;
}

/**
 * The walk of the built branch's activity feed from the built commit's base back to `since` (review.reviewed-history):
 * every arrival at or after `since`, newest first, each a reviewed pull request merge, each one's `before` the next
 * one's `commit`; ended by the `baseline`, the newest arrival before `since`. `verdict: fail` names why.
 */
export interface ReviewedHistory {
  /** The policy's review.history-since the walk went back to (ISO 8601). */
  since: string;
  /** The built branch (`refs/heads/…`). */
  ref: string;
  /** The built commit's base: what its own arrival moved the branch from (`before`). */
  base: string;
  /** Newest first. */
  arrivals: HistoryArrival[];
  /**
   * Where the walk stopped: the newest arrival before `since`, or (the moving baseline) a newer arrival of a commit
   * the sign identity already signed a review attestation of with a passing walk, found in the attestation store
   * (`attestation`: where). Its `commit` is the oldest judged arrival's `before` (or the base).
   */
  baseline?: { commit: string; at: string; attestation?: string };
  verdict: Verdict;
  reason: string;
  /**
   * The review rules each arrival was judged under, when the walk is read back from a review attestation (its
   * `rules`): the deploy gate takes each arrival's verdict as recorded only when these are its policy's own. Never
   * written: the sign stage judges every arrival under the rules it judges the built commit by.
   */
  judgedUnder?: ReviewRules;
}

/** What a co-author trailer naming no known account does: refuse (the default) or let it pass, named. */
export type UnidentifiedCoAuthors = 'refuse' | 'allow';

export interface ReviewRules {
  minApprovals: number;
  allowBots: boolean;
  requireApprovalOnHead: boolean;
  changesRequestedBlocks: boolean;
  /**
   * Branches (names or globs) a change may be built from and merged into. Absent: the repository's default branch,
   * as GitHub reported it to the sign stage.
   */
  protectedBranches?: string[];
  unidentifiedCoAuthors: UnidentifiedCoAuthors;
  /** E-mails (lower-case) of non-human co-authors (bots, coding assistants): they neither refuse nor count. */
  nonHumanCoAuthors: string[];
  /** Whether evidence without the activity feed (a guessed last pusher, an unestablished merge) is accepted. */
  allowActivityFallback: boolean;
  /**
   * Whether a build of a protected branch other than the repository's default branch is accepted: how that branch came
   * to hold what it holds (its creation, pushes before the pull request) is then taken on trust. Absent (review
   * attestations signed before the rule): false.
   */
  allowNonDefaultBranches?: boolean;
  /**
   * Whole seconds an approval of the merged head must follow the head branch's last push by (and always in a later
   * second): GitHub records a review submitted without naming its commit on the newest head, which a push just before
   * it made. Absent (review attestations signed before the rule): the default, 30.
   */
  minSecondsAfterPush?: number;
  /**
   * Logins (lower-case) of the bots whose pushes to a head branch count as any account's; a push by any other bot
   * names no person (contributors-identified). Absent in review attestations signed before the rule.
   */
  botPushers: string[];
  /**
   * Whether every arrival on the built branch since `historySince` must be a reviewed pull request merge (the
   * evidence's `history`). Absent (review attestations signed before the rule): false.
   */
  reviewedHistory?: boolean;
  /** The trusted baseline of `reviewedHistory` (ISO 8601): arrivals before it are not judged. */
  historySince?: string;
}
