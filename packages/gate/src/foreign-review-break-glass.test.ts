// A review over the same bytes from another repository must not keep a break-glass from standing in (row 240): alice
// builds the hotfix's exact bytes in a repository of her own, alice/evil, runs the platform's shared workflows there
// (her second account approving), and puts the sign identity's passing review of alice/evil over digest D in acme/app's
// attestation store, which any writer there may add to. Every chain carried that review, so the break-glass was not
// tried, and the deploy was refused on same-repository: an extra bundle vetoed an approved break-glass.
import { buildBreakGlassStatement, parsePolicy, type VerifiedBundle } from '@twokey/core';
import { describe, expect, it } from 'vitest';
import {
  ARTIFACT,
  dsseBundle,
  ISSUER,
  NOW,
  provenanceBundle,
  provenanceStatement,
  reviewStatement,
  SHARED_BUILD_SAN,
  SIGN_SAN,
  SIGNED_AT,
  signatureBundle,
  signer,
} from '../../core/src/__fixtures__/bundles';
import { honestEvidence, MERGE_COMMIT } from '../../core/src/__fixtures__/review-evidence';
import { evaluateDeploy } from './evaluate';

const DEPLOY_SAN = 'https://github.com/acme/platform/.github/workflows/deploy.yml@refs/heads/main';
const BREAK_GLASS_SAN = 'https://github.com/acme/platform/.github/workflows/break-glass.yml@refs/heads/main';
const policy = parsePolicy(
  `version: 1
identities:
  build: { issuer: ${ISSUER}, san: ${SHARED_BUILD_SAN} }
  sign: { issuer: ${ISSUER}, san: ${SIGN_SAN} }
  deploy: { issuer: ${ISSUER}, san: ${DEPLOY_SAN} }
  break-glass: { issuer: ${ISSUER}, san: ${BREAK_GLASS_SAN} }
deploy:
  max-age: 7d
`,
  'org-policy.yml',
);
const binding = { repositories: ['acme/app'], from: 'GITHUB_REPOSITORY' };

function provenance(): VerifiedBundle {
  return provenanceBundle(
    undefined,
    signer(SHARED_BUILD_SAN, {
      buildTrigger: 'push',
      sourceRepositoryURI: 'https://github.com/acme/app',
      sourceRepositoryDigest: MERGE_COMMIT,
      sourceRepositoryRef: 'refs/heads/main',
    }),
  );
}

function breakGlass(): VerifiedBundle {
  const runUri = 'https://github.com/acme/app/actions/runs/9001/attempts/1';
  const statement = buildBreakGlassStatement([{ name: ARTIFACT.name, digest: { sha256: ARTIFACT.digest.hex } }], {
    reason: 'checkout is down',
    incident: 'https://status.acme.example/incidents/42',
    environment: 'production',
    repository: { name: 'acme/app', uri: 'https://github.com/acme/app' },
    change: {
      commit: MERGE_COMMIT,
      author: { login: 'alice', id: 101, type: 'User' },
      contributors: [{ account: { login: 'alice', id: 101, type: 'User' }, roles: ['author', 'committer', 'pusher'] }],
    },
    requester: { login: 'erin', id: 606, type: 'User' },
    approvers: [{ login: 'dave', id: 505, type: 'User' }],
    notBefore: new Date(NOW.getTime() - 3_600_000).toISOString(),
    expires: new Date(NOW.getTime() + 3_600_000).toISOString(),
    waives: ['review-attestation', 'review-rules'],
    run: { id: 9001, attempt: 1, uri: runUri },
    defaultBranch: 'main',
  });
  const cert = signer(BREAK_GLASS_SAN, {
    sourceRepositoryURI: 'https://github.com/acme/app',
    runInvocationURI: runUri,
    buildTrigger: 'workflow_dispatch',
    sourceRepositoryRef: 'refs/heads/main',
  });
  return dsseBundle(statement, cert, 'bundles/break-glass.sigstore.json', [SIGNED_AT]);
}

/** The sign identity's passing review of alice/evil's change, over the same digest D. */
function foreignReview(): VerifiedBundle {
  const evidence = honestEvidence({
    repository: 'alice/evil',
    commit: 'f'.repeat(40),
    pullRequest: {
      ...honestEvidence().pullRequest!,
      url: 'https://github.com/alice/evil/pull/1',
      mergeCommitSha: 'f'.repeat(40),
      headRepository: 'alice/evil',
    },
  });
  return dsseBundle(
    reviewStatement([ARTIFACT], evidence),
    signer(SIGN_SAN, { sourceRepositoryURI: 'https://github.com/alice/evil' }),
    'github:acme/app/attestations/sha256:D#7',
  );
}

const judge = (bundles: VerifiedBundle[]) =>
  evaluateDeploy({ policy, binding, now: NOW, artifacts: [ARTIFACT], bundles, environment: 'production' });

describe('a review of another repository over the same digest, beside a break-glass', () => {
  it('the break-glass deploy passes on its own', () => {
    const report = judge([provenance(), breakGlass()]);
    expect(report.verdict).toBe('pass');
    expect(report.artifacts[0]!.breakGlass).toBeDefined();
  });

  it('does not keep the break-glass from standing in for the missing review, in either order', () => {
    for (const bundles of [
      [provenance(), breakGlass(), foreignReview()],
      [foreignReview(), provenance(), breakGlass()],
    ]) {
      const report = judge(bundles);
      expect(report.verdict).toBe('pass');
      expect(report.artifacts[0]!.breakGlass?.source).toBe('bundles/break-glass.sigstore.json');
      expect(report.artifacts[0]!.checks.find((c) => c.id === 'break-glass')!.reason).toMatch(/^BREAK-GLASS USED/);
    }
  });

  it('without a break-glass, still refuses: the foreign review is about alice/evil', () => {
    const report = judge([provenance(), foreignReview()]);
    expect(report.verdict).toBe('fail');
    expect(report.artifacts[0]!.checks.find((c) => c.id === 'same-repository')!.verdict).toBe('fail');
  });
});

/** One run of the shared build and sign workflows in alice/evil over the same bytes (as many-chains.test.ts). */
function foreignRun(n: number): VerifiedBundle[] {
  const repository = 'alice/evil';
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
    signatureBundle(ARTIFACT.digest.hex, signs, [SIGNED_AT], `store/${n}/sig.json`),
    dsseBundle(reviewStatement([ARTIFACT], evidence), signs, `store/${n}/review.json`),
    dsseBundle(provenanceStatement(ARTIFACT.digest.hex, MERGE_COMMIT, repository), built, `store/${n}/prov.json`),
  ];
}

describe('many runs of another repository over the same bytes, beside a break-glass', () => {
  // Found by the review of the fix of row 241: past MAX_CHAINS the chains without a review came after every foreign
  // review, and 16 runs of alice/evil pushed them out of the ones judged: the approved break-glass was vetoed again.
  it.each([15, 16, 200])('%i runs: the break-glass still stands in', (runs) => {
    const foreign = Array.from({ length: runs }, (_, n) => foreignRun(n)).flat();
    const report = judge([...foreign, provenance(), breakGlass()]);
    expect(report.verdict).toBe('pass');
    expect(report.artifacts[0]!.breakGlass?.source).toBe('bundles/break-glass.sigstore.json');
  });
});
