// The deploy gate: the one decision the deploy action and `twokey verify` share, so that they give the same verdict
// on the same files. Read the policy, bind the repositories a chain may come from, pick the trusted root, read the
// artifacts, verify every bundle once, and judge every artifact with evaluateDeploy.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BREAK_GLASS_PREDICATE_TYPE,
  bindRepositories,
  breakGlassArtifactSubjects,
  breakGlassRunDigest,
  breakGlassRunKey,
  breakGlassRunSubjectProblem,
  type CallerRepository,
  type DeployReport,
  formatDigest,
  matchIdentity,
  type Policy,
  readDecisionRecord,
  type SignerIdentity,
  sha256Digest,
  type VerifiedBundle,
  withoutTrailingSlashes,
} from '@twokey/core';
import { AttestationStoreError, fetchAttestations } from '@twokey/github';
import { deployTrustedRoot, type RepositoryPolicyFile, readPolicyFiles } from '@twokey/sigstore';
import { type ArtifactInput, type ArtifactSpec, readArtifacts } from './artifacts';
import { evaluateDeploy, type LiveDeployApproval } from './evaluate';
import { type Evidence, readEvidence, relativePath } from './evidence';

export interface DeployGateRequest {
  /** The org policy file, relative to `cwd`. */
  policy: string;
  /** The repository's own policy, which can only tighten the org policy (`twokey verify --repository-policy`). */
  repositoryPolicy?: RepositoryPolicyFile;
  /** The repository the caller names beside the policy: the action's GITHUB_REPOSITORY, `twokey verify --repo`. */
  repository: CallerRepository;
  /** A trusted root overriding the policy's `deploy.trusted-root`: a path relative to `cwd`, or `public-good`. */
  trustedRoot?: string;
  artifacts: ArtifactSpec;
  /** Bundle files, directories (every `*.json` below) and globs, relative to `cwd`. */
  bundles: readonly string[];
  /**
   * Whether those files were written by others than the caller (the deploy job's: downloaded from the build run,
   * whose job may be compromised): one that does not read as a bundle is then rejected evidence in the report and
   * the record, never a run stopped before its decision is recorded. `twokey verify`'s files are its user's own: an
   * unreadable one is an input error (exit 2).
   */
  untrustedBundles?: boolean;
  /**
   * Also every attestation GitHub's attestation store holds for each artifact's digest in this repository
   * (`twokey verify --repo` without --bundle): fetched, then verified like any file.
   */
  attestationStore?: AttestationStoreRequest;
  /**
   * The store to read as well when the evidence is not already the store's, and the policy allows break-glass (a
   * break-glass is used by one deploy run per environment, which only earlier records show) or asks for deploy
   * approvals (judged against the people of every change vouched for as making the artifact, which may be another
   * commit's, stored by its own sign run).
   */
  decisionStore?: AttestationStoreRequest;
  /** The token the other bound repositories' stores are read with (the deploy action's bound-repositories-token). */
  boundRepositoriesToken?: string;
  /** The deploy job's environment (its OIDC token's `environment`). */
  environment?: string;
  /** Reads who approved the deploy, once the policy is known (the deploy job: GitHub's answers, read live). */
  readDeployApproval?: (policy: Policy) => Promise<LiveDeployApproval | undefined>;
  /** Where relative inputs are read from (the workspace), and what the report's paths are relative to. */
  cwd: string;
  /** The identity running the deploy (the deploy job's certificate identity); absent offline. */
  deployIdentity?: SignerIdentity;
  /** Judge the evidence as of this earlier time instead of now (`twokey verify --at`); the deploy action never does. */
  at?: Date;
  /** The clock; default the system's. */
  now?: Date;
}

export interface AttestationStoreRequest {
  repository: string;
  apiUrl: string;
  /** Empty: read anonymously (public repositories only). */
  token: string;
  /** Called before an anonymous read, e.g. to say that only public repositories can be seen. */
  beforeAnonymousRead?: () => void;
}

export interface DeployJudgement {
  report: DeployReport;
  policy: Policy;
  /** Every bundle that verified, whoever signed it (the decision record hashes the ones the report used). */
  verified: VerifiedBundle[];
  /** Who approved the deploy, as read live (the deploy job), or why it could not be read. */
  liveDeployApproval?: LiveDeployApproval;
  /**
   * Where each bundle read from the attestation store came from, by its source name
   * (`github:OWNER/REPO/attestations/DIGEST#N`): the store's list of attestations for that digest, its Nth entry.
   */
  storeUris: ReadonlyMap<string, string>;
}

