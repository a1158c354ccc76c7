// SLSA provenance v1 with GitHub's workflow build type, filled from the job's OIDC claims as actions/attest
// fills it, and read back (with the checks the sign stage relies on) from a statement.
import { CodedError } from './error';
import {
  IN_TOTO_STATEMENT_TYPE,
  InTotoError,
  parseStatement,
  type ResourceDescriptor,
  type Statement,
  type Subject,
} from './intoto';
import type { SignerIdentity } from './model';
import { parseSlsaProvenanceV1, SLSA_PROVENANCE_V1_PREDICATE_TYPE, type SlsaProvenanceV1 } from './slsa-provenance';

/** https://github.com/actions/buildtypes/tree/main/workflow/v1 */
export const GITHUB_WORKFLOW_BUILD_TYPE = 'https://actions.github.io/buildtypes/workflow/v1';

/** The GitHub Actions OIDC claims the provenance is made of (all strings, as GitHub writes them). */
export interface WorkflowRunClaims {
  repository: string;
  repository_id: string;
  repository_owner_id: string;
  sha: string;
  ref: string;
  workflow_ref: string;
  job_workflow_ref: string;
  event_name: string;
  runner_environment: string;
  run_id: string;
  run_attempt: string;
}

const REQUIRED_CLAIMS: readonly (keyof WorkflowRunClaims)[] = [
  'repository',
  'repository_id',
  'repository_owner_id',
  'sha',
  'ref',
  'workflow_ref',
  'job_workflow_ref',
  'event_name',
  'runner_environment',
  'run_id',
  'run_attempt',
];

export type ProvenanceErrorCode =
  | 'CLAIM_MISSING'
  | 'PROVENANCE_MALFORMED'
  | 'PROVENANCE_PREDICATE_TYPE'
  | 'PROVENANCE_BUILD_TYPE'
  | 'PROVENANCE_INCONSISTENT';

/** Provenance that cannot be made (a claim is missing) or read (not GitHub workflow provenance); `field` says where. */
export class ProvenanceError extends CodedError<ProvenanceErrorCode> {
  /** Evidence that does not say what it must: refused. */
  readonly kind = 'refusal';
  override readonly name = 'ProvenanceError';

  constructor(
    code: ProvenanceErrorCode,
    readonly field: string,
    message: string,
  ) {
    super(code, `${field}: ${message}`);
  }
}

/** Picks the claims provenance needs out of a token's claims, refusing a token that lacks one. */
export function workflowRunClaims(claims: Record<string, unknown>): WorkflowRunClaims {
  const picked: Partial<WorkflowRunClaims> = {};
  for (const name of REQUIRED_CLAIMS) {
    const value = claims[name];
    if (typeof value !== 'string' || value === '') {
      throw new ProvenanceError(
        'CLAIM_MISSING',
        `token.${name}`,
        `expected the GitHub Actions OIDC claim ${name}, found ${value === undefined ? 'none' : JSON.stringify(value)}`,
      );
    }
    picked[name] = value;
  }
  return picked as WorkflowRunClaims;
}

/**
 * The SLSA v1 predicate for a GitHub Actions workflow run: the builder is the workflow file that ran
 * (`job_workflow_ref`, a reusable workflow's own file), the external parameters name the top-level workflow, the
 * resolved dependency is the source commit, and the invocation is the run attempt.
 */
export function workflowProvenance(claims: WorkflowRunClaims, serverUrl = 'https://github.com'): SlsaProvenanceV1 {
  const repositoryUrl = `${serverUrl}/${claims.repository}`;
  const [workflowPath, workflowRef] = splitWorkflowRef(claims.workflow_ref, claims.repository);
  return {
    buildDefinition: {
      buildType: GITHUB_WORKFLOW_BUILD_TYPE,
      externalParameters: { workflow: { ref: workflowRef, repository: repositoryUrl, path: workflowPath } },
      internalParameters: {
        github: {
          event_name: claims.event_name,
          repository_id: claims.repository_id,
          repository_owner_id: claims.repository_owner_id,
          runner_environment: claims.runner_environment,
        },
      },
      resolvedDependencies: [{ uri: `git+${repositoryUrl}@${claims.ref}`, digest: { gitCommit: claims.sha } }],
    },
    runDetails: {
      builder: { id: `${serverUrl}/${claims.job_workflow_ref}` },
      metadata: { invocationId: `${repositoryUrl}/actions/runs/${claims.run_id}/attempts/${claims.run_attempt}` },
    },
  };
}

