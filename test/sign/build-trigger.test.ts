// A build run started by an event other than a push or a dispatch (threat-model row 170). GitHub's token — and so the
// build certificate — of a run started by workflow_run, pull_request_target or issue_comment names the default (or
// base) branch and its latest commit as ref and commit, which says nothing about what the run built: a reviewed
// release workflow `on: workflow_run` that builds the triggering run's artifact hands the build identity bytes from
// alice's unreviewed pull request, and the provenance names main's reviewed head. The certificate's Build Trigger
// (Fulcio 1.3.6.1.4.1.57264.1.20) says which event started the run: the sign stage and the deploy gate accept build
// provenance only from the events identities.build.triggers lists (default: push, workflow_dispatch).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWorkflowProblem, parsePolicy } from '@twokey/core';
import { evaluateDeploy } from '@twokey/gate';
import { buildStep, signStep } from '@twokey/github';
import {
  aGitHubState,
  anApprovedChange,
  type GitHubFake,
  identity,
  type OidcIssuer,
  type SigstoreStack,
  startGitHubFake,
  startOidcIssuer,
  startSigstoreStack,
} from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  ARTIFACT,
  BINDING,
  BUILD_SAN,
  buildSigner,
  NOW,
  policy,
  provenanceBundle,
  reviewBundle,
  SIGN_SAN,
  signatureBundle,
  signer,
} from '../../packages/core/src/__fixtures__/bundles';

const ISSUER = 'https://token.actions.githubusercontent.com';
const BUILD_WORKFLOW = 'acme/platform/.github/workflows/twokey-build.yml@refs/tags/v1.0.0';
const SIGN_WORKFLOW = 'acme/platform/.github/workflows/twokey-sign.yml@refs/tags/v1.0.0';

let stack: SigstoreStack;
let issuer: OidcIssuer;
let github: GitHubFake;
let workspace: string;
let commit: string;

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  // main's head: alice's earlier change, reviewed by bob and merged. Nothing about the backdoor was ever reviewed.
  const change = anApprovedChange('acme/app', 'Add the parser');
  commit = change.commit;
  github = await startGitHubFake(aGitHubState(change.repository));
  workspace = mkdtempSync(join(tmpdir(), 'twokey-build-trigger-'));
  mkdirSync(join(workspace, 'artifacts'));
  // The bytes the triggering (unreviewed) CI run produced: whatever alice's branch/fork wrote.
  writeFileSync(
    join(workspace, 'artifacts', 'app.tar.gz'),
    "app 1.0 with a backdoor, from alice's pull request's run\n",
  );
  writeFileSync(
    join(workspace, 'org-policy.yml'),
    [
      'version: 1',
      'identities:',
      `  build: { issuer: ${ISSUER}, san: https://github.com/${BUILD_WORKFLOW} }`,
      `  sign: { issuer: ${ISSUER}, san: https://github.com/${SIGN_WORKFLOW} }`,
      `deploy: { trusted-root: ${stack.trustedRootPath} }`,
      'review: { protected-branches: [main] }',
      '',
    ].join('\n'),
  );
  // The same, naming the one workflow whose runs build releases.
  writeFileSync(
    join(workspace, 'org-policy-release-workflow.yml'),
    readFileSync(join(workspace, 'org-policy.yml'), 'utf8').replace(
      `san: https://github.com/${BUILD_WORKFLOW} }`,
      `san: https://github.com/${BUILD_WORKFLOW}, workflows: [.github/workflows/release.yml] }`,
    ),
  );
  // The same, with the platform team's explicit choice to build on workflow_run too.
  writeFileSync(
    join(workspace, 'org-policy-workflow-run.yml'),
    readFileSync(join(workspace, 'org-policy.yml'), 'utf8').replace(
      `san: https://github.com/${BUILD_WORKFLOW} }`,
      `san: https://github.com/${BUILD_WORKFLOW}, triggers: [push, workflow_dispatch, workflow_run] }`,
    ),
  );
}, 120_000);

