// sigstore-python's test assets: staging and production bundles, Rekor v2, RFC 3161 timestamps, malformed bundles.
import { describeSuite } from './suite-runner';

describeSuite('sigstore-python', {
  cases: 19,
  refusals: {
    bundle_cve_2022_36056: 'TLOG_INVALID',
    // @sigstore/bundle refuses a v0.1 message digest of zero bytes when it parses the bundle.
    'derived/empty-message-digest': 'BUNDLE_MALFORMED',
    'tsa/bundle-threshold-3': 'TIMESTAMP_INVALID',
    'tsa/many-timestamps': 'TIMESTAMP_INVALID',
    'tsa/duplicate-timestamps': 'TIMESTAMP_INVALID',
    'tsa/late-timestamp': 'TIMESTAMP_INVALID',
    'bundle_invalid_version.txt': 'BUNDLE_MEDIA_TYPE',
    'bundle_no_cert_v1.txt': 'BUNDLE_MALFORMED',
    // A production bundle, checked here against the staging root: its certificate chains to none of that root's CAs.
    'bundle_no_log_entry.txt': 'CERTIFICATE_CHAIN_UNTRUSTED',
    'bundle_no_checkpoint.txt': 'BUNDLE_MALFORMED',
    'bundle_v3_no_signed_time.txt': 'TIMESTAMP_INVALID',
  },
  decisions: {
    'integration/Python-3.12.5.tgz': {
      verdict: 'fail',
      code: 'BUNDLE_MALFORMED',
      why:
        'Its inclusion proof has no checkpoint, so the proof it carries cannot be verified: refused as malformed, as ' +
        'sigstore-python refuses it (sigstore-js fails on it too); accepting it on the SET alone would ignore that proof.',
    },
  },
});
