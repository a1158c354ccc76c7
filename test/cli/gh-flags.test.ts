// `twokey verify-bundle` with gh attestation verify's flags (issue 15), on a real GitHub-signed provenance: the signer
// by its workflow file or its repository, the issuer (GitHub Actions' by default), the source ref and commit, hosted
// runners only, the predicate type. Each value is quoted into an anchored pattern: a prefix, a near miss or a regular
// expression in a value never passes.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conformanceRoot, repoRoot } from '../conformance/paths';
import { runCli } from '../conformance/run-cli';

const gh = join(conformanceRoot, 'gh-cli-attestation');
const BUNDLE = join(gh, 'derived', 'github_provenance_demo-0.0.12-py3-none-any-bundle.0.sigstore.json');
const WHEEL = join(gh, 'pkg', 'cmd', 'attestation', 'test', 'data', 'github_provenance_demo-0.0.12-py3-none-any.whl');
const WORKFLOW = 'actions/attest-demo/.github/workflows/build-python.yml';

/** verify-bundle with these flags, and gh's --owner unless they name whose run it must be themselves. */
const verify = (...flags: string[]) =>
  runCli(
    [
      'verify-bundle',
      '--bundle',
      BUNDLE,
      '--trusted-root',
      'github',
      ...flags,
      ...(flags.includes('--owner') || flags.includes('--repo') || flags.includes('--no-owner')
        ? []
        : ['--owner', 'actions']),
      WHEEL,
    ].filter((flag) => flag !== '--no-owner'),
    repoRoot,
  );

// A reusable workflow's run: github/artifact-attestations-workflows' attest.yml, called by malancas/attest-demo (gh's
// own test data). Its SAN and Build Signer URI name the called workflow whoever calls it.
const REUSABLE = join(gh, 'pkg', 'cmd', 'attestation', 'test', 'data', 'reusable-workflow-attestation.sigstore.json');
const REUSABLE_ARTIFACT = join(gh, 'pkg', 'cmd', 'attestation', 'test', 'data', 'reusable-workflow-artifact');
const REUSED = 'github/artifact-attestations-workflows/.github/workflows/attest.yml';
const reusable = (...flags: string[]) =>
  runCli(
    [
      'verify-bundle',
      '--bundle',
      REUSABLE,
      '--trusted-root',
      join(conformanceRoot, 'production-trust-root', 'trusted_root.json'),
      ...flags,
      REUSABLE_ARTIFACT,
    ],
    repoRoot,
  );

describe('whose run a reusable workflow signed in: --owner and --repo, as gh requires', () => {
  it('verifies the caller named by --owner or --repo', async () => {
    for (const flags of [
      ['--owner', 'malancas'],
      ['--repo', 'malancas/attest-demo'],
      ['--owner', 'malancas', '--repo', 'malancas/attest-demo'],
    ]) {
      const result = await reusable('--signer-workflow', REUSED, ...flags);
      expect(result.status, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/Source repository: +https:\/\/github\.com\/malancas\/attest-demo\n/);
    }
  });

  it('refuses another caller of the same workflow: the workflow’s own owner, or a repository of its owner', async () => {
    for (const flags of [
      ['--signer-workflow', REUSED, '--owner', 'github'],
      ['--signer-workflow', REUSED, '--repo', 'github/artifact-attestations-workflows'],
      ['--signer-repo', 'github/artifact-attestations-workflows', '--owner', 'github'],
    ]) {
      const result = await reusable(...flags);
      expect(result.status, result.stdout).toBe(1);
      expect(result.stderr).toMatch(/^error EXTENSION_MISMATCH: .*sourceRepository/);
    }
  });

  it('refuses --signer-workflow or --signer-repo without --owner or --repo (any repository could have called it)', async () => {
    for (const flags of [
      ['--signer-workflow', REUSED],
      ['--signer-repo', 'github/artifact-attestations-workflows'],
    ]) {
      const result = await reusable(...flags);
      expect(result.status).toBe(2);
      expect(result.stderr).toContain('need --owner OWNER or --repo OWNER/REPO, whose run it must be');
    }
  });
});

describe('gh attestation verify’s flags on verify-bundle', () => {
  it.each([
    ['--signer-workflow OWNER/REPO/PATH', ['--signer-workflow', WORKFLOW]],
    ['--signer-workflow HOST/OWNER/REPO/PATH', ['--signer-workflow', `github.com/${WORKFLOW}`]],
    ['--signer-repo', ['--signer-repo', 'actions/attest-demo']],
    [
      'every check at once',
      [
        '--signer-repo',
        'actions/attest-demo',
        '--cert-oidc-issuer',
        'https://token.actions.githubusercontent.com',
        '--source-ref',
        'refs/heads/main',
        '--source-digest',
        'a6c23b9806c593664f68637c8f9d45dfcf98b2db',
        '--deny-self-hosted-runners',
        '--predicate-type',
        'https://slsa.dev/provenance/v1',
      ],
    ],
  ])('verifies with %s', async (_name, flags) => {
    const result = await verify(...flags);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('Verified OK');
  });

  it.each([
    ['a workflow that is a prefix of the signer’s', ['--signer-workflow', WORKFLOW.slice(0, -1)], 'IDENTITY_MISMATCH'],
    [
      'a workflow given as a pattern',
      ['--signer-workflow', 'actions/attest-demo/.github/workflows/.*'],
      'IDENTITY_MISMATCH',
    ],
    ['a repository that is a prefix of the signer’s', ['--signer-repo', 'actions/attest-dem'], 'IDENTITY_MISMATCH'],
    [
      'another issuer',
      ['--signer-repo', 'actions/attest-demo', '--cert-oidc-issuer', 'https://example.com'],
      'ISSUER_MISMATCH',
    ],
    [
      'another source ref',
      ['--signer-repo', 'actions/attest-demo', '--source-ref', 'refs/heads/dev'],
      'EXTENSION_MISMATCH',
    ],
    [
      'another source commit',
      ['--signer-repo', 'actions/attest-demo', '--source-digest', '0'.repeat(40)],
      'EXTENSION_MISMATCH',
    ],
    [
      'another predicate type',
      ['--signer-repo', 'actions/attest-demo', '--predicate-type', 'https://example.com/x'],
      'PAYLOAD_INVALID',
    ],
  ])('refuses %s', async (_name, flags, code) => {
    const result = await verify(...flags);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^error ${code}: `));
  });

  it.each([
    ['both signer flags', ['--signer-workflow', WORKFLOW, '--signer-repo', 'actions/attest-demo'], 'not both'],
    [
      'a signer flag with --certificate-identity',
      ['--signer-repo', 'actions/attest-demo', '--certificate-identity', 'x'],
      'not both',
    ],
    [
      'a workflow without its path',
      ['--signer-workflow', 'actions/attest-demo'],
      'expected [HOST/]OWNER/REPO/PATH/TO/WORKFLOW',
    ],
    ['a repository with a path', ['--signer-repo', 'actions/attest-demo/x'], 'expected OWNER/REPO'],
    ['an empty source ref', ['--signer-repo', 'actions/attest-demo', '--source-ref', ''], '--source-ref: empty'],
    ['a source check without a signer', ['--source-ref', 'refs/heads/main', '--no-owner'], 'need a signer'],
    ['--owner without a signer', ['--owner', 'actions'], 'need a signer'],
    [
      'a repository that is no OWNER/REPO',
      ['--signer-repo', 'actions/attest-demo', '--repo', 'actions'],
      'expected OWNER/REPO',
    ],
  ])('refuses %s as a usage error', async (_name, flags, words) => {
    const result = await verify(...flags);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(words);
  });
});
