// Under a break-glass, the built commit is still the build certificate's: a compromised build job (a developer's branch
// build runs her code inside the genuine build workflow) signs provenance that claims the commit a break-glass was
// approved for. The certificate (GitHub's token, certified by Fulcio) names her own commit and branch, and the gate
// refuses the provenance's claim there as it does on the review's path (threat model row 91).
//
// mallory builds artifact M from her commit F on her branch, her provenance says "commit C on main" (alice's hotfix);
// she requests a break-glass for C over M (the break-glass workflow takes the commit and the subjects as inputs) and
// dave, neither she nor C's author, approves it.
import {
  BREAK_GLASS_PREDICATE_TYPE,
  BREAK_GLASS_RUN_SUBJECT,
  breakGlassArtifactSubjects,
  breakGlassRunDigest,
  breakGlassRunSubject,
  buildBreakGlassStatement,
  buildVerificationSummary,
  type DeployReport,
  parsePolicy,
  sha256Digest,
  type VerifiedBundle,
} from '@twokey/core';
import { describe, expect, it } from 'vitest';
import {
  dsseBundle,
  ISSUER,
  NOW,
  provenanceStatement,
  reviewBundle,
  reviewStatement,
  SHARED_BUILD_SAN,
  SIGN_SAN,
  SIGNED_AT,
  sha256,
  signatureBundle,
  signer,
  signSigner,
} from '../../core/src/__fixtures__/bundles';
import { MERGE_COMMIT } from '../../core/src/__fixtures__/review-evidence';
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
  approvals: { min: 1 }
