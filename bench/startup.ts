// How fast twokey starts, against its peers in the same run, alternately (bench/README.md, "Start-up"):
//
//  - the gate: `twokey verify ARTIFACT --policy … --bundle ×3 --trusted-root …` against sigstore-js verifying one of
//    those bundles (sigstore-js-verify-one.mjs, as bench.ts measures gate_ratio_vs_sigstore_js), three ways: warm (the
//    code cache its earlier runs left), the first run after a build (a fresh copy of what the build wrote, its code
//    cache included), and for the record a plain start (a copy with no code cache: what a Node other than the
//    build's gets on its first run);
//  - the actions: each bundled action's `node dist/index.js` and actions/attest's released dist/index.js (a copy
//    outside the repository, ../shared/peers/actions-attest, never copied into it), spawned as the runner spawns them
//    (bench.ts's environment, each action's input defaults), timed to their first line on stdout.
//
// The CLI measured is built by this run into a directory of its own (scripts/build.mjs: bundle and makeCodeCache), so
// that other builds of packages/cli/dist during the run change nothing. Whole processes, wall clock, medians of
// alternated runs after a warm-up.
//
//   node bench/startup.mjs [--runs N] [--attest DIR] [--out FILE]
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { CORPUS_VERSION, type Corpus, corpusOf } from './corpus';
import { alternate, median, timeProcess, timeToFirstLine } from './measure';

export interface StartupOptions {
  root: string;
  /** The corpus whose first honest artifact the gate verifies. */
  corpus: Corpus;
  /** actions/attest's released action (its action.yml and dist/). */
  attestDir: string;
  /** Alternated rounds per figure, after one warm-up round. */
  runs: number;
  node?: string;
  log?: (line: string) => void;
}

export interface StartupFigures {
  gate_ratio_vs_sigstore_js: number;
  gate_first_run_ratio_vs_sigstore_js: number;
  /** The slowest of twokey's actions over actions/attest, each the median of its runs. */
  action_cold_start_ratio_vs_attest: number;
  details: {
    gate: Record<string, number>;
    gate_samples_ms: Record<string, number[]>;
    actions: Record<string, { first_line_ms: number; ratio_vs_attest?: number; start_kb?: number; dist_kb?: number }>;
    action_samples_ms: Record<string, number[]>;
    cli_kb: Record<string, number>;
    code_cache: string[];
  };
}

const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;

