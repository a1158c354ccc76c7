// `npm run bench`: twokey measured against its peers in the same run (openssl for hashing, sigstore-js for
// verification), writing bench/results.json and printing a table. `--tiny` (what `npm test` runs once) does every
// step on a few artifacts, once, and writes to a temporary file: it proves the harness works and times nothing.
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readDeployReport } from '@twokey/core';
import { type Corpus, type CorpusArtifact, corpusOf, makeCorpus } from './corpus';
import { checksPerBundle, limitBundlesPerSecond, measureVerifyRates, type VerifyRates } from './crypto-limit';
import { alternate, median, timeProcess } from './measure';
import { PART_DETAILS, PART_KEYS, PARTS, type Part, TARGETS, VERIFY_UNAVAILABLE } from './results';
import { measureSignApiRequests } from './sign-api';
import { startupFigures } from './startup';

interface Mode {
  name: 'full' | 'tiny';
  /** `twokey report`'s figure: bundles of the generated organisation history, and alternated runs. */
  reportBundles: number;
  reportRuns: number;
  /** Measured runs per figure (after one warm-up run in full mode). */
  runs: number;
  /** The gate is ~0.2 s a run: more runs for the same confidence. */
  gateRuns: number;
  warmUp: boolean;
  artifacts: number;
  hashBytes: number;
  cacheDir: string;
  out: string;
}

const { values: options } = parseArgs({
  options: {
    tiny: { type: 'boolean', default: false },
    out: { type: 'string' },
    root: { type: 'string' },
    'hash-child': { type: 'string' },
    // While working on one figure: measure only these parts (comma-separated: hash, startup, batch, sign-api,
    // report; `gate` and `actions` are names of startup). What a run leaves out is kept from the file it writes.
    only: { type: 'string' },
    // The report's figure: `twokey report` over this many bundles (the issue's figure: 100000; the corpus is signed
    // once and cached, which takes ~20 minutes of both cores for 100,000), and its runs.
    'report-bundles': { type: 'string' },
    'report-runs': { type: 'string' },
  },
});
const root = resolve(options.root ?? process.cwd());
const node = process.execPath;
const cli = join(root, 'packages', 'cli', 'bin', 'twokey.cjs');
const hashChild = options['hash-child'];
if (!hashChild) throw new Error('bench: --hash-child (the bundled bench/hash-child.ts) is required; run bench/run.mjs');

const mode: Mode = options.tiny
  ? {
      name: 'tiny',
      runs: 1,
      gateRuns: 1,
      warmUp: false,
      artifacts: 4,
      hashBytes: 8 * 1024 * 1024,
      reportBundles: 100,
      reportRuns: 1,
      cacheDir: mkdtempSync(join(tmpdir(), 'twokey-bench-tiny-')),
      out: resolve(options.out ?? join(mkdtempSync(join(tmpdir(), 'twokey-bench-')), 'results.json')),
    }
  : {
      name: 'full',
      runs: 5,
      gateRuns: 11,
      warmUp: true,
      artifacts: 1000,
      hashBytes: 1024 * 1024 * 1024,
      // The sigstore-js loop takes ~4 minutes over 10,000 bundles: one run each.
      reportBundles: 10_000,
      reportRuns: 1,
      cacheDir: join(root, 'bench', '.cache'),
      out: resolve(options.out ?? join(root, 'bench', 'results.json')),
    };
if (options['report-bundles']) mode.reportBundles = positiveInteger('--report-bundles', options['report-bundles']);
if (options['report-runs']) mode.reportRuns = positiveInteger('--report-runs', options['report-runs']);

const only = options.only
  ? new Set(options.only.split(',').map((p) => (p === 'gate' || p === 'actions' ? 'startup' : p)))
  : undefined;
for (const part of only ?? []) {
  if (!(PARTS as readonly string[]).includes(part))
    throw new Error(`bench: --only: no part ${part} (${PARTS.join(', ')})`);
}
const wanted = (part: Part) => !only || only.has(part);

const benchStarted = performance.now();
const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
const errors: Record<string, string> = {};
const details: Record<string, unknown> = {};

