// The shape of bench/results.json, shared by the bench and the test that runs it once in tiny mode.

/** Every top-level key results.json carries. */
export const RESULT_KEYS = [
  'date',
  'mode',
  'machine',
  'runs',
  'hash_ratio_vs_openssl',
  'hash_peak_rss_mb',
  'gate_ratio_vs_sigstore_js',
  'batch_speedup_vs_sigstore_js',
  'batch_fraction_of_crypto_limit',
  'batch_peak_rss_ratio',
  'action_cold_start_ms',
  'dist_kb',
  'details',
  'errors',
] as const;

/** The targets, on a 2-core machine. */
export const TARGETS = {
  hash_ratio_vs_openssl: '≤ 1.10',
  hash_peak_rss_mb: '≤ 100',
  gate_ratio_vs_sigstore_js: '≤ 1.0',
  batch_speedup_vs_sigstore_js: '≥ 1.8',
  batch_fraction_of_crypto_limit: '≥ 0.25',
  batch_peak_rss_ratio: '≤ 1.0',
} as const;

/** The error a figure carries while the CLI has no `verify` command. */
export const VERIFY_UNAVAILABLE = 'twokey verify not available';