export async function startupFigures(options: StartupOptions): Promise<StartupFigures> {
  const node = options.node ?? process.execPath;
  const log = options.log ?? (() => {});
  const work = mkdtempSync(join(tmpdir(), 'twokey-startup-'));
  try {
    log('startup: building the CLI and its code cache into a directory of its own...');
    const install = await buildCli(options.root, join(work, 'cli'), node);
    log('startup: the gate, alternately with sigstore-js...');
    const gate = await gateFigures(options, node, install, work);
    log('startup: the actions, alternately with actions/attest...');
    const actions = await actionFigures(options, node);
    const attest = actions.medians.attest!;
    const ours = Object.entries(actions.medians).filter(([name]) => name !== 'attest');
    const slowest = Math.max(...ours.map(([, ms]) => ms));
    return {
      gate_ratio_vs_sigstore_js: round(gate.medians.twokey! / gate.medians['sigstore-js']!),
      gate_first_run_ratio_vs_sigstore_js: round(
        gate.medians['twokey, first run after a build']! / gate.medians['sigstore-js']!,
      ),
      action_cold_start_ratio_vs_attest: round(slowest / attest),
      details: {
        gate: {
          twokey_verify_ms: round(gate.medians.twokey!, 1),
          twokey_verify_first_run_ms: round(gate.medians['twokey, first run after a build']!, 1),
          twokey_verify_plain_start_ms: round(gate.medians['twokey, plain start']!, 1),
          plain_start_ratio_vs_sigstore_js: round(gate.medians['twokey, plain start']! / gate.medians['sigstore-js']!),
          sigstore_js_ms: round(gate.medians['sigstore-js']!, 1),
          node_e_0_ms: round(gate.medians['node -e 0']!, 1),
          twokey_bundles: 3,
          sigstore_js_bundles: 1,
        },
        gate_samples_ms: gate.samples,
        actions: Object.fromEntries(
          Object.entries(actions.medians).map(([name, ms]) => [
            name,
            {
              first_line_ms: round(ms, 1),
              ...(name !== 'attest' && { ratio_vs_attest: round(ms / attest) }),
              ...actions.sizes[name],
            },
          ]),
        ),
        action_samples_ms: actions.samples,
        cli_kb: Object.fromEntries(
          readdirSync(join(install, 'dist'))
            .filter((f) => f.endsWith('.cjs'))
            .map((f) => [f, round(statSync(join(install, 'dist', f)).size / 1024, 1)]),
        ),
        code_cache: existsSync(join(install, 'dist', '.code-cache'))
          ? readdirSync(join(install, 'dist', '.code-cache'))
          : [],
      },
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The CLI as `node scripts/build.mjs --cli` makes it (bundles, then its code cache), in `dir`: its bin and dist. */
async function buildCli(root: string, dir: string, node: string): Promise<string> {
  const { bundle, makeCodeCache, targets } = (await import(pathToFileURL(join(root, 'scripts', 'build.mjs')).href)) as {
    bundle: (target: { entry: string; outfile: string }, outfile: string) => Promise<string[]>;
    makeCodeCache: (cliDir: string, node: string) => void;
    targets: { entry: string; outfile: string }[];
  };
  const cliDir = join(root, 'packages', 'cli');
  mkdirSync(join(dir, 'bin'), { recursive: true });
  cpSync(join(cliDir, 'bin', 'twokey.cjs'), join(dir, 'bin', 'twokey.cjs'));
  cpSync(join(cliDir, 'package.json'), join(dir, 'package.json'));
  const cwd = process.cwd();
  process.chdir(root);
  try {
    for (const target of targets.filter((t) => t.outfile.startsWith('packages/cli/'))) {
      await bundle(target, join(dir, relative(cliDir, join(root, target.outfile))));
    }
  } finally {
    process.chdir(cwd);
  }
  makeCodeCache(dir, node);
  return dir;
}

async function gateFigures(options: StartupOptions, node: string, install: string, work: string) {
  const { corpus } = options;
  const artifact = corpus.artifacts.find((a) => !a.forged)!;
  const args = [
    'verify',
    artifact.path,
    '--policy',
    corpus.policy,
    '--repo',
    'acme/app',
    '--bundle',
    artifact.provenance,
    '--bundle',
    artifact.signature,
    '--bundle',
    artifact.review,
    '--trusted-root',
    corpus.trustedRoot,
  ];
  const env = { ...process.env };
  delete env.TWOKEY_NO_CODE_CACHE;
  delete env.NODE_DISABLE_COMPILE_CACHE;
  const accepted = (launcher: string) => {
    const run = timeProcess(node, [launcher, ...args], { env });
    if (run.status !== 0) throw new Error(`twokey verify refused an honest artifact: ${run.stdout}${run.stderr}`);
    return run.ms;
  };
  // The warm install: the build's copy, used by every warm run (and its warm-up).
  const warm = join(work, 'warm');
  cpSync(install, warm, { recursive: true });
  let copies = 0;
  /** A fresh copy of the build (with its code cache, or without), made before the clock starts. */
  const firstRun = (withCache: boolean) => () => {
    copies += 1;
    const copy = join(work, `first-${copies}`);
    cpSync(install, copy, { recursive: true });
    if (!withCache) rmSync(join(copy, 'dist', '.code-cache'), { recursive: true, force: true });
    try {
      return accepted(join(copy, 'bin', 'twokey.cjs'));
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  };
  const samples = await alternate(
    {
      twokey: () => accepted(join(warm, 'bin', 'twokey.cjs')),
      'sigstore-js': () => {
        const run = timeProcess(node, [
          join(options.root, 'bench', 'sigstore-js-verify-one.mjs'),
          '--bundle',
          artifact.signature,
          '--blob-file',
          artifact.path,
          '--trusted-root',
          corpus.trustedRoot,
          '--certificate-identity-uri',
          corpus.identities.sign,
          '--certificate-issuer',
          corpus.identities.issuer,
        ]);
        if (run.status !== 0) throw new Error(`sigstore-js refused an honest bundle: ${run.stderr}`);
        return run.ms;
      },
      'twokey, first run after a build': firstRun(true),
      'twokey, plain start': firstRun(false),
      'node -e 0': () => timeProcess(node, ['-e', '0']).ms,
    },
    options.runs,
    true,
  );
  return {
    medians: Object.fromEntries(Object.entries(samples).map(([name, s]) => [name, median(s)])),
    samples: Object.fromEntries(Object.entries(samples).map(([name, s]) => [name, s.map((v) => round(v, 1))])),
  };
}

interface ActionUnderTest {
  name: string;
  main: string;
  inputs: Record<string, string>;
}

/** Every action.yml of the repository whose runs.main is a built bundle (each bundle once), and actions/attest. */
function actionsUnderTest(root: string, attestDir: string): ActionUnderTest[] {
  const list: ActionUnderTest[] = [];
  const seen = new Set<string>();
  const add = (name: string, actionDir: string) => {
    const manifest = parseYaml(readFileSync(join(actionDir, 'action.yml'), 'utf8')) as {
      runs?: { main?: string };
      inputs?: Record<string, { default?: unknown } | null>;
    };
    if (!manifest.runs?.main) return;
    const main = resolve(actionDir, manifest.runs.main);
    if (!existsSync(main) || seen.has(main)) return;
    seen.add(main);
    const inputs: Record<string, string> = {};
    for (const [input, spec] of Object.entries(manifest.inputs ?? {})) {
      const fallback = spec?.default;
      if (fallback !== undefined && fallback !== null && !String(fallback).includes('${{')) {
        inputs[`INPUT_${input.replace(/ /g, '_').toUpperCase()}`] = String(fallback);
      }
    }
    list.push({ name, main, inputs });
  };
  for (const dir of readdirSync(join(root, 'actions')).sort()) {
    if (existsSync(join(root, 'actions', dir, 'action.yml'))) add(dir, join(root, 'actions', dir));
  }
  add('attest', attestDir);
  if (!list.some((a) => a.name === 'attest')) throw new Error(`startup: no built action at ${attestDir}`);
  return list;
}

/** The files an ES module entry loads before it runs: itself and its static imports (chunks), transitively. */
function startFiles(main: string): string[] {
  const files = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file) || !existsSync(file)) return;
    files.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(
      /^(?:import|export)\s[^;]*?\bfrom\s*["'](\.\.?\/[^"']+)["']|^import\s*["'](\.\.?\/[^"']+)["']/gm,
    )) {
      visit(resolve(dirname(file), (m[1] ?? m[2])!));
    }
  };
  visit(main);
  return [...files];
}

