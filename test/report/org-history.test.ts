// `twokey report` over an organisation's signed history (issue 18): the generated history (three teams, months of
// reviewed and deployed pull requests, refusals, break-glasses, a colluding pair, a missing record, reused approvals)
// signed on the loopback Sigstore stack under the platform's four workflow identities, written as the actions write
// it (bundle files, the decision records of each repository a line each in a .jsonl), then read back by the built CLI
// as an auditor would run it: every indicator equals the ground truth, the colluding pair and the reused approvals
// are named, a tampered bundle and one from another Sigstore instance count under M6 and nowhere else, and the
// policy's thresholds decide the exit code.
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import chromium from '@sparticuz/chromium';
import type { SodReport } from '@twokey/core';
import { signStatement } from '@twokey/sigstore';
import {
  aGitHubState,
  aRepository,
  type FakeAttestation,
  identity,
  type OidcIssuer,
  ORG_HISTORY_WORKFLOWS,
  type OrgHistory,
  orgHistoryPolicy,
  orgHistoryTruth,
  planOrgHistory,
  runAction,
  type SignedOrgHistory,
  type SigstoreStack,
  signOrgHistory,
  startGitHubFake,
  startOidcIssuer,
  startSigstoreStack,
} from '@twokey/testkit';
import puppeteer from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../conformance/paths';
import { runCli } from '../conformance/run-cli';
import { expectTruth, sodSchemaProblems } from './sod-truth';

let issuer: OidcIssuer;
let stack: SigstoreStack;
let foreign: SigstoreStack;
let workspace: string;
let history: OrgHistory;
let signed: SignedOrgHistory;

const THRESHOLDS = [
  'report:',
  '  max-unapproved-rate: 0.001',
  '  max-break-glass-per-month: 2',
  '  max-top-approver-share: 0.8',
  '',
].join('\n');

/** `twokey report --json` in the workspace; the JSON it prints (not a deploy report). */
async function sodReport(args: string[]): Promise<{ exitCode: number | null; sod: SodReport; stderr: string }> {
  const run = await runCli(['report', '--json', ...args], workspace);
  expect(run.stderr).not.toMatch(/internal error/);
  const sod = JSON.parse(run.stdout) as SodReport;
  expect(sodSchemaProblems(sod)).toEqual([]);
  return { exitCode: run.status, sod, stderr: run.stderr };
}

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  foreign = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  workspace = mkdtempSync(join(tmpdir(), 'twokey-org-history-'));
  history = planOrgHistory();
  signed = await signOrgHistory(history, { stack, issuer, directory: join(workspace, 'evidence') });
  writeFileSync(join(workspace, 'org-policy.yml'), orgHistoryPolicy(stack.trustedRootPath));
  writeFileSync(join(workspace, 'strict-policy.yml'), orgHistoryPolicy(stack.trustedRootPath, THRESHOLDS));
}, 120_000);

