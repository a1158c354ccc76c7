// `twokey verify`'s offline judgement of a signed deploy approval agrees with the deploy gate's live one (found apart
// by the deploy-approvals review): the environment asked for (`--environment`) is compared without case, as GitHub
// names environments and the live gate compares them (row 200); and a store read with entries it could not read
// refuses the deploy approval offline too — another change that built the same bytes may be hidden there (row 205).
// Built on the gate's own evaluation (evaluateDeploy) and the fixture chain its tests use.
import { DEPLOY_APPROVAL_PREDICATE_TYPE, parsePolicy, type VerifiedBundle } from '@twokey/core';
import { describe, expect, it } from 'vitest';
import {
  ARTIFACT,
  BINDING,
  dsseBundle,
  honestBundles,
  ISSUER,
  NOW,
  POLICY_TEXT,
  signer,
} from '../../core/src/__fixtures__/bundles';
import { evaluateDeploy } from './evaluate';

const DEPLOY_WORKFLOW_SAN = 'https://github.com/acme/platform/.github/workflows/deploy.yml@refs/heads/main';
const policy = parsePolicy(
  POLICY_TEXT.replace(
    '\ndeploy:\n  max-age: 7d\n',
    `\n  deploy:\n    issuer: ${ISSUER}\n    san: ${DEPLOY_WORKFLOW_SAN}\ndeploy:\n  max-age: 7d\n  approvals: { min: 1 }\n`,
  ),
  '.twokey/policy.yml',
);
const URI = 'https://github.com/acme/app';
const RUN = `${URI}/actions/runs/5/attempts/1`;
const deployer = signer(DEPLOY_WORKFLOW_SAN, { sourceRepositoryURI: URI, runInvocationURI: RUN });

function predicate(environment: string, approvalEnvironment = environment) {
  return {
    environment,
    repository: { name: 'acme/app', uri: URI },
    run: { id: 5, attempt: 1, uri: RUN },
    requesters: [{ login: 'erin', id: 5, type: 'User' }],
    approvals: [
      {
        user: { login: 'carol', id: 7, type: 'User' },
        state: 'approved' as const,
        comment: '',
        environments: [approvalEnvironment],
      },
    ],
    profiles: [{ account: { login: 'carol', id: 7, type: 'User' } }],
    protection: null,
    readAt: new Date(NOW.getTime() - 60_000).toISOString(),
    evidence: [],
  };
}

function attested(environment: string, approvalEnvironment = environment): VerifiedBundle {
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: ARTIFACT.name, digest: { sha256: ARTIFACT.digest.hex } }],
    predicateType: DEPLOY_APPROVAL_PREDICATE_TYPE,
    predicate: predicate(environment, approvalEnvironment),
  };
  return dsseBundle(statement, deployer, 'store/deploy-approval.json', [new Date(NOW.getTime() - 30_000)]);
}

const approvalCheck = (report: ReturnType<typeof evaluateDeploy>) =>
  report.artifacts[0]!.checks.find((c) => c.id === 'deploy-approval')!;

describe('offline as live: the environment spelt in another case (row 200)', () => {
  it('live passes the deploy job in `Production`; offline --environment production counts the approval it signed', () => {
    // Live: the deploy job's token says `Production` (the workflow's spelling); GitHub's review history `production`.
    const live = evaluateDeploy({
      policy,
      binding: BINDING,
      now: NOW,
      environment: 'Production',
      deployIdentity: deployer,
      liveDeployApproval: { predicate: predicate('Production', 'production') },
      artifacts: [ARTIFACT],
      bundles: honestBundles(),
    });
    expect(approvalCheck(live).verdict).toBe('pass');
    // Offline: the auditor asks for the same environment as GitHub names it.
    const offline = evaluateDeploy({
      policy,
      binding: BINDING,
      now: NOW,
      environment: 'production',
      artifacts: [ARTIFACT],
      bundles: [...honestBundles(), attested('Production', 'production')],
    });
    expect(approvalCheck(offline).verdict).toBe('pass');
    // Another environment is still another environment.
    const staging = evaluateDeploy({
      policy,
      binding: BINDING,
      now: NOW,
      environment: 'staging',
      artifacts: [ARTIFACT],
      bundles: [...honestBundles(), attested('Production', 'production')],
    });
    expect(approvalCheck(staging).verdict).not.toBe('pass');
    expect(approvalCheck(staging).reason).toContain('approves a deploy to Production, not to staging');
  });
});

