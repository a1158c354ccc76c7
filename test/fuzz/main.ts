// `npm run fuzz` (scripts/fuzz.mjs bundles this file and runs it): structure-aware mutations of real and loopback
// bundles, of a deploy chain, of policies and of command lines, run through the CLI's code in worker threads, each
// case within a time budget, a sample also through the built CLI as a subprocess. Fails on a crash, a hang, an
// internal error, or an accept of anything but the unmutated seed.
//
//   npm run fuzz -- [--cases N] [--seconds S] [--seed N] [--workers N] [--target bundle,chain,policy,argv]
//                   [--replay I,J...] [--findings DIR] [--chain DIR] [--case-budget-ms MS] [--subprocess-every K]
//                   [--make-seeds]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import {
  type CaseReport,
  type ChainCorpus,
  disposeContext,
  type FuzzCase,
  type FuzzContext,
  generateCase,
  groupOf,
  makeContext,
  runCase,
  runFuzzCase,
  scratchParent,
  TARGETS,
  type Target,
  WALL_FACTOR,
} from './cases';
import { chainCorpus, defaultChainDir } from './chain';
import { makeLoopbackSeeds } from './make-seeds';
import { classifyExit, type FindingKind } from './oracle';
import { loopbackSeedsDir, repoRoot } from './seeds';

interface Options {
  cases: number;
  seconds: number;
  seed: number;
  workers: number;
  targets: Target[];
  replay?: number[];
  /** A case written out (its JSON, as a replay prints it): run as it is, whatever the generator makes now. */
  case?: string;
  findings: string;
  /** A JSON line per case (index, target, outcome, code, milliseconds, mutation), for looking at a run afterwards. */
  log?: string;
  chainDir: string;
  caseBudgetMs: number;
  subprocessEvery: number;
  verbose: boolean;
}

interface WorkerSetup {
  mark: 'twokey-fuzz-worker';
  options: Options;
  scratchRoot: string;
  chain?: ChainCorpus;
  cli?: string;
}

type WorkerMessage = { type: 'ready' } | { type: 'report'; report: CaseReport };

/**
 * A case still running after this (or twice the wall-time limit of a case) is a hang whatever it is doing: its worker
 * is stopped and another started. Generous, so that a slow case on a loaded machine is not stopped for a hang.
 */
const HARD_TIMEOUT_FLOOR_MS = 30_000;
/** Groups of accepted mutations the summary shows (the largest). */
const SHOWN_GROUPS = 25;
/** Findings of one kind whose files are kept. */
const SAVED_PER_GROUP = 5;

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      cases: { type: 'string' },
      seconds: { type: 'string' },
      seed: { type: 'string' },
      workers: { type: 'string' },
      target: { type: 'string' },
      replay: { type: 'string' },
      case: { type: 'string' },
      findings: { type: 'string' },
      log: { type: 'string' },
      chain: { type: 'string' },
      'case-budget-ms': { type: 'string' },
      'subprocess-every': { type: 'string' },
      'make-seeds': { type: 'boolean' },
      verbose: { type: 'boolean' },
    },
  });
  const int = (name: string, value: string | undefined, fallback: number) => {
    if (value === undefined) return fallback;
    if (!/^\d+$/.test(value)) throw new Error(`--${name}: expected a non-negative integer, found ${value}`);
    return Number(value);
  };
  const targets = (values.target ?? TARGETS.join(',')).split(',') as Target[];
  for (const target of targets) {
    if (!TARGETS.includes(target)) throw new Error(`--target: expected some of ${TARGETS.join(',')}, found ${target}`);
  }
  const seed = int('seed', values.seed, Math.floor(Math.random() * 2 ** 31));
  const seconds = int('seconds', values.seconds, 0);
  return {
    cases: int('cases', values.cases, seconds > 0 ? Number.MAX_SAFE_INTEGER : 10_000),
    seconds,
    seed,
    workers: int('workers', values.workers, Math.min(2, availableParallelism())),
    targets,
    ...(values.replay !== undefined && { replay: values.replay.split(',').map((i) => int('replay', i, 0)) }),
    ...(values.case !== undefined && { case: values.case }),
    findings: values.findings ?? join(tmpdir(), `twokey-fuzz-findings-${seed}`),
    ...(values.log !== undefined && { log: values.log }),
    chainDir: values.chain ?? defaultChainDir(),
    caseBudgetMs: int('case-budget-ms', values['case-budget-ms'], 2000),
    subprocessEvery: int('subprocess-every', values['subprocess-every'], 1000),
    verbose: values.verbose ?? false,
  };
}