`,
  'org-policy.yml',
);

/** C: alice's commit on main, the one the incident is about. */
const C = MERGE_COMMIT;
/** F: mallory's commit on her own branch, which built the malicious artifact. */
const F = 'e'.repeat(40);
/** M: mallory's artifact. */
const M = { name: 'dist/app.tar.gz', digest: sha256Digest(sha256('malicious build of F')) };

/**
 * What mallory's build job can sign: its certificate is Fulcio's from the job's own OIDC token (acme/app, commit F,
 * her branch), the statement is her code's: subject M, "built from C on main".
 */
function lyingProvenance(): VerifiedBundle {
  const buildCertOfF = signer(SHARED_BUILD_SAN, {
    buildTrigger: 'push',
    sourceRepositoryURI: 'https://github.com/acme/app',
    sourceRepositoryDigest: F,
    sourceRepositoryRef: 'refs/heads/mallory/fix',
  });
  return dsseBundle(provenanceStatement(M.digest.hex, C), buildCertOfF, 'evil/provenance.sigstore.json');
}

/**
 * What the genuine break-glass workflow signs for mallory's inputs (commit C, subject M), approved by dave: dispatched
 * on `ref` (main), with the default branch GitHub told it (main; none in one signed before it was recorded).
 */
function genuineBreakGlass(
  options: {
    ref?: string;
    defaultBranch?: string | undefined;
    withoutPeople?: boolean;
    /** Its statement without its run subject (`none`), or with another run's. */
    runSubject?: 'none' | 'another run';
  } = {},
): VerifiedBundle {
  const defaultBranch = 'defaultBranch' in options ? options.defaultBranch : 'main';
  const runUri = 'https://github.com/acme/app/actions/runs/9001/attempts/1';
  const statement = buildBreakGlassStatement([{ name: M.name, digest: { sha256: M.digest.hex } }], {
    reason: 'checkout is down',
    incident: 'https://status.acme.example/incidents/42',
    environment: 'production',
    repository: { name: 'acme/app', uri: 'https://github.com/acme/app' },
    change: {
      commit: C,
      author: { login: 'alice', id: 101, type: 'User' },
      ...(!options.withoutPeople && {
        contributors: [
          { account: { login: 'alice', id: 101, type: 'User' }, roles: ['author', 'committer', 'pusher'] },
        ],
      }),
    },
    requester: { login: 'mallory', id: 404, type: 'User' },
    approvers: [{ login: 'dave', id: 505, type: 'User' }],
    notBefore: new Date(NOW.getTime() - 3_600_000).toISOString(),
    expires: new Date(NOW.getTime() + 3_600_000).toISOString(),
    waives: ['review-attestation', 'review-rules'],
    run: { id: 9001, attempt: 1, uri: runUri },
    ...(defaultBranch !== undefined && { defaultBranch }),
  });
  expect(statement.predicateType).toBe(BREAK_GLASS_PREDICATE_TYPE);
  if (options.runSubject !== undefined) {
    statement.subject = [
      ...breakGlassArtifactSubjects(statement.subject),
      ...(options.runSubject === 'another run'
        ? [breakGlassRunSubject('https://github.com/acme/app/actions/runs/9002/attempts/1')]
        : []),
    ];
  }
  const breakGlassCert = signer(BREAK_GLASS_SAN, {
    sourceRepositoryURI: 'https://github.com/acme/app',
    runInvocationURI: runUri,
    // Asked for by hand: the run was dispatched, on the repository's default branch.
    buildTrigger: 'workflow_dispatch',
    sourceRepositoryRef: options.ref ?? 'refs/heads/main',
  });
  return dsseBundle(statement, breakGlassCert, 'evil/break-glass.sigstore.json', [SIGNED_AT]);
}

/** The production environment's approvals as the deploy job reads them: mallory, F's real author, approves. */
const approvedByMallory = {
  predicate: {
    environment: 'production',
    repository: { name: 'acme/app', uri: 'https://github.com/acme/app' },
    run: { id: 9100, attempt: 1, uri: 'https://github.com/acme/app/actions/runs/9100/attempts/1' },
    requesters: [{ login: 'erin', id: 606, type: 'User' }],
    approvals: [
      {
        user: { login: 'mallory', id: 404, type: 'User' },
        state: 'approved' as const,
        comment: 'ship it',
        environments: ['production'],
      },
    ],
    protection: { requiredReviewers: [], preventSelfReview: true },
    readAt: NOW.toISOString(),
    evidence: [],
  },
};

/** The deploy job: the shared deploy workflow run in `repository` (acme/app), in `environment` (production). */
interface DeployJob {
  repository?: string;
  environment?: string | undefined;
}

function judge(bundles: VerifiedBundle[], gate: boolean, job: DeployJob = {}): DeployReport {
  const environment = 'environment' in job ? job.environment : 'production';
  return evaluateDeploy({
    policy,
    binding: { repositories: ['acme/app'], from: 'GITHUB_REPOSITORY' },
    now: NOW,
    artifacts: [M],
    bundles,
    ...(gate && {
      deployIdentity: signer(DEPLOY_SAN, { sourceRepositoryURI: `https://github.com/${job.repository ?? 'acme/app'}` }),
      ...(environment !== undefined && { environment }),
      earlierDecisionsRead: true,
      liveDeployApproval: approvedByMallory,
    }),
  });
}

const check = (report: DeployReport, id: string) => report.artifacts[0]!.checks.find((c) => c.id === id)!;

