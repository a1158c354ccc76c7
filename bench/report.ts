// The report figure (issue 18): `twokey report` over N bundles of generated organisation histories (decision records,
// review attestations, deploy approvals, break-glasses, signed on the loopback Sigstore stack by
// packages/testkit/src/org-history.ts) against a plain serial sigstore-js loop that only verifies the same bundles
// (bench/sigstore-js-report-loop.mjs): wall time, bundles per second and peak resident memory of each whole process
// (bench/rss-probe.cjs), measured alternately. The corpus is signed once — one history per core, in worker threads,
// each on its own stack, their trusted roots merged into one — and cached under bench/.cache/.
//
//   node bench/report.mjs [--bundles N] [--runs R]
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import {
  GITHUB_ACTIONS_ISSUER,
  ORG_HISTORY_WORKFLOWS,
  orgHistoryDeployments,
  orgHistoryPolicy,
  planOrgHistory,
  signOrgHistory,
  startOidcIssuer,
  startSigstoreStack,
} from '@twokey/testkit';
import { alternate, median, timeProcess } from './measure';

/** Bump when what the corpus holds changes: a cached corpus of another version is made again. */
export const REPORT_CORPUS_VERSION = 'report-corpus-v3';
/** Bundles a pull request brings, about: its review, its deploy's approval and record. */
const BUNDLES_PER_PULL_REQUEST = 3;
/** Repositories × months of one history (planOrgHistory's defaults). */
const REPOSITORY_MONTHS = 3 * 4;
const WORKER_MARK = 'twokey-bench-report-corpus';

export interface ReportCorpus {
  version: string;
  createdAt: string;
  dir: string;
  /** Every bundle, as `twokey report` names it (a file, or `FILE.jsonl#Ln`), relative to `dir`. */
  addresses: string[];
  signingSeconds: number;
}

export interface ReportFigure {
  bundles: number;
  runs: number;
  report_ms: number;
  report_bundles_per_s: number;
  report_peak_rss_mb: number;
  sigstore_js_loop_ms: number;
  sigstore_js_bundles_per_s: number;
  sigstore_js_peak_rss_mb: number;
  /** sigstore-js loop time ÷ report time: above 1, the report (verification, facts, indicators) is the faster. */
  report_speedup_vs_sigstore_js: number;
  corpus_signing_s: number;
}

