import { describe, expect, it } from 'vitest';
import {
  ARTIFACT,
  BUILD_SAN,
  buildSigner,
  DEPLOY_SAN,
  dsseBundle,
  honestBundles,
  ISSUER,
  NOW,
  OTHER_ARTIFACT,
  policy,
  provenanceBundle,
  provenanceStatement,
  reviewBundle,
  reviewStatement,
  SIGN_SAN,
  SIGNED_AT,
  sha256,
  signatureBundle,
  signer,
  signSigner,
} from './__fixtures__/bundles';
import { alice, HEAD, honestEvidence, MERGE_COMMIT, review } from './__fixtures__/review-evidence';
import { type ArtifactReport, DEPLOY_CHECK_IDS, EvaluationError, evaluateArtifact, evaluateDeploy } from './evaluate';
import type { Statement } from './intoto';
import type { VerifiedBundle } from './model';
import type { Policy } from './policy';

function evaluate(bundles: VerifiedBundle[], overrides: { policy?: Policy; now?: Date; deploy?: string } = {}) {
  return evaluateArtifact({
    artifact: ARTIFACT,
    bundles,
    policy: overrides.policy ?? policy,
    now: overrides.now ?? NOW,
    ...(overrides.deploy && { deployIdentity: signer(overrides.deploy) }),
  });
}

function failed(report: ArtifactReport): string[] {
  return report.checks.filter((c) => c.verdict === 'fail').map((c) => c.id);
}

function reason(report: ArtifactReport, id: string): string {
  const check = report.checks.find((c) => c.id === id);
  if (!check) throw new Error(`no check ${id}`);
  return check.reason;
}

/** A review statement edited after the fact, as an attacker holding a signing identity could write it. */
function editedReviewStatement(edit: (statement: Statement & { predicate: Record<string, unknown> }) => void) {
  const statement = structuredClone(reviewStatement()) as Statement & { predicate: Record<string, unknown> };
  edit(statement);
  return statement;
}

const OTHER_COMMIT = 'f'.repeat(40);
const EVIL_SIGN = signer(`${SIGN_SAN}-evil`);

describe('evaluateArtifact: the honest pipeline', () => {
  it('accepts an artifact signed by the sign identity, reviewed independently and built by the build identity', () => {
    const report = evaluate(honestBundles(), { deploy: DEPLOY_SAN });
    expect(failed(report)).toEqual([]);
    expect(report.verdict).toBe('pass');
    expect(report.checks.map((c) => c.id)).toEqual([...DEPLOY_CHECK_IDS]);
    expect(report.artifact).toEqual({ name: 'dist/app.tar.gz', digest: `sha256:${ARTIFACT.digest.hex}` });
    expect(report.chain).toEqual({
      repository: 'acme/app',
      commit: MERGE_COMMIT,
      pullRequest: { number: 42, url: 'https://github.com/acme/app/pull/42', title: 'Add the widget endpoint' },
      author: 'alice',
      approvers: ['bob'],
      buildIdentity: BUILD_SAN,
      signIdentity: SIGN_SAN,
    });
    expect(report.evidence.map((e) => [e.role, e.signer.san])).toEqual([
      ['signature', SIGN_SAN],
      ['review', SIGN_SAN],
      ['provenance', BUILD_SAN],
    ]);
    expect(report.evidence[0]!.signedAt).toEqual([SIGNED_AT.toISOString()]);
    expect(reason(report, 'distinct-identities')).toContain(`deploy ${DEPLOY_SAN}`);
  });

  it("does not let an attacker's extra bundles veto the honest ones", () => {
    const junk = [
      signatureBundle(ARTIFACT.digest.hex, EVIL_SIGN, [SIGNED_AT], 'junk/sig.json'),
      reviewBundle(
        editedReviewStatement((s) => (s.predicate.verdict = 'fail')),
        EVIL_SIGN,
      ),
      reviewBundle(reviewStatement(), signSigner, [new Date('2020-01-01T00:00:00Z')]),
      provenanceBundle(provenanceStatement(ARTIFACT.digest.hex, OTHER_COMMIT), signer(`${BUILD_SAN}-evil`)),
      dsseBundle({ not: 'a statement' }, signSigner, 'junk/garbage.json'),
    ];
    const report = evaluate([...junk, ...honestBundles()]);
    expect(failed(report)).toEqual([]);
  });

  it('picks the review attestation for the built commit when an older one for another commit is also present', () => {
    const replayed = reviewStatement(
      [ARTIFACT],
      honestEvidence({
        commit: OTHER_COMMIT,
        pullRequest: { ...honestEvidence().pullRequest!, mergeCommitSha: OTHER_COMMIT },
      }),
    );
    const report = evaluate([reviewBundle(replayed), ...honestBundles()]);
    expect(failed(report)).toEqual([]);
    expect(report.chain.commit).toBe(MERGE_COMMIT);
  });

  it('accepts a review attestation that covers several artifacts', () => {
    const both = reviewStatement([OTHER_ARTIFACT, ARTIFACT]);
    expect(failed(evaluate([signatureBundle(), reviewBundle(both), provenanceBundle()]))).toEqual([]);
  });
});