/** The deploy decision on the files a request names. Throws a usage error for an input it cannot use, naming it. */
export async function judgeDeploy(request: DeployGateRequest): Promise<DeployJudgement> {
  const { cwd } = request;
  // The policy, named relative to the working directory in messages and in the report.
  const repositoryPolicy = request.repositoryPolicy && {
    ...request.repositoryPolicy,
    path: relativePath(cwd, request.repositoryPolicy.path),
  };
  const policy = readPolicyFiles(relativePath(cwd, request.policy), repositoryPolicy, cwd);
  // Whose build → sign chain may pass: the policy's repositories, else the caller's.
  const binding = bindRepositories(policy, request.repository);
  // The root every bundle must chain to: the caller's, else the policy's, else Sigstore's public-good instance.
  const trust = deployTrustedRoot(policy, request.trustedRoot, cwd);
  // What is judged, each digest parsed once.
  const artifacts = readArtifacts(request.artifacts, cwd);
  // Every bundle verified once: the files given, and what the attestation store holds for these artifacts. The
  // deploy job reads the store whatever the files when the policy allows break-glass (its single use is known
  // only from earlier decision records) or asks for deploy approvals (who approves is judged against the people of
  // every change the sign identity vouched for as making the artifact: another commit may have built the same bytes,
  // and its review attestation is in the store, not among this run's files).
  const readsStore = policy.identities.breakGlass !== undefined || policy.deploy.approvals.min > 0;
  const storeToRead = request.attestationStore ?? (readsStore ? request.decisionStore : undefined);
  let stored: Awaited<ReturnType<typeof storedEvidence>> | undefined;
  let storeUnread: string | undefined;
  const alsoStored: Awaited<ReturnType<typeof storedEvidence>>[] = [];
  if (storeToRead) {
    try {
      stored = await storedEvidence(storeToRead, artifacts);
    } catch (error) {
      // The store read beside the files given (not the evidence asked for): unreadable evidence, a refusal with its
      // reason in the report and the record — what it would have shown is unknown, never taken as nothing.
      if (request.attestationStore || !(error instanceof AttestationStoreError)) throw error;
      storeUnread = error.message;
    }
  }
  // The deploy job (with or without files given: the same decision either way), in another repository than some its
  // chains may come from (a deployment repository that deploy.repositories lets deploy acme/app's artifacts, or one of
  // several repositories that can build the same bytes): the other changes that built them were stored by their sign
  // runs in the repository they were built in, not here, and who wrote what ships must be known before anyone counts
  // as independent of it (row 176). Their stores are read too; one that cannot be read refuses.
  const deployStore = request.decisionStore;
  if (deployStore && policy.deploy.approvals.min > 0) {
    const here = deployStore.repository.toLowerCase();
    for (const repository of binding.repositories.filter((r) => r.toLowerCase() !== here)) {
      try {
        alsoStored.push(
          await storedEvidence(
            { ...deployStore, repository, token: request.boundRepositoriesToken || deployStore.token },
            artifacts,
            { repositoryMustBeReadable: true },
          ),
        );
      } catch (error) {
        if (!(error instanceof AttestationStoreError)) {
          // Twokey's failure, not the store's: the stores already written to disk go with it.
          for (const s of [...(stored ? [stored] : []), ...alsoStored]) {
            rmSync(s.directory, { recursive: true, force: true });
          }
          throw error;
        }
        storeUnread ??= `${error.message} (it holds the review attestations of ${repository}'s changes that built these artifacts)`;
      }
    }
  }
  const stores = [...(stored ? [stored] : []), ...alsoStored];
  let evidence: Awaited<ReturnType<typeof readEvidence>>;
  try {
    evidence = await readEvidence(
      [...request.bundles, ...stores.map((s) => s.directory)],
      artifacts,
      trust,
      cwd,
      new Map(stores.flatMap((s) => [...s.names])),
      request.untrustedBundles === true,
    );
  } finally {
    for (const s of stores) rmSync(s.directory, { recursive: true, force: true });
  }
  const { verified } = evidence;
  // A stored entry whose blob could not be read is rejected evidence, as one that is no bundle is: never a pass. But
  // what it held is unknown, and the store is read for what it must NOT hold as well (a break-glass's earlier uses,
  // the people of another change that built these bytes): the store is then unread for those, never taken as empty.
  const rejectedEntries = stores.flatMap((s) => s.rejected);
  const unreadable = contentUnknown(rejectedEntries);
  const rejected = [...evidence.rejected, ...rejectedEntries];
  if (unreadable.length > 0) {
    storeUnread ??= `${unreadable.length} of its entries for these artifacts could not be read (${unreadable
      .slice(0, 3)
      .map((r) => `${r.source}: ${r.reason}`)
      .join('; ')}${unreadable.length > 3 ? '; …' : ''}): what they hold is unknown`;
  }
  // A break-glass is used once per environment, whichever of its subjects a deploy ships: the records of deploys of
  // its other subjects are stored under their digests, not these artifacts', and are read too.
  const siblings =
    stored && storeToRead ? await siblingDecisions(storeToRead, policy, verified, artifacts, trust, cwd) : undefined;
  const liveDeployApproval = request.readDeployApproval ? await request.readDeployApproval(policy) : undefined;
  // Read, but not all of it: what the store must not hold is unknown, offline (`twokey verify --repo`) as in the gate.
  const storeIncomplete =
    stored === undefined
      ? undefined
      : (siblings?.unread ?? (unreadable.length > 0 ? `${unreadable.length} entries could not be read` : undefined));
  // The verdict: every artifact's deploy checks, under one policy and one clock (evaluate.ts).
  const report = evaluateDeploy({
    ...(request.environment !== undefined && { environment: request.environment }),
    ...(liveDeployApproval && { liveDeployApproval }),
    earlierDecisionsRead: stored !== undefined && siblings?.unread === undefined && unreadable.length === 0,
    ...(siblings?.records.length && { otherDecisions: siblings.records }),
    ...(storeUnread !== undefined && { storeUnread }),
    ...(storeIncomplete !== undefined && { storeIncomplete }),
    policy,
    binding,
    now: request.now ?? new Date(),
    ...(request.at && { at: request.at }),
    ...(request.deployIdentity && { deployIdentity: request.deployIdentity }),
    artifacts: artifacts.map(({ name, digest }) => (name === undefined ? { digest } : { name, digest })),
    bundles: verified,
    rejected,
  });
  const storeUris = new Map(stores.flatMap((s) => [...s.uris]));
  return { report, policy, verified, ...(liveDeployApproval && { liveDeployApproval }), storeUris };
}

