// The deploy verdict on verified bundles as packages/sigstore hands them over: the honest pipeline is accepted, every
// attack refused by the check that stops it, and a check that lacks what it needs says not-evaluated. Every report
// made here is checked against report.schema.json (by evaluateDeploy, or by `evaluate` below).
import {
  type ArtifactReport,
  bindRepositories,
  DEPLOY_APPROVAL_PREDICATE_TYPE,
  DEPLOY_CHECK_IDS,
  deployReportProblems,
  EvaluationError,
  type Policy,
  parsePolicy,
  type RejectedEvidence,
  type RepositoryBinding,
  type Statement,
  sha256Digest,
  type VerifiedBundle,
} from '@twokey/core';
import { describe, expect, it } from 'vitest';
import {
  ARTIFACT,
  BINDING,
  BUILD_SAN,
  buildSigner,
  DEPLOY_SAN,
  dsseBundle,
  honestBundles,
  ISSUER,
  NOW,
  OTHER_ARTIFACT,
  POLICY_TEXT,
  policy,
  provenanceBundle,
  provenanceStatement,
  reviewBundle,
  reviewStatement,
  SHARED_BUILD_SAN,
  SIGN_SAN,
  SIGNED_AT,
  sha256,
  sharedPolicy,
  signatureBundle,
  signer,
  signSigner,
} from '../../core/src/__fixtures__/bundles';
import { alice, HEAD, honestEvidence, MERGE_COMMIT, review } from '../../core/src/__fixtures__/review-evidence';
import { BundleMemo } from './candidates';
import { type DeployArtifact, evaluateArtifact, evaluateDeploy } from './evaluate';

interface Overrides {
  policy?: Policy;
  /** The time freshness is measured from. */
  now?: Date;
  deploy?: string;
  binding?: RepositoryBinding;
  rejected?: RejectedEvidence[];
  artifact?: DeployArtifact;
  /** The environment judged for (twokey verify --environment). */
  environment?: string;
}

/** One artifact judged on `bundles`, its report checked against the report schema as part of a deploy report. */
function evaluate(bundles: VerifiedBundle[], overrides: Overrides = {}): ArtifactReport {
  const context = {
    policy: overrides.policy ?? policy,
    binding: overrides.binding ?? BINDING,
    judgedAt: overrides.now ?? NOW,
    judgedAsOf: false,
    ...(overrides.deploy && { deployIdentity: signer(overrides.deploy) }),
    ...(overrides.environment !== undefined && { environment: overrides.environment }),
    rejected: overrides.rejected ?? [],
    memo: new BundleMemo(),
    breakGlassUses: [],
    earlierDecisionsRead: false,
  };
  const report = evaluateArtifact(overrides.artifact ?? ARTIFACT, bundles, context);
  const deployReport = {
    schemaVersion: 1,
    verdict: report.verdict,
    evaluatedAt: NOW.toISOString(),
    policy: { source: context.policy.source, digest: context.policy.digest },
    artifacts: [report],
    rejected: [],
  };
  expect(deployReportProblems(deployReport)).toEqual([]);
  return report;
}

/** evaluateDeploy's input for ARTIFACT on the honest bundles, judged offline at NOW. */
function deployInput() {
  return { policy, binding: BINDING, now: NOW, artifacts: [ARTIFACT], bundles: honestBundles() };
}

/** The checks that did not pass (failed, or could not be evaluated): either refuses the artifact. */
function failed(report: ArtifactReport): string[] {
  return report.checks.filter((c) => c.verdict !== 'pass').map((c) => c.id);
}