describe('evaluateArtifact refuses', () => {
  it('an unsigned artifact', () => {
    const report = evaluate([reviewBundle(), provenanceBundle()]);
    expect(failed(report)).toEqual(['artifact-signature']);
    expect(reason(report, 'artifact-signature')).toBe(
      `expected a signature over sha256:${ARTIFACT.digest.hex} by the sign identity ^(?:https://github\\.com/acme/platform/\\.github/workflows/sign\\.yml@refs/heads/main)$, found none`,
    );
  });

  it('an artifact changed after signing (the signature is over other bytes)', () => {
    const report = evaluate([signatureBundle(OTHER_ARTIFACT.digest.hex), reviewBundle(), provenanceBundle()]);
    expect(failed(report)).toContain('artifact-signature');
    expect(reason(report, 'artifact-signature')).toContain(
      `signs sha256:${OTHER_ARTIFACT.digest.hex}, not this artifact`,
    );
  });

  it('a missing review attestation', () => {
    const report = evaluate([signatureBundle(), provenanceBundle()]);
    expect(failed(report)).toEqual(['review-attestation', 'review-rules', 'same-commit', 'same-repository']);
    expect(reason(report, 'review-attestation')).toMatch(/^expected a review attestation .* found none$/);
    expect(report.chain.pullRequest).toBeUndefined();
  });

  it('missing provenance', () => {
    const report = evaluate([signatureBundle(), reviewBundle()]);
    expect(failed(report)).toEqual(['build-provenance', 'same-commit', 'same-repository', 'distinct-identities']);
    expect(reason(report, 'build-provenance')).toMatch(/^expected SLSA provenance .* found none$/);
  });

  it('an artifact signed by the build identity instead of the sign identity', () => {
    const report = evaluate([signatureBundle(ARTIFACT.digest.hex, buildSigner), reviewBundle(), provenanceBundle()]);
    expect(failed(report)).toEqual(['artifact-signature']);
    expect(reason(report, 'artifact-signature')).toContain(
      `found a signature by ${BUILD_SAN}, expected the sign identity ^(?:https://github\\.com/acme/platform/`,
    );
  });

  it('a review attestation signed by the build identity (a build that reviewed itself)', () => {
    const report = evaluate([signatureBundle(), reviewBundle(reviewStatement(), buildSigner), provenanceBundle()]);
    expect(failed(report)).toContain('review-attestation');
    expect(reason(report, 'review-attestation')).toContain(
      `found a review attestation by ${BUILD_SAN}, expected the sign identity`,
    );
  });

  it('provenance signed by an identity other than the build identity', () => {
    const report = evaluate([signatureBundle(), reviewBundle(), provenanceBundle(provenanceStatement(), signSigner)]);
    expect(failed(report)).toContain('build-provenance');
    expect(reason(report, 'build-provenance')).toContain(
      `found provenance by ${SIGN_SAN}, expected the build identity`,
    );
  });

  it('a review attestation for another commit (a replayed approval)', () => {
    const replayed = reviewStatement(
      [ARTIFACT],
      honestEvidence({
        commit: OTHER_COMMIT,
        pullRequest: { ...honestEvidence().pullRequest!, mergeCommitSha: OTHER_COMMIT },
      }),
    );
    const report = evaluate([signatureBundle(), reviewBundle(replayed), provenanceBundle()]);
    expect(failed(report)).toEqual(['same-commit']);
    expect(reason(report, 'same-commit')).toBe(
      `expected the review attestation to be for the built commit ${MERGE_COMMIT}, found a review of ${OTHER_COMMIT}`,
    );
  });

  it('a review attestation for another artifact', () => {
    const report = evaluate([signatureBundle(), reviewBundle(reviewStatement([OTHER_ARTIFACT])), provenanceBundle()]);
    expect(failed(report)).toContain('review-attestation');
    expect(reason(report, 'review-attestation')).toContain(
      `whose subjects do not include sha256:${ARTIFACT.digest.hex} (its subjects: dist/other.tar.gz sha256:${OTHER_ARTIFACT.digest.hex}`,
    );
  });

  it('provenance for another artifact', () => {
    const report = evaluate([
      signatureBundle(),
      reviewBundle(),
      provenanceBundle(provenanceStatement(OTHER_ARTIFACT.digest.hex)),
    ]);
    expect(failed(report)).toContain('build-provenance');
    expect(reason(report, 'build-provenance')).toContain('whose subjects do not include');
  });

  it('build and sign under one identity, even under a hand-made policy whose rules overlap', () => {
    const overlapping: Policy = {
      ...policy,
      identities: { build: { issuer: ISSUER, sanPattern: '.*' }, sign: { issuer: ISSUER, sanPattern: '.*' } },
    };
    const one = buildSigner;
    const report = evaluate(
      [signatureBundle(ARTIFACT.digest.hex, one), reviewBundle(reviewStatement(), one), provenanceBundle()],
      { policy: overlapping },
    );
    expect(report.verdict).toBe('fail');
    expect(failed(report)).toContain('artifact-signature');
    expect(reason(report, 'artifact-signature')).toContain('is both the build and the sign identity');
  });

  it('a deploy running under the build identity', () => {
    const report = evaluate(honestBundles(), { deploy: BUILD_SAN });
    expect(failed(report)).toEqual(['distinct-identities']);
    expect(reason(report, 'distinct-identities')).toBe(
      `expected the deploy to run under its own identity, found it runs as ${BUILD_SAN}`,
    );
  });

  it('evidence judged against an invalid clock (never fresh)', () => {
    const report = evaluate(honestBundles(), { now: new Date(Number.NaN) });
    expect(failed(report)).toEqual(['fresh']);
    expect(reason(report, 'fresh')).toContain('no valid signing time to compare');
  });

  it('a deploy running under the sign identity', () => {
    const report = evaluate(honestBundles(), { deploy: SIGN_SAN });
    expect(failed(report)).toEqual(['distinct-identities']);
    expect(reason(report, 'distinct-identities')).toBe(
      `expected the deploy to run under its own identity, found it runs as ${SIGN_SAN}`,
    );
  });

  it('identity lookalikes: …@refs/heads/main-evil and acme/app-fork', () => {
    const fork = signer(BUILD_SAN.replace('acme/app/', 'acme/app-fork/'));
    const report = evaluate([
      signatureBundle(ARTIFACT.digest.hex, EVIL_SIGN),
      reviewBundle(reviewStatement(), EVIL_SIGN),
      provenanceBundle(provenanceStatement(), fork),
    ]);
    expect(failed(report)).toEqual(
      expect.arrayContaining(['artifact-signature', 'review-attestation', 'build-provenance']),
    );
    expect(reason(report, 'artifact-signature')).toContain(`found a signature by ${SIGN_SAN}-evil`);
    expect(reason(report, 'build-provenance')).toContain(
      'found provenance by https://github.com/acme/app-fork/.github/workflows/build.yml@refs/heads/main',
    );
  });

  it('evidence older than max-age, judged by its verified time', () => {
    const old = [new Date('2026-11-01T00:00:00Z')];
    const report = evaluate([signatureBundle(), reviewBundle(reviewStatement(), signSigner, old), provenanceBundle()]);
    expect(failed(report)).toEqual(['fresh']);
    expect(reason(report, 'fresh')).toBe(
      'the review attestation (bundles/review.intoto.sigstore.json) was signed at 2026-11-01T00:00:00.000Z, 20d 12h ago, older than max-age 7d',
    );
  });

  it('evidence with no verified signing time', () => {
    const report = evaluate([signatureBundle(ARTIFACT.digest.hex, signSigner, []), reviewBundle(), provenanceBundle()]);
    expect(failed(report)).toEqual(['fresh']);
    expect(reason(report, 'fresh')).toContain('has no verified signing time');
  });

  it('evidence whose verified time is in the future', () => {
    const report = evaluate([signatureBundle(), reviewBundle(), provenanceBundle()], {
      now: new Date('2026-11-21T10:00:00Z'),
    });
    expect(failed(report)).toEqual(['fresh']);
    expect(reason(report, 'fresh')).toContain('signed in the future');
  });

  it('a self-approved change, even when the attestation says the review passed', () => {
    const selfApproved = editedReviewStatement((s) => {
      s.predicate.reviews = [review(alice, 'APPROVED', HEAD)];
      s.predicate.reviewers = [{ name: 'alice', uri: 'https://api.github.com/user/101' }];
    });
    expect(selfApproved.predicate.verdict).toBe('pass');
    const report = evaluate([signatureBundle(), reviewBundle(selfApproved), provenanceBundle()]);
    expect(failed(report)).toEqual(['review-rules']);
    expect(reason(report, 'review-rules')).toContain('reviewer-not-author: alice is the author of pull request #42');
    expect(report.review?.verdict).toBe('fail');
    expect(report.chain.approvers).toEqual([]);
  });

  it("a review that met the sign stage's rules but not the deploy policy's (the policy's rules win)", () => {
    const strict: Policy = { ...policy, review: { ...policy.review, minApprovals: 2 } };
    const report = evaluate(honestBundles(), { policy: strict });
    expect(failed(report)).toEqual(['review-rules']);
    expect(reason(report, 'review-rules')).toContain('min-independent-approvals: expected at least 2, found 1');
  });

  it('a review attestation whose git commit subject disagrees with its predicate', () => {
    const forged = editedReviewStatement((s) => {
      s.subject = s.subject.map((x) => (x.digest.gitCommit ? { ...x, digest: { gitCommit: OTHER_COMMIT } } : x));
    });
    const report = evaluate([signatureBundle(), reviewBundle(forged), provenanceBundle()]);
    expect(failed(report)).toContain('review-attestation');
    expect(reason(report, 'review-attestation')).toContain(
      "expected one gitCommit subject equal to the predicate's commit",
    );
  });

  it('a review attestation with a malformed predicate, naming the field', () => {
    const broken = editedReviewStatement((s) => {
      (s.predicate.pullRequest as Record<string, unknown>).number = '42';
    });
    const report = evaluate([signatureBundle(), reviewBundle(broken), provenanceBundle()]);
    expect(reason(report, 'review-attestation')).toContain('predicate.pullRequest.number: expected integer');
  });

  it('provenance that claims a commit other than the one its certificate says the build ran on', () => {
    const lying = provenanceBundle(
      provenanceStatement(),
      signer(BUILD_SAN, { ...buildSigner.extensions, sourceRepositoryDigest: OTHER_COMMIT }),
    );
    const report = evaluate([signatureBundle(), reviewBundle(), lying]);
    expect(failed(report)).toEqual(['same-commit']);
    expect(reason(report, 'same-commit')).toContain(`the workflow ran on ${OTHER_COMMIT}`);
  });

  it('provenance whose certificate names no source commit or repository to back it', () => {
    const silent = provenanceBundle(provenanceStatement(), signer(BUILD_SAN));
    const report = evaluate([signatureBundle(), reviewBundle(), silent]);
    expect(failed(report)).toEqual(['same-commit', 'same-repository']);
    expect(reason(report, 'same-commit')).toContain('names no source commit');
    expect(reason(report, 'same-repository')).toContain('names no source repository');
  });

  it('provenance and review naming different repositories', () => {
    const fork = 'https://github.com/acme/app-fork';
    const report = evaluate([
      signatureBundle(),
      reviewBundle(),
      // The build really ran in the fork: its certificate agrees with its provenance.
      provenanceBundle(
        provenanceStatement(ARTIFACT.digest.hex, MERGE_COMMIT, 'acme/app-fork'),
        signer(BUILD_SAN, { ...buildSigner.extensions, sourceRepositoryURI: fork }),
      ),
    ]);
    expect(failed(report)).toEqual(['same-repository']);
    expect(reason(report, 'same-repository')).toBe(
      `expected the review to be in ${fork}, where the artifact was built; found https://github.com/acme/app`,
    );
  });

  it('an artifact the policy does not cover', () => {
    const covered: Policy = { ...policy, deploy: { ...policy.deploy, artifacts: ['dist/*.whl'] } };
    const report = evaluate(honestBundles(), { policy: covered });
    expect(failed(report)).toEqual(['covered-by-policy']);
    const byBasename: Policy = { ...policy, deploy: { ...policy.deploy, artifacts: ['app.tar.gz'] } };
    expect(evaluate(honestBundles(), { policy: byBasename }).verdict).toBe('pass');
  });

  it('provenance that names no source commit', () => {
    const statement = provenanceStatement() as Statement & { predicate: { buildDefinition: Record<string, unknown> } };
    statement.predicate.buildDefinition.resolvedDependencies = [];
    const report = evaluate([signatureBundle(), reviewBundle(), provenanceBundle(statement)]);
    expect(failed(report)).toContain('build-provenance');
    expect(reason(report, 'build-provenance')).toContain(
      'predicate.buildDefinition.resolvedDependencies: expected exactly one',
    );
  });

  it('a signature that did not verify (e.g. under another trusted root), naming the rejected bundle', () => {
    const rejected = [{ source: 'bundles/foreign.json', code: 'CERTIFICATE_INVALID', reason: 'no trusted CA' }];
    const report = evaluateArtifact({
      artifact: ARTIFACT,
      bundles: [reviewBundle(), provenanceBundle()],
      policy,
      now: NOW,
      rejected,
    });
    expect(failed(report)).toEqual(['artifact-signature']);
    expect(reason(report, 'artifact-signature')).toContain('bundles/foreign.json did not verify (no trusted CA)');
    const deploy = evaluateDeploy([{ artifact: ARTIFACT, bundles: [], policy, now: NOW, rejected }]);
    expect(deploy.rejected).toEqual(rejected);
  });

  it('names a DSSE bundle that holds no valid in-toto statement', () => {
    const report = evaluate([
      signatureBundle(),
      dsseBundle({ _type: 'nope' }, signSigner, 'bad.json'),
      provenanceBundle(),
    ]);
    expect(reason(report, 'review-attestation')).toContain('bad.json: invalid in-toto statement: _type');
  });
});

