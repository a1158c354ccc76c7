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
  'gate_first_run_ratio_vs_sigstore_js',
  'batch_speedup_vs_sigstore_js',
  'batch_fraction_of_crypto_limit',
  'batch_peak_rss_ratio',
  'sign_api_requests',
  'action_cold_start_ratio_vs_attest',
  'action_cold_start_ms',
  'dist_kb',
  'report_vs_sigstore_js',
  'details',
  'errors',
] as const;

/** What each part of the bench measures (`--only`), and when each was last measured (`details.measured_at`). */
export const PARTS = ['hash', 'startup', 'batch', 'sign-api', 'report'] as const;
export type Part = (typeof PARTS)[number];

/** The keys of results.json each part writes: a run that leaves a part out keeps these from the file it updates. */
export const PART_KEYS: Record<Part, readonly string[]> = {
  hash: ['hash_ratio_vs_openssl', 'hash_peak_rss_mb'],
  startup: [
    'gate_ratio_vs_sigstore_js',
    'gate_first_run_ratio_vs_sigstore_js',
    'action_cold_start_ratio_vs_attest',
    'action_cold_start_ms',
    'dist_kb',
  ],
  batch: ['batch_speedup_vs_sigstore_js', 'batch_fraction_of_crypto_limit', 'batch_peak_rss_ratio'],
  'sign-api': ['sign_api_requests'],
  report: ['report_vs_sigstore_js'],
};

/** The details each part writes (`details.<key>`), kept with its figures. */
export const PART_DETAILS: Record<Part, readonly string[]> = {
  hash: ['hash'],
  startup: ['gate', 'gate_samples_ms', 'actions', 'action_samples_ms', 'cli_kb', 'code_cache'],
  batch: ['corpus', 'batch', 'crypto_limit'],
  'sign-api': ['sign_api'],
  report: ['report'],
};

/** The issues' targets, on a 2-core machine ("Near the limit", "`twokey report`"). */
export const TARGETS = {
  hash_ratio_vs_openssl: '≤ 1.02',
  hash_peak_rss_mb: '≤ 64',
  gate_ratio_vs_sigstore_js: '≤ 0.5',
  gate_first_run_ratio_vs_sigstore_js: '≤ 0.8',
  batch_speedup_vs_sigstore_js: '≥ 1.8',
  batch_fraction_of_crypto_limit: '≥ 0.25',
  batch_peak_rss_ratio: '≤ 1.0',
  sign_api_requests: '≤ 3 / ≤ 5',
  action_cold_start_ratio_vs_attest: '≤ 0.6',
  report_vs_sigstore_js: '100,000 bundles in minutes',
} as const;

/** The error a figure carries while the CLI has no `verify` command. */
export const VERIFY_UNAVAILABLE = 'twokey verify not available';
