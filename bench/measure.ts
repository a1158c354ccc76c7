// How the bench times things: whole processes, wall clock, median of n runs after a warm-up, contenders measured
// alternately in the same run (A B, then B A, …) so that the machine's noise falls on both.
import { spawn, spawnSync } from 'node:child_process';

export interface ProcessRun {
  ms: number;
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a process to its end; `ms` is the wall time from spawn to exit. */
export function timeProcess(command: string, args: string[], options: { env?: NodeJS.ProcessEnv } = {}): ProcessRun {
  const started = performance.now();
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    env: options.env ?? process.env,
    maxBuffer: 512 * 1024 * 1024,
  });
  const ms = performance.now() - started;
  if (result.error) throw new Error(`${command}: ${result.error.message}`);
  return { ms, status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

/** Time from spawn to the first complete line on stdout (an action's first log line); the process is then stopped. */
export function timeToFirstLine(command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'ignore'] });
    let seen = '';
    let done = false;
    const timer = setTimeout(() => finish(new Error(`${args.join(' ')}: no line on stdout within 30 s`)), 30_000);
    function finish(result: number | Error) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      if (result instanceof Error) reject(result);
      else resolve(result);
    }
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      seen += chunk;
      if (seen.includes('\n')) finish(performance.now() - started);
    });
    child.on('error', (error) => finish(error));
    child.on('exit', (code) => {
      if (!done) finish(new Error(`${args.join(' ')}: exited (${code}) without writing a line to stdout`));
    });
  });
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Measures contenders alternately: an optional warm-up round, then `runs` rounds, the order reversed every other
 * round. Returns every contender's samples (warm-up excluded), by name.
 */
export async function alternate<T>(
  contenders: Record<string, () => T | Promise<T>>,
  runs: number,
  warmUp: boolean,
): Promise<Record<string, T[]>> {
  const names = Object.keys(contenders);
  const samples: Record<string, T[]> = Object.fromEntries(names.map((n) => [n, []]));
  if (warmUp) for (const name of names) await contenders[name]!();
  for (let round = 0; round < runs; round += 1) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) samples[name]!.push(await contenders[name]!());
  }
  return samples;
}