/** The checks that could not be evaluated, because what they need is missing. */
function notEvaluated(report: ArtifactReport): string[] {
  return report.checks.filter((c) => c.verdict === 'not-evaluated').map((c) => c.id);
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
    // The attestation is what fails; what needs it says it could not be evaluated, and why.
    expect(notEvaluated(report)).toEqual(['review-rules', 'same-commit', 'same-repository']);
    expect(reason(report, 'review-attestation')).toMatch(/^expected a review attestation .* found none$/);
    expect(reason(report, 'same-commit')).toBe('no review attestation to compare the provenance with');
    expect(report.chain.pullRequest).toBeUndefined();
  });

  it('missing provenance', () => {
    const report = evaluate([signatureBundle(), reviewBundle()]);
    expect(failed(report)).toEqual(['build-provenance', 'same-commit', 'same-repository', 'distinct-identities']);
    expect(notEvaluated(report)).toEqual(['same-commit', 'same-repository', 'distinct-identities']);
    expect(reason(report, 'build-provenance')).toMatch(/^expected SLSA provenance .* found none$/);
    expect(reason(report, 'distinct-identities')).toBe('no build provenance to compare');
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
    const invalid = () => evaluateDeploy({ ...deployInput(), now: new Date(Number.NaN) });
    expect(invalid).toThrow(expect.objectContaining({ code: 'CLOCK_INVALID' }));
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
    const silent = provenanceBundle(provenanceStatement(), signer(BUILD_SAN, { buildTrigger: 'push' }));
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
    expect(report.checks[0]!.verdict).toBe('fail');
    const byBasename: Policy = { ...policy, deploy: { ...policy.deploy, artifacts: ['app.tar.gz'] } };
    expect(evaluate(honestBundles(), { policy: byBasename }).verdict).toBe('pass');
  });

  it('an artifact given by digest alone under deploy.artifacts: not evaluated, so never accepted, until it is named', () => {
    const covered: Policy = { ...policy, deploy: { ...policy.deploy, artifacts: ['dist/*.tar.gz'] } };
    const nameless = evaluate(honestBundles(), { policy: covered, artifact: { digest: ARTIFACT.digest } });
    expect(failed(nameless)).toEqual(['covered-by-policy']);
    expect(notEvaluated(nameless)).toEqual(['covered-by-policy']);
    expect(reason(nameless, 'covered-by-policy')).toBe(
      `sha256:${ARTIFACT.digest.hex} was given by digest alone: no name to match against deploy.artifacts (dist/*.tar.gz); name it (NAME=sha256:HEX, or --name)`,
    );
    expect(nameless.verdict).toBe('fail');
    expect(nameless.artifact).toEqual({ digest: `sha256:${ARTIFACT.digest.hex}` });
    expect(evaluate(honestBundles(), { policy: covered, artifact: ARTIFACT }).verdict).toBe('pass');
    // Without deploy.artifacts, every artifact is covered, named or not.
    expect(evaluate(honestBundles(), { artifact: { digest: ARTIFACT.digest } }).verdict).toBe('pass');
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
    const report = evaluate([reviewBundle(), provenanceBundle()], { rejected });
    expect(failed(report)).toEqual(['artifact-signature']);
    expect(reason(report, 'artifact-signature')).toContain('bundles/foreign.json did not verify (no trusted CA)');
    const deploy = evaluateDeploy({ ...deployInput(), bundles: [], rejected: [...rejected, ...rejected] });
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
    const report = evaluateDeploy({ ...deployInput(), artifacts: [ARTIFACT, OTHER_ARTIFACT] });
    expect(report.verdict).toBe('fail');
    expect(report.schemaVersion).toBe(1);
    expect(report.artifacts.map((a) => a.verdict)).toEqual(['pass', 'fail']);
    expect(report.policy).toEqual({ source: '.twokey/policy.yml', digest: policy.digest });
    expect(report.evaluatedAt).toBe(NOW.toISOString());
    expect(report.asOf).toBeUndefined();
    expect(evaluateDeploy(deployInput()).verdict).toBe('pass');
  });

  it('judges every artifact under one policy and one clock: nothing to evaluate, or no valid time, is refused', () => {
    expect(() => evaluateDeploy({ ...deployInput(), artifacts: [] })).toThrow(
      expect.objectContaining({ code: 'NO_ARTIFACTS' }),
    );
    const future = () => evaluateDeploy({ ...deployInput(), at: new Date(NOW.getTime() + 1000) });
    expect(future).toThrow(EvaluationError);
    expect(future).toThrow(expect.objectContaining({ code: 'CLOCK_INVALID' }));
  });

  it('judges as of an earlier time (--at): freshness measured from it, and the report says so', () => {
    // An hour after signing, as of a day before: every piece was signed in the future of that time.
    const dayBefore = new Date(NOW.getTime() - 86_400_000);
    const earlier = evaluateDeploy({ ...deployInput(), at: dayBefore });
    expect(earlier.asOf).toBe(dayBefore.toISOString());
    expect(earlier.evaluatedAt).toBe(NOW.toISOString());
    expect(earlier.artifacts[0]!.checks.filter((c) => c.verdict !== 'pass').map((c) => c.id)).toEqual(['fresh']);
    expect(earlier.artifacts[0]!.checks.find((c) => c.id === 'fresh')?.reason).toContain('signed in the future');
    // Eight days later the evidence is stale; as of the day it was signed, it was fresh: an audit of that deploy.
    const later = new Date(NOW.getTime() + 8 * 86_400_000);
    expect(evaluateDeploy({ ...deployInput(), now: later }).verdict).toBe('fail');
    expect(evaluateDeploy({ ...deployInput(), now: later, at: NOW }).verdict).toBe('pass');
  });
});

