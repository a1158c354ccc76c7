// `npm run demo`: the whole pipeline — build → sign → deploy, and break-glass: four identities — on the loopback
// Sigstore, OIDC issuer and GitHub API, for a sample repository acme/app. It shows the deploy gate accept an honestly
// reviewed artifact approved for production by an independent person, refuse the attacks and a deploy approved by the
// change's own author, accept an unreviewed hotfix under a break-glass once (flagged) and refuse it a second time, each
// decision a signed record; then it leaves every file in a directory and prints the `twokey verify` commands that
// give the verdicts by hand. Exit 0 when every scenario got the verdict it must, 1 otherwise, 2 on bad usage.

import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { acmeApp, PRODUCTION } from './acme-app';
import { IDENTITIES, REPOSITORY, startPipeline, verifyArguments } from './pipeline';
import { runScenarios, type ScenarioOutcome } from './scenarios';
import { type Terminal, terminal } from './terminal';

const USAGE = `Usage: npm run demo [-- --out DIR]

Runs build → sign → deploy for a sample repository on a loopback Sigstore, OIDC issuer and GitHub API, and shows
the deploy gate accept an honestly reviewed artifact and refuse a self-approved change, an unsigned artifact, a
build that signed itself, an artifact changed after signing and a deploy approved by the change's own author; then
accept an unreviewed hotfix under a break-glass, flagged, and refuse the same break-glass a second time. Every
deploy leaves a signed decision record, a refusal too.

Options:
  --out DIR   where to leave the bundles, policy, trusted root, artifacts, reports and records (default: demo-output/ at
              the repository root; emptied first)
  -h, --help  this text
`;

// Written into the output directory, so a rerun only ever empties a directory the demo made.
const MARKER = '.twokey-demo';

export interface DemoContext {
  /** The repository's root: the actions, the built CLI and esbuild are found from here. */
  repoRoot: string;
}

/** Runs the demo with command-line arguments; returns the exit code. */
export async function main(argv: string[], context: DemoContext): Promise<number> {
  const t = terminal();
  let values: { out?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`demo: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const { repoRoot } = context;
  const out = resolve(repoRoot, values.out ?? 'demo-output');

  const missing = ['build', 'sign', 'deploy', 'break-glass']
    .map((action) => `actions/${action}/dist/index.js`)
    .concat('packages/cli/dist/twokey.cjs', 'action.yml')
    .filter((path) => !existsSync(join(repoRoot, path)));
  if (missing.length > 0) {
    process.stderr.write(`demo: not built: ${missing.join(', ')} (\`npm run demo\` builds them first)\n`);
    return 2;
  }
  const prepared = prepareOutput(out);
  if (prepared) {
    process.stderr.write(`demo: ${prepared}\n`);
    return 2;
  }

  const started = Date.now();
  const app = acmeApp();
  const pipeline = await startPipeline(repoRoot, out, app.state);
  introduce(t, displayPath(repoRoot, pipeline.policyPath));
  let outcomes: ScenarioOutcome[];
  try {
    outcomes = await runScenarios(pipeline, app, t);
  } catch (error) {
    // A stage that could not run at all (not a verdict): one line, no stack trace.
    process.stderr.write(`\ndemo: ${(error as Error).message?.split('\n')[0] ?? String(error)}\n`);
    return 1;
  } finally {
    await pipeline.close();
  }
  summarize(t, outcomes, repoRoot, out, (files) => verifyArguments(pipeline, files, (p) => displayPath(repoRoot, p)));
  const ok = outcomes.every((o) => o.asExpected);
  t.line();
  t.line(
    ok
      ? t.ok(`✔ every scenario got the verdict it must (${((Date.now() - started) / 1000).toFixed(1)} s)`)
      : t.bad(`✘ ${outcomes.filter((o) => !o.asExpected).length} scenario(s) did not get the verdict they must`),
  );
  return ok ? 0 : 1;
}