describe('a break-glass names the built commit only as the build certificate does', () => {
  it('the review’s path refuses the provenance: its certificate says the workflow ran on F', () => {
    const review = reviewBundle(reviewStatement([M]));
    const report = judge([signatureBundle(M.digest.hex, signSigner), review, lyingProvenance()], true);
    expect(report.verdict).toBe('fail');
    expect(check(report, 'same-commit')).toMatchObject({ verdict: 'fail' });
    expect(check(report, 'same-commit').reason).toContain(`certificate says the workflow ran on ${F}`);
  });

  for (const [who, gate] of [
    ['the deploy gate', true],
    ['twokey verify', false],
  ] as const) {
    it(`${who} refuses M, built from F, under a break-glass approved for commit C`, () => {
      const report = judge([lyingProvenance(), genuineBreakGlass()], gate);
      expect(report.verdict).toBe('fail');
      // No usable break-glass: the review's checks stand as they are, unwaived.
      expect(check(report, 'review-attestation').verdict).toBe('fail');
      const breakGlass = check(report, 'break-glass');
      expect(breakGlass.verdict).toBe('fail');
      expect(breakGlass.reason).toContain(
        `it cannot be matched with the built commit: the provenance says commit ${C}, but the build identity's certificate says the workflow ran on ${F}`,
      );
      expect(breakGlass.reason).not.toContain('BREAK-GLASS USED');
    });
  }

  for (const [who, gate] of [
    ['the deploy gate', true],
    ['twokey verify', false],
  ] as const) {
    it(`${who} refuses commit C built on another ref than the default branch the break-glass ran from`, () => {
      // mallory runs the build workflow on a branch of hers at C (or on a tag, or a pull request's merge ref): the
      // certificate names C truly, but what the build ran with (that branch's cache, her workflow file) is hers.
      for (const ref of ['refs/heads/mallory/poisoned-cache', 'refs/tags/v9', 'refs/pull/7/merge']) {
        const builtThere = dsseBundle(
          provenanceStatement(M.digest.hex, C, 'acme/app', ref),
          signer(SHARED_BUILD_SAN, {
            buildTrigger: 'push',
            sourceRepositoryURI: 'https://github.com/acme/app',
            sourceRepositoryDigest: C,
            sourceRepositoryRef: ref,
          }),
          `branch/provenance-${ref}.sigstore.json`,
        );
        const report = judge([builtThere, genuineBreakGlass()], gate);
        expect(report.verdict, ref).toBe('fail');
        const breakGlass = check(report, 'break-glass');
        expect(breakGlass.verdict).toBe('fail');
        expect(breakGlass.reason).toContain(
          `it is for a build of refs/heads/main (the default branch its run ran from), but the artifact was built from ${ref}`,
        );
        expect(breakGlass.reason).not.toContain('BREAK-GLASS USED');
      }
    });
  }

  it('still lets the honest break-glass through: the provenance and its certificate name C, built on main', () => {
    const honest = dsseBundle(
      provenanceStatement(M.digest.hex, C),
      signer(SHARED_BUILD_SAN, {
        buildTrigger: 'push',
        sourceRepositoryURI: 'https://github.com/acme/app',
        sourceRepositoryDigest: C,
        sourceRepositoryRef: 'refs/heads/main',
      }),
      'honest/provenance.sigstore.json',
    );
    const report = judge([honest, genuineBreakGlass()], true);
    expect(report.verdict).toBe('pass');
    expect(check(report, 'same-commit').reason).toContain(`both name commit ${C}`);
    expect(check(report, 'break-glass').reason).toContain('BREAK-GLASS USED');
  });
});