afterAll(async () => {
  await github?.close();
  await stack?.close();
  await issuer?.close();
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

const endpoints = () => ({ fulcioURL: stack.fulcioURL, rekorURL: stack.rekorURL, tsaURL: stack.tsaURL });

// A job of main's reviewed release workflow (or `caller`), started by `event` (GitHub's token: ref = default branch,
// sha = its head).
const job = (workflow: string, event: string, caller = '.github/workflows/release.yml') =>
  identity('acme/app', caller, 'refs/heads/main', commit, { job_workflow_ref: workflow, event_name: event });

/** The build stage, then the sign stage, in a run of main's release workflow (or `caller`) started by `event`. */
async function buildAndSign(event: string, policy = 'org-policy.yml', caller?: string) {
  const temp = mkdtempSync(join(tmpdir(), 'twokey-build-trigger-run-'));
  try {
    const built = await buildStep({
      subjectPath: 'artifacts/*',
      subjectDigest: '',
      subjectName: '',
      subjectChecksums: '',
      endpoints: endpoints(),
      workspace,
      outputDirectory: join(temp, 'build'),
      serverUrl: 'https://github.com',
      identityToken: () => issuer.mint(job(BUILD_WORKFLOW, event, caller), { audience: 'sigstore' }),
    });
    expect(built.failure).toBeUndefined();
    const signed = await signStep({
      subjectPath: 'artifacts/*',
      subjectDigest: '',
      subjectName: '',
      subjectChecksums: '',
      provenance: built.outputs['bundle-path']!,
      policy,
      trustedRoot: stack.trustedRootPath,
      endpoints: endpoints(),
      githubToken: 'ghs_sign_job',
      githubApiUrl: github.url,
      workspace,
      outputDirectory: join(temp, 'sign'),
      serverUrl: 'https://github.com',
      identityToken: () => issuer.mint(job(SIGN_WORKFLOW, event, caller), { audience: 'sigstore' }),
    });
    const checks = JSON.parse(signed.outputs.checks ?? '[]') as { id: string; verdict: string; reason: string }[];
    return { signed, checks };
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

describe.each(['workflow_run', 'pull_request_target', 'issue_comment'])(
  'build provenance from a run started by %s',
  (event) => {
    it('is refused by the sign stage: the certificate names main, but the event may have built anything', async () => {
      const { signed, checks } = await buildAndSign(event);
      expect(signed.outputs.verdict).toBe('fail');
      expect(signed.outputs['bundle-paths'] ?? '').toBe('');
      const identityCheck = checks.find((c) => c.id === 'provenance-build-identity')!;
      expect(identityCheck.verdict).toBe('fail');
      expect(identityCheck.reason).toContain(
        `expected a build run started by push or workflow_dispatch, found one started by ${event} (the certificate's Build Trigger)`,
      );
    });

    it('is refused by the deploy gate, whatever signed the rest', () => {
      const provenance = provenanceBundle(
        undefined,
        signer(BUILD_SAN, { ...buildSigner.extensions, buildTrigger: event }),
      );
      const report = evaluateDeploy({
        policy,
        binding: BINDING,
        now: NOW,
        artifacts: [ARTIFACT],
        bundles: [signatureBundle(), reviewBundle(), provenance],
      });
      expect(report.verdict).toBe('fail');
      const check = report.artifacts[0]!.checks.find((c) => c.id === 'build-provenance')!;
      expect(check.verdict).not.toBe('pass');
      expect(check.reason).toContain(`found one started by ${event} (the certificate's Build Trigger)`);
    });
  },
);

describe('the events a build may start from', () => {
  it('signs a build started by a dispatch on main, and one started by workflow_run when the policy lists it', async () => {
    expect((await buildAndSign('workflow_dispatch')).signed.outputs.verdict).toBe('pass');
    expect((await buildAndSign('workflow_run', 'org-policy-workflow-run.yml')).signed.outputs.verdict).toBe('pass');
  });

  it('refuses a build certificate that names no Build Trigger, and passes the honest push', () => {
    const evaluate = (by: typeof buildSigner) =>
      evaluateDeploy({
        policy,
        binding: BINDING,
        now: NOW,
        artifacts: [ARTIFACT],
        bundles: [signatureBundle(), reviewBundle(), provenanceBundle(undefined, by)],
      });
    const { buildTrigger: _, ...withoutTrigger } = buildSigner.extensions;
    const silent = evaluate(signer(BUILD_SAN, withoutTrigger));
    expect(silent.verdict).toBe('fail');
    expect(silent.artifacts[0]!.checks.find((c) => c.id === 'build-provenance')!.reason).toContain(
      'found no Build Trigger in the certificate',
    );
    expect(evaluate(buildSigner).verdict).toBe('pass');
  });

  it('takes triggers on identities.build only', () => {
    expect(() =>
      parsePolicy(
        `version: 1\nidentities:\n  build: { issuer: ${ISSUER}, san: https://github.com/${BUILD_WORKFLOW} }\n  sign: { issuer: ${ISSUER}, san: https://github.com/${SIGN_WORKFLOW}, triggers: [push] }\n`,
        'org-policy.yml',
      ),
    ).toThrow('identities.sign.triggers: only identities.build takes triggers');
  });
});

// Another workflow of the repository calling the build workflow (threat model row 191): the reusable build workflow's
// SAN is the same whoever calls it, so a reviewed utility workflow on main that builds a ref given as an input (a
// "preview") dispatched by alice with her unreviewed branch hands the build identity her bytes under main's reviewed
// head. identities.build.workflows names the workflows whose runs build releases, against the certificate's Build
// Config URI.
describe('the workflow a build runs from', () => {
  it('refuses, under identities.build.workflows, provenance of a run of another workflow (a dispatched preview)', async () => {
    const preview = await buildAndSign(
      'workflow_dispatch',
      'org-policy-release-workflow.yml',
      '.github/workflows/preview.yml',
    );
    expect(preview.signed.outputs.verdict).toBe('fail');
    expect(preview.signed.outputs['bundle-paths'] ?? '').toBe('');
    const check = preview.checks.find((c) => c.id === 'provenance-build-identity')!;
    expect(check.verdict).toBe('fail');
    expect(check.reason).toContain(
      "expected a build run of .github/workflows/release.yml, found one of .github/workflows/preview.yml (the certificate's Build Config URI)",
    );
    // The release workflow's own run: signed.
    expect((await buildAndSign('workflow_dispatch', 'org-policy-release-workflow.yml')).signed.outputs.verdict).toBe(
      'pass',
    );
    // Without the key, any workflow of the repository builds (documented: the platform team names them).
    const open = await buildAndSign('workflow_dispatch', 'org-policy.yml', '.github/workflows/preview.yml');
    expect(open.signed.outputs.verdict).toBe('pass');
  });

  it('is refused by the deploy gate too, and a certificate without a Build Config URI is refused under the key', () => {
    const rules = parsePolicy(
      `version: 1
identities:
  build: { issuer: ${ISSUER}, san: ${BUILD_SAN}, workflows: [".github/workflows/release*.yml"] }
  sign: { issuer: ${ISSUER}, san: ${SIGN_SAN} }
`,
      'org-policy.yml',
    );
    const evaluate = (buildConfigURI: string | undefined) => {
      const { buildConfigURI: _, ...rest } = buildSigner.extensions;
      const by = signer(BUILD_SAN, { ...rest, ...(buildConfigURI !== undefined && { buildConfigURI }) });
      return evaluateDeploy({
        policy: rules,
        binding: BINDING,
        now: NOW,
        artifacts: [ARTIFACT],
        bundles: [signatureBundle(), reviewBundle(), provenanceBundle(undefined, by)],
      });
    };
    const reason = (report: ReturnType<typeof evaluate>) =>
      report.artifacts[0]!.checks.find((c) => c.id === 'build-provenance')!.reason;
    const repo = buildSigner.extensions.sourceRepositoryURI;
    const preview = evaluate(`${repo}/.github/workflows/preview.yml@refs/heads/main`);
    expect(preview.verdict).toBe('fail');
    expect(reason(preview)).toContain('found one of .github/workflows/preview.yml');
    // Another repository's workflow of that name is not this repository's.
    const elsewhere = evaluate('https://github.com/acme/other/.github/workflows/release.yml@refs/heads/main');
    expect(elsewhere.verdict).toBe('fail');
    expect(reason(elsewhere)).toContain('not a workflow of');
    const silent = evaluate(undefined);
    expect(silent.verdict).toBe('fail');
    expect(reason(silent)).toContain('found no Build Config URI in the certificate');
    expect(evaluate(`${repo}/.github/workflows/release-v2.yml@refs/heads/main`).verdict).toBe('pass');
  });

  it('reads the workflow from the Build Config URI up to the run’s own ref, whatever @ a branch holds', () => {
    const rules = (glob: string) =>
      parsePolicy(
        `version: 1
identities:
  build: { issuer: ${ISSUER}, san: ${BUILD_SAN}, workflows: ["${glob}"] }
  sign: { issuer: ${ISSUER}, san: ${SIGN_SAN} }
`,
        'org-policy.yml',
      ).identities.build;
    const repo = buildSigner.extensions.sourceRepositoryURI!;
    const run = (workflow: string, ref: string) =>
      signer(BUILD_SAN, {
        ...buildSigner.extensions,
        sourceRepositoryRef: ref,
        buildConfigURI: `${repo}/${workflow}@${ref}`,
      });
    // A preview run on a branch named so that everything after its last @ looks like a listed workflow: the path is
    // .github/workflows/preview.yml, whatever the ref says.
    const branch = 'refs/heads/release/x/release.yml@1';
    expect(buildWorkflowProblem(run('.github/workflows/preview.yml', branch), rules('**/release.yml'))).toContain(
      'found one of .github/workflows/preview.yml',
    );
    // The release workflow run on a branch with an @ in its name is the release workflow.
    expect(
      buildWorkflowProblem(
        run('.github/workflows/release.yml', 'refs/heads/hotfix@2'),
        rules('.github/workflows/release.yml'),
      ),
    ).toBeUndefined();
    // A Build Config URI at another ref than the run's names no workflow of this run.
    const elsewhere = signer(BUILD_SAN, {
      ...buildSigner.extensions,
      buildConfigURI: `${repo}/.github/workflows/release.yml@refs/heads/other`,
    });
    expect(buildWorkflowProblem(elsewhere, rules('.github/workflows/release.yml'))).toContain('not a workflow of');
  });

  it('takes workflows on identities.build only', () => {
    expect(() =>
      parsePolicy(
        `version: 1
identities:
  build: { issuer: ${ISSUER}, san: ${BUILD_SAN} }
  sign: { issuer: ${ISSUER}, san: ${SIGN_SAN}, workflows: [.github/workflows/release.yml] }
`,
        'org-policy.yml',
      ),
    ).toThrow('identities.sign.workflows: only identities.build takes workflows');
  });
});