/** An in-toto Statement v1 whose subjects are the artifacts and whose predicate is the provenance. */
export function provenanceStatement(subjects: Subject[], provenance: SlsaProvenanceV1): Statement {
  return {
    _type: IN_TOTO_STATEMENT_TYPE,
    subject: subjects,
    predicateType: SLSA_PROVENANCE_V1_PREDICATE_TYPE,
    predicate: provenance as unknown as Record<string, unknown>,
  };
}

/** What a build's provenance says: which repository and commit were built, at which ref, by which workflow file. */
export interface BuildProvenance {
  /** `owner/name`. */
  repository: string;
  repositoryUrl: string;
  /** The source commit (`resolvedDependencies[].digest.gitCommit`). */
  commit: string;
  ref: string;
  /** `runDetails.builder.id`: `https://github.com/{job_workflow_ref}`. */
  builderId: string;
  /** The top-level workflow (`externalParameters.workflow`). */
  workflow: { repository: string; path: string; ref: string };
  invocationId?: string;
  subjects: Subject[];
}

/**
 * Reads GitHub workflow provenance out of a statement: an in-toto Statement v1 with a SLSA v1 predicate of the
 * GitHub workflow build type, exactly one resolved git dependency of the workflow's repository, with a commit.
 * Anything else is refused with the field that is wrong.
 */
export function parseProvenance(json: unknown): BuildProvenance {
  let statement: Statement;
  let provenance: SlsaProvenanceV1;
  try {
    statement = parseStatement(json);
    if (statement.predicateType !== SLSA_PROVENANCE_V1_PREDICATE_TYPE) {
      throw new ProvenanceError(
        'PROVENANCE_PREDICATE_TYPE',
        'predicateType',
        `expected ${SLSA_PROVENANCE_V1_PREDICATE_TYPE}, found ${JSON.stringify(statement.predicateType)}`,
      );
    }
    provenance = parseSlsaProvenanceV1(statement.predicate);
  } catch (error) {
    if (error instanceof InTotoError) throw new ProvenanceError('PROVENANCE_MALFORMED', error.field, error.message);
    throw error;
  }
  const { buildDefinition, runDetails } = provenance;
  if (buildDefinition.buildType !== GITHUB_WORKFLOW_BUILD_TYPE) {
    throw new ProvenanceError(
      'PROVENANCE_BUILD_TYPE',
      'predicate.buildDefinition.buildType',
      `expected ${GITHUB_WORKFLOW_BUILD_TYPE}, found ${JSON.stringify(buildDefinition.buildType)}`,
    );
  }
  const workflow = workflowParameters(buildDefinition.externalParameters.workflow);
  const repositoryMatch = /^(https:\/\/[^/]+)\/([^/]+\/[^/]+)$/.exec(workflow.repository);
  if (!repositoryMatch) {
    throw new ProvenanceError(
      'PROVENANCE_MALFORMED',
      'predicate.buildDefinition.externalParameters.workflow.repository',
      `expected https://HOST/OWNER/NAME, found ${JSON.stringify(workflow.repository)}`,
    );
  }
  const repository = repositoryMatch[2]!;
  const source = sourceDependency(buildDefinition.resolvedDependencies ?? [], workflow.repository);
  return {
    repository,
    repositoryUrl: workflow.repository,
    commit: source.commit,
    ref: source.ref,
    builderId: runDetails.builder.id,
    workflow,
    invocationId: runDetails.metadata?.invocationId,
    subjects: statement.subject,
  };
}

function workflowParameters(value: unknown): { repository: string; path: string; ref: string } {
  const field = 'predicate.buildDefinition.externalParameters.workflow';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProvenanceError('PROVENANCE_MALFORMED', field, 'expected an object with repository, path and ref');
  }
  const record = value as Record<string, unknown>;
  for (const key of ['repository', 'path', 'ref']) {
    if (typeof record[key] !== 'string' || record[key] === '') {
      throw new ProvenanceError('PROVENANCE_MALFORMED', `${field}.${key}`, 'expected a non-empty string');
    }
  }
  return { repository: record.repository as string, path: record.path as string, ref: record.ref as string };
}

