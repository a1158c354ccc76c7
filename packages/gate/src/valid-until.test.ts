// What the gate passed is shipped by a later job, which GitHub may start long after the gate: its environment's
// reviewers have 30 days, and "Re-run failed jobs" runs it again with the gate's outputs of the first attempt. So a
// passing report says until when its evidence passes (`validUntil`; the deploy action's `valid-until`), and the ship
// job checks it (threat model, row 253): a break-glass valid for an hour is not stretched to a deploy three weeks on.
// Judged again at that time the same evidence passes; a second later it does not.
import { buildBreakGlassStatement, type DeployReport, parsePolicy, type VerifiedBundle } from '@twokey/core';
import { describe, expect, it } from 'vitest';
import {
  ARTIFACT,
  BINDING,
  dsseBundle,
  honestBundles,
  ISSUER,
  NOW,
  provenanceBundle,
  policy as reviewedPolicy,
  SHARED_BUILD_SAN,
  SIGN_SAN,
  SIGNED_AT,
  signer,
} from '../../core/src/__fixtures__/bundles';
import { MERGE_COMMIT } from '../../core/src/__fixtures__/review-evidence';
import { evaluateDeploy } from './evaluate';

const BREAK_GLASS_SAN = 'https://github.com/acme/platform/.github/workflows/break-glass.yml@refs/heads/main';
const breakGlassPolicy = parsePolicy(
  `version: 1
identities:
  build: { issuer: ${ISSUER}, san: ${SHARED_BUILD_SAN} }
  sign: { issuer: ${ISSUER}, san: ${SIGN_SAN} }
  break-glass: { issuer: ${ISSUER}, san: ${BREAK_GLASS_SAN} }
deploy:
  max-age: 7d
`,
  'org-policy.yml',
);
const EXPIRES = new Date(NOW.getTime() + 3_600_000);

/** alice's hotfix, built on main, and the break-glass erin requested and dave released for it: one hour from NOW. */
function breakGlassDeploy(): VerifiedBundle[] {
  const provenance = provenanceBundle(
    undefined,
    signer(SHARED_BUILD_SAN, {
      buildTrigger: 'push',
      sourceRepositoryURI: 'https://github.com/acme/app',
      sourceRepositoryDigest: MERGE_COMMIT,
      sourceRepositoryRef: 'refs/heads/main',
    }),
  );
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
    expires: EXPIRES.toISOString(),
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
  return [provenance, dsseBundle(statement, cert, 'bundles/break-glass.sigstore.json', [SIGNED_AT])];
}

const judge = (bundles: VerifiedBundle[], policy: typeof reviewedPolicy, now: Date): DeployReport =>
  evaluateDeploy({ policy, binding: BINDING, now, artifacts: [ARTIFACT], bundles, environment: 'production' });

const later = (time: string, ms: number) => new Date(Date.parse(time) + ms);

describe('until when a pass holds', () => {
  it('a reviewed artifact: until its oldest evidence is max-age old, and not a second longer', () => {
    const report = judge(honestBundles(), reviewedPolicy, NOW);
    expect(report.verdict).toBe('pass');
    const oldest = Math.min(...report.artifacts[0]!.evidence.flatMap((e) => e.signedAt.map(Date.parse)));
    const until = new Date(oldest + reviewedPolicy.deploy.maxAgeSeconds * 1000).toISOString();
    expect(report.validUntil).toBe(until);
    expect(report.artifacts[0]!.validUntil).toBe(until);
    expect(judge(honestBundles(), reviewedPolicy, new Date(until)).verdict).toBe('pass');
    const after = judge(honestBundles(), reviewedPolicy, later(until, 1000));
    expect(after.verdict).toBe('fail');
    expect(after.artifacts[0]!.checks.find((c) => c.id === 'fresh')!.verdict).toBe('fail');
  });

  it('under a break-glass: until it expires, though its evidence is fresh for days more', () => {
    const report = judge(breakGlassDeploy(), breakGlassPolicy, NOW);
    expect(report.verdict).toBe('pass');
    expect(report.validUntil).toBe(EXPIRES.toISOString());
    expect(judge(breakGlassDeploy(), breakGlassPolicy, EXPIRES).verdict).toBe('pass');
    const after = judge(breakGlassDeploy(), breakGlassPolicy, later(EXPIRES.toISOString(), 1000));
    expect(after.verdict).toBe('fail');
    expect(after.artifacts[0]!.checks.find((c) => c.id === 'break-glass')!.reason).toContain(
      `it expired at ${EXPIRES.toISOString()}`,
    );
  });

  it('a refusal says nothing of when it would hold', () => {
    const report = judge(honestBundles().slice(1), reviewedPolicy, NOW);
    expect(report.verdict).toBe('fail');
    expect(report.validUntil).toBeUndefined();
    expect(report.artifacts[0]!.validUntil).toBeUndefined();
  });
});
