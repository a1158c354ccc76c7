// `gh attestation verify`'s test data: real GitHub artifact attestations, with gh's owner/repo extension checks.
import { describeSuite } from './suite-runner';

describeSuite('gh-cli-attestation', {
  cases: 17,
  refusals: {
    'sigstore-js-2.1.0/wrong-repo': 'EXTENSION_MISMATCH',
    'sigstore-js-2.1.0/wrong-owner': 'EXTENSION_MISMATCH',
    'invalid-signature': 'TLOG_INVALID',
    'malformed/missing-verification-material': 'BUNDLE_MALFORMED',
    'malformed/missing-cert': 'BUNDLE_MALFORMED',
    'custom-issuer/plain-actions-issuer': 'ISSUER_MISMATCH',
    'reusable-workflow/wrong-signer-workflow': 'IDENTITY_MISMATCH',
  },
  decisions: {
    'sigstore-js-2.1.0/bundle-v0.1': {
      verdict: 'pass',
      why:
        'gh refuses bundles older than v0.2 by its own policy; the bundle is cryptographically valid, and twokey ' +
        'verify-bundle must accept v0.1 (issue 2; sigstore-conformance happy-path-v0.1 and sigstore-js tests-bundles expect pass).',
    },
    'github-instance/provenance-demo': {
      verdict: 'fail',
      code: 'CERTIFICATE_CHAIN_UNTRUSTED',
      why:
        "Signed by GitHub's private Sigstore instance, whose TSA and CA are not in the public-good root; GitHub's root " +
        'comes from tuf-repo.github.com (network). Against the public-good root it must fail closed, and does.',
    },
  },
});
