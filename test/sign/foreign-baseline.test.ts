// review.reviewed-history's moving baseline, laundered: a review attestation by the sign identity counted as a baseline
// without asking which repository's sign run made it, or under which rules. The sign workflow is shared (an org
// policy serves every repository; its SAN is the same whoever calls it), and old versions stay listed while the
// platform upgrades. So alice:
// A. calls the shared sign workflow from a repository she administers (acme/sandbox, no repository policy) on
//    acme/app's genuine provenance of her merge M_L, which acme/app's own policy refuses (two approvals; she had one),
//    and stores the review attestation it signs in acme/app's attestation store (any writer may);
// B. or calls sign v1 (still listed in the org policy at v2's commit; its own org policy asks one approval) from a
//    branch of acme/app, which stores its attestation itself.
// Either way the walk of carol's harmless, twice-approved H on top stopped at M_L, "an attested baseline", and H — and
// M_L inside it — was signed (and passed the deploy gate). A baseline must now be a run in the built repository that
// judged under the policy's own review rules, and its review must pass under them: the walk goes on, and refuses M_L.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alice, anAppRepository, bob, carol, dave, ISSUER, merge, reviewBundleOf, useWalkStack } from './walk-harness';

const BUILD_WORKFLOW = 'acme/platform/.github/workflows/build.yml@refs/heads/main';
const SIGN_WORKFLOW = 'acme/platform/.github/workflows/sign.yml@refs/heads/main';
const ORG_POLICY = 'org-policy.yml';
const APP_POLICY = 'repository-policy/.twokey/policy.yml';
const SIGN_V1 = 'acme/platform/.github/workflows/sign.yml@refs/tags/v1';
const SIGN_V2 = 'acme/platform/.github/workflows/sign.yml@refs/tags/v2';
const NEW_POLICY = 'org-policy-v2.yml';
const OLD_POLICY = 'org-policy-v1.yml';

const harness = useWalkStack('foreign-baseline', ({ workspace, stack }) => {
  mkdirSync(join(workspace, 'repository-policy', '.twokey'), { recursive: true });
  writeFileSync(join(workspace, 'dist', 'app.tar.gz'), `app ${'x'.repeat(2048)}\n`);
  // The org policy, shaped as docs/policy.example.yml: sign not pinned to a repository; a deployment repository ships
  // acme/app and acme/billing.
  writeFileSync(
    join(workspace, ORG_POLICY),
    `version: 1
identities:
  build:
    issuer: ${ISSUER}
    san: https://github.com/${BUILD_WORKFLOW}
  sign:
    issuer: ${ISSUER}
    san: https://github.com/${SIGN_WORKFLOW}
review:
  reviewed-history: true
  history-since: 2026-03-01
deploy:
  max-age: 1d
  trusted-root: ${stack.trustedRootPath}
  repositories: [acme/app, acme/billing]
`,
  );
  // Variant B: the platform's upgrade window (docs/policy.example.yml: "add the new version beside the old one"). The
  // sign workflow v2 (its org policy at its own commit) asks two approvals and still accepts v1's SAN; v1's org policy
  // (at v1's commit) asks one.
  writeFileSync(
    join(workspace, NEW_POLICY),
    `version: 1
identities:
  build:
    issuer: ${ISSUER}
    san: https://github.com/${BUILD_WORKFLOW}
  sign:
    issuer: ${ISSUER}
    san: [https://github.com/${SIGN_V1}, https://github.com/${SIGN_V2}]
review:
  min-approvals: 2
  reviewed-history: true
  history-since: 2026-03-01
deploy:
  max-age: 1d
  trusted-root: ${stack.trustedRootPath}
`,
  );
  writeFileSync(
    join(workspace, OLD_POLICY),
    `version: 1
identities:
  build:
    issuer: ${ISSUER}
    san: https://github.com/${BUILD_WORKFLOW}
  sign:
    issuer: ${ISSUER}
    san: https://github.com/${SIGN_V1}
review:
  reviewed-history: true
  history-since: 2026-03-01
deploy:
  max-age: 1d
  trusted-root: ${stack.trustedRootPath}
`,
  );
  // acme/app's own policy (its default branch): two independent approvals.
  writeFileSync(join(workspace, APP_POLICY), 'version: 1\nreview:\n  min-approvals: 2\n');
});

const build = async (commit: string) => (await harness.build(commit, BUILD_WORKFLOW)).outputs['bundle-path']!;

/** The shared sign workflow run in `repository` (its caller's), on `provenance`. */
function sign(
  repository: string,
  provenance: string,
  repositoryPolicy: boolean,
  store: boolean,
  sha: string,
  { policy = ORG_POLICY, workflow = SIGN_WORKFLOW, ref = 'refs/heads/main' } = {},
) {
  return harness.sign({
    provenance,
    sha,
    policy,
    workflow,
    repository,
    ref,
    store,
    ...(repositoryPolicy && { repositoryPolicy: APP_POLICY }),
  });
}

