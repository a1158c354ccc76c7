// The sign stage's moving baseline takes a review attestation from the repository's store as the last reviewed point
// of the branch only when the policy's sign identity signed it — and, as every other reader holds it, a signer that
// is also another identity of the policy (patterns that overlap, which the policy's load does not always tell) is none
// of them (threat model, row 254; found by the review of this stop's fixes). The store is the GitHub fake's; the
// verifier stands in for Sigstore and says who signed, so what is judged is the signer alone.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePolicy, reviewedCommitDigest, type VerifiedBundle } from '@twokey/core';
import { attestedBaselines } from '@twokey/github';
import { aGitHubState, aRepository, startGitHubFake } from '@twokey/testkit';
import { describe, expect, it } from 'vitest';
import { ISSUER, POLICY_TEXT, policy, SIGN_SAN, signSigner } from '../../packages/core/src/__fixtures__/bundles';
import { realdataRoot } from '../conformance/paths';

const commit = 'c'.repeat(40);
const hex = reviewedCommitDigest('https://github.com/acme/app', 'refs/heads/main', commit);
const bundle = JSON.parse(readFileSync(join(realdataRoot, 'reusable-workflow-attestation.sigstore.json'), 'utf8'));

const overlapping = parsePolicy(
  POLICY_TEXT.replace(
    '\ndeploy:\n',
    `\n  deploy:\n    issuer: ${ISSUER}\n    san-pattern: 'https://github\\.com/acme/platform/\\.github/workflows/[a-z]+\\.yml@refs/heads/main'\ndeploy:\n`,
  ),
  'org-policy.yml',
);

async function lookUp(policy: typeof overlapping) {
  const app = aRepository('acme/app');
  app.attestations = [{ subjects: [`sha256:${hex}`], bundle }];
  const fake = await startGitHubFake(aGitHubState(app));
  try {
    const signed = { source: 'store', kind: 'dsse', signer: signSigner, signedAt: [] } as unknown as VerifiedBundle;
    return await attestedBaselines({
      store: { apiUrl: fake.url, token: 'ghp_sign_job', repository: 'acme/app' },
      serverUrl: 'https://github.com',
      verifier: { verify: () => signed } as never,
      identities: policy.identities,
      since: '2024-01-01T00:00:00Z',
      rules: policy.review,
    })({ repository: 'acme/app', ref: 'refs/heads/main', commit });
  } finally {
    await fake.close();
  }
}

describe('the moving baseline’s signer', () => {
  it('is refused when it is also the deploy identity of the policy', async () => {
    const found = await lookUp(overlapping);
    expect(found).toEqual({
      reason: expect.stringContaining(`signed by ${SIGN_SAN}, which is also the deploy identity of the policy`),
    });
    // Under the policy whose identities are apart, the same signer is the sign identity: judged on (here, refused
    // for what the stand-in lacks: a statement).
    const apart = await lookUp(policy);
    expect(apart).toEqual({ reason: expect.stringContaining('not an in-toto statement') });
    expect(JSON.stringify(apart)).not.toContain('identity of the policy');
  });
});