describe('the deploy gate uses a break-glass only where its single use is recorded and read', () => {
  const honest = () =>
    dsseBundle(
      provenanceStatement(M.digest.hex, C),
      signer(SHARED_BUILD_SAN, {
        buildTrigger: 'push',
        sourceRepositoryURI: 'https://github.com/acme/app',
        sourceRepositoryDigest: C,
        sourceRepositoryRef: 'refs/heads/main',
      }),
      'honest/provenance.sigstore.json',
    );

  it('refuses it in a deploy job that runs in no environment: its use would be recorded for none, and never counted again', () => {
    const report = judge([honest(), genuineBreakGlass()], true, { environment: undefined });
    expect(report.verdict).toBe('fail');
    expect(check(report, 'break-glass').reason).toContain(
      'it is for a deploy to production, and this deploy job runs in no environment (its token names none)',
    );
  });

  it('refuses it in a deploy run in another repository (a deployment repository), whose store does not show its uses', () => {
    const report = judge([honest(), genuineBreakGlass()], true, { repository: 'acme/ops' });
    expect(report.verdict).toBe('fail');
    expect(check(report, 'break-glass').reason).toContain(
      'it is used only in a deploy run in https://github.com/acme/app, whose attestation store records and shows its single use; this deploy runs in https://github.com/acme/ops',
    );
  });

  it('twokey verify counts a use recorded with no environment (a deploy job in none, before the gate refused one) as a use in every one', () => {
    const bundles = [honest(), genuineBreakGlass()];
    const passed = judge(bundles, true);
    expect(passed.verdict).toBe('pass');
    // Two records of deploys that ran in no environment, as the gate wrote them before it refused such a deploy.
    const records = [1, 2].map((n) =>
      dsseBundle(
        buildVerificationSummary({
          report: passed,
          verifier: { id: DEPLOY_SAN },
          resourceUri: 'https://github.com/acme/app',
          policyUri: 'file:///org-policy.yml',
          attestations: bundles.map((bundle) => ({
            bundle,
            uri: `file:///${bundle.source}`,
            sha256: sha256(bundle.source),
          })),
        }),
        signer(DEPLOY_SAN, { sourceRepositoryURI: 'https://github.com/acme/app' }),
        `records/envless-${n}.sigstore.json`,
      ),
    );
    const report = judge([...bundles, ...records], false);
    expect(check(report, 'break-glass').verdict).toBe('fail');
    expect(check(report, 'break-glass').reason).toContain(
      'it was used 2 times for this artifact in production (records/envless-1.sigstore.json, records/envless-2.sigstore.json): a break-glass is used once',
    );
  });

  it('refuses a break-glass signed before it recorded the change’s people (change.contributors): fail closed', () => {
    for (const gate of [true, false]) {
      const report = judge([honest(), genuineBreakGlass({ withoutPeople: true })], gate);
      expect(report.verdict).toBe('fail');
      expect(check(report, 'break-glass').reason).toContain(
        "it records none of the change's people (change.contributors: signed before the break-glass workflow recorded who wrote, committed, co-authored, opened and pushed the change)",
      );
    }
  });

  it('refuses a break-glass without the subject of the run that signed it (signed before it carried one): fail closed', () => {
    // Without it the attestation store cannot list the other break-glasses its run signed, nor so their uses.
    for (const gate of [true, false]) {
      for (const runSubject of ['none', 'another run'] as const) {
        const report = judge([honest(), genuineBreakGlass({ runSubject })], gate);
        expect(report.verdict).toBe('fail');
        expect(check(report, 'break-glass').reason).toContain(
          `it carries no subject ${BREAK_GLASS_RUN_SUBJECT} sha256:${breakGlassRunDigest('https://github.com/acme/app/actions/runs/9001/attempts/1')} for the run that signed it`,
        );
      }
    }
  });

  it('never takes its run subject for an artifact it stands in for', () => {
    const run = breakGlassRunSubject('https://github.com/acme/app/actions/runs/9001/attempts/1');
    const report = evaluateDeploy({
      policy,
      binding: { repositories: ['acme/app'], from: 'GITHUB_REPOSITORY' },
      now: NOW,
      artifacts: [{ name: run.name, digest: { algorithm: 'sha256', hex: run.digest.sha256! } }],
      bundles: [genuineBreakGlass()],
    });
    expect(report.verdict).toBe('fail');
    expect(check(report, 'break-glass').reason).not.toContain('BREAK-GLASS USED');
    expect(check(report, 'break-glass').reason).toContain(`(its subjects: ${M.name} sha256:${M.digest.hex})`);
  });

  describe('one deploy run per environment, whichever of its subjects it ships', () => {
    // Another copy of the release the unreviewed build emitted, which the same break-glass signs.
    const M2hex = sha256('another copy of the build of C');
    const RUN_A = 'https://github.com/acme/app/actions/runs/9200/attempts/1';
    const RUN_B = 'https://github.com/acme/app/actions/runs/9300/attempts/1';
    /** The decision record of a deploy run that shipped M2 to production under the break-glass. */
    function recordOfM2(passed: DeployReport, bundles: VerifiedBundle[], run: string, n: number): VerifiedBundle {
      const statement = buildVerificationSummary({
        report: passed,
        verifier: { id: DEPLOY_SAN },
        resourceUri: 'https://github.com/acme/app',
        policyUri: 'file:///org-policy.yml',
        environment: 'production',
        attestations: bundles.map((bundle) => ({
          bundle,
          uri: `file:///${bundle.source}`,
          sha256: sha256(bundle.source),
        })),
      });
      const shipped = JSON.parse(JSON.stringify(statement).replaceAll(M.digest.hex, M2hex));
      return dsseBundle(
        shipped,
        signer(DEPLOY_SAN, { sourceRepositoryURI: 'https://github.com/acme/app', runInvocationURI: run }),
        `records/m2-${n}.sigstore.json`,
      );
    }
    const deployRun = (bundles: VerifiedBundle[], run: string) =>
      evaluateDeploy({
        policy,
        binding: { repositories: ['acme/app'], from: 'GITHUB_REPOSITORY' },
        now: NOW,
        artifacts: [M],
        bundles,
        deployIdentity: signer(DEPLOY_SAN, {
          sourceRepositoryURI: 'https://github.com/acme/app',
          runInvocationURI: run,
        }),
        environment: 'production',
        earlierDecisionsRead: true,
        liveDeployApproval: approvedByMallory,
      });

    it('the deploy gate refuses it to another deploy run once one shipped another of its subjects', () => {
      const bundles = [honest(), genuineBreakGlass()];
      const shippedM2 = recordOfM2(judge(bundles, true), bundles, RUN_A, 1);
      const report = deployRun([...bundles, shippedM2], RUN_B);
      expect(report.verdict).toBe('fail');
      expect(check(report, 'break-glass').reason).toContain(
        `it was already used in production by another deploy run, for another of its subjects (records/m2-1.sigstore.json, by ${RUN_A})`,
      );
    });

    it('the deploy gate lets the run that shipped one of its subjects ship another (a release of several files)', () => {
      const bundles = [honest(), genuineBreakGlass()];
      const shippedM2 = recordOfM2(judge(bundles, true), bundles, RUN_A, 1);
      expect(check(deployRun([...bundles, shippedM2], RUN_A), 'break-glass').reason).toContain('BREAK-GLASS USED');
    });

    it('twokey verify refuses one used by two deploy runs, each for another of its subjects', () => {
      const bundles = [honest(), genuineBreakGlass()];
      const passed = judge(bundles, true);
      const records = [recordOfM2(passed, bundles, RUN_A, 1), recordOfM2(passed, bundles, RUN_B, 2)];
      expect(check(judge([...bundles, ...records], false), 'break-glass').reason).toContain(
        'it was used in production by 2 deploy runs (records/m2-1.sigstore.json, records/m2-2.sigstore.json): a break-glass is used once',
      );
      // One run's record alone is its one use.
      expect(check(judge([...bundles, records[0]!], false), 'break-glass').reason).toContain('BREAK-GLASS USED');
    });
  });

  it('twokey verify --environment counts a break-glass only for the environment it names', () => {
    const bundles = [honest(), genuineBreakGlass()];
    const judgedFor = (environment: string) =>
      evaluateDeploy({
        policy,
        binding: { repositories: ['acme/app'], from: 'GITHUB_REPOSITORY' },
        now: NOW,
        artifacts: [M],
        bundles,
        environment,
      });
    expect(check(judgedFor('production'), 'break-glass').reason).toContain('BREAK-GLASS USED');
    const staging = check(judgedFor('staging'), 'break-glass');
    expect(staging.verdict).toBe('fail');
    expect(staging.reason).toContain('it is for the environment production, not staging');
  });

  it('the deploy gate does not count the change’s author renamed since as an independent deploy approver', () => {
    const renamedAlice = {
      predicate: {
        ...approvedByMallory.predicate,
        approvals: [
          {
            user: { login: 'alice-ops', id: 101, type: 'User' },
            state: 'approved' as const,
            comment: 'ship it',
            environments: ['production'],
          },
        ],
      },
    };
    const report = evaluateDeploy({
      policy,
      binding: { repositories: ['acme/app'], from: 'GITHUB_REPOSITORY' },
      now: NOW,
      artifacts: [M],
      bundles: [honest(), genuineBreakGlass()],
      deployIdentity: signer(DEPLOY_SAN, { sourceRepositoryURI: 'https://github.com/acme/app' }),
      environment: 'production',
      earlierDecisionsRead: true,
      liveDeployApproval: renamedAlice,
    });
    expect(check(report, 'deploy-approval').verdict).toBe('fail');
    expect(check(report, 'deploy-approval').reason).toContain("not counted: alice-ops (the change's author)");
  });
});

