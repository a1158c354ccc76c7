import { describe, expect, it } from 'vitest';
import {
  ARTIFACT,
  BUILD_SAN,
  buildSigner,
  ISSUER,
  OTHER_ARTIFACT,
  POLICY_TEXT,
  policy,
  provenanceBundle,
  provenanceStatement,
  SIGN_SAN,
  signatureBundle,
  signer,
  signSigner,
} from './__fixtures__/bundles';
import { honestEvidence, MERGE_COMMIT } from './__fixtures__/review-evidence';
import type { Check } from './model';
import { parsePolicy } from './policy';
import { judgeBuildProvenance, type ProvenanceBundle, signDecision, workflowSigner } from './sign-decision';

const artifacts = [ARTIFACT];
const honestProvenance: ProvenanceBundle = { source: 'provenance.json', verified: provenanceBundle() };

function check(checks: Check[], id: string): Check {
  const found = checks.find((c) => c.id === id);
  expect(found, `no check ${id}`).toBeDefined();
  return found!;
}

/** The check, which must have failed. */
function refused(checks: Check[], id: string): Check {
  const found = check(checks, id);
  expect(found.verdict, `${id}: ${found.reason}`).toBe('fail');
  return found;
}

function failed(checks: Check[]): string[] {
  return checks.filter((c) => c.verdict === 'fail').map((c) => c.id);
}

