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

const verify = (...flags: string[]) =>
  runCli(['verify-bundle', '--bundle', BUNDLE, '--trusted-root', 'github', ...flags, WHEEL], repoRoot);

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
    ['a source check without a signer', ['--source-ref', 'refs/heads/main'], 'need a signer'],
  ])('refuses %s as a usage error', async (_name, flags, words) => {
    const result = await verify(...flags);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(words);
  });
});
