// `npm run bench` is not a test: this runs it once in tiny mode (a few artifacts, one run, a small file, results in a
// temporary file) so that the harness cannot rot. It checks the shape of what it writes, never a timing.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RESULT_KEYS } from '../../bench/results';

const root = resolve(import.meta.dirname, '..', '..');

describe('the benchmark harness', () => {
  it('runs in tiny mode and writes results with every figure', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'twokey-bench-test-')), 'results.json');
    const run = spawnSync(process.execPath, [join(root, 'bench', 'run.mjs'), '--tiny', '--out', out], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(run.stderr).not.toMatch(/failed:/);
    expect(run.status).toBe(0);

    const results = JSON.parse(readFileSync(out, 'utf8'));
    for (const key of RESULT_KEYS) expect(results).toHaveProperty(key);
    expect(results.mode).toBe('tiny');
    expect(results.machine).toMatchObject({ cores: expect.any(Number), node: process.version });
    expect(Object.keys(results.action_cold_start_ms).length).toBeGreaterThan(0);
    expect(Object.keys(results.dist_kb)).toEqual(Object.keys(results.action_cold_start_ms));
    for (const figure of [
      'hash_ratio_vs_openssl',
      'hash_peak_rss_mb',
      'gate_ratio_vs_sigstore_js',
      'gate_first_run_ratio_vs_sigstore_js',
      'batch_speedup_vs_sigstore_js',
      'batch_fraction_of_crypto_limit',
      'batch_peak_rss_ratio',
      'action_cold_start_ratio_vs_attest',
    ]) {
      expect(results[figure], figure).toEqual(expect.any(Number));
    }
    // The sign stage's requests, counted by the GitHub fake (a count, not a timing: it holds in tiny mode too).
    expect(results.sign_api_requests).toEqual({ simple: expect.any(Number), reviews_125: expect.any(Number) });
    expect(results.sign_api_requests.simple).toBeLessThanOrEqual(3);
    expect(results.sign_api_requests.reviews_125).toBeLessThanOrEqual(5);
    // The report over a small generated history, every bundle verified and counted by both contenders.
    expect(results.report_vs_sigstore_js).toMatchObject({
      bundles: expect.any(Number),
      report_peak_rss_mb: expect.any(Number),
      sigstore_js_peak_rss_mb: expect.any(Number),
    });
    // Every part was measured by this run.
    expect(Object.keys(results.details.measured_at).sort()).toEqual(
      ['batch', 'hash', 'report', 'sign-api', 'startup'].sort(),
    );
    // twokey verify and the sigstore-js loop agreed on every artifact (the forged one refused by both).
    expect(results.details.batch).toMatchObject({ verdicts_identical: true, refused_artifacts: 1 });
    expect(results.errors).toEqual({});
    // The table the README's Performance section shows.
    expect(run.stdout).toMatch(/^\| figure \| value \| target \| measured \|$/m);
    expect(run.stdout).toContain('hash_ratio_vs_openssl');
  }, 240_000);
});