// ---- worker ----------------------------------------------------------------------------------------------------

async function workerMain(setup: WorkerSetup): Promise<void> {
  const context = makeContext({
    ...(setup.chain && { chain: setup.chain }),
    caseBudgetMs: setup.options.caseBudgetMs,
    targets: setup.options.targets,
    scratchRoot: setup.scratchRoot,
  });
  parentPort!.on('message', async (index: number) => {
    const report = await runWithSubprocess(context, setup, index);
    if (!report.finding) delete report.input;
    parentPort!.postMessage({ type: 'report', report } satisfies WorkerMessage);
  });
  parentPort!.postMessage({ type: 'ready' } satisfies WorkerMessage);
}

/** The case in this process; every Kth case also through the built CLI, which must agree. */
async function runWithSubprocess(context: FuzzContext, setup: WorkerSetup, index: number): Promise<CaseReport> {
  const report = await runCase(context, setup.options.seed, index);
  const every = setup.options.subprocessEvery;
  if (!setup.cli || every === 0 || index % every !== every - 1 || !report.argv || report.finding) return report;
  if (report.argv.some((a) => a.includes('\u0000')) || report.argv.join(' ').length > 100_000) return report;
  const started = performance.now();
  const child = spawnSync(process.execPath, [setup.cli, ...report.argv], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: Math.max(30_000, 10 * context.caseBudgetMs),
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = performance.now() - started;
  if (child.error && (child.error as NodeJS.ErrnoException).code !== 'ETIMEDOUT') return report;
  const result =
    (child.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT'
      ? { outcome: 'hang' as const, message: `subprocess over ${ms.toFixed(0)} ms` }
      : classifyExit(child.status, child.stderr, child.stdout, child.signal);
  const kind: FindingKind | undefined =
    result.outcome === 'crash' || result.outcome === 'hang' || result.outcome === 'internal-error'
      ? result.outcome
      : result.outcome !== report.result.outcome
        ? 'inconsistent'
        : undefined;
  if (!kind) return { ...report, via: `${report.via}+subprocess` };
  return {
    ...report,
    via: `${report.via}+subprocess`,
    finding: kind,
    notes: [
      ...report.notes,
      `in process: ${report.result.outcome}; subprocess: ${result.outcome} ${result.message ?? ''}`,
    ],
    result,
  };
}

// ---- main ------------------------------------------------------------------------------------------------------

interface Tally {
  cases: number;
  byTarget: Map<string, Map<string, number>>;
  findings: CaseReport[];
  /** Accepted mutations that changed only what a latitude (latitude.ts) allows: how many, by latitude. */
  withinLatitude: Map<string, number>;
  slowest: { ms: number; index: number } | undefined;
}

async function main(): Promise<number> {
  let options: Options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`fuzz: ${(error as Error).message}\n`);
    return 2;
  }
  if (process.argv.includes('--make-seeds')) {
    await makeLoopbackSeeds(loopbackSeedsDir);
    process.stdout.write(`fuzz: loopback seeds written to ${loopbackSeedsDir}\n`);
    return 0;
  }
  const chain = options.targets.some((t) => t === 'chain' || t === 'policy' || t === 'argv')
    ? await chainCorpus(options.chainDir, (line) => process.stderr.write(`${line}\n`))
    : undefined;
  const cli = process.env.TWOKEY_FUZZ_CLI;
  if (options.replay || options.case) return replay(options, chain);

  const started = performance.now();
  const tally: Tally = { cases: 0, byTarget: new Map(), findings: [], withinLatitude: new Map(), slowest: undefined };
  rmSync(options.findings, { recursive: true, force: true });
  const deadline = options.seconds > 0 ? started + options.seconds * 1000 : Number.POSITIVE_INFINITY;
  let next = 0;
  let lastProgress = started;
  const scratchRoot = mkdtempSync(join(scratchParent(), 'twokey-fuzz-run-'));
  const setup: WorkerSetup = {
    mark: 'twokey-fuzz-worker',
    options,
    scratchRoot,
    ...(chain && { chain }),
    ...(cli && { cli }),
  };
  const hardTimeoutMs = Math.max(HARD_TIMEOUT_FLOOR_MS, 2 * WALL_FACTOR * options.caseBudgetMs);
  let describer: FuzzContext | undefined;
  let broken = false;
  const log = options.log === undefined ? undefined : ([] as string[]);
  const savedPerGroup = new Map<string, number>();

  await new Promise<void>((resolve) => {
    let running = 0;
    const record = (report: CaseReport) => {
      tally.cases++;
      if (log !== undefined) {
        const { index, target, via, group, result, ms, cpuMs, notes } = report;
        log.push(
          JSON.stringify({
            index,
            target,
            via,
            group,
            ...result,
            ms: Math.round(ms),
            cpuMs: Math.round(cpuMs ?? 0),
            notes,
          }),
        );
      }
      const targetKey = `${report.target}/${report.via}`;
      const outcomes = tally.byTarget.get(targetKey) ?? new Map<string, number>();
      outcomes.set(report.result.outcome, (outcomes.get(report.result.outcome) ?? 0) + 1);
      tally.byTarget.set(targetKey, outcomes);
      if (!tally.slowest || report.ms > tally.slowest.ms) tally.slowest = { ms: report.ms, index: report.index };
      if (report.result.outcome === 'accepted' && report.latitudes) {
        for (const name of report.latitudes) tally.withinLatitude.set(name, (tally.withinLatitude.get(name) ?? 0) + 1);
      }
      if (report.finding) {
        tally.findings.push(report);
        // The first few of each kind are kept as files; every one is counted and can be replayed.
        const saved = savedPerGroup.get(findingGroup(report)) ?? 0;
        if (saved < SAVED_PER_GROUP) {
          savedPerGroup.set(findingGroup(report), saved + 1);
          saveFinding(options, report);
        }
        if (options.verbose || tally.findings.length <= 20)
          process.stdout.write(`${describeFinding(options, report)}\n`);
      }
      const now = performance.now();
      if (now - lastProgress > 10_000) {
        lastProgress = now;
        const seconds = (now - started) / 1000;
        process.stderr.write(
          `fuzz: ${tally.cases} cases in ${seconds.toFixed(0)} s (${(tally.cases / seconds).toFixed(0)}/s), ${tally.findings.length} findings\n`,
        );
      }
    };
    const spawn = () => {
      const worker = new Worker(fileURLToPath(import.meta.url), { workerData: setup });
      running++;
      let current: { index: number; since: number } | undefined;
      const feed = () => {
        if (next >= options.cases || performance.now() >= deadline) {
          current = undefined;
          void worker.terminate();
          return;
        }
        current = { index: next++, since: performance.now() };
        worker.postMessage(current.index);
      };
      const watchdog = setInterval(() => {
        if (current && performance.now() - current.since > hardTimeoutMs) {
          const index = current.index;
          current = undefined;
          clearInterval(watchdog);
          void worker.terminate();
          describer ??= makeContext({
            ...(chain && { chain }),
            caseBudgetMs: options.caseBudgetMs,
            targets: options.targets,
            scratchRoot,
          });
          const fuzzCase = generateCase(describer, options.seed, index);
          record({
            index,
            target: fuzzCase.target,
            via: 'worker',
            group: groupOf(fuzzCase),
            result: { outcome: 'hang', message: `no answer in ${hardTimeoutMs} ms: the worker was stopped` },
            ms: hardTimeoutMs,
            finding: 'hang',
            notes: [JSON.stringify(fuzzCase).slice(0, 2000)],
          });
          spawn();
        }
      }, 1000);
      let ready = false;
      worker.on('message', (message: WorkerMessage) => {
        ready = true;
        if (message.type === 'report') record(message.report);
        feed();
      });
      worker.on('error', (error) => {
        if (!ready) {
          // It died before its first case (a seed that would not load, a module that would not resolve).
          process.stderr.write(`fuzz: a worker failed to start: ${error.stack ?? error.message}\n`);
          broken = true;
          return;
        }
        if (current) {
          record({
            index: current.index,
            target: 'control',
            via: 'worker',
            group: 'worker died',
            result: { outcome: 'crash', code: error.name, message: error.message },
            ms: performance.now() - current.since,
            finding: 'crash',
            notes: ['the worker thread died'],
          });
          current = undefined;
          clearInterval(watchdog);
          spawn();
        }
      });
      worker.on('exit', () => {
        clearInterval(watchdog);
        // A worker stopped mid-case was replaced (spawn() above) before it exited: running stays above zero.
        running--;
        if (running === 0) resolve();
      });
    };
    if (options.workers > 0) {
      for (let i = 0; i < options.workers; i++) spawn();
      return;
    }
    // --workers 0: every case in this thread, one after the other (no watchdog: for profiling and debugging).
    void (async () => {
      const context = makeContext({
        ...(chain && { chain }),
        caseBudgetMs: options.caseBudgetMs,
        targets: options.targets,
        scratchRoot,
      });
      while (next < options.cases && performance.now() < deadline) record(await runCase(context, options.seed, next++));
      resolve();
    })();
  });

  rmSync(scratchRoot, { recursive: true, force: true });
  const seconds = (performance.now() - started) / 1000;
  if (options.log && log) writeFileSync(options.log, `${log.join('\n')}\n`);
  printSummary(options, tally, seconds);
  if (broken) return 2;
  return tally.findings.length > 0 ? 1 : 0;
}

