// An honest release, signed under the org policy (review.reviewed-history on, as docs/policy.example.yml) and the app
// repository's own .twokey/policy.yml (min-approvals: 2, as docs/repository-policy.example.yml), judged where that
// repository policy is not read: `twokey verify --policy ORG` without --repository-policy, and the deploy gate of a
// deployment repository (deploy.repositories: [acme/app]) with no policy of its own. Its walk was judged under stricter
// rules than those judging it there, and is taken (the gate first asked the very same rules, and refused every such
// release); a walk judged under looser ones is not (test/sign/old-sign-version-walk.test.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readDeployReport } from '@twokey/core';
import { identity, runAction } from '@twokey/testkit';
import { describe, expect, it } from 'vitest';
import {
  ARTIFACT,
  alice,
  anAppRepository,
  bob,
  carol,
  dave,
  ISSUER,
  merge,
  REPO_ROOT,
  useWalkStack,
} from '../sign/walk-harness';

const BUILD_WORKFLOW = 'acme/platform/.github/workflows/build.yml@refs/tags/v1';
const SIGN_WORKFLOW = 'acme/platform/.github/workflows/sign.yml@refs/tags/v1';
const ORG = 'org-policy.yml';

const harness = useWalkStack('twokey-e2e-other-policy', ({ workspace, stack }) => {
  mkdirSync(join(workspace, '.twokey'), { recursive: true });
  writeFileSync(join(workspace, ARTIFACT), `honest app ${'x'.repeat(2048)}\n`);
  writeFileSync(
    join(workspace, ORG),
    `version: 1
identities:
  build:
    issuer: ${ISSUER}
    san: https://github.com/${BUILD_WORKFLOW}
  sign:
    issuer: ${ISSUER}
    san: https://github.com/${SIGN_WORKFLOW}
review:
  min-approvals: 1
  reviewed-history: true
  history-since: 2026-03-01
deploy:
  max-age: 1d
  trusted-root: ${stack.trustedRootPath}
  repositories: [acme/app]
`,
  );
  // The app repository tightens the org policy, as docs/repository-policy.example.yml does.
  writeFileSync(join(workspace, '.twokey', 'policy.yml'), 'version: 1\nreview:\n  min-approvals: 2\n');
});

describe('reviewed-history: an honest release judged where its repository policy is not read', () => {
  it('passes twokey verify without --repository-policy and a deployment repository’s gate', async () => {
    const repo = anAppRepository();
    merge(repo, alice, [bob, dave], 'Feature', 1); // two approvals: passes under every policy here
    const h = merge(repo, carol, [bob, dave], 'Changelog', 5);
    await harness.serve(repo);

    const provenance = (await harness.build(h, BUILD_WORKFLOW)).outputs['bundle-path']!;
    const signed = await harness.sign({
      provenance,
      sha: h,
      policy: ORG,
      workflow: SIGN_WORKFLOW,
      repositoryPolicy: '.twokey/policy.yml',
    });
    expect(signed.exitCode, signed.log).toBe(0);
    const bundles = harness.bundlesOf(provenance, signed);
    const { workspace } = harness;
    const verify = (...extra: string[]) =>
      harness.twokey(
        'verify',
        join(workspace, ARTIFACT),
        '--policy',
        join(workspace, ORG),
        '--bundle',
        bundles,
        '--repo',
        'acme/app',
        '--json',
        ...extra,
      );

    // Control: judged with the same pair the sign stage used, the release passes.
    const same = await verify('--repository-policy', join(workspace, '.twokey', 'policy.yml'));
    expect(same.status, same.stdout + same.stderr).toBe(0);

    // The org policy alone (looser than what the release was judged under): it passes there too.
    const orgOnly = await verify();
    expect(orgOnly.status, orgOnly.stdout + orgOnly.stderr).toBe(0);
    expect(readDeployReport(orgOnly.stdout, 'verify').verdict).toBe('pass');

    // A deployment repository (deploy.repositories: [acme/app]) with no repository policy of its own.
    const gate = await runAction(REPO_ROOT, {
      with: { 'subject-path': ARTIFACT, bundles, policy: ORG, record: 'false', ...harness.endpoints() },
      identity: identity('acme/deployer', '.github/workflows/deploy.yml', 'refs/heads/main', 'd'.repeat(40), {
        environment: 'production',
      }),
      oidc: harness.issuer,
      workspace,
    });
    expect(gate.outputs.verified, gate.log).toBe('true');
  }, 600_000);
});