async function actionFigures(options: StartupOptions, node: string) {
  const list = actionsUnderTest(options.root, options.attestDir);
  const runnerTemp = mkdtempSync(join(tmpdir(), 'twokey-startup-runner-'));
  const files = ['set_output', 'step_summary', 'set_env', 'add_path', 'save_state', 'event.json'].map((f) =>
    join(runnerTemp, f),
  );
  for (const f of files) writeFileSync(f, f.endsWith('.json') ? '{}' : '');
  // As bench.ts spawns them: the runner's variables, nothing that leaves the machine (a closed loopback port).
  const env = (action: ActionUnderTest): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    RUNNER_TEMP: runnerTemp,
    GITHUB_WORKSPACE: runnerTemp,
    GITHUB_REPOSITORY: 'acme/app',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: 'http://127.0.0.1:9',
    GITHUB_OUTPUT: files[0],
    GITHUB_STEP_SUMMARY: files[1],
    GITHUB_ENV: files[2],
    GITHUB_PATH: files[3],
    GITHUB_STATE: files[4],
    GITHUB_EVENT_PATH: files[5],
    ...action.inputs,
  });
  try {
    const samples = await alternate(
      Object.fromEntries(list.map((a) => [a.name, () => timeToFirstLine(node, [a.main], env(a), runnerTemp)])),
      options.runs,
      true,
    );
    const kb = (paths: string[]) => round(paths.reduce((sum, p) => sum + statSync(p).size, 0) / 1024, 1);
    return {
      medians: Object.fromEntries(Object.entries(samples).map(([name, s]) => [name, median(s)])),
      samples: Object.fromEntries(Object.entries(samples).map(([name, s]) => [name, s.map((v) => round(v, 1))])),
      sizes: Object.fromEntries(
        list.map((a) => {
          const dist = dirname(a.main);
          const all = readdirSync(dist)
            .filter((f) => /\.(c|m)?js$/.test(f))
            .map((f) => join(dist, f));
          return [a.name, { start_kb: kb(startFiles(a.main)), dist_kb: kb(all) }];
        }),
      ),
    };
  } finally {
    rmSync(runnerTemp, { recursive: true, force: true });
  }
}

/** `node bench/startup.mjs`: the figures, printed as JSON (and written to --out). */
export async function runStartupBench(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      root: { type: 'string' },
      runs: { type: 'string', default: '21' },
      attest: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const root = resolve(values.root ?? process.cwd());
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const cacheDir = join(root, 'bench', '.cache');
  // The bench's own corpus when it has one (nothing to sign); else four artifacts signed now.
  const count = existsSync(join(cacheDir, `${CORPUS_VERSION}-1000`, 'corpus.json')) ? 1000 : 4;
  const corpus = await corpusOf(cacheDir, count, log);
  const attestDir = resolve(values.attest ?? join(root, '..', 'shared', 'peers', 'actions-attest'));
  const started = performance.now();
  const figures = await startupFigures({ root, corpus, attestDir, runs: Number(values.runs), log });
  const result = {
    date: new Date().toISOString(),
    machine: { cores: availableParallelism(), cpu: cpus()[0]?.model ?? 'unknown', node: process.version },
    runs: { measured: Number(values.runs), warm_up: true, alternated: true },
    attest: basename(attestDir) === 'actions-attest' ? relative(root, attestDir) : attestDir,
    ...figures,
    seconds: round((performance.now() - started) / 1000, 0),
  };
  const text = `${JSON.stringify(result, null, 2)}\n`;
  if (values.out) writeFileSync(values.out, text);
  process.stdout.write(text);
}
