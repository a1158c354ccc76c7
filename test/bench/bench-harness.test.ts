// `npm run bench` is not a test: this runs it once in tiny mode (a few artifacts, one run, a small file, results in a
// temporary file) so that the harness cannot rot. It checks the shape of what it writes, never a timing.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RESULT_KEYS, VERIFY_UNAVAILABLE } from '../../bench/results';

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
    expect(results.hash_ratio_vs_openssl).toEqual(expect.any(Number));
    expect(results.hash_peak_rss_mb).toEqual(expect.any(Number));
    for (const error of Object.values(results.errors)) expect(error).toBe(VERIFY_UNAVAILABLE);
    // The table the README's Performance section shows.
    expect(run.stdout).toMatch(/^\| figure \| value \| target \| measured \|$/m);
    expect(run.stdout).toContain('hash_ratio_vs_openssl');
  }, 60_000);
});
