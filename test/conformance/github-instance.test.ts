// GitHub's own Sigstore instance (../shared/github-instance): real bundles signed by fulcio.githubapp.com and stamped
// by timestamp.githubapp.com, with no transparency log and no SCT — a GitHub-signed release attestation whose
// certificate carries no OIDC issuer at all, and a 2024 provenance of a private-instance build.
import { resolve } from 'node:path';
import { repoRoot } from './paths';
import { describeSuite } from './suite-runner';

describeSuite('github-instance', {
  root: resolve(repoRoot, '..', 'shared'),
  cases: 12,
  refusals: {
    'release-gh-2.96.0/wrong-digest': 'ARTIFACT_MISMATCH',
    'release-gh-2.96.0/wrong-san': 'IDENTITY_MISMATCH',
    'release-gh-2.96.0/san-prefix': 'IDENTITY_MISMATCH',
    'release-gh-2.96.0/issuer-required-but-absent': 'ISSUER_MISMATCH',
    'release-gh-2.96.0/public-good-root': 'CERTIFICATE_CHAIN_UNTRUSTED',
    'provenance-demo-2024/wrong-digest': 'ARTIFACT_MISMATCH',
    'provenance-demo-2024/wrong-san': 'IDENTITY_MISMATCH',
    'provenance-demo-2024/wrong-issuer': 'ISSUER_MISMATCH',
    'provenance-demo-2024/public-good-root': 'CERTIFICATE_CHAIN_UNTRUSTED',
  },
});