describe('evaluateDeploy over a release that shares its provenance and review attestation', () => {
  it('judges every artifact on the shared bundles, and refuses the one they do not name', () => {
    const release = Array.from({ length: 40 }, (_, i) => ({
      name: `dist/app-${i}.tar.gz`,
      digest: sha256Digest(sha256(`app ${i}`)),
    }));
    const [named, unnamed] = [release.slice(0, 39), release[39]!];
    const provenance = provenanceStatement(named[0]!.digest.hex);
    provenance.subject = named.map((a) => ({ name: a.name, digest: { sha256: a.digest.hex } }));
    const shared = [reviewBundle(reviewStatement(named)), provenanceBundle(provenance)];
    const signatures = release.map((artifact) => signatureBundle(artifact.digest.hex));
    const report = evaluateDeploy({ ...deployInput(), artifacts: release, bundles: [...signatures, ...shared] });
    expect(report.artifacts.slice(0, 39).every((a) => a.verdict === 'pass')).toBe(true);
    expect(report.artifacts[39]!.checks.filter((c) => c.verdict === 'fail').map((c) => c.id)).toEqual(
      expect.arrayContaining(['review-attestation', 'build-provenance']),
    );
    expect(report.artifacts[39]!.artifact.name).toBe(unnamed.name);
    expect(report.verdict).toBe('fail');
  });
});

// ── one repository: the chain is bound to the repositories the deploy names ─────────────────────────────────

/**
 * A valid chain made for `repository` by the shared workflows, as its own pipeline makes it: provenance by the shared
 * build workflow run in that repository, a review of its own pull request and a signature by the shared sign
 * workflow run for it. Each certificate names the repository its job ran in.
 */
function chainOf(repository: string, ref = 'refs/heads/main'): VerifiedBundle[] {
  const uri = `https://github.com/${repository}`;
  const built = signer(SHARED_BUILD_SAN, {
    buildTrigger: 'push',
    sourceRepositoryURI: uri,
    sourceRepositoryDigest: MERGE_COMMIT,
    sourceRepositoryRef: ref,
  });
  const signs = signer(SIGN_SAN, { sourceRepositoryURI: uri });
  const evidence = honestEvidence({
    repository,
    builtRef: ref,
    pullRequest: { ...honestEvidence().pullRequest!, url: `${uri}/pull/42`, headRepository: repository },
  });
  return [
    signatureBundle(ARTIFACT.digest.hex, signs, [SIGNED_AT], `${repository}/app.tar.gz.sigstore.json`),
    dsseBundle(reviewStatement([ARTIFACT], evidence), signs, `${repository}/review.sigstore.json`),
    dsseBundle(
      provenanceStatement(ARTIFACT.digest.hex, MERGE_COMMIT, repository),
      built,
      `${repository}/provenance.json`,
    ),
  ];
}

const [otherSignature, , otherProvenance] = chainOf('acme/other');
const [appSignature, appReview, appProvenance] = chainOf('acme/app');