describe('judgeBuildProvenance', () => {
  it('vouches for the repository and commit of provenance by the build identity that covers every artifact', () => {
    const judged = judgeBuildProvenance({ policy, artifacts, provenance: [honestProvenance] });
    expect(failed(judged.checks)).toEqual([]);
    expect(judged.source).toMatchObject({
      repository: 'acme/app',
      repositoryUrl: 'https://github.com/acme/app',
      commit: MERGE_COMMIT,
      builders: [buildSigner],
    });
  });

  it('refuses when no provenance is given', () => {
    const judged = judgeBuildProvenance({ policy, artifacts, provenance: [] });
    expect(refused(judged.checks, 'provenance-verified').reason).toBe(
      'expected at least one build provenance bundle, found none',
    );
    expect(judged.source).toBeUndefined();
  });

  it('tells a bundle that does not verify from one signed by another identity', () => {
    const judged = judgeBuildProvenance({
      policy,
      artifacts,
      provenance: [
        honestProvenance,
        { source: 'broken.json', rejected: { code: 'TLOG_INVALID', reason: 'broken.json: inclusion proof' } },
        { source: 'other.json', rejected: { code: 'IDENTITY_MISMATCH', reason: 'other.json: expected identity …' } },
      ],
    });
    expect(refused(judged.checks, 'provenance-verified').reason).toContain('broken.json: TLOG_INVALID');
    expect(refused(judged.checks, 'provenance-verified').reason).not.toContain('other.json');
    expect(refused(judged.checks, 'provenance-build-identity').reason).toContain('other.json: expected identity');
    // The honest bundle still names the source, so the review can be reported too.
    expect(judged.source?.commit).toBe(MERGE_COMMIT);
  });

  it('refuses provenance whose signer also matches another identity of the policy (patterns that overlap)', () => {
    // Found by the review of identities and roles: the build role was held apart from sign alone, as the gate's was.
    const overlapping = parsePolicy(
      POLICY_TEXT.replace(
        `    san: ${BUILD_SAN}\n`,
        "    san-pattern: 'https://github\\.com/acme/app/\\.github/workflows/build\\.yml@refs/heads/main'\n",
      ).replace(
        '\ndeploy:\n',
        `\n  deploy:\n    issuer: ${ISSUER}\n    san-pattern: 'https://github\\.com/acme/app/\\.github/workflows/[a-z]+\\.yml@refs/heads/main'\ndeploy:\n`,
      ),
      'org-policy.yml',
    );
    const judged = judgeBuildProvenance({ policy: overlapping, artifacts, provenance: [honestProvenance] });
    expect(refused(judged.checks, 'provenance-build-identity').reason).toContain(
      `${BUILD_SAN} is both the build and the deploy identity of the policy`,
    );
    expect(judged.source).toBeUndefined();
    // The same provenance under the fixture's policy, whose identities are apart: vouched for.
    expect(failed(judgeBuildProvenance({ policy, artifacts, provenance: [honestProvenance] }).checks)).toEqual([]);
  });

  it('re-checks the identity of a verified bundle against the policy (exact, never a prefix)', () => {
    const lookalike = signer(`${BUILD_SAN}-evil`, buildSigner.extensions);
    const judged = judgeBuildProvenance({
      policy,
      artifacts,
      provenance: [{ source: 'p.json', verified: provenanceBundle(provenanceStatement(), lookalike) }],
    });
    expect(refused(judged.checks, 'provenance-build-identity').reason).toContain(
      `expected ${BUILD_SAN}, found ${BUILD_SAN}-evil`,
    );
    expect(judged.source).toBeUndefined();
  });

  it('refuses provenance that claims main while its certificate says the build ran on a feature branch', () => {
    const onFeature = signer(BUILD_SAN, { ...buildSigner.extensions, sourceRepositoryRef: 'refs/heads/feature' });
    const judged = judgeBuildProvenance({
      policy,
      artifacts,
      provenance: [{ source: 'p.json', verified: provenanceBundle(provenanceStatement(), onFeature) }],
    });
    expect(refused(judged.checks, 'provenance-certificate-agrees').reason).toBe(
      "bundles/provenance.intoto.sigstore.json: the provenance says ref refs/heads/main, but the build identity's certificate says the workflow ran on refs/heads/feature",
    );
    const silent = signer(BUILD_SAN, { ...buildSigner.extensions });
    delete silent.extensions.sourceRepositoryRef;
    const unbacked = judgeBuildProvenance({
      policy,
      artifacts,
      provenance: [{ source: 'p.json', verified: provenanceBundle(provenanceStatement(), silent) }],
    });
    expect(refused(unbacked.checks, 'provenance-certificate-agrees').reason).toContain(
      'names no source ref to back it',
    );
  });

  it('refuses provenance naming two different commits', () => {
    const otherCommit = 'e'.repeat(40);
    const other = provenanceBundle(
      provenanceStatement(ARTIFACT.digest.hex, otherCommit),
      signer(BUILD_SAN, { ...buildSigner.extensions, sourceRepositoryDigest: otherCommit }),
    );
    const judged = judgeBuildProvenance({
      policy,
      artifacts,
      provenance: [honestProvenance, { source: 'other.json', verified: other }],
    });
    expect(refused(judged.checks, 'provenance-one-source').reason).toContain(`@${otherCommit}`);
    expect(judged.source).toBeUndefined();
  });

  it('refuses provenance of one commit built on two refs (the other one unprotected)', () => {
    const scratch = JSON.parse(
      JSON.stringify(provenanceStatement()).replaceAll('refs/heads/main', 'refs/heads/scratch'),
    );
    const other = provenanceBundle(
      scratch,
      signer(BUILD_SAN, { ...buildSigner.extensions, sourceRepositoryRef: 'refs/heads/scratch' }),
    );
    const judged = judgeBuildProvenance({
      policy,
      artifacts,
      provenance: [honestProvenance, { source: 'scratch.json', verified: other }],
    });
    expect(refused(judged.checks, 'provenance-one-source').reason).toContain(
      `@${MERGE_COMMIT} on refs/heads/main (bundles/provenance.intoto.sigstore.json) and https://github.com/acme/app@${MERGE_COMMIT} on refs/heads/scratch`,
    );
    expect(judged.source).toBeUndefined();
  });

  it('refuses a message signature given as provenance', () => {
    const judged = judgeBuildProvenance({
      policy,
      artifacts,
      provenance: [{ source: 'sig.json', verified: { ...signatureBundle(), signer: buildSigner } }],
    });
    expect(refused(judged.checks, 'provenance-readable').reason).toContain('found a message signature');
    // The checks that read the provenance's content are not evaluated: never a pass, the decision fails closed.
    expect(check(judged.checks, 'provenance-certificate-agrees')).toMatchObject({
      verdict: 'not-evaluated',
      reason: 'no readable provenance by the build identity',
    });
  });

  it('names each artifact the provenance does not cover', () => {
    const judged = judgeBuildProvenance({
      policy,
      artifacts: [...artifacts, OTHER_ARTIFACT],
      provenance: [honestProvenance],
    });
    expect(failed(judged.checks)).toEqual(['artifacts-in-provenance']);
    expect(refused(judged.checks, 'artifacts-in-provenance').reason).toContain(
      `${OTHER_ARTIFACT.name} (sha256:${OTHER_ARTIFACT.digest.hex}) in none`,
    );
  });
});