describe('evaluateDeploy', () => {
  it('passes only when every artifact passes, and names the policy', () => {
    const input = { bundles: honestBundles(), policy, now: NOW };
    const report = evaluateDeploy([
      { ...input, artifact: ARTIFACT },
      { ...input, artifact: OTHER_ARTIFACT },
    ]);
    expect(report.verdict).toBe('fail');
    expect(report.artifacts.map((a) => a.verdict)).toEqual(['pass', 'fail']);
    expect(report.policy).toEqual({ source: '.twokey/policy.yml', digest: policy.digest });
    expect(report.evaluatedAt).toBe(NOW.toISOString());
    expect(evaluateDeploy([{ ...input, artifact: ARTIFACT }]).verdict).toBe('pass');
  });

  it('refuses to evaluate nothing, or artifacts under two policies', () => {
    expect(() => evaluateDeploy([])).toThrow(expect.objectContaining({ code: 'NO_ARTIFACTS' }));
    const other = { ...policy, digest: '0'.repeat(64) };
    const call = () =>
      evaluateDeploy([
        { artifact: ARTIFACT, bundles: [], policy, now: NOW },
        { artifact: ARTIFACT, bundles: [], policy: other, now: NOW },
      ]);
    expect(call).toThrow(EvaluationError);
    expect(call).toThrow(expect.objectContaining({ code: 'POLICY_MISMATCH' }));
  });
});