describe('evaluateArtifact: a chain is bound to a repository', () => {
  it("refuses another repository's valid chain: acme/other's build → sign by the shared workflows, deployed by acme/app", () => {
    const report = evaluate(chainOf('acme/other'), { policy: sharedPolicy });
    expect(failed(report)).toEqual(['same-repository']);
    expect(reason(report, 'same-repository')).toBe(
      'expected a chain of acme/app (bound by GITHUB_REPOSITORY), found a chain of acme/other: its provenance, review attestation and signature name https://github.com/acme/other',
    );
    expect(report.verdict).toBe('fail');
  });

  it('accepts the honest chain of the bound repository under the same shared workflows', () => {
    const report = evaluate(chainOf('acme/app'), { policy: sharedPolicy });
    expect(failed(report)).toEqual([]);
    expect(reason(report, 'same-repository')).toBe(
      'the provenance, review attestation and signature name https://github.com/acme/app, a repository bound by GITHUB_REPOSITORY',
    );
  });

  it("does not let another repository's chain, given first, veto the honest one", () => {
    const report = evaluate([...chainOf('acme/other'), ...chainOf('acme/app')], { policy: sharedPolicy });
    expect(failed(report)).toEqual([]);
    expect(report.evidence.map((e) => e.source)).toEqual([
      'acme/app/app.tar.gz.sigstore.json',
      'acme/app/review.sigstore.json',
      'acme/app/provenance.json',
    ]);
    // acme/other's signature over the same bytes, given first, is passed over for the one made for acme/app.
    const signatureFirst = evaluate([otherSignature!, ...chainOf('acme/app')], { policy: sharedPolicy });
    expect(failed(signatureFirst)).toEqual([]);
    expect(signatureFirst.evidence[0]!.source).toBe('acme/app/app.tar.gz.sigstore.json');
  });

  it("refuses acme/app's build with a signature the sign workflow made for acme/other (over the same bytes)", () => {
    const report = evaluate([otherSignature!, appReview!, appProvenance!], { policy: sharedPolicy });
    expect(failed(report)).toEqual(['same-repository']);
    expect(reason(report, 'same-repository')).toBe(
      'expected the signature (acme/other/app.tar.gz.sigstore.json) to be made for https://github.com/acme/app, where the artifact was built; its certificate says the sign workflow ran in https://github.com/acme/other',
    );
  });

  it("refuses a review attestation of acme/app's change made by a sign run of acme/other", () => {
    // acme/other's sign run handed acme/app's provenance: it reviews acme/app's pull request, but as acme/other.
    const review = dsseBundle(
      reviewStatement(),
      signer(SIGN_SAN, { sourceRepositoryURI: 'https://github.com/acme/other' }),
      'acme/other/review-of-app.sigstore.json',
    );
    const report = evaluate([appSignature!, review, appProvenance!], { policy: sharedPolicy });
    expect(failed(report)).toEqual(['same-repository']);
    expect(reason(report, 'same-repository')).toContain(
      'expected the review attestation (acme/other/review-of-app.sigstore.json) to be made for https://github.com/acme/app',
    );
  });

  it("refuses acme/other's provenance with acme/app's review and signature (pieces of two chains)", () => {
    const report = evaluate([appSignature!, appReview!, otherProvenance!], { policy: sharedPolicy });
    expect(failed(report)).toEqual(['same-repository']);
    expect(reason(report, 'same-repository')).toBe(
      'expected the review to be in https://github.com/acme/other, where the artifact was built; found https://github.com/acme/app',
    );
  });

  it('accepts each repository a deployment repository names (deploy.repositories), and refuses any other', () => {
    const binding = bindRepositories(
      { ...sharedPolicy, deploy: { ...sharedPolicy.deploy, repositories: ['acme/app', 'acme/other'] } },
      { repository: 'acme/deploy', name: 'GITHUB_REPOSITORY', role: 'fallback' },
    );
    expect(binding).toEqual({
      repositories: ['acme/app', 'acme/other'],
      from: 'deploy.repositories in .twokey/policy.yml',
    });
    expect(failed(evaluate(chainOf('acme/app'), { policy: sharedPolicy, binding }))).toEqual([]);
    expect(failed(evaluate(chainOf('acme/other'), { policy: sharedPolicy, binding }))).toEqual([]);
    const evil = evaluate(chainOf('acme/evil'), { policy: sharedPolicy, binding });
    expect(failed(evil)).toEqual(['same-repository']);
    expect(reason(evil, 'same-repository')).toContain(
      'expected a chain of one of acme/app, acme/other (bound by deploy.repositories in .twokey/policy.yml), found a chain of acme/evil',
    );
  });

  it('compares repositories case-insensitively, and never by prefix (acme/app-fork is not acme/app)', () => {
    const upper: RepositoryBinding = { repositories: ['ACME/App'], from: '--repo' };
    expect(failed(evaluate(chainOf('acme/app'), { policy: sharedPolicy, binding: upper }))).toEqual([]);
    const fork = evaluate(chainOf('acme/app-fork'), { policy: sharedPolicy });
    expect(reason(fork, 'same-repository')).toContain('found a chain of acme/app-fork');
  });

  it('refuses every chain when no repository is bound, and evaluateDeploy refuses to run', () => {
    const none: RepositoryBinding = { repositories: [], from: 'nothing' };
    const report = evaluate(chainOf('acme/app'), { policy: sharedPolicy, binding: none });
    expect(reason(report, 'same-repository')).toContain('expected a chain of no repository (bound by nothing)');
    const call = () => evaluateDeploy({ ...deployInput(), bundles: chainOf('acme/app'), binding: none });
    expect(call).toThrow(expect.objectContaining({ code: 'REPOSITORY_UNBOUND' }));
  });
});

