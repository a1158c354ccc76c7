// Many genuine bundles over the same bytes (found by the review of hangs and malleable evidence): alice runs the shared
// build and sign workflows over and over in a repository of her own (her second account approving), each run's
// bundles genuine and signed by the policy's identities, and puts them in acme/app's attestation store, which the
// gate reads for the digest. Every review × provenance × signature was judged and every judgement kept: with 80 of
// each, 18 s and 1.4 GB; with 150, the process ran out of memory. Now the chains are judged one at a time, the first
// that passes every check ends the search, at most MAX_CHAINS are judged — past it a bound repository's candidates
// first, so another repository's bundles cannot push the honest chain out of reach — and a refusal says the search
// stopped.
import type { DeployReport, VerifiedBundle } from '@twokey/core';
import { describe, expect, it } from 'vitest';
import {
  ARTIFACT,
  BINDING,
  dsseBundle,
  NOW,
  provenanceStatement,
  reviewStatement,
  SHARED_BUILD_SAN,
  SIGN_SAN,
  SIGNED_AT,
  sharedPolicy,
  signatureBundle,
  signer,
} from '../../core/src/__fixtures__/bundles';
import { honestEvidence, MERGE_COMMIT } from '../../core/src/__fixtures__/review-evidence';
import { MAX_CHAINS } from './candidates';
import { evaluateDeploy } from './evaluate';

/** One run of the shared build and sign workflows in `repository`: its signature, review and provenance. */
function run(repository: string, n: number): VerifiedBundle[] {
  const uri = `https://github.com/${repository}`;
  const runUri = `${uri}/actions/runs/${1000 + n}/attempts/1`;
  const built = signer(SHARED_BUILD_SAN, {
    buildTrigger: 'push',
    sourceRepositoryURI: uri,
    sourceRepositoryDigest: MERGE_COMMIT,
    sourceRepositoryRef: 'refs/heads/main',
    runInvocationURI: runUri,
  });
  const signs = signer(SIGN_SAN, { sourceRepositoryURI: uri, runInvocationURI: runUri });
  const evidence = honestEvidence({
    repository,
    pullRequest: { ...honestEvidence().pullRequest!, url: `${uri}/pull/42`, headRepository: repository },
  });
  return [
    signatureBundle(ARTIFACT.digest.hex, signs, [SIGNED_AT], `${repository}/${n}/app.tar.gz.sigstore.json`),
    dsseBundle(reviewStatement([ARTIFACT], evidence), signs, `${repository}/${n}/review.sigstore.json`),
    dsseBundle(
      provenanceStatement(ARTIFACT.digest.hex, MERGE_COMMIT, repository),
      built,
      `${repository}/${n}/provenance.json`,
    ),
  ];
}

function runs(repository: string, count: number): VerifiedBundle[] {
  return Array.from({ length: count }, (_, n) => run(repository, n)).flat();
}

const judge = (bundles: VerifiedBundle[]): DeployReport =>
  evaluateDeploy({ policy: sharedPolicy, binding: BINDING, now: NOW, artifacts: [ARTIFACT], bundles });

describe('many genuine runs over the same bytes', () => {
  it('judges 200 of another repository’s runs given first, and finds the honest chain behind them', () => {
    // 201 candidates for each role: 8.1 million chains, of which the gate judges at most MAX_CHAINS.
    const report = judge([...runs('alice/evil', 200), ...run('acme/app', 0)]);
    expect(report.verdict).toBe('pass');
    expect(report.artifacts[0]!.evidence.map((e) => e.source)).toEqual([
      'acme/app/0/app.tar.gz.sigstore.json',
      'acme/app/0/review.sigstore.json',
      'acme/app/0/provenance.json',
    ]);
  });

  it('passes on the first of many honest re-runs', () => {
    const report = judge(runs('acme/app', 40));
    expect(report.verdict).toBe('pass');
    expect(report.artifacts[0]!.evidence.map((e) => e.source)).toEqual([
      'acme/app/0/app.tar.gz.sigstore.json',
      'acme/app/0/review.sigstore.json',
      'acme/app/0/provenance.json',
    ]);
  });

  it('refuses 200 runs of another repository alone, saying how many combinations there were and how many were judged', () => {
    const report = judge(runs('alice/evil', 200));
    expect(report.verdict).toBe('fail');
    const checks = report.artifacts[0]!.checks;
    const refused = checks.filter((c) => c.verdict === 'fail');
    expect(refused.map((c) => c.id)).toEqual(['same-repository']);
    expect(refused[0]!.reason).toContain('found a chain of alice/evil');
    expect(refused[0]!.reason).toContain(
      `(the evidence for this artifact makes 8000000 combinations of a review, a provenance and a signature; the first ${MAX_CHAINS} were judged and none passed every check`,
    );
    // A check that passed says nothing of the search.
    expect(checks.find((c) => c.id === 'review-rules')!.reason).not.toContain('combinations');
  });

  it('judges every chain of fewer candidates, as before, and says nothing of a search', () => {
    const report = judge(runs('alice/evil', 15));
    expect(report.verdict).toBe('fail');
    expect(report.artifacts[0]!.checks.find((c) => c.id === 'same-repository')!.reason).not.toContain('combinations');
  });
});
