// sigstore-js's own fixtures (client and verify packages) and its real production bundles.
import { describeSuite } from './suite-runner';

describeSuite('sigstore-js', {
  cases: 31,
  refusals: {
    'client/signature-mismatch-empty-artifact': 'ARTIFACT_MISMATCH',
    'client/invalid-v1-messageSignature-invalidExpiredCert': 'CERTIFICATE_INVALID',
    'client/invalid-v1-dsse-invalidBadSignature': 'TLOG_INVALID',
    'verify/policy-mismatch-key-signed': 'IDENTITY_MISMATCH',
    'verify/derived-duplicate-tlog-entries': 'TIMESTAMP_INVALID',
    // @sigstore/bundle refuses a v0.1 entry with neither inclusion promise nor proof when it parses the bundle.
    'verify/derived-no-inclusion-promise': 'BUNDLE_MALFORMED',
    'verify/wrong-artifact': 'ARTIFACT_MISMATCH',
  },
  decisions: {
    'client/derived-v0.4-mediatype': {
      verdict: 'fail',
      code: 'BUNDLE_MEDIA_TYPE',
      why:
        'An unknown bundle version is refused, not read as the nearest known one (sigstore-conformance ' +
        'bundle-unknown-version_fail requires it); the case calls sigstore-js accepting 0.4 a policy, not a requirement.',
    },
  },
});