// ── same commit, same branch: the review was made for the build that is deployed ───────────────────────────

/** Provenance of the merged commit built on `ref`, its certificate naming that ref as the build job saw it. */
function provenanceOnRef(ref: string): VerifiedBundle {
  const statement = provenanceStatement() as Statement & {
    predicate: { buildDefinition: { resolvedDependencies: { uri: string }[] } };
  };
  const [source] = statement.predicate.buildDefinition.resolvedDependencies;
  source!.uri = source!.uri.replace('@refs/heads/main', `@${ref}`);
  return provenanceBundle(statement, signer(BUILD_SAN, { ...buildSigner.extensions, sourceRepositoryRef: ref }));
}

describe('evaluateArtifact: the review attestation names the branch the change was built on', () => {
  it('accepts a review attestation whose builtRef is the ref the provenance says the build ran on', () => {
    const report = evaluate([signatureBundle(), reviewBundle(), provenanceOnRef('refs/heads/main')]);
    expect(failed(report)).toEqual([]);
    expect(reason(report, 'same-commit')).toBe(
      `the provenance and the review attestation both name commit ${MERGE_COMMIT} built on refs/heads/main`,
    );
  });

  it("refuses a review attestation made for main's build, replayed onto a build of the same commit on another branch", () => {
    const report = evaluate([signatureBundle(), reviewBundle(), provenanceOnRef('refs/heads/release-evil')]);
    expect(failed(report)).toEqual(['same-commit']);
    expect(reason(report, 'same-commit')).toBe(
      'expected the review attestation to be for the build on refs/heads/release-evil, found one for a build on refs/heads/main',
    );
  });

  it('refuses a review attestation that does not record the branch (signed under the old rules)', () => {
    const old = editedReviewStatement((s) => {
      delete s.predicate.builtRef;
    });
    const report = evaluate([signatureBundle(), reviewBundle(old), provenanceBundle()]);
    expect(failed(report)).toContain('same-commit');
    expect(reason(report, 'same-commit')).toBe(
      'expected the review attestation (bundles/review.intoto.sigstore.json) to record the branch the change was built on (builtRef refs/heads/main), found none: it was signed under older rules that did not record it',
    );
  });

  it('refuses provenance that claims a ref other than the one its certificate says the build ran on', () => {
    const lying = provenanceBundle(
      provenanceStatement(),
      signer(BUILD_SAN, { ...buildSigner.extensions, sourceRepositoryRef: 'refs/heads/feature' }),
    );
    const report = evaluate([signatureBundle(), reviewBundle(), lying]);
    expect(failed(report)).toEqual(['same-commit']);
    expect(reason(report, 'same-commit')).toBe(
      "the provenance says ref refs/heads/main, but the build identity's certificate says the workflow ran on refs/heads/feature",
    );
  });
});