describe('review.reviewed-history: a baseline signed elsewhere or under other rules does not count', () => {
  it("A: the shared sign workflow run in alice's own repository, its review stored in acme/app's store: H is refused, judged down to M_L", async () => {
    const repo = anAppRepository();
    const mL = merge(repo, alice, [bob], 'Tidy (backdoor)', 1); // one approval
    const h = merge(repo, carol, [bob, dave], 'Bump the changelog date', 5); // two approvals
    const github = await harness.serve(repo);

    // Control 1: acme/app's own sign run refuses M_L (1 approval, min 2).
    const provenanceML = await build(mL);
    const appSignsML = await sign('acme/app', provenanceML, true, true, mL);
    expect(appSignsML.exitCode, appSignsML.log).not.toBe(0);
    expect(appSignsML.log).toContain('min-independent-approvals: expected at least 2, found 1');

    // Control 2: H is refused — its walk judges M_L under acme/app's rules.
    const provenanceH = await build(h);
    const refusedH = await sign('acme/app', provenanceH, true, true, h);
    expect(refusedH.exitCode, refusedH.log).not.toBe(0);
    expect(refusedH.log).toContain(`pr_merge of ${mL.slice(0, 12)}`);

    // The attack: the shared sign workflow called from alice's acme/sandbox (no repository policy there), on acme/app's
    // genuine provenance of M_L: it signs M_L's review under the org policy alone.
    const sandbox = await sign('acme/sandbox', provenanceML, false, false, 'f'.repeat(40));
    expect(sandbox.exitCode, sandbox.log).toBe(0);
    const foreign = JSON.parse(readFileSync(reviewBundleOf(sandbox), 'utf8'));

    // alice, a writer of acme/app, stores it in acme/app's attestation store.
    const stored = await fetch(`${github.url}/repos/acme/app/attestations`, {
      method: 'POST',
      headers: { authorization: 'Bearer ghs_alice_writer', 'content-type': 'application/json' },
      body: JSON.stringify({ bundle: foreign }),
    });
    expect(stored.status).toBe(201);

    // H again, in acme/app, under acme/app's policy: the stored review is no baseline, the walk judges M_L and refuses.
    const signedH = await sign('acme/app', provenanceH, true, true, h);
    expect(signedH.exitCode, signedH.log).not.toBe(0);
    expect(signedH.outputs['bundle-paths'] ?? '').toBe('');
    expect(signedH.log).toContain(`pr_merge of ${mL.slice(0, 12)}`);
    expect(signedH.log).toContain(`fails min-independent-approvals (expected at least 2, found 1 independent approval`);
  }, 600_000);

  it("B: sign v1, still listed, run from alice's branch of acme/app under v1's looser org policy: H is refused by v2, judged down to M_L", async () => {
    const repo = anAppRepository();
    const mL = merge(repo, alice, [bob], 'Tidy (backdoor)', 11);
    const h = merge(repo, carol, [bob, dave], 'Bump the changelog date', 15);
    await harness.serve(repo);
    const v2 = { policy: NEW_POLICY, workflow: SIGN_V2 };

    const provenanceML = await build(mL);
    const provenanceH = await build(h);
    // Controls: v2 refuses M_L itself, and H (its walk judges M_L).
    const v2ML = await sign('acme/app', provenanceML, false, true, mL, v2);
    expect(v2ML.exitCode, v2ML.log).not.toBe(0);
    expect(v2ML.log).toContain('min-independent-approvals: expected at least 2, found 1');
    const refusedH = await sign('acme/app', provenanceH, false, true, h, v2);
    expect(refusedH.exitCode, refusedH.log).not.toBe(0);

    // alice's branch carries a workflow calling sign.yml@v1 on main's provenance of M_L (row 81: any caller may);
    // it stores its review attestation in acme/app's store itself (store-attestations: true).
    const v1 = await sign('acme/app', provenanceML, false, true, 'e'.repeat(40), {
      policy: OLD_POLICY,
      workflow: SIGN_V1,
      ref: 'refs/heads/alice-tools',
    });
    expect(v1.exitCode, v1.log).toBe(0);

    // main's release (sign v2) of H: v1's review of M_L is no baseline, the walk judges M_L and refuses.
    const signedH = await sign('acme/app', provenanceH, false, true, h, v2);
    expect(signedH.exitCode, signedH.log).not.toBe(0);
    expect(signedH.outputs['bundle-paths'] ?? '').toBe('');
    expect(signedH.log).toContain(`pr_merge of ${mL.slice(0, 12)}`);
    expect(signedH.log).toContain(`fails min-independent-approvals (expected at least 2, found 1 independent approval`);
  }, 600_000);
});