describe('evaluateDeploy over a release that shares its provenance and review attestation', () => {
  it('judges every artifact on the shared bundles, and refuses the one they do not name', () => {
    const release = Array.from({ length: 40 }, (_, i) => ({
      name: `dist/app-${i}.tar.gz`,
      digest: { algorithm: 'sha256' as const, hex: sha256(`app ${i}`) },
    }));
    const [named, unnamed] = [release.slice(0, 39), release[39]!];
    const provenance = provenanceStatement(named[0]!.digest.hex);
    provenance.subject = named.map((a) => ({ name: a.name, digest: { sha256: a.digest.hex } }));
    const shared = [reviewBundle(reviewStatement(named)), provenanceBundle(provenance)];
    const report = evaluateDeploy(
      release.map((artifact) => ({
        artifact,
        bundles: [signatureBundle(artifact.digest.hex), ...shared],
        policy,
        now: NOW,
      })),
    );
    expect(report.artifacts.slice(0, 39).every((a) => a.verdict === 'pass')).toBe(true);
    expect(report.artifacts[39]!.checks.filter((c) => c.verdict === 'fail').map((c) => c.id)).toEqual(
      expect.arrayContaining(['review-attestation', 'build-provenance']),
    );
    expect(report.artifacts[39]!.artifact.name).toBe(unnamed.name);
    expect(report.verdict).toBe('fail');
  });
});