describe('an offline deploy approval belongs to the artifact’s repository', () => {
  const DEPLOY_WORKFLOW_SAN = 'https://github.com/acme/platform/.github/workflows/deploy.yml@refs/heads/main';
  const approvalsPolicy = parsePolicy(
    POLICY_TEXT.replace(
      '\ndeploy:\n  max-age: 7d\n',
      `\n  deploy:\n    issuer: ${ISSUER}\n    san: ${DEPLOY_WORKFLOW_SAN}\ndeploy:\n  max-age: 7d\n  approvals: { min: 1 }\n`,
    ),
    '.twokey/policy.yml',
  );
  /** The shared deploy workflow's attestation that carol approved a deploy of `repository` (run there). */
  function approvalIn(repository: string): VerifiedBundle {
    const uri = `https://github.com/${repository}`;
    const run = `${uri}/actions/runs/5/attempts/1`;
    const predicate = {
      environment: 'production',
      repository: { name: repository, uri },
      run: { id: 5, attempt: 1, uri: run },
      requesters: [{ login: 'erin', id: 5, type: 'User' }],
      approvals: [
        { user: { login: 'carol', id: 7, type: 'User' }, state: 'approved', comment: '', environments: ['production'] },
      ],
      protection: null,
      readAt: NOW.toISOString(),
      evidence: [],
    };
    const statement = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: ARTIFACT.name, digest: { sha256: ARTIFACT.digest.hex } }],
      predicateType: DEPLOY_APPROVAL_PREDICATE_TYPE,
      predicate,
    };
    const by = signer(DEPLOY_WORKFLOW_SAN, { sourceRepositoryURI: uri, runInvocationURI: run });
    return dsseBundle(statement, by, `bundles/deploy-approval-${repository.replace('/', '-')}.json`);
  }

  it('counts an approval of a deploy of acme/app', () => {
    const report = evaluate([...honestBundles(), approvalIn('acme/app')], { policy: approvalsPolicy });
    expect(report.checks.find((c) => c.id === 'deploy-approval')?.verdict).toBe('pass');
  });

  it('judged for one environment (twokey verify --environment), counts an approval of a deploy to it, and only that', () => {
    const forProduction = evaluate([...honestBundles(), approvalIn('acme/app')], {
      policy: approvalsPolicy,
      environment: 'production',
    });
    expect(forProduction.checks.find((c) => c.id === 'deploy-approval')?.verdict).toBe('pass');
    const forStaging = evaluate([...honestBundles(), approvalIn('acme/app')], {
      policy: approvalsPolicy,
      environment: 'staging',
    });
    expect(forStaging.verdict).toBe('fail');
    expect(reason(forStaging, 'deploy-approval')).toBe(
      "expected a deploy approval of this artifact's repository to staging; bundles/deploy-approval-acme-app.json approves a deploy to production, not to staging",
    );
  });

  it('the deploy gate counts only its own run’s approvals: never an attested one, another run’s (a deploy job without an environment)', () => {
    const report = evaluate([...honestBundles(), approvalIn('acme/app')], {
      policy: approvalsPolicy,
      deploy: DEPLOY_WORKFLOW_SAN,
    });
    expect(report.verdict).toBe('fail');
    expect(report.checks.find((c) => c.id === 'deploy-approval')?.verdict).toBe('fail');
    expect(reason(report, 'deploy-approval')).toContain(
      "the deploy job read none: it must run in an environment, with a github-token that can read its run's approvals",
    );
  });

  it('refuses an approval given in another repository’s deploy of the same digest (the deploy workflow is shared)', () => {
    const report = evaluate([...honestBundles(), approvalIn('acme/other')], { policy: approvalsPolicy });
    expect(report.verdict).toBe('fail');
    expect(reason(report, 'deploy-approval')).toContain('approves a deploy of https://github.com/acme/other');
  });
});
