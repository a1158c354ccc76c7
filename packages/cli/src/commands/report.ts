// `twokey report`: segregation-of-duties indicators over an organisation's signed evidence (issue 18,
// docs/sod-report.md). Every bundle is verified against the trusted root and matched to the policy's identities
// before it counts (packages/core's EvidenceLedger); the indicators and the policy's report thresholds come from one
// model (computeSodReport), printed as text, JSON or a self-contained HTML page.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, relative, resolve, sep } from 'node:path';
import { describeSodReport, type SodReport, terminalJSON } from '@twokey/core';
import { InternalError } from '@twokey/sigstore';
import { parseCommandArgs } from '../args';
import { type CliIO, EXIT, onRunner, UsageError } from '../io';
import { ProgressBar } from '../progress';
import { parseReportTime, runSodReport } from '../report-run';

export const REPORT_USAGE = `Usage: twokey report --policy FILE --bundle FILE|DIR|GLOB... [--repository-policy FILE]
         [--repo OWNER/NAME | --owner OWNER] [--trusted-root FILE|public-good|github] [--since TIME] [--until TIME]
         [--deployments FILE] [--json] [--html FILE]

Segregation-of-duties indicators from signed evidence: M1 unapproved change rate, M2 approval latency, M3
privileged approvers, M6 audit completeness, M7 approval reuse, M8 emergency bypasses, M9 collusion risk, M10 deploy
outcome (docs/sod-report.md). Every bundle is verified against the trusted root (--trusted-root, else the policy's
deploy.trusted-root, else Sigstore's public-good root) and must be signed by one of the policy's identities before it
counts; one that does not verify, or that no identity of the policy signed, is an audit finding (M6) and nothing else.
The policy's report: keys (max-unapproved-rate, max-break-glass-per-month, max-top-approver-share, ...) become
pass/fail lines.

  --policy FILE         the org policy (its identities, trusted root and report: thresholds)
  --repository-policy FILE
                        a repository's own policy, which may only tighten the org policy's thresholds
  --bundle FILE|DIR     evidence: bundle files, directories (every *.json and *.jsonl below), globs; repeat for more.
                        A .jsonl file holds a bundle a line (FILE.jsonl#Ln)
  --repo OWNER/NAME     also read GitHub's attestation store of OWNER/NAME for every artifact the evidence names,
                        and, with GH_TOKEN or GITHUB_TOKEN, its deployments (M10, M2's deploy requests)
  --owner OWNER         the same from all of OWNER's attestations (no deployments)
                        With either, the report is about that owner: evidence of another owner's repositories (the
                        shared workflows may be called from anywhere) is an audit finding (M6), never counted.
                        Without, every repository whose evidence the policy's identities signed counts, each named
  --trusted-root FILE|public-good|github
                        a trusted_root.json, or an instance by name, to verify bundles against (default: the
                        policy's deploy.trusted-root)
  --since TIME          count only what happened at or after TIME (ISO 8601 with a zone, or a date: midnight UTC)
  --until TIME          count only what happened before TIME
  --deployments FILE    GitHub's deployments as JSON, each with its statuses (docs/sod-report.md)
  --json                print the report as JSON: sod-report.schema.json, version 1
  --html FILE           also write the report as one self-contained HTML page: a chart per indicator, the table
                        behind it, links to the evidence

A progress bar is shown on stderr when the run takes longer than a second and stderr is a terminal.

Exit status: 0 every threshold holds (or the policy sets none); 1 a threshold failed or could not be evaluated;
2 usage error, unreadable file or invalid policy; 3 internal error (a bug in twokey, never a verdict).
`;