/** The cached corpus of about `target` bundles under `cacheDir`, signed once when missing or of another version. */
export async function reportCorpusOf(
  cacheDir: string,
  target: number,
  log: (line: string) => void,
): Promise<ReportCorpus> {
  const dir = join(cacheDir, `${REPORT_CORPUS_VERSION}-${target}`);
  const manifest = join(dir, 'corpus.json');
  if (existsSync(manifest)) {
    const corpus = JSON.parse(readFileSync(manifest, 'utf8')) as ReportCorpus;
    if (corpus.version === REPORT_CORPUS_VERSION && corpus.dir === dir) return corpus;
  }
  const building = `${dir}.partial-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(building, { recursive: true });
  const parts = Math.max(1, availableParallelism());
  const perMonth = Math.max(1, Math.ceil(target / parts / REPOSITORY_MONTHS / BUNDLES_PER_PULL_REQUEST));
  log(
    `signing ${parts} organisation histories (${perMonth} pull requests a month per repository, ~${target} bundles)...`,
  );
  const started = performance.now();
  const signed = await Promise.all(
    Array.from({ length: parts }, (_, part) => signPart({ mark: WORKER_MARK, dir: building, part, perMonth })),
  );
  const signingSeconds = (performance.now() - started) / 1000;
  // One trusted root naming every stack's authorities, logs and timestamp authorities.
  const roots = signed.map((s) => s.trustedRoot as Record<string, unknown[]>);
  const merged = { ...roots[0] };
  for (const key of ['tlogs', 'certificateAuthorities', 'ctlogs', 'timestampAuthorities']) {
    merged[key] = roots.flatMap((root) => root[key] ?? []);
  }
  writeFileSync(join(building, 'trusted_root.json'), JSON.stringify(merged));
  writeFileSync(join(building, 'policy.yml'), orgHistoryPolicy('trusted_root.json'));
  writeFileSync(join(building, 'deployments.json'), JSON.stringify(signed.flatMap((s) => s.deployments)));
  const addresses = signed.flatMap((s) => s.bundles.map((b) => `evidence/part-${s.part}/${b}`));
  const corpus: ReportCorpus = {
    version: REPORT_CORPUS_VERSION,
    createdAt: new Date().toISOString(),
    dir,
    addresses,
    signingSeconds,
  };
  writeFileSync(join(building, 'corpus.json'), JSON.stringify(corpus));
  rmSync(dir, { recursive: true, force: true });
  renameSync(building, dir);
  log(`corpus of ${addresses.length} bundles signed in ${signingSeconds.toFixed(0)} s: ${dir}`);
  return corpus;
}

interface PartRequest {
  mark: typeof WORKER_MARK;
  dir: string;
  part: number;
  perMonth: number;
}

interface SignedPart {
  part: number;
  bundles: string[];
  trustedRoot: unknown;
  deployments: object[];
}

/** One history, signed in a worker thread on a stack of its own (the stack's crypto is single-threaded). */
function signPart(request: PartRequest): Promise<SignedPart> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: request });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`corpus worker ${request.part} exited (${code})`)));
  });
}

async function servePart(request: PartRequest): Promise<SignedPart> {
  const issuer = await startOidcIssuer();
  const stack = await startSigstoreStack();
  try {
    const history = planOrgHistory({
      pullRequestsPerMonth: request.perMonth,
      owner: `acme${request.part}`,
      idBase: request.part * 10_000_000,
    });
    const signed = await signOrgHistory(history, {
      stack,
      issuer,
      directory: join(request.dir, 'evidence', `part-${request.part}`),
      concurrency: 16,
    });
    rmSync(signed.deploymentsFile, { force: true });
    return {
      part: request.part,
      bundles: signed.bundles,
      trustedRoot: stack.trustedRoot,
      deployments: orgHistoryDeployments(history),
    };
  } finally {
    await Promise.all([stack.close(), issuer.close()]);
  }
}

if (!isMainThread && (workerData as PartRequest | null)?.mark === WORKER_MARK) {
  servePart(workerData as PartRequest).then(
    (signed) => parentPort!.postMessage(signed),
    (error: unknown) => {
      throw error;
    },
  );
}

/** `twokey report` and the sigstore-js loop over the corpus, alternately; medians of `runs`. */
export async function measureReport(options: {
  root: string;
  cacheDir: string;
  bundles: number;
  runs: number;
  log: (line: string) => void;
}): Promise<ReportFigure> {
  const corpus = await reportCorpusOf(options.cacheDir, options.bundles, options.log);
  const node = process.execPath;
  const probe = join(options.root, 'bench', 'rss-probe.cjs');
  const scratch = join(tmpdir(), `twokey-bench-report-${process.pid}`);
  mkdirSync(scratch, { recursive: true });
  const addressesFile = join(scratch, 'addresses.json');
  writeFileSync(addressesFile, JSON.stringify(corpus.addresses.map((a) => join(corpus.dir, a))));
  const sansFile = join(scratch, 'sans.json');
  writeFileSync(sansFile, JSON.stringify(Object.values(ORG_HISTORY_WORKFLOWS).map((w) => `https://github.com/${w}`)));
  const measured = (name: string, args: string[], check: (stdout: string) => void) => () => {
    const rssFile = join(scratch, `${name}.rss`);
    const run = timeProcess(node, ['--require', probe, ...args], {
      env: { ...process.env, TWOKEY_BENCH_RSS_FILE: rssFile },
    });
    if (run.status > 1) throw new Error(`${name} exited ${run.status}: ${run.stderr.slice(0, 2000)}`);
    check(run.stdout);
    return { ms: run.ms, rssMb: Number(readFileSync(rssFile, 'utf8')) / 1024 };
  };
  const samples = await alternate(
    {
      report: measured(
        'report',
        [
          join(options.root, 'packages', 'cli', 'bin', 'twokey.cjs'),
          'report',
          '--policy',
          join(corpus.dir, 'policy.yml'),
          '--bundle',
          join(corpus.dir, 'evidence'),
          '--deployments',
          join(corpus.dir, 'deployments.json'),
          '--json',
        ],
        (stdout) => {
          // The report must have verified every bundle and counted each as a fact: a figure over refusals or findings
          // would measure something else.
          const sod = JSON.parse(stdout) as {
            evidence: { verified: number; rejected: number; counted: Record<string, number> };
          };
          const counted = Object.values(sod.evidence.counted).reduce((a, b) => a + b, 0);
          if (sod.evidence.verified !== corpus.addresses.length || counted !== corpus.addresses.length) {
            throw new Error(
              `twokey report verified ${sod.evidence.verified} and counted ${counted} of ${corpus.addresses.length} bundles`,
            );
          }
        },
      ),
      sigstoreJs: measured(
        'sigstore-js',
        [
          join(options.root, 'bench', 'sigstore-js-report-loop.mjs'),
          addressesFile,
          join(corpus.dir, 'trusted_root.json'),
          sansFile,
          GITHUB_ACTIONS_ISSUER,
        ],
        (stdout) => {
          const counts = JSON.parse(stdout) as { verified: number };
          if (counts.verified !== corpus.addresses.length) {
            throw new Error(`the sigstore-js loop verified ${counts.verified} of ${corpus.addresses.length} bundles`);
          }
        },
      ),
    },
    options.runs,
    false,
  );
  rmSync(scratch, { recursive: true, force: true });
  const ms = (name: 'report' | 'sigstoreJs') => median(samples[name]!.map((s) => s.ms));
  const rss = (name: 'report' | 'sigstoreJs') => Math.max(...samples[name]!.map((s) => s.rssMb));
  const bundles = corpus.addresses.length;
  return {
    bundles,
    runs: options.runs,
    report_ms: Math.round(ms('report')),
    report_bundles_per_s: Math.round(bundles / (ms('report') / 1000)),
    report_peak_rss_mb: Math.round(rss('report')),
    sigstore_js_loop_ms: Math.round(ms('sigstoreJs')),
    sigstore_js_bundles_per_s: Math.round(bundles / (ms('sigstoreJs') / 1000)),
    sigstore_js_peak_rss_mb: Math.round(rss('sigstoreJs')),
    report_speedup_vs_sigstore_js: Math.round((ms('sigstoreJs') / ms('report')) * 100) / 100,
    corpus_signing_s: Math.round(corpus.signingSeconds),
  };
}