async function figure<T>(name: string, measure: () => Promise<T> | T): Promise<T | null> {
  log(`${name}...`);
  try {
    return await measure();
  } catch (error) {
    errors[name] = error instanceof Error ? error.message : String(error);
    log(`${name} failed: ${errors[name]}`);
    return null;
  }
}

// ── Set-up: the bundles measured are the ones built from this checkout ───────────────────────────────────────────
mkdirSync(mode.cacheDir, { recursive: true });
if (mode.name === 'full' || !existsSync(join(root, 'packages', 'cli', 'dist', 'twokey.cjs'))) {
  log('building the CLI and the actions (scripts/build.mjs)...');
  const built = spawnSync(node, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
  if (built.status !== 0) throw new Error('bench: scripts/build.mjs failed');
}

const hash = wanted('hash') ? await figure('hash', () => hashFigures()) : null;
const corpus = wanted('startup') || wanted('batch') ? await figure('corpus', () => corpusFor()) : null;
const verifyAvailable = twokeyVerifyAvailable();
const startup = !wanted('startup')
  ? null
  : await figure('startup', () => {
      if (!verifyAvailable) throw new Error(VERIFY_UNAVAILABLE);
      if (!corpus) throw new Error('no corpus (see errors.corpus)');
      return startupFigures({
        root,
        corpus,
        attestDir: join(root, '..', 'shared', 'peers', 'actions-attest'),
        runs: mode.gateRuns,
        log,
      });
    });
const batch = !wanted('batch')
  ? null
  : await figure('batch_speedup_vs_sigstore_js', () => {
      if (!verifyAvailable) throw new Error(VERIFY_UNAVAILABLE);
      if (!corpus) throw new Error('no corpus (see errors.corpus)');
      return batchFigures(corpus);
    });
const signApi = !wanted('sign-api') ? null : await figure('sign_api_requests', () => measureSignApiRequests());
const report = !wanted('report') ? null : await figure('report_vs_sigstore_js', () => reportFigure());

if (startup) {
  const { gate, gate_samples_ms, actions, action_samples_ms, cli_kb, code_cache } = startup.details;
  Object.assign(details, { gate, gate_samples_ms, actions, action_samples_ms, cli_kb, code_cache });
}
if (signApi) details.sign_api = { rest: signApi.rest, requests: signApi.details };
const ours = Object.entries(startup?.details.actions ?? {}).filter(([name]) => name !== 'attest');
const measured = {
  hash_ratio_vs_openssl: hash?.ratio ?? null,
  hash_peak_rss_mb: hash?.peakRssMb ?? null,
  gate_ratio_vs_sigstore_js: startup?.gate_ratio_vs_sigstore_js ?? null,
  gate_first_run_ratio_vs_sigstore_js: startup?.gate_first_run_ratio_vs_sigstore_js ?? null,
  batch_speedup_vs_sigstore_js: batch?.speedup ?? null,
  batch_fraction_of_crypto_limit: batch?.fractionOfCryptoLimit ?? null,
  batch_peak_rss_ratio: batch?.peakRssRatio ?? null,
  sign_api_requests: signApi ? { simple: signApi.simple, reviews_125: signApi.reviews_125 } : null,
  action_cold_start_ratio_vs_attest: startup?.action_cold_start_ratio_vs_attest ?? null,
  action_cold_start_ms: startup ? Object.fromEntries(ours.map(([name, a]) => [name, a.first_line_ms])) : null,
  dist_kb: startup ? Object.fromEntries(ours.map(([name, a]) => [name, a.dist_kb ?? null])) : null,
  report_vs_sigstore_js: report,
};

// A part this run left out keeps its figures, details and date from the file this run updates; a part it measured
// (even one that failed) is this run's.
const previous = existsSync(mode.out) ? (JSON.parse(readFileSync(mode.out, 'utf8')) as Record<string, unknown>) : {};
const previousDetails = (previous.details ?? {}) as Record<string, unknown>;
const previousMeasuredAt = (previousDetails.measured_at ?? {}) as Record<string, string>;
const now = new Date().toISOString();
const measuredAt: Record<string, string> = {};
const kept: Record<string, unknown> = {};
for (const part of PARTS) {
  if (wanted(part)) {
    measuredAt[part] = now;
    continue;
  }
  if (!previousMeasuredAt[part] && previous.date === undefined) continue;
  measuredAt[part] = previousMeasuredAt[part] ?? String(previous.date);
  for (const key of PART_KEYS[part]) if (key in previous) kept[key] = previous[key];
  for (const key of PART_DETAILS[part]) if (key in previousDetails) details[key] = previousDetails[key];
}
details.measured_at = measuredAt;

const results = {
  date: now,
  mode: mode.name,
  machine: {
    cores: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    memory_gb: round(totalmem() / 1024 ** 3, 1),
  },
  runs: { measured: mode.runs, gate: mode.gateRuns, warm_up: mode.warmUp, report: mode.reportRuns },
  ...measured,
  ...kept,
  details,
  errors,
};
mkdirSync(dirname(mode.out), { recursive: true });
writeFileSync(mode.out, `${JSON.stringify(results, null, 2)}\n`);
// bench/results.json is committed: write it as the repository's formatter (biome) would, so lint stays clean.
const biome = join(root, 'node_modules', '.bin', 'biome');
if (existsSync(biome) && mode.out.startsWith(`${root}/`)) {
  spawnSync(biome, ['format', '--write', mode.out], { cwd: root, stdio: 'ignore' });
}
process.stdout.write(`${table(results)}\n`);
log(
  `results written to ${relative(process.cwd(), mode.out) || mode.out} (${((performance.now() - benchStarted) / 1000).toFixed(0)} s)`,
);
// A figure that could not be measured fails the run, except a CLI command that does not exist yet.
process.exitCode = Object.values(errors).some((e) => e !== VERIFY_UNAVAILABLE) ? 1 : 0;

// ── Figures ──────────────────────────────────────────────────────────────────────────────────────────────────────

/** twokey's digestFile (in a child process, timed around the call) against `openssl dgst -sha256`, same file. */
async function hashFigures(): Promise<{ ratio: number; peakRssMb: number }> {
  const file = join(mode.cacheDir, `hash-${mode.hashBytes / 1024 / 1024}mib.bin`);
  ensureFile(file, mode.hashBytes);
  const samples = await alternate(
    {
      twokey: () => {
        const run = timeProcess(node, [hashChild!, file]);
        if (run.status !== 0) throw new Error(`hash child failed: ${run.stderr.trim()}`);
        // The hash child's figures, not a deploy report.
        const reported = JSON.parse(run.stdout) as { hex: string; ms: number; peakRssMb: number };
        return { ...reported, wallMs: run.ms };
      },
      openssl: () => {
        const run = timeProcess('openssl', ['dgst', '-sha256', '-r', file]);
        if (run.status !== 0) throw new Error(`openssl dgst failed: ${run.stderr.trim()}`);
        return { hex: run.stdout.split(' ')[0]!, ms: run.ms, peakRssMb: 0, wallMs: run.ms };
      },
    },
    mode.runs,
    mode.warmUp,
  );
  const digests = new Set([...samples.twokey!, ...samples.openssl!].map((s) => s.hex));
  if (digests.size !== 1) throw new Error(`twokey and openssl disagree on the digest: ${[...digests].join(', ')}`);
  const twokeyMs = median(samples.twokey!.map((s) => s.ms));
  const twokeyWallMs = median(samples.twokey!.map((s) => s.wallMs));
  const opensslMs = median(samples.openssl!.map((s) => s.ms));
  const peakRssMb = round(Math.max(...samples.twokey!.map((s) => s.peakRssMb)), 1);
  details.hash = {
    file_mib: mode.hashBytes / 1024 / 1024,
    twokey_digest_ms: round(twokeyMs, 1),
    twokey_process_ms: round(twokeyWallMs, 1),
    openssl_process_ms: round(opensslMs, 1),
    ratio_whole_process: round(twokeyWallMs / opensslMs, 3),
    twokey_gib_per_s: round(mode.hashBytes / 1024 ** 3 / (twokeyMs / 1000), 2),
  };
  return { ratio: round(twokeyMs / opensslMs, 3), peakRssMb };
}

async function corpusFor(): Promise<Corpus> {
  const corpus =
    mode.name === 'tiny'
      ? await makeCorpus(join(mode.cacheDir, 'corpus'), mode.artifacts)
      : await corpusOf(mode.cacheDir, mode.artifacts, log);
  details.corpus = {
    artifacts: corpus.artifacts.length,
    bundles: 3 * corpus.artifacts.length,
    forged_signatures: corpus.artifacts.filter((a) => a.forged).length,
    created: corpus.createdAt,
  };
  return corpus;
}

function twokeyVerifyAvailable(): boolean {
  if (!existsSync(cli)) return false;
  const run = timeProcess(node, [cli, 'verify', '--help']);
  return run.status === 0 && !/unknown command/.test(run.stderr);
}

/**
 * `twokey report` over a generated organisation's evidence against the plain sigstore-js loop over the same bundles
 * (bench/report.ts), in a process of its own: its corpus is signed in worker threads, which the bench's bundle cannot
 * host.
 */
function reportFigure(): Record<string, number> {
  const out = join(mkdtempSync(join(tmpdir(), 'twokey-bench-report-')), 'report.json');
  const run = spawnSync(
    node,
    [
      join(root, 'bench', 'report.mjs'),
      '--bundles',
      String(mode.reportBundles),
      '--runs',
      String(mode.reportRuns),
      '--cache-dir',
      mode.cacheDir,
      '--no-build',
      '--out',
      out,
    ],
    { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  if (run.status !== 0 || !existsSync(out)) throw new Error(`bench/report.mjs failed (exit ${run.status})`);
  const { report_vs_sigstore_js: figure } = JSON.parse(readFileSync(out, 'utf8')) as {
    report_vs_sigstore_js: Record<string, number>;
  };
  details.report = { corpus: 'packages/testkit/src/org-history.ts, one history per core', runs: mode.reportRuns };
  return figure;
}

/** One run of a contender of the batch figures: its time and peak memory, or the machine's verify rates. */
interface BatchSample {
  ms: number;
  peakRssKb: number;
  rates?: VerifyRates;
}

interface BatchFigures {
  speedup: number;
  fractionOfCryptoLimit: number;
  peakRssRatio: number;
}

/**
 * `twokey verify` over the whole corpus against a serial sigstore-js loop over the same bundles; same verdicts. Both
 * processes' peak memory is read in the same runs, and the bundles/s twokey reached is set against what the
 * machine's ECDSA verifications allow on all its cores (bench/crypto-limit.ts), measured alternately with the runs.
 */
async function batchFigures(corpus: Corpus): Promise<BatchFigures> {
  const work = mkdtempSync(join(tmpdir(), 'twokey-bench-batch-'));
  const jobsFile = join(work, 'jobs.json');
  const verdictsFile = join(work, 'verdicts.json');
  const { build, sign, issuer } = corpus.identities;
  const jobs = corpus.artifacts.flatMap((a) => [
    { bundle: a.provenance, artifact: a.path, identity: build, issuer },
    { bundle: a.signature, artifact: a.path, identity: sign, issuer },
    { bundle: a.review, artifact: a.path, identity: sign, issuer },
  ]);
  writeFileSync(jobsFile, JSON.stringify(jobs));
  const bundles = jobs.length;
  const expectedRefused = corpus.artifacts.filter((a) => a.forged).map((a) => a.sha256);
  const checks = checksPerBundle(corpus.trustedRoot, corpus.artifacts[0]!.signature);
  const cores = availableParallelism();

  const samples = await alternate<BatchSample>(
    {
      twokey: () => {
        const run = timeNodeWithPeakRss([
          cli,
          'verify',
          ...corpus.artifacts.map((a) => a.path),
          '--policy',
          corpus.policy,
          '--repo',
          'acme/app',
          '--bundle',
          corpus.bundlesDir,
          '--trusted-root',
          corpus.trustedRoot,
          '--json',
        ]);
        if (run.status !== 0 && run.status !== 1)
          throw new Error(`twokey verify failed (exit ${run.status}): ${run.stderr}`);
        checkVerdicts('twokey verify', twokeyRefusals(run.stdout, corpus.artifacts), expectedRefused);
        return { ms: run.ms, peakRssKb: run.peakRssKb };
      },
      'sigstore-js': () => {
        const run = timeNodeWithPeakRss([
          join(root, 'bench', 'sigstore-js-verify-batch.mjs'),
          jobsFile,
          corpus.trustedRoot,
          verdictsFile,
        ]);
        if (run.status !== 0) throw new Error(`the sigstore-js loop failed (exit ${run.status}): ${run.stderr}`);
        const verdicts = JSON.parse(readFileSync(verdictsFile, 'utf8')) as Record<string, string>;
        const refused = corpus.artifacts
          .filter((a) => [a.provenance, a.signature, a.review].some((b) => verdicts[b] !== 'pass'))
          .map((a) => a.sha256);
        checkVerdicts('the sigstore-js loop', refused, expectedRefused);
        return { ms: run.ms, peakRssKb: run.peakRssKb };
      },
      // The limit, measured alternately with the two like a peer: the machine as both find it.
      'openssl speed': () => ({ ms: 0, peakRssKb: 0, rates: measureVerifyRates(cores) }),
    },
    mode.runs,
    mode.warmUp,
  );
  const measuredRates = samples['openssl speed']!.flatMap((s) => (s.rates ? [s.rates] : []));
  const rates: VerifyRates = {
    ...measuredRates[0]!,
    allCores: {
      'P-256': median(measuredRates.map((r) => r.allCores['P-256'])),
      'P-384': median(measuredRates.map((r) => r.allCores['P-384'])),
    },
  };
  const limit = limitBundlesPerSecond(checks, rates.allCores);
  const twokeyMs = median(samples.twokey!.map((s) => s.ms));
  const peerMs = median(samples['sigstore-js']!.map((s) => s.ms));
  const twokeyRssMb = median(samples.twokey!.map((s) => s.peakRssKb)) / 1024;
  const peerRssMb = median(samples['sigstore-js']!.map((s) => s.peakRssKb)) / 1024;
  const twokeyPerS = bundles / (twokeyMs / 1000);
  details.batch = {
    artifacts: corpus.artifacts.length,
    bundles,
    refused_artifacts: expectedRefused.length,
    verdicts_identical: true,
    twokey_verify_ms: round(twokeyMs, 1),
    twokey_bundles_per_s: round(twokeyPerS, 1),
    sigstore_js_ms: round(peerMs, 1),
    sigstore_js_bundles_per_s: round(bundles / (peerMs / 1000), 1),
    twokey_peak_rss_mb: round(twokeyRssMb, 1),
    sigstore_js_peak_rss_mb: round(peerRssMb, 1),
    peak_rss_samples_mb: {
      twokey: samples.twokey!.map((s) => round(s.peakRssKb / 1024, 1)),
      'sigstore-js': samples['sigstore-js']!.map((s) => round(s.peakRssKb / 1024, 1)),
    },
  };
  details.crypto_limit = {
    source: rates.source,
    command: rates.command,
    cores,
    verifies_per_s_all_cores: mapValues(rates.allCores, (v) => round(v, 1)),
    verifies_per_s_per_core: mapValues(rates.allCores, (v) => round(v / cores, 1)),
    samples_p256_all_cores: measuredRates.map((r) => round(r.allCores['P-256'], 1)),
    checks_per_bundle: checks.length,
    checks: checks.map((c) => `${c.check} (${c.curve})`),
    limit_bundles_per_s: round(limit, 1),
  };
  return {
    speedup: round(peerMs / twokeyMs, 3),
    fractionOfCryptoLimit: round(twokeyPerS / limit, 3),
    peakRssRatio: round(twokeyRssMb / peerRssMb, 3),
  };
}

/** A Node process timed as timeProcess times it, with its peak resident set read by bench/rss-probe.cjs. */
function timeNodeWithPeakRss(args: string[]): ReturnType<typeof timeProcess> & { peakRssKb: number } {
  const rssFile = join(mkdtempSync(join(tmpdir(), 'twokey-bench-rss-')), 'max-rss-kb');
  const run = timeProcess(node, ['--require', join(root, 'bench', 'rss-probe.cjs'), ...args], {
    env: { ...process.env, TWOKEY_BENCH_RSS_FILE: rssFile },
  });
  const peakRssKb = existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8')) : Number.NaN;
  if (!(peakRssKb > 0)) throw new Error(`${args[0]}: no peak RSS reported (exit ${run.status}): ${run.stderr}`);
  return { ...run, peakRssKb };
}

/** The artifacts `twokey verify --json` refused, by sha256 (the report read as its schema says it is). */
function twokeyRefusals(stdout: string, artifacts: readonly CorpusArtifact[]): string[] {
  const judged = readDeployReport(stdout, 'twokey verify --json').artifacts;
  if (judged.length !== artifacts.length) {
    throw new Error(`twokey verify judged ${judged.length} artifacts, expected ${artifacts.length}`);
  }
  return judged.filter((a) => a.verdict !== 'pass').map((a) => a.artifact.digest.replace(/^sha256:/, ''));
}

function checkVerdicts(who: string, refused: string[], expected: string[]): void {
  const got = [...refused].sort().join(',');
  const want = [...expected].sort().join(',');
  if (got !== want) {
    throw new Error(`${who} refused ${refused.length} artifacts, expected exactly the ${expected.length} forged ones`);
  }
}

// ── Output ───────────────────────────────────────────────────────────────────────────────────────────────────────

function table(r: typeof results): string {
  const res = r as unknown as Record<string, unknown>;
  const d = r.details as Record<string, Record<string, unknown> | undefined>;
  const value = (key: string) => res[key] as number | null | undefined;
  const shown = (v: unknown, error?: string) =>
    v === null || v === undefined
      ? `— (${error ?? 'not measured'})`
      : typeof v === 'object'
        ? JSON.stringify(v)
        : String(v);
  const gate = d.gate;
  const report = res.report_vs_sigstore_js as Record<string, number> | null | undefined;
  const signApi = res.sign_api_requests as { simple: number; reviews_125: number } | null | undefined;
  const actions = (d.actions ?? {}) as Record<string, { first_line_ms: number; ratio_vs_attest?: number }>;
  const rows: [string, string, string, string][] = [
    [
      'hash_ratio_vs_openssl',
      shown(value('hash_ratio_vs_openssl'), errors.hash),
      TARGETS.hash_ratio_vs_openssl,
      d.hash
        ? `${d.hash.file_mib} MiB: twokey ${d.hash.twokey_digest_ms} ms, openssl ${d.hash.openssl_process_ms} ms`
        : '',
    ],
    [
      'hash_peak_rss_mb',
      shown(value('hash_peak_rss_mb'), errors.hash),
      TARGETS.hash_peak_rss_mb,
      'twokey hashing process',
    ],
    [
      'gate_ratio_vs_sigstore_js',
      shown(value('gate_ratio_vs_sigstore_js'), errors.startup),
      TARGETS.gate_ratio_vs_sigstore_js,
      gate
        ? `twokey verify, 3 bundles ${gate.twokey_verify_ms} ms; sigstore-js, 1 bundle ${gate.sigstore_js_ms} ms; node -e 0 ${gate.node_e_0_ms} ms`
        : '',
    ],
    [
      'gate_first_run_ratio_vs_sigstore_js',
      shown(value('gate_first_run_ratio_vs_sigstore_js'), errors.startup),
      TARGETS.gate_first_run_ratio_vs_sigstore_js,
      gate
        ? `first run after a build ${gate.twokey_verify_first_run_ms} ms (no code cache at all: ${gate.twokey_verify_plain_start_ms} ms)`
        : '',
    ],
    [
      'batch_speedup_vs_sigstore_js',
      shown(value('batch_speedup_vs_sigstore_js'), errors.batch_speedup_vs_sigstore_js),
      TARGETS.batch_speedup_vs_sigstore_js,
      d.batch
        ? `${d.batch.bundles} bundles: ${d.batch.twokey_bundles_per_s} vs ${d.batch.sigstore_js_bundles_per_s} bundles/s, same verdicts`
        : '',
    ],
    [
      'batch_fraction_of_crypto_limit',
      shown(value('batch_fraction_of_crypto_limit'), errors.batch_speedup_vs_sigstore_js),
      TARGETS.batch_fraction_of_crypto_limit,
      d.batch && d.crypto_limit
        ? `${d.batch.twokey_bundles_per_s} of ${d.crypto_limit.limit_bundles_per_s} bundles/s (${d.crypto_limit.checks_per_bundle} checks a bundle, ${d.crypto_limit.source}, ${d.crypto_limit.cores} cores)`
        : '',
    ],
    [
      'batch_peak_rss_ratio',
      shown(value('batch_peak_rss_ratio'), errors.batch_speedup_vs_sigstore_js),
      TARGETS.batch_peak_rss_ratio,
      d.batch
        ? `peak RSS: twokey ${d.batch.twokey_peak_rss_mb} MB (workers included), sigstore-js loop ${d.batch.sigstore_js_peak_rss_mb} MB`
        : '',
    ],
    [
      'sign_api_requests',
      signApi ? `${signApi.simple} / ${signApi.reviews_125}` : shown(null, errors.sign_api_requests),
      TARGETS.sign_api_requests,
      'GitHub API requests of the sign stage: 1 commit, 1 review / 125 reviews, 5 reviewers (GraphQL; REST in details)',
    ],
    [
      'action_cold_start_ratio_vs_attest',
      shown(value('action_cold_start_ratio_vs_attest'), errors.startup),
      TARGETS.action_cold_start_ratio_vs_attest,
      actions.attest
        ? `slowest action ÷ actions/attest (${actions.attest.first_line_ms} ms) to the first line; ${Object.entries(
            actions,
          )
            .filter(([name]) => name !== 'attest')
            .map(([name, a]) => `${name} ${a.ratio_vs_attest}`)
            .join(', ')}`
        : '',
    ],
    [
      'report_vs_sigstore_js',
      report ? `${report.report_speedup_vs_sigstore_js}×` : shown(null, errors.report_vs_sigstore_js),
      TARGETS.report_vs_sigstore_js,
      report
        ? `${report.bundles} bundles: twokey report ${(report.report_ms / 1000).toFixed(1)} s, peak RSS ${report.report_peak_rss_mb} MB; sigstore-js loop ${(report.sigstore_js_loop_ms / 1000).toFixed(1)} s, ${report.sigstore_js_peak_rss_mb} MB`
        : '',
    ],
    ...Object.entries(r.action_cold_start_ms ?? {}).map(
      ([name, ms]) =>
        [`action_cold_start_ms.${name}`, String(ms), '', 'to its first line on stdout'] as [
          string,
          string,
          string,
          string,
        ],
    ),
    ...Object.entries(r.dist_kb ?? {}).map(
      ([name, kb]) => [`dist_kb.${name}`, String(kb), '', `actions/${name}/dist/`] as [string, string, string, string],
    ),
  ];
  const machine = `${r.machine.cores} cores (${r.machine.cpu}), Node ${r.machine.node}, ${r.date.slice(0, 10)}`;
  const header = `| figure | value | target | measured |\n|---|---|---|---|`;
  const body = rows.map((row) => `| ${row.join(' | ')} |`).join('\n');
  const runs = `median of ${r.runs.measured} runs${r.runs.warm_up ? ' after a warm-up' : ''} (start-up: ${r.runs.gate}; report: ${r.runs.report}), contenders alternated`;
  const kept = Object.entries((r.details as { measured_at: Record<string, string> }).measured_at)
    .filter(([, at]) => at !== r.date)
    .map(([part, at]) => `${part} ${at.slice(0, 16).replace('T', ' ')}`);
  return `${header}\n${body}\n\n${machine}; ${r.mode} mode, ${runs}.${kept.length ? ` Kept from earlier runs: ${kept.join(', ')}.` : ''}`;
}

// ── Small things ─────────────────────────────────────────────────────────────────────────────────────────────────

/** A file of `bytes` random bytes (random, so no filesystem can store it sparse or compressed), made once. */
function ensureFile(path: string, bytes: number): void {
  if (existsSync(path) && statSync(path).size === bytes) return;
  log(`writing ${bytes / 1024 / 1024} MiB of random bytes to ${path}...`);
  const chunk = Buffer.allocUnsafe(8 * 1024 * 1024);
  const fd = openSync(`${path}.partial`, 'w');
  try {
    for (let written = 0; written < bytes; written += chunk.length) {
      randomFillSync(chunk);
      writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - written));
    }
  } finally {
    closeSync(fd);
  }
  renameSync(`${path}.partial`, path);
}

function mapValues<T, U>(record: Record<string, T>, fn: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, fn(v)]));
}

function positiveInteger(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`bench: ${flag} must be a positive integer, not ${value}`);
  return n;
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