describe('signDecision', () => {
  const judged = judgeBuildProvenance({ policy, artifacts, provenance: [honestProvenance] });

  it('passes an honest change signed by the sign identity', () => {
    const decision = signDecision({
      policy,
      artifacts,
      provenance: judged,
      signer: signSigner,
      evidence: honestEvidence(),
    });
    expect(failed(decision.checks)).toEqual([]);
    expect(decision.verdict).toBe('pass');
    expect(decision.review?.independentApprovers.map((a) => a.login)).toEqual(['bob']);
  });

  it('refuses to sign as a sign identity that also matches the deploy pattern (the gate would refuse what it signs)', () => {
    // Found by the review of this stop's fixes: the gate and the provenance were held to one identity, the sign job not.
    const overlapping = parsePolicy(
      POLICY_TEXT.replace(
        '\ndeploy:\n',
        `\n  deploy:\n    issuer: ${ISSUER}\n    san-pattern: 'https://github\\.com/acme/platform/\\.github/workflows/[a-z]+\\.yml@refs/heads/main'\ndeploy:\n`,
      ),
      'org-policy.yml',
    );
    const provenance = judgeBuildProvenance({ policy: overlapping, artifacts, provenance: [honestProvenance] });
    const decision = signDecision({
      policy: overlapping,
      artifacts,
      provenance,
      signer: signSigner,
      evidence: honestEvidence(),
    });
    expect(failed(decision.checks)).toEqual(['sign-identity-in-policy']);
    expect(check(decision.checks, 'sign-identity-in-policy').reason).toBe(
      `the sign job runs as ${SIGN_SAN}, which is also the policy's deploy identity, so deploy would refuse what it signs: they must differ`,
    );
    expect(decision.verdict).toBe('fail');
  });

  it('refuses evidence collected for another commit than the provenance names', () => {
    const evidence = { ...honestEvidence(), commit: 'f'.repeat(40) };
    const decision = signDecision({ policy, artifacts, provenance: judged, signer: signSigner, evidence });
    expect(failed(decision.checks)).toEqual(['review-evidence']);
    expect(decision.review).toBeUndefined();
  });

  it('refuses evidence judged against another branch than the one the provenance says the build ran on', () => {
    const evidence = honestEvidence({ builtRef: 'refs/heads/alice-scratch' });
    const decision = signDecision({ policy, artifacts, provenance: judged, signer: signSigner, evidence });
    expect(failed(decision.checks)).toEqual(['review-evidence']);
    expect(check(decision.checks, 'review-evidence').reason).toBe(
      'expected review evidence for the branch the build ran on (refs/heads/main), found evidence for refs/heads/alice-scratch',
    );
  });

  it("refuses to sign another repository's valid chain: the sign job runs for acme/app, the build was acme/other's", () => {
    const otherSigner = {
      ...signSigner,
      extensions: { ...signSigner.extensions, sourceRepositoryURI: 'https://github.com/acme/other' },
    };
    const decision = signDecision({
      policy,
      artifacts,
      provenance: judged,
      signer: otherSigner,
      evidence: honestEvidence(),
    });
    expect(failed(decision.checks)).toEqual(['source-repository-bound']);
    expect(check(decision.checks, 'source-repository-bound').reason).toBe(
      "expected provenance of acme/other (bound by the sign job's repository), found provenance of acme/app: another repository's build is not this one's to sign",
    );
    const shipsBoth = { ...policy, deploy: { ...policy.deploy, repositories: ['acme/app', 'acme/lib'] } };
    const allowed = signDecision({
      policy: shipsBoth,
      artifacts,
      provenance: judged,
      signer: otherSigner,
      evidence: honestEvidence(),
    });
    expect(allowed.verdict).toBe('pass');
  });

  it('refuses a sign job that is the build identity', () => {
    const decision = signDecision({
      policy,
      artifacts,
      provenance: judged,
      signer: buildSigner,
      evidence: honestEvidence(),
    });
    expect(failed(decision.checks)).toEqual(['sign-identity-distinct', 'sign-identity-in-policy']);
  });

  it('reports a commit that belongs to a pull request merged as another commit', () => {
    const evidence = honestEvidence({
      pullRequest: undefined,
      associatedPullRequests: [
        { number: 42, url: 'https://github.com/acme/app/pull/42', merged: true, mergeCommitSha: 'c'.repeat(40) },
      ],
    });
    const decision = signDecision({ policy, artifacts, provenance: judged, signer: signSigner, evidence });
    expect(check(decision.checks, 'built-commit-is-merged-commit').reason).toContain(`was merged as ${'c'.repeat(40)}`);
    expect(decision.verdict).toBe('fail');
  });
});

describe('workflowSigner', () => {
  it('derives the SAN and extensions Fulcio certifies for a GitHub Actions job', () => {
    const claims = {
      iss: ISSUER,
      job_workflow_ref: 'acme/platform/.github/workflows/sign.yml@refs/heads/main',
      repository: 'acme/app',
      sha: MERGE_COMMIT,
      ref: 'refs/heads/main',
      runner_environment: 'self-hosted',
    };
    expect(workflowSigner(claims, 'https://github.com/')).toEqual({
      san: SIGN_SAN,
      issuer: ISSUER,
      extensions: {
        issuer: ISSUER,
        buildSignerURI: SIGN_SAN,
        sourceRepositoryURI: 'https://github.com/acme/app',
        sourceRepositoryDigest: MERGE_COMMIT,
        sourceRepositoryRef: 'refs/heads/main',
        runnerEnvironment: 'self-hosted',
      },
    });
  });

  it('is undefined for a token that does not name a workflow', () => {
    expect(workflowSigner({ iss: ISSUER, sub: 'someone' }, 'https://github.com')).toBeUndefined();
  });
});