afterAll(async () => {
  await Promise.all([stack?.close(), foreign?.close(), issuer?.close()]);
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

describe('twokey report over a signed organisation history', () => {
  it('finds every indicator equal to its ground truth', async () => {
    const { exitCode, sod } = await sodReport([
      '--policy',
      'org-policy.yml',
      '--bundle',
      'evidence',
      '--deployments',
      'evidence.deployments.json',
    ]);
    expect(exitCode).toBe(0);
    expect(sod.evidence).toMatchObject({ read: signed.bundles.length, verified: signed.bundles.length, rejected: 0 });
    expectTruth(sod, orgHistoryTruth(history));
    // Every number links to what it counts: the missing record's run, the reused approvals' bundles.
    expect(sod.indicators.M6.items).toEqual([
      expect.objectContaining({
        kind: 'deploy-without-record',
        evidence: expect.objectContaining({
          source: expect.stringMatching(/^evidence\/acme\/data\/deploy-approvals\//),
        }),
      }),
    ]);
    expect(sod.indicators.M9.suspectedCollusion.map((s) => [s.a, s.b])).toEqual([['mallory', 'trent']]);
    expect(sod.indicators.M7.reviewApprovals[0]!.evidence.map((e) => e.source)).toEqual([
      expect.stringMatching(/^evidence\/acme\/web\/reviews\//),
      expect.stringMatching(/^evidence\/acme\/web\/reviews\//),
    ]);
    expect(
      sod.indicators.M1.unapprovedDeploys.every((d) =>
        /^evidence\/acme\/[a-z]+\/decisions\.jsonl#L\d+$/.test(d.record.source),
      ),
    ).toBe(true);
  });

  it('counts a tampered bundle and one of another Sigstore instance under M6 and nowhere else', async () => {
    const baseline = (await sodReport(['--policy', 'org-policy.yml', '--bundle', 'evidence'])).sod;
    const extra = join(workspace, 'extra');
    mkdirSync(extra, { recursive: true });
    // A review bundle whose statement was edited after signing: another author.
    const reviewFile = signed.bundles.find((b) => b.startsWith('acme/data/reviews/'))!;
    const review = JSON.parse(readFileSync(join(signed.directory, reviewFile), 'utf8'));
    const statement = JSON.parse(Buffer.from(review.dsseEnvelope.payload, 'base64').toString('utf8'));
    statement.predicate.author.login = 'judy';
    review.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    writeFileSync(join(extra, 'tampered.sigstore.json'), `${JSON.stringify(review)}\n`);
    // A decision record claiming a clean deploy, signed with the deploy workflow's token on another instance.
    const record = readFileSync(join(signed.directory, 'acme/web/decisions.jsonl'), 'utf8').split('\n')[0]!;
    const recorded = JSON.parse(Buffer.from(JSON.parse(record).dsseEnvelope.payload, 'base64').toString('utf8'));
    const deployer = identity('acme/web', '.github/workflows/release.yml', 'refs/heads/main', 'a'.repeat(40), {
      job_workflow_ref: ORG_HISTORY_WORKFLOWS.deploy,
      environment: 'production',
    });
    const bundle = await signStatement(recorded, {
      endpoints: { fulcioURL: foreign.fulcioURL, rekorURL: foreign.rekorURL, tsaURL: foreign.tsaURL },
      identityToken: () => issuer.mint(deployer, { audience: 'sigstore' }),
    });
    writeFileSync(join(extra, 'foreign-root.sigstore.json'), `${JSON.stringify(bundle)}\n`);

    const attacked = (await sodReport(['--policy', 'org-policy.yml', '--bundle', 'evidence', '--bundle', 'extra'])).sod;
    const { M6: before, ...unchanged } = baseline.indicators;
    const { M6: after, ...measured } = attacked.indicators;
    expect(measured).toEqual(unchanged);
    expect(after.findings).toBe(before.findings + 2);
    expect(
      after.items
        .filter((f) => f.kind === 'not-verified')
        .map((f) => f.evidence.source)
        .sort(),
    ).toEqual(['extra/foreign-root.sigstore.json', 'extra/tampered.sigstore.json']);
    expect(attacked.evidence).toMatchObject({ rejected: 2, read: baseline.evidence.read + 2 });
  });

  it('reads the review attestations the evidence names from the attestation store (--repo)', async () => {
    // acme/web's deployed changes keep their review attestations in the store only, as the sign stage stores them.
    const local = join(workspace, 'evidence-without-web-reviews');
    cpSync(signed.directory, local, { recursive: true });
    const web = aRepository('acme/web');
    web.attestations = history.pullRequests.flatMap((pr, i): FakeAttestation[] => {
      if (pr.repository !== 'acme/web' || !history.deploys.some((d) => d.pullRequest === i)) return [];
      const file = join(local, 'acme', 'web', 'reviews', `${i}.sigstore.json`);
      const bundle = JSON.parse(readFileSync(file, 'utf8'));
      rmSync(file);
      const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
      const subjects = (statement.subject as { digest: { sha256?: string } }[]).flatMap((s) =>
        s.digest.sha256 ? [`sha256:${s.digest.sha256}`] : [],
      );
      return [{ subjects, bundle }];
    });
    expect(web.attestations.length).toBeGreaterThan(5);
    const github = await startGitHubFake(aGitHubState(web));
    try {
      const run = await runCli(
        [
          'report',
          '--json',
          '--policy',
          'org-policy.yml',
          '--bundle',
          'evidence-without-web-reviews',
          '--deployments',
          'evidence.deployments.json',
          '--repo',
          'acme/web',
        ],
        workspace,
        { ...process.env, GITHUB_API_URL: github.url, GH_TOKEN: 'ghs_report' },
      );
      expect(run.status, run.stderr).toBe(0);
      const sod = JSON.parse(run.stdout) as SodReport;
      // Every indicator as with the files, the records resting on the stored reviews included (M6 finds nothing more).
      expectTruth(sod, orgHistoryTruth(history));
      const webReviews = sod.indicators.M2.review.pullRequests.filter((p) => p.repository === 'acme/web');
      expect(
        webReviews.filter((p) => p.evidence.source.startsWith('github:acme/web/attestations/sha256:')),
      ).toHaveLength(web.attestations.length);
    } finally {
      await github.close();
    }
  });

  it('counts only a window, as the truth of that window', async () => {
    const [first, second] = history.months;
    const since = new Date(`${second}-01T00:00:00Z`);
    const until = new Date(`${history.months[2]}-01T00:00:00Z`);
    const { sod } = await sodReport([
      '--policy',
      'org-policy.yml',
      '--bundle',
      'evidence',
      '--deployments',
      'evidence.deployments.json',
      '--since',
      `${second}-01`,
      '--until',
      until.toISOString(),
    ]);
    expect(sod.window).toEqual({ since: since.toISOString(), until: until.toISOString() });
    expect(sod.months).toEqual([second]);
    expectTruth(sod, orgHistoryTruth(history, { since, until }));
    expect(first).not.toBe(second);
  });

  it('fails loudly when a threshold of the policy is not met (exit 1), naming each line', async () => {
    const run = await runCli(['report', '--policy', 'strict-policy.yml', '--bundle', 'evidence'], workspace);
    expect(run.status, run.stderr).toBe(1);
    expect(run.stdout).toMatch(/✗ max-unapproved-rate 0\.001 \(M1, fail\): 4 of \d+ passed deploys/);
    expect(run.stdout).toMatch(/✓ max-break-glass-per-month 2 \(M8, pass\)/);
    expect(run.stdout).toMatch(/✗ max-top-approver-share 0\.8 \(M9, fail\): .*(trent for mallory|mallory for trent)/);
    expect(run.stdout).toMatch(/^M9 +collusion risk +suspected collusion: mallory ↔ trent;/m);
    expect(run.stdout).toMatch(/2 thresholds not met/);
  });

  it('is a usage error (exit 2) without a policy or evidence, or with a window that ends before it starts or starts in the future', async () => {
    for (const args of [
      ['report', '--bundle', 'evidence'],
      ['report', '--policy', 'org-policy.yml'],
      [
        'report',
        '--policy',
        'org-policy.yml',
        '--bundle',
        'evidence',
        '--since',
        '2026-05-01',
        '--until',
        '2026-04-01',
      ],
      ['report', '--policy', 'org-policy.yml', '--bundle', 'evidence', '--since', 'last week'],
      // A window that starts tomorrow holds nothing: not a report that passes.
      [
        'report',
        '--policy',
        'org-policy.yml',
        '--bundle',
        'evidence',
        '--since',
        new Date(Date.now() + 86_400_000).toISOString(),
      ],
      ['report', '--policy', 'org-policy.yml', '--bundle', 'evidence', '--until', '2026-02-30'],
    ]) {
      const run = await runCli(args, workspace);
      expect(run.status, `${args.join(' ')}: ${run.stderr}`).toBe(2);
      expect(run.stderr).toMatch(/^twokey: report: /);
    }
  });
});

describe('the HTML page', () => {
  it('renders a chart with marks per indicator in a real headless Chromium, with no console error and no request', async () => {
    const run = await runCli(
      [
        'report',
        '--policy',
        'strict-policy.yml',
        '--bundle',
        'evidence',
        '--deployments',
        'evidence.deployments.json',
        '--html',
        'out/report.html',
      ],
      workspace,
    );
    expect(run.status, run.stderr).toBe(1);
    const html = join(workspace, 'out', 'report.html');
    const browser = await puppeteer.launch({
      executablePath: await chromium.executablePath(),
      args: chromium.args,
      headless: true,
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warn') errors.push(message.text());
      });
      page.on('pageerror', (error) => errors.push(String(error)));
      page.on('requestfailed', (request) => errors.push(`${request.url()}: ${request.failure()?.errorText}`));
      page.on('request', (request) => requests.push(request.url()));
      await page.setViewport({ width: 1200, height: 900 });
      await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });

      // Read in the page (browser code, as text: the test's own types know no DOM).
      const charts = (await page.evaluate(`[...document.querySelectorAll('section.indicator')].map((section) => {
        const chart = section.querySelector('.chart');
        const marks = chart
          ? [...chart.querySelectorAll('svg g[aria-label]')]
              .filter((g) => /^(bar|dot|arrow|tick)$/.test(g.getAttribute('aria-label') ?? ''))
              .flatMap((g) => [...g.children])
              .filter((mark) => { const box = mark.getBBox(); return box.width > 0 || box.height > 0; }).length
          : 0;
        return { id: section.id, marks, rows: section.querySelectorAll('table tbody tr').length };
      })`)) as { id: string; marks: number; rows: number }[];
      expect(charts.map((c) => c.id)).toEqual(['M1', 'M2', 'M3', 'M6', 'M7', 'M8', 'M9', 'M10']);
      for (const chart of charts) {
        expect(chart.marks, `${chart.id} has marks`).toBeGreaterThan(0);
        expect(chart.rows, `${chart.id} has the table behind it`).toBeGreaterThan(0);
      }
      // Every link to a bundle leads to its file; the rest are the pull requests, runs and incidents (https).
      const hrefs = (await page.evaluate(
        `[...document.querySelectorAll('a[href]')].map((a) => a.getAttribute('href'))`,
      )) as string[];
      const local = hrefs.filter((href) => !href.startsWith('https://'));
      expect(local.length).toBeGreaterThan(50);
      for (const href of local) expect(existsSync(resolve(dirname(html), decodeURIComponent(href))), href).toBe(true);

      const screenshot = join(workspace, 'out', 'report.png');
      await page.screenshot({ path: screenshot, fullPage: true });
      expect(readFileSync(screenshot).subarray(1, 4).toString()).toBe('PNG');
      // TWOKEY_WRITE_SCREENSHOT=1 keeps it as the documentation's picture of the report.
      if (process.env.TWOKEY_WRITE_SCREENSHOT === '1')
        copyFileSync(screenshot, join(repoRoot, 'docs', 'sod-report.png'));
      expect(errors).toEqual([]);
      expect(requests).toEqual([pathToFileURL(html).href]);
    } finally {
      await browser.close();
    }
  }, 60_000);
});

describe('the report action (actions/report, run by the reusable report workflow)', () => {
  it('writes the report and the page, the indicators to the step summary, and fails when a threshold is not met', async () => {
    const run = await runAction(join(repoRoot, 'actions', 'report'), {
      with: { policy: 'strict-policy.yml', bundles: 'evidence', 'output-directory': join(workspace, 'action-out') },
      workspace,
    });
    expect(run.exitCode, run.log).not.toBe(0);
    expect(run.log).toMatch(/::error::max-unapproved-rate not met: 4 of \d+ passed deploys/);
    expect(run.log).toMatch(/2 thresholds of the policy's report: keys not met/);
    expect(run.outputs.verdict).toBe('fail');
    // The segregation-of-duties report, not a deploy report: checked against its own schema.
    const written = run.outputs['report-path']!;
    const sod = JSON.parse(readFileSync(written, 'utf8')) as SodReport;
    expect(sodSchemaProblems(sod)).toEqual([]);
    expectTruth(sod, orgHistoryTruth(history, {}, false));
    expect(readFileSync(run.outputs['html-path']!, 'utf8')).toMatch(/^<!doctype html>/);
    expect(run.summary).toMatch(/^## twokey report: segregation of duties/);
    expect(run.summary).toMatch(/\| M9 \| collusion risk \| suspected collusion: mallory ↔ trent;/);
  }, 60_000);

  it('refuses a window shorter than the org policy’s report.min-period: a caller’s `period: 1` would count nothing', async () => {
    // Threat model row 186: every fact outside a one-second window, every max- threshold passed over nothing.
    writeFileSync(
      join(workspace, 'min-period-policy.yml'),
      orgHistoryPolicy(stack.trustedRootPath, `${THRESHOLDS}  min-period: 7d\n`),
    );
    const short = await runAction(join(repoRoot, 'actions', 'report'), {
      with: {
        policy: 'min-period-policy.yml',
        bundles: 'evidence',
        period: '1',
        'output-directory': join(workspace, 'short-out'),
      },
      workspace,
    });
    expect(short.exitCode, short.log).not.toBe(0);
    expect(short.log).toContain("is shorter than the org policy's report.min-period (604800 s)");
    expect(short.outputs['report-path'] ?? '').toBe('');
    // A week is long enough: judged, and failing on the history's break-glasses as before.
    const week = await runAction(join(repoRoot, 'actions', 'report'), {
      with: { policy: 'min-period-policy.yml', bundles: 'evidence', 'output-directory': join(workspace, 'week-out') },
      workspace,
    });
    expect(week.outputs.verdict).toBe('fail');
    expect(week.log).toMatch(/::error::max-unapproved-rate not met/);
  }, 60_000);
});