/** Runs the given cases (by index, or one written out with --case) in this thread and prints each in full. */
async function replay(options: Options, chain: ChainCorpus | undefined): Promise<number> {
  const context = makeContext({
    ...(chain && { chain }),
    caseBudgetMs: options.caseBudgetMs,
    targets: options.targets,
  });
  process.once('exit', () => disposeContext(context));
  const cases: [number, FuzzCase][] = options.case
    ? [[0, JSON.parse(options.case) as FuzzCase]]
    : options.replay!.map((index) => [index, generateCase(context, options.seed, index)]);
  let findings = 0;
  for (const [index, fuzzCase] of cases) {
    const report = await runFuzzCase(context, fuzzCase, index);
    if (report.finding) {
      findings++;
      saveFinding(options, report);
    }
    process.stdout.write(
      `case ${index}: ${report.target}/${report.via} -> ${report.result.outcome}${report.result.code ? ` ${report.result.code}` : ''} (${report.ms.toFixed(1)} ms)${report.finding ? ` FINDING ${report.finding}` : ''}\n` +
        `  mutation: ${report.notes.join('; ')}\n` +
        `  case: ${JSON.stringify(fuzzCase)}\n` +
        (report.argv ? `  argv: ${JSON.stringify(report.argv).slice(0, 1000)}\n` : '') +
        (report.result.message ? `  message: ${report.result.message}\n` : '') +
        (report.finding ? `  saved: ${join(options.findings, String(index))}\n` : ''),
    );
  }
  return findings > 0 ? 1 : 0;
}