describe('offline as live: a store read with entries it could not read (row 205)', () => {
  const unread =
    '1 of its entries for these artifacts could not be read (github:acme/app/attestations/sha256:…#3: BUNDLE_UNREADABLE): what they hold is unknown';
  it('refuses deploy-approval live and offline: another change that built the bytes may be hidden there', () => {
    const live = evaluateDeploy({
      policy,
      binding: BINDING,
      now: NOW,
      environment: 'production',
      deployIdentity: deployer,
      liveDeployApproval: { predicate: predicate('production') },
      storeUnread: unread,
      artifacts: [ARTIFACT],
      bundles: honestBundles(),
    });
    expect(approvalCheck(live).verdict).toBe('fail');
    expect(approvalCheck(live).reason).toContain('attestation store could not be read');
    // `twokey verify --repo acme/app` (no --bundle): the same store, the same unreadable entry (gate.ts sets both).
    const offline = evaluateDeploy({
      policy,
      binding: BINDING,
      now: NOW,
      environment: 'production',
      storeUnread: unread,
      storeIncomplete: '1 entries could not be read',
      artifacts: [ARTIFACT],
      bundles: [...honestBundles(), attested('production')],
    });
    expect(approvalCheck(offline).verdict).toBe('fail');
    expect(approvalCheck(offline).reason).toContain('attestation store could not be read');
  });
});

describe('offline: every attested approval of the deploy is judged, not only the first listed', () => {
  // The deploy identity signs the approvals its job read for every decision, a refusal too: the author who approved her
  // own deploy of the same artifact (refused) leaves an attested approval in the store. Listed before an independent
  // one, it was the only one judged, and `twokey verify` refused a deploy that was independently approved.
  function approvedBy(login: string, id: number, readAgo: number): VerifiedBundle {
    const statement = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: ARTIFACT.name, digest: { sha256: ARTIFACT.digest.hex } }],
      predicateType: DEPLOY_APPROVAL_PREDICATE_TYPE,
      predicate: {
        ...predicate('production'),
        approvals: [
          { user: { login, id, type: 'User' }, state: 'approved' as const, comment: '', environments: ['production'] },
        ],
        profiles: [{ account: { login, id, type: 'User' } }],
        readAt: new Date(NOW.getTime() - readAgo).toISOString(),
      },
    };
    return dsseBundle(statement, deployer, `store/deploy-approval-${login}.json`, [
      new Date(NOW.getTime() - readAgo + 30_000),
    ]);
  }
  const offline = (...approvals: VerifiedBundle[]) =>
    approvalCheck(
      evaluateDeploy({
        policy,
        binding: BINDING,
        now: NOW,
        environment: 'production',
        artifacts: [ARTIFACT],
        bundles: [...honestBundles(), ...approvals],
      }),
    );

  it("passes on carol's independent approval listed after the author's own", () => {
    const own = approvedBy('alice', 101, 120_000);
    const independent = approvedBy('carol', 7, 60_000);
    expect(offline(own).verdict).toBe('fail');
    const check = offline(own, independent);
    expect(check.verdict).toBe('pass');
    expect(check.reason).toContain('store/deploy-approval-carol.json');
  });

  it("still refuses when every attested approval is the author's own", () => {
    const check = offline(approvedBy('alice', 101, 120_000), approvedBy('alice', 101, 60_000));
    expect(check.verdict).toBe('fail');
    expect(check.reason).toContain('store/deploy-approval-alice.json');
  });
});