function introduce(t: Terminal, policy: string): void {
  t.line(t.bold(`twokey demo: build → sign → deploy for ${REPOSITORY}`));
  t.line('On loopback: a Sigstore (Fulcio, Rekor, timestamp authority), a GitHub Actions OIDC issuer, a GitHub API.');
  t.line('Each stage is the real bundled action, run as a runner runs it, under its own workflow identity:');
  t.line(`  build        ${IDENTITIES.build}`);
  t.line(`  sign         ${IDENTITIES.sign}`);
  t.line(`  deploy       ${IDENTITIES.deploy}`);
  t.line(`  break-glass  ${IDENTITIES.breakGlass}`);
  t.line(
    `               ${t.dim(`(the last three: the platform team's reusable workflows, called by ${REPOSITORY})`)}`,
  );
  t.line(`The policy (${policy}) names the four identities and asks for one independent approval`);
  t.line(`on the merged head, evidence at most 30 days old, and one approval of the deploy job through the`);
  t.line(`${PRODUCTION} environment by someone other than the change's author, contributors and last pusher.`);
  t.line(`A break-glass may stand in for the review only, for at most 24 h, approved by someone besides its`);
  t.line("requester and the change's author, once per artifact and environment.");
}

function summarize(
  t: Terminal,
  outcomes: ScenarioOutcome[],
  repoRoot: string,
  out: string,
  commandOf: (files: ScenarioOutcome['files']) => string[],
): void {
  t.heading('Summary');
  const width = Math.max(...outcomes.map((o) => o.title.length));
  for (const o of outcomes) {
    const mark = o.asExpected ? t.ok('✔') : t.bad('✘');
    const verdict =
      o.verdict === 'accepted'
        ? t.ok(o.flagged ? 'accepted, FLAGGED (break-glass)' : 'accepted')
        : o.verdict === 'refused'
          ? t.bad('refused')
          : 'error';
    t.line(`  ${mark} ${o.title.padEnd(width)}  ${verdict}${o.asExpected ? '' : ` (expected ${o.expected})`}`);
  }
  const where = displayPath(repoRoot, out);
  const refused = outcomes.filter((o) => o.verdict === 'refused').length;
  t.line();
  t.line(`Everything is in ${t.bold(`${where}/`)}: policy.yml, trusted_root.json (the loopback Sigstore's), and per`);
  t.line('scenario the artifact (app.js), bundles/ (what the gate was shown), report.json (its verdict) and deploy/');
  t.line('(what the deploy job signed: the deploy approval it read, deploy-approval.sigstore.json, and its decision');
  t.line(`record, decision-record.sigstore.json). Each of the ${refused} refused deploys left a signed FAILED record.`);
  t.line(`Verify by hand, offline, from the repository root (exit 0 accepted, 1 refused); each command lists the`);
  t.line('decision records it is given under the artifact:');
  for (const o of outcomes) {
    t.line();
    if (o.offline.why)
      t.line(t.dim(`  # ${o.title} (${o.verdict} by the deploy gate; twokey verify ${o.offline.why})`));
    t.line(t.dim(`  # ${o.title}: ${o.offline.expected}`));
    t.line(`  npx twokey ${commandOf(o.files).map(shellWord).join(' ')}`);
  }
}

/**
 * Empties `out` for a fresh run, refusing a directory the demo did not make (so `--out ~` cannot wipe a home).
 * Returns why it cannot, or undefined.
 */
function prepareOutput(out: string): string | undefined {
  if (existsSync(out)) {
    const entries = readdirSync(out);
    if (entries.length > 0 && !entries.includes(MARKER)) {
      return `${out} is not empty and was not made by the demo (no ${MARKER} file): give an empty or new --out directory`;
    }
    rmSync(out, { recursive: true, force: true });
  }
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, MARKER), 'Written by `npm run demo`; the demo empties this directory when it runs again.\n');
  return undefined;
}

/** A path as a person types it from the repository root: relative inside the repository, absolute outside it. */
function displayPath(repoRoot: string, path: string): string {
  const rel = relative(repoRoot, path);
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

/** A word for a POSIX shell: as is when it is plain, else single-quoted. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}