/**
 * The decision records the store holds for the other subjects of every break-glass (by the policy's break-glass
 * identity) among the verified bundles about these artifacts, and for the subjects of every other break-glass their
 * runs signed: their earlier uses by deploys of those subjects. One approval releases every job of a run (a matrix of
 * jobs calling the break-glass workflow signs one break-glass each, over another copy of the build), and a use of any
 * is a use of all; the store lists each run's break-glasses under its run subject's digest (breakGlassRunDigest, from
 * the break-glass's certificate: its Run Invocation URI), and only bundles by the break-glass identity, issued to the
 * same run and carrying that subject, count. Only decision records are kept, and only to count uses; a store that
 * cannot be read, or entries that cannot, leave the uses unknown (`unread`).
 */
async function siblingDecisions(
  store: AttestationStoreRequest,
  policy: Policy,
  verified: readonly VerifiedBundle[],
  artifacts: readonly ArtifactInput[],
  trust: Parameters<typeof readEvidence>[2],
  cwd: string,
): Promise<{ records: VerifiedBundle[]; unread?: string }> {
  const breakGlass = policy.identities.breakGlass;
  if (!breakGlass) return { records: [] };
  const judged = new Set(artifacts.map((a) => a.digest.hex));
  const others = new Set<string>();
  // The runs of the break-glasses about these artifacts: the run subject's digest, and the run (breakGlassRunKey).
  const runs = new Map<string, string>();
  /** The artifact subjects of a break-glass by the break-glass identity, with the run its certificate names. */
  const read = (bundle: VerifiedBundle) => {
    const statement = bundle.statement as { predicateType?: unknown; subject?: unknown } | undefined;
    if (bundle.kind !== 'dsse' || statement?.predicateType !== BREAK_GLASS_PREDICATE_TYPE) return undefined;
    if (!matchIdentity(bundle.signer, breakGlass).ok || !Array.isArray(statement.subject)) return undefined;
    const hexes = breakGlassArtifactSubjects(statement.subject as { name?: unknown }[]).flatMap((s) => {
      const hex = (s as { digest?: { sha256?: unknown } } | null)?.digest?.sha256;
      return typeof hex === 'string' && /^[0-9a-f]{64}$/.test(hex) ? [hex] : [];
    });
    const uri = bundle.signer.extensions.runInvocationURI;
    // One without its run subject is refused (candidates.ts), and its run is not looked for.
    const run = uri !== undefined && breakGlassRunSubjectProblem(statement, uri) === undefined ? uri : undefined;
    return { hexes, run };
  };
  for (const bundle of verified) {
    const glass = read(bundle);
    if (!glass?.hexes.some((hex) => judged.has(hex))) continue;
    for (const hex of glass.hexes) if (!judged.has(hex)) others.add(hex);
    if (glass.run !== undefined) runs.set(breakGlassRunDigest(glass.run), breakGlassRunKey(glass.run));
  }
  // The other break-glasses of those runs, from the store under each run's digest: their subjects are read too.
  if (runs.size > 0) {
    const digests: ArtifactInput[] = [...runs.keys()].map((hex) => ({ digest: sha256Digest(hex) }));
    let found: Awaited<ReturnType<typeof storedEvidence>>;
    try {
      found = await storedEvidence(store, digests);
    } catch (error) {
      if (!(error instanceof AttestationStoreError)) throw error;
      return { records: [], unread: `the other break-glasses of its run: ${error.message}` };
    }
    try {
      const unknown = contentUnknown(found.rejected);
      if (unknown.length > 0) {
        return {
          records: [],
          unread: `${unknown.length} entries under its run's subject (the other break-glasses of its run) could not be read`,
        };
      }
      const { verified: legs } = await readEvidence([found.directory], digests, trust, cwd, found.names, true);
      for (const bundle of legs) {
        const glass = read(bundle);
        if (!glass || glass.run === undefined) continue;
        // Issued to one of those runs (any attempt: a run's key), and carrying its run subject (read checked it).
        if (runs.get(breakGlassRunDigest(glass.run)) !== breakGlassRunKey(glass.run)) continue;
        for (const hex of glass.hexes) if (!judged.has(hex)) others.add(hex);
      }
    } finally {
      rmSync(found.directory, { recursive: true, force: true });
    }
  }
  if (others.size === 0) return { records: [] };
  const subjects: ArtifactInput[] = [...others].map((hex) => ({ digest: sha256Digest(hex) }));
  let stored: Awaited<ReturnType<typeof storedEvidence>>;
  try {
    stored = await storedEvidence(store, subjects);
  } catch (error) {
    if (!(error instanceof AttestationStoreError)) throw error;
    return { records: [], unread: error.message };
  }
  const unknown = contentUnknown(stored.rejected);
  if (unknown.length > 0) {
    rmSync(stored.directory, { recursive: true, force: true });
    return { records: [], unread: `${unknown.length} entries of its other subjects could not be read` };
  }
  try {
    const { verified: siblings } = await readEvidence([stored.directory], subjects, trust, cwd, stored.names, true);
    return { records: siblings.filter((b) => b.kind === 'dsse' && readDecisionRecord(b.statement) !== undefined) };
  } finally {
    rmSync(stored.directory, { recursive: true, force: true });
  }
}