const REPORT_OPTIONS = {
  policy: { type: 'string' },
  'repository-policy': { type: 'string' },
  bundle: { type: 'string', multiple: true },
  repo: { type: 'string' },
  owner: { type: 'string' },
  'trusted-root': { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  deployments: { type: 'string' },
  json: { type: 'boolean' },
  html: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function reportCommand(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs('report', args, REPORT_OPTIONS);
  if (values.help) {
    io.stdout.write(REPORT_USAGE);
    return EXIT.ok;
  }
  if (positionals.length > 0) {
    throw new UsageError(`report: unexpected argument ${positionals[0]}; evidence is given with --bundle`);
  }
  if (!values.policy) throw new UsageError('report: --policy FILE is required');
  if (!values.bundle?.length) throw new UsageError('report: --bundle FILE|DIR is required (the evidence to report on)');
  if (values.repo !== undefined && values.owner !== undefined) {
    throw new UsageError('report: give --repo or --owner, not both');
  }
  if (values.repo !== undefined && !/^[\w.-]+\/[\w.-]+$/.test(values.repo)) {
    throw new UsageError(`report: --repo: expected OWNER/NAME, found ${values.repo}`);
  }
  const since = values.since === undefined ? undefined : parseReportTime('--since', values.since);
  const until = values.until === undefined ? undefined : parseReportTime('--until', values.until);
  if (since && until && since.getTime() >= until.getTime()) {
    throw new UsageError(`report: --since (${since.toISOString()}) must be before --until (${until.toISOString()})`);
  }
  const cwd = process.cwd();
  const progress = new ProgressBar(io.stderr, 'verifying evidence');
  const token = process.env.GH_TOKEN || process.env.GITHUB_TOKEN || '';
  const store = values.repo ?? values.owner;
  if (store !== undefined && !token) {
    io.stderr.write(
      `note: no GH_TOKEN or GITHUB_TOKEN: reading ${store}'s attestations anonymously, which GitHub allows for public repositories only, and not its deployments\n`,
    );
  }
  let report: SodReport;
  try {
    ({ report } = await runSodReport({
      policy: values.policy,
      ...(values['repository-policy'] !== undefined && { repositoryPolicy: { path: values['repository-policy'] } }),
      bundles: values.bundle,
      cwd,
      ...(values['trusted-root'] !== undefined && { trustedRoot: values['trusted-root'] }),
      ...(store !== undefined && { store }),
      ...(values.deployments !== undefined
        ? { deployments: { file: values.deployments } }
        : values.repo !== undefined && token
          ? { deployments: { repository: values.repo } }
          : {}),
      ...(since && { since }),
      ...(until && { until }),
      apiUrl: process.env.GITHUB_API_URL || 'https://api.github.com',
      token,
      onProgress: (done, total) => progress.update(done, total),
    }));
  } finally {
    progress.finish();
  }
  if (values.html !== undefined) await writeHtml(resolve(cwd, values.html), report, cwd);
  io.stdout.write(values.json ? `${terminalJSON(report)}\n` : onRunner(describeSodReport(report)));
  return report.verdict === 'pass' ? EXIT.ok : EXIT.refused;
}

/**
 * The HTML page, from its own module: its chart library is loaded only when a page is asked for. A bundle read from
 * a file is linked relative to the page (a JSON Lines bundle: its file); one from the store is named, not linked.
 */
async function writeHtml(path: string, report: SodReport, cwd: string): Promise<void> {
  const { renderSodReportHtml } = await loadHtmlRenderer();
  const hrefOf = (source: string) => {
    if (/^[a-z]+:/.test(source)) return undefined;
    const file = source.replace(/#L\d+$/, '');
    return relative(dirname(path), resolve(cwd, file)).split(sep).map(encodeURIComponent).join('/');
  };
  const html = renderSodReportHtml(report, { hrefOf });
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, html);
  } catch (error) {
    throw new UsageError(`report: --html: cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
}

/**
 * The page's renderer and its chart library (Observable Plot, linkedom): in the CLI's bundle, report-html.cjs beside
 * it (scripts/build.mjs bundles it apart, so a report without --html never parses it), and from nowhere else; from the
 * sources (import.meta.url a .ts file), the module. A bundle without its report-html.cjs is a broken install: an
 * internal error, never a file looked for at run time beside the package.
 */
async function loadHtmlRenderer(): Promise<typeof import('../report-html')> {
  if (!new URL(import.meta.url).pathname.endsWith('.ts')) {
    // Not named `require`: esbuild leaves it to run time.
    const load = createRequire(import.meta.url);
    try {
      return load('./report-html.cjs') as typeof import('../report-html');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
      throw new InternalError(
        `the HTML renderer report-html.cjs beside the CLI's bundle cannot be loaded (${(error as Error).message.split('\n')[0]}): reinstall @twokey/cli`,
        undefined,
        { cause: error },
      );
    }
  }
  // The module's name in a variable: esbuild leaves it to run time (and a bundle never gets here).
  const fromSources = '../report-html.ts';
  return (await import(fromSources)) as typeof import('../report-html');
}
