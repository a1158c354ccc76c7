// Verified bundles as packages/sigstore hands them to the evaluation, for one honest pipeline: acme/app's build
// workflow signed provenance, the platform's sign workflow signed the artifact and the review attestation.
// The review statement is built with buildReviewStatement, as the sign stage builds it.

import { createHash } from 'node:crypto';
import { sha256Digest } from '../digest';
import type { Statement } from '../intoto';
import type { ArtifactRef, SignerIdentity, VerifiedBundle } from '../model';
import { type Policy, parsePolicy } from '../policy';
import { provenanceStatement as buildProvenanceStatement, workflowProvenance, workflowRunClaims } from '../provenance';
import { evaluateReview } from '../review';
import type { RepositoryBinding } from '../repository-binding';
import { buildReviewStatement } from '../review-predicate';
import { honestEvidence, MERGE_COMMIT, RULES } from './review-evidence';

export const ISSUER = 'https://token.actions.githubusercontent.com';
export const BUILD_SAN = 'https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main';
export const SIGN_SAN = 'https://github.com/acme/platform/.github/workflows/sign.yml@refs/heads/main';
export const DEPLOY_SAN = 'https://github.com/acme/app/.github/workflows/deploy.yml@refs/heads/main';

export const NOW = new Date('2026-11-21T12:00:00Z');
/** Signed an hour before NOW. */
export const SIGNED_AT = new Date('2026-11-21T11:00:00Z');

export const POLICY_TEXT = `version: 1
identities:
  build:
    issuer: ${ISSUER}
    san: ${BUILD_SAN}
  sign:
    issuer: ${ISSUER}
    san-pattern: 'https://github\\.com/acme/platform/\\.github/workflows/sign\\.yml@refs/heads/main'
deploy:
  max-age: 7d
`;

export const policy: Policy = parsePolicy(POLICY_TEXT, '.twokey/policy.yml');

/** acme/app's deploy gate binds chains to acme/app: its GITHUB_REPOSITORY, as the policy pins no repository. */
export const BINDING: RepositoryBinding = { repositories: ['acme/app'], from: 'GITHUB_REPOSITORY' };

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export const ARTIFACT: ArtifactRef = { name: 'dist/app.tar.gz', digest: sha256Digest(sha256('app 1.0')) };
export const OTHER_ARTIFACT: ArtifactRef = { name: 'dist/other.tar.gz', digest: sha256Digest(sha256('x')) };

/** A signer as Fulcio certifies a GitHub Actions job (the extensions the build identity's checks read). */
/** A GitHub Actions job's certificate identity: on a GitHub-hosted runner unless `extensions` say otherwise. */
export function signer(san: string, extensions: Record<string, string> = {}): SignerIdentity {
  return { san, issuer: ISSUER, extensions: { issuer: ISSUER, runnerEnvironment: 'github-hosted', ...extensions } };
}

export const buildSigner = signer(BUILD_SAN, {
  sourceRepositoryURI: 'https://github.com/acme/app',
  sourceRepositoryDigest: MERGE_COMMIT,
  sourceRepositoryRef: 'refs/heads/main',
  buildTrigger: 'push',
});
export const signSigner = signer(SIGN_SAN, { sourceRepositoryURI: 'https://github.com/acme/app' });

export function signatureBundle(
  hex = ARTIFACT.digest.hex,
  by: SignerIdentity = signSigner,
  signedAt: Date[] = [SIGNED_AT],
  source = 'bundles/app.tar.gz.sigstore.json',
): VerifiedBundle {
  return { source, kind: 'message-signature', signer: by, signedAt, messageDigest: { algorithm: 'sha256', hex } };
}

export function dsseBundle(
  statement: unknown,
  by: SignerIdentity,
  source: string,
  signedAt: Date[] = [SIGNED_AT],
): VerifiedBundle {
  return {
    source,
    kind: 'dsse',
    signer: by,
    signedAt,
    payloadType: 'application/vnd.in-toto+json',
    // As it comes out of the envelope: parsed JSON.
    statement: JSON.parse(JSON.stringify(statement)),
  };
}

/** The review statement the sign stage writes for honest evidence (or the evidence given). */
export function reviewStatement(artifacts = [ARTIFACT], evidence = honestEvidence()): Statement {
  const result = evaluateReview(evidence, RULES);
  return buildReviewStatement({
    subjects: artifacts.map((a) => ({ name: a.name, digest: { sha256: a.digest.hex } })),
    evidence,
    rules: RULES,
    result,
  }) as unknown as Statement;
}

export function reviewBundle(statement: unknown = reviewStatement(), by = signSigner, signedAt = [SIGNED_AT]) {
  return dsseBundle(statement, by, 'bundles/review.intoto.sigstore.json', signedAt);
}

/** SLSA v1 provenance as the build stage writes it (from the job's OIDC claims, as actions/attest does). */
export function provenanceStatement(
  hex = ARTIFACT.digest.hex,
  commit = MERGE_COMMIT,
  repository = 'acme/app',
  ref = 'refs/heads/main',
): Statement {
  const workflow = `${repository}/.github/workflows/build.yml@${ref}`;
  const claims = workflowRunClaims({
    repository,
    repository_id: '1',
    repository_owner_id: '2',
    sha: commit,
    ref,
    workflow_ref: workflow,
    job_workflow_ref: workflow,
    event_name: 'push',
    runner_environment: 'github-hosted',
    run_id: '7',
    run_attempt: '1',
  });
  return buildProvenanceStatement([{ name: 'app.tar.gz', digest: { sha256: hex } }], workflowProvenance(claims));
}

export function provenanceBundle(statement: unknown = provenanceStatement(), by = buildSigner, signedAt = [SIGNED_AT]) {
  return dsseBundle(statement, by, 'bundles/provenance.intoto.sigstore.json', signedAt);
}

/** The three bundles of the honest pipeline. */
export function honestBundles(): VerifiedBundle[] {
  return [signatureBundle(), reviewBundle(), provenanceBundle()];
}

/** The organisation's shared build workflow: any repository can call it, so its SAN does not say whose build ran. */
export const SHARED_BUILD_SAN = 'https://github.com/acme/platform/.github/workflows/build.yml@refs/heads/main';

/** acme's policy for the shared workflows, with no source-repository pinned (the README's single-repository form). */
export const sharedPolicy: Policy = parsePolicy(
  `version: 1
identities:
  build:
    issuer: ${ISSUER}
    san: ${SHARED_BUILD_SAN}
  sign:
    issuer: ${ISSUER}
    san: ${SIGN_SAN}
deploy:
  max-age: 7d
`,
  '.twokey/policy.yml',
);