/**
 * The attestation store's bundles for these artifacts, written to a private temporary directory to be verified as
 * files are, each named in the report `github:OWNER/REPO/attestations/sha256:HEX#N`. The caller removes the directory.
 * (Exported for its test: what it writes to disk.)
 */
export async function storedEvidence(
  store: AttestationStoreRequest,
  artifacts: readonly ArtifactInput[],
  { repositoryMustBeReadable = false } = {},
): Promise<{
  directory: string;
  names: Map<string, string>;
  uris: Map<string, string>;
  rejected: Evidence['rejected'];
}> {
  const digests = [...new Set(artifacts.map((a) => formatDigest(a.digest)))];
  if (!store.token) store.beforeAnonymousRead?.();
  const { repository, apiUrl, token } = store;
  const attestations = await fetchAttestations({ repository, apiUrl, token, digests, repositoryMustBeReadable });
  const directory = mkdtempSync(join(tmpdir(), 'twokey-attestations-'));
  const names = new Map<string, string>();
  const uris = new Map<string, string>();
  const rejected: Evidence['rejected'] = [];
  const list = `${withoutTrailingSlashes(apiUrl)}/repos/${repository}/attestations`;
  // Each distinct text written once: a release's provenance, review and decision records name every artifact, and
  // are listed under each digest (the store reader keeps one string for them); written for each, they were a copy per
  // digest on the runner's disk, and a few large bundles naming many artifacts filled it (row 246). Its verdict is
  // the same: the evidence is judged by what it says, not by the digest it was listed under.
  const written = new Set<string>();
  attestations.forEach((attestation, i) => {
    const name = `github:${repository}/attestations/${attestation.digest}#${attestation.index}`;
    // Where the store lists it: "List attestations" for its digest, its entry's index.
    uris.set(name, `${list}/${attestation.digest}#${attestation.index}`);
    if ('unreadable' in attestation) {
      rejected.push({ source: name, ...attestation.unreadable });
      return;
    }
    if (written.has(attestation.text)) return;
    written.add(attestation.text);
    const path = join(directory, `${i}.json`);
    writeFileSync(path, attestation.text, { mode: 0o600 });
    names.set(path, name);
  });
  return { directory, names, uris, rejected };
}

/**
 * The store's rejected entries whose content is unknown (a blob that could not be read, or too large): what they held
 * may be an earlier break-glass use or deploy approval, so the store is unread for those. An entry the store sent
 * whole that is no bundle (BUNDLE_MALFORMED: nested too deep) is rejected evidence whose content is known.
 */
function contentUnknown<R extends { code?: string }>(rejected: R[]): R[] {
  return rejected.filter((r) => r.code !== 'BUNDLE_MALFORMED');
}