/** The one resolved dependency that is the workflow repository's source: `git+{repository}@{ref}` with a commit. */
function sourceDependency(dependencies: ResourceDescriptor[], repositoryUrl: string): { commit: string; ref: string } {
  const field = 'predicate.buildDefinition.resolvedDependencies';
  const prefix = `git+${repositoryUrl}@`;
  const sources = dependencies.filter((d) => d.uri?.startsWith(prefix));
  if (sources.length !== 1) {
    throw new ProvenanceError(
      'PROVENANCE_INCONSISTENT',
      field,
      `expected exactly one dependency ${prefix}REF (the source), found ${sources.length}`,
    );
  }
  const source = sources[0]!;
  const commit = source.digest?.gitCommit;
  if (!commit || !/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(commit)) {
    throw new ProvenanceError(
      'PROVENANCE_MALFORMED',
      `${field}[${dependencies.indexOf(source)}].digest.gitCommit`,
      `expected a git commit (40 or 64 lowercase hex), found ${JSON.stringify(commit ?? null)}`,
    );
  }
  return { commit, ref: source.uri!.slice(prefix.length) };
}

/** `owner/repo/.github/workflows/build.yml@refs/heads/main` → [`.github/workflows/build.yml`, `refs/heads/main`]. */
function splitWorkflowRef(workflowRef: string, repository: string): [string, string] {
  const at = workflowRef.indexOf('@');
  const path = at < 0 ? workflowRef : workflowRef.slice(0, at);
  const ref = at < 0 ? '' : workflowRef.slice(at + 1);
  return [path.startsWith(`${repository}/`) ? path.slice(repository.length + 1) : path, ref];
}

/** GitHub repository URLs compare case-insensitively, without a trailing slash or `.git`; `acme/app` and `acme/app-fork` never match. */
export function sameRepositoryUri(a: string, b: string): boolean {
  const normalized = (uri: string) =>
    withoutTrailingSlashes(uri)
      .replace(/\.git$/, '')
      .toLowerCase();
  return normalized(a) === normalized(b);
}

/**
 * The text without the slashes it ends with, in one pass: `.replace(/\/+$/, '')` tries the pattern at every slash of a
 * run and runs it to the run's end each time, quadratic in a run that does not end the text (a review predicate's
 * `https://` and 100,000 slashes took 13 s to compare).
 */
export function withoutTrailingSlashes(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0x2f) end -= 1;
  return text.slice(0, end);
}

/** What a build certificate may disagree with its provenance about. */
export type ProvenanceClaim = 'repository' | 'commit' | 'ref';

/**
 * Whether the build identity's certificate — what Fulcio saw in the build job's OIDC token — backs what the provenance
 * (written by that job) claims: the same repository, commit and ref. A certificate silent about one cannot back it.
 * One rule for the sign stage and the deploy gate; each problem names the claim it is about.
 */
export function certificateBacksProvenance(
  signer: SignerIdentity,
  provenance: Pick<BuildProvenance, 'repositoryUrl' | 'commit' | 'ref'>,
): { claim: ProvenanceClaim; reason: string }[] {
  const { sourceRepositoryURI, sourceRepositoryDigest, sourceRepositoryRef } = signer.extensions;
  const problems: { claim: ProvenanceClaim; reason: string }[] = [];
  const disagree = (claim: ProvenanceClaim, says: string, certified: string | undefined, what: string) => {
    if (certified === undefined) {
      problems.push({
        claim,
        reason: `the provenance says ${says}, but the build identity's certificate names no ${what} to back it`,
      });
    } else {
      problems.push({
        claim,
        reason: `the provenance says ${says}, but the build identity's certificate says the workflow ran on ${certified}`,
      });
    }
  };
  if (sourceRepositoryURI === undefined || !sameRepositoryUri(sourceRepositoryURI, provenance.repositoryUrl)) {
    disagree('repository', provenance.repositoryUrl, sourceRepositoryURI, 'source repository');
  }
  if (
    sourceRepositoryDigest === undefined ||
    sourceRepositoryDigest.toLowerCase() !== provenance.commit.toLowerCase()
  ) {
    disagree('commit', `commit ${provenance.commit}`, sourceRepositoryDigest, 'source commit');
  }
  if (sourceRepositoryRef === undefined || sourceRepositoryRef !== provenance.ref) {
    disagree('ref', `ref ${provenance.ref}`, sourceRepositoryRef, 'source ref');
  }
  return problems;
}