function replayLine(options: Options, index: number): string {
  const target = options.targets.length === TARGETS.length ? '' : ` --target ${options.targets.join(',')}`;
  const chain = options.chainDir === defaultChainDir() ? '' : ` --chain ${options.chainDir}`;
  return `npm run fuzz -- --seed ${options.seed}${target}${chain} --replay ${index}`;
}

function describeFinding(options: Options, report: CaseReport): string {
  const { result } = report;
  return (
    `finding ${report.finding} #${report.index} ${report.target}/${report.via}: ${report.notes.join('; ')} -> ${result.outcome}` +
    `${result.code ? ` ${result.code}` : ''}${result.message ? `: ${result.message}` : ''}\n  replay: ${replayLine(options, report.index)}`
  );
}

/** A finding's files: the mutated input, the command line, what came of it. */
function saveFinding(options: Options, report: CaseReport): void {
  const dir = join(options.findings, String(report.index));
  mkdirSync(dir, { recursive: true });
  if (report.input) {
    const name = report.target === 'policy' ? 'policy.yml' : 'bundle.sigstore.json';
    writeFileSync(join(dir, name), report.input);
  }
  const { input: _input, ...rest } = report;
  writeFileSync(
    join(dir, 'case.json'),
    `${JSON.stringify({ ...rest, replay: replayLine(options, report.index) }, null, 2)}\n`,
  );
}