// mallory's branch carries a caller of the break-glass workflow; she asks dave to "run the preview on my branch", dave
// dispatches it (the requester), and mallory — were she a reviewer of the break-glass environment — releases it. The
// certificate's Source Repository Ref says which branch the run ran from.
describe('a break-glass is used only when its run ran from a protected branch', () => {
  const honest = () =>
    dsseBundle(
      provenanceStatement(M.digest.hex, C),
      signer(SHARED_BUILD_SAN, {
        buildTrigger: 'push',
        sourceRepositoryURI: 'https://github.com/acme/app',
        sourceRepositoryDigest: C,
        sourceRepositoryRef: 'refs/heads/main',
      }),
      'honest/provenance.sigstore.json',
    );
  const listing = (branches: string) =>
    parsePolicy(
      `version: 1
identities:
  build: { issuer: ${ISSUER}, san: ${SHARED_BUILD_SAN} }
  sign: { issuer: ${ISSUER}, san: ${SIGN_SAN} }
  deploy: { issuer: ${ISSUER}, san: ${DEPLOY_SAN} }
  break-glass: { issuer: ${ISSUER}, san: ${BREAK_GLASS_SAN} }
review:
  protected-branches: [${branches}]
deploy:
  max-age: 7d
`,
      'org-policy.yml',
    );
  const offline = (bundles: VerifiedBundle[], judgedBy = policy) =>
    evaluateDeploy({
      policy: judgedBy,
      binding: { repositories: ['acme/app'], from: 'GITHUB_REPOSITORY' },
      now: NOW,
      artifacts: [M],
      bundles,
    });

  for (const [who, gate] of [
    ['the deploy gate', true],
    ['twokey verify', false],
  ] as const) {
    it(`${who} refuses one dispatched on a branch of the attacker’s, not the default branch it names`, () => {
      const report = judge([honest(), genuineBreakGlass({ ref: 'refs/heads/mallory/preview' })], gate);
      expect(report.verdict).toBe('fail');
      expect(check(report, 'review-attestation').verdict).toBe('fail');
      expect(check(report, 'break-glass').verdict).toBe('fail');
      expect(check(report, 'break-glass').reason).toContain(
        "evil/break-glass.sigstore.json: its run ran from refs/heads/mallory/preview (its certificate's Source Repository Ref), not from the repository's default branch (main, as GitHub told the break-glass run)",
      );
      expect(check(report, 'break-glass').reason).not.toContain('BREAK-GLASS USED');
    });
  }

  it('refuses one whose certificate names no ref', () => {
    const bundle = genuineBreakGlass();
    const { sourceRepositoryRef: _, ...extensions } = bundle.signer.extensions;
    const report = offline([honest(), { ...bundle, signer: { ...bundle.signer, extensions } }]);
    expect(check(report, 'break-glass').reason).toContain(
      "the run that signed it names no ref (its certificate's Source Repository Ref)",
    );
  });

  it('refuses one signed before the default branch was recorded, whatever the policy lists (fail closed)', () => {
    const old = genuineBreakGlass({ defaultBranch: undefined });
    const unknown = offline([honest(), old]);
    expect(unknown.verdict).toBe('fail');
    expect(check(unknown, 'break-glass').reason).toContain(
      "its run ran from refs/heads/main (its certificate's Source Repository Ref), and the break-glass names no default branch of its repository (signed before the break-glass workflow recorded it, or GitHub named none), so whether that is the default branch cannot be told; ask for a new break-glass",
    );
    expect(check(offline([honest(), old], listing('main')), 'break-glass').verdict).toBe('fail');
  });

  it('judges by the default branch the break-glass records, never by branches an org policy names (anyone creates `develop` where there is none)', () => {
    for (const [ref, listed] of [
      ['refs/heads/develop', 'main, develop'],
      ['refs/heads/release', "main, release, 'release/*'"],
      ['refs/heads/release/mallory', "main, 'release/*'"],
    ] as const) {
      const judged = check(offline([honest(), genuineBreakGlass({ ref })], listing(listed)), 'break-glass');
      expect(judged.verdict, ref).toBe('fail');
      expect(judged.reason, ref).toContain(
        `its run ran from ${ref} (its certificate's Source Repository Ref), not from the repository's default branch (main, as GitHub told the break-glass run)`,
      );
    }
    expect(check(offline([honest(), genuineBreakGlass()], listing('release')), 'break-glass').reason).toContain(
      'BREAK-GLASS USED',
    );
  });
});