/** Findings grouped by what they are: the kind, the target, the code and the kind of mutation. */
function findingGroup(report: CaseReport): string {
  return `${report.finding} | ${report.target} | ${report.result.code ?? report.result.outcome} | ${report.group}`;
}

function printSummary(options: Options, tally: Tally, seconds: number): void {
  const count = (kind: FindingKind) => tally.findings.filter((f) => f.finding === kind).length;
  const reEncoded = tally.findings.filter((f) => f.result.code === 'RE-ENCODED').length;
  const out = process.stdout;
  out.write('\nfuzz: outcomes by target\n');
  for (const [target, outcomes] of [...tally.byTarget].sort()) {
    out.write(`  ${target.padEnd(22)} ${[...outcomes].map(([o, n]) => `${o} ${n}`).join(', ')}\n`);
  }
  if (tally.findings.length > 0) {
    const groups = new Map<string, CaseReport[]>();
    for (const finding of tally.findings) {
      groups.set(findingGroup(finding), [...(groups.get(findingGroup(finding)) ?? []), finding]);
    }
    out.write(`\nfuzz: ${tally.findings.length} findings in ${groups.size} groups (files in ${options.findings})\n`);
    // Crashes, hangs and internal errors first, whatever their number; then the largest groups of accepted mutations.
    const rank = (reports: CaseReport[]) => (reports[0]!.finding === 'accepted-mutation' ? 1 : 0);
    const sorted = [...groups].sort((a, b) => rank(a[1]) - rank(b[1]) || b[1].length - a[1].length);
    const shown = sorted.filter(([, reports], i) => i < SHOWN_GROUPS || rank(reports) === 0);
    for (const [group, reports] of shown) {
      const first = reports[0]!;
      out.write(
        `  ${String(reports.length).padStart(5)}  ${group}\n         e.g. #${first.index}: ${first.notes.join('; ').slice(0, 300)}\n         ${first.result.message?.slice(0, 200) ?? ''}\n         ${replayLine(options, first.index)}\n`,
      );
    }
    if (sorted.length > shown.length) {
      out.write(
        `  ... and ${sorted.length - shown.length} smaller groups of accepted mutations (--log FILE lists every case)\n`,
      );
    }
  }
  if (tally.withinLatitude.size > 0) {
    out.write("\nfuzz: accepted, changed only within the formats' latitude (test/fuzz/latitude.ts; not findings)\n");
    for (const [name, n] of [...tally.withinLatitude].sort((a, b) => b[1] - a[1])) {
      out.write(`  ${String(n).padStart(5)}  ${name}\n`);
    }
  }
  const slowest = tally.slowest ? `, slowest case #${tally.slowest.index} ${tally.slowest.ms.toFixed(0)} ms` : '';
  out.write(
    `\nfuzz: ${tally.cases} cases, ${count('crash')} crashes, ${count('hang')} hangs, ${count('internal-error')} internal errors, ` +
      `${count('accepted-mutation')} accepted mutations (${reEncoded} re-encoded, ${count('accepted-mutation') - reEncoded} changed), ` +
      `${count('inconsistent')} inconsistent, ${count('fuzzer-error')} fuzzer errors ` +
      `(seed ${options.seed}, ${seconds.toFixed(0)} s, ${(tally.cases / seconds).toFixed(0)} cases/s on ${options.workers} workers${slowest})\n`,
  );
}

if (isMainThread) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`fuzz: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 2;
    },
  );
} else if ((workerData as WorkerSetup | undefined)?.mark === 'twokey-fuzz-worker') {
  void workerMain(workerData as WorkerSetup);
}
