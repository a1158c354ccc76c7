// `twokey report --html FILE`: the segregation-of-duties report as one self-contained page — no script, no font, no
// image or style from anywhere else — with a chart per indicator drawn by Observable Plot into static SVG (linkedom
// stands in for the browser's document), the table behind each chart, and a link from each row to the evidence it
// counts (a bundle file, a pull request). Everything a bundle says is text, escaped once, by `escape` or by the DOM.
import * as Plot from '@observablehq/plot';
import {
  describeThreshold,
  type EvidenceLink,
  hours,
  percent,
  type SodIndicatorId,
  type SodReport,
  sodHeadlines,
} from '@twokey/core';
import { parseHTML } from 'linkedom';

/** Rows a table shows; the rest are counted (the JSON has them all). */
export const MAX_TABLE_ROWS = 200;

export interface HtmlOptions {
  /** How an evidence source becomes a link from the page (relative to where it is written); none: not linked. */
  hrefOf?: (source: string) => string | undefined;
}

export function renderSodReportHtml(report: SodReport, options: HtmlOptions = {}): string {
  const { document } = parseHTML('<!doctype html><html><body></body></html>');
  const page = new Page(document, options.hrefOf ?? (() => undefined));
  const headlines = new Map(sodHeadlines(report).map((h) => [h.id, h]));
  const sections = (Object.keys(SECTIONS) as SodIndicatorId[]).map((id) => {
    const { title, headline } = headlines.get(id)!;
    const { chart, table, note } = SECTIONS[id](report, page);
    return `<section class="indicator" id="${id}">
<h2><span class="id">${id}</span> ${escapeHtml(title)}</h2>
<p class="headline">${escapeHtml(headline)}</p>
${chart ? `<div class="chart" data-indicator="${id}">${chart}</div>` : `<p class="not-measured">${escapeHtml(note ?? 'nothing to draw')}</p>`}
${table}
</section>`;
  });
  const failed = report.thresholds.filter((t) => t.verdict !== 'pass').length;
  const { since, until } = report.window;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>twokey report: segregation of duties</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>Segregation of duties</h1>
<p>${escapeHtml(since ?? 'all evidence')}${until ? ` → ${escapeHtml(until)}` : ''} · policy <code>${escapeHtml(report.policy.source)}</code> (sha256 <code title="${escapeHtml(report.policy.digest)}">${escapeHtml(report.policy.digest.slice(0, 12))}</code>) · generated ${escapeHtml(report.generatedAt)}</p>
<p>${report.evidence.read} bundles read, ${report.evidence.verified} verified, ${report.evidence.rejected} did not verify; counted ${report.evidence.counted.decisionRecords} decision records, ${report.evidence.counted.reviews} review attestations, ${report.evidence.counted.deployApprovals} deploy approvals, ${report.evidence.counted.breakGlasses} break-glasses${report.evidence.deployments ? `; ${report.evidence.deployments.count} GitHub deployments from <code>${escapeHtml(report.evidence.deployments.source)}</code> (not signed)` : ''}.</p>
${
  report.thresholds.length
    ? `<section id="thresholds" class="${failed ? 'fail' : 'pass'}"><h2>Thresholds: ${failed ? `${failed} not met` : 'every one holds'}</h2><ul>${report.thresholds
        .map((t) => `<li class="${t.verdict}">${escapeHtml(describeThreshold(t))}</li>`)
        .join('')}</ul></section>`
    : ''
}
</header>
<main>
${sections.join('\n')}
</main>
<footer><p>Every number counts only bundles that verified against the trusted root and were signed by one of the policy's identities (docs/sod-report.md). Report schema version ${report.schemaVersion}.</p></footer>
</body>
</html>
`;
}

type Section = (report: SodReport, page: Page) => { chart?: string; table: string; note?: string };

const SECTIONS: Record<SodIndicatorId, Section> = {
  M1: (report, page) => {
    const m = report.indicators.M1;
    if (m.status === 'not-measured') return { note: `not measured: ${m.reason}`, table: '' };
    const rows = report.months.map(
      (month) =>
        m.byMonth.find((b) => b.month === month) ?? { month, passed: 0, unapproved: 0, refused: 0, redeploys: 0 },
    );
    const data = rows.flatMap((r) => [
      { month: r.month, kind: 'reviewed', deploys: r.passed - r.unapproved },
      { month: r.month, kind: 'break-glass', deploys: r.unapproved },
      { month: r.month, kind: 'refused', deploys: r.refused },
      { month: r.month, kind: 'redeploy (not counted)', deploys: r.redeploys ?? 0 },
    ]);
    return {
      chart: page.plot({
        height: 300,
        x: { type: 'band', label: 'month' },
        y: { label: 'deploys', grid: true },
        color: {
          domain: ['reviewed', 'break-glass', 'refused', 'redeploy (not counted)'],
          range: ['#4c78a8', '#e45756', '#bab0ac', '#d8e2ec'],
          legend: true,
        },
        marks: [Plot.barY(data, { x: 'month', y: 'deploys', fill: 'kind' }), Plot.ruleY([0])],
      }),
      table:
        page.table(
          'Deploys by month',
          ['month', 'passed', 'without review', 'refused', 'redeploys (not counted)', 'rate'],
          rows.map((r) => [
            r.month,
            r.passed,
            r.unapproved,
            r.refused,
            r.redeploys ?? 0,
            percent(r.passed ? r.unapproved / r.passed : null),
          ]),
        ) +
        page.table(
          'Deploys without an independent review',
          ['when', 'repository', 'environment', 'break-glass', 'decision record'],
          m.unapprovedDeploys.map((d) => [
            d.at,
            d.repository,
            d.environment ?? '',
            d.breakGlass.map((id) => id.slice(0, 12)).join(', '),
            page.evidence(d.record),
          ]),
        ) +
        page.table(
          'Reviewed redeploys of artifacts already shipped to their environment (not counted in the rate)',
          ['when', 'repository', 'environment', 'artifacts', 'decision record'],
          (m.redeployed ?? []).map((d) => [
            d.at,
            d.repository,
            d.environment ?? '',
            d.artifacts.map((a) => a.slice(0, 12)).join(', '),
            page.evidence(d.record),
          ]),
        ) +
        page.table(
          'Refusals by check',
          ['check', 'refusals', 'decision records'],
          m.refusalsByCheck.map((c) => [c.check, c.count, page.list(c.records.map((r) => page.evidence(r)))]),
        ),
    };
  },
  M2: (report, page) => {
    const m = report.indicators.M2;
    const measured = m.review.pullRequests.filter((p) => p.seconds !== null);
    return {
      ...(measured.length > 0 && {
        chart: page.plot({
          marginLeft: 110,
          caption: 'Each circle is a pull request; the red tick is its repository’s median.',
          x: { label: 'hours from opening to the first counted approval', grid: true },
          y: { label: null },
          marks: [
            Plot.dot(measured, { x: (p) => (p.seconds as number) / 3600, y: 'repository', stroke: '#4c78a8', r: 4 }),
            Plot.tickX(m.review.byRepository, {
              x: (r) => (r.medianSeconds ?? 0) / 3600,
              y: 'repository',
              stroke: '#e45756',
              strokeWidth: 2,
            }),
          ],
        }),
      }),
      note: 'no pull request records when it was opened and first approved',
      table:
        page.table(
          'Review latency by repository',
          ['repository', 'pull requests', 'median', 'p90'],
          m.review.byRepository.map((r) => [
            r.repository,
            r.count,
            hours(r.medianSeconds ?? 0),
            hours(r.p90Seconds ?? 0),
          ]),
        ) +
        page.table(
          'Deploy approval latency by environment',
          ['environment', 'deploys', 'median', 'p90'],
          m.deploy.status === 'not-measured'
            ? []
            : m.deploy.byEnvironment.map((e) => [
                e.environment,
                e.count,
                hours(e.medianSeconds ?? 0),
                hours(e.p90Seconds ?? 0),
              ]),
          m.deploy.status === 'not-measured'
            ? `not measured: ${m.deploy.reason}`
            : m.deploy.unmeasured > 0
              ? `${m.deploy.unmeasured} deploy approvals record no request time and have no GitHub deployment of their run`
              : undefined,
        ) +
        page.table(
          'Deploys',
          ['run', 'environment', 'requested', 'request time from', 'approvals read', 'latency', 'deploy approval'],
          m.deploy.status === 'not-measured'
            ? []
            : m.deploy.deploys.map((d) => [
                page.link(d.run, d.run),
                d.environment,
                d.requestedAt,
                d.requestedFrom === 'deploy-approval'
                  ? 'the signed deploy approval'
                  : d.deployment
                    ? page.link('GitHub’s deployment (not signed)', d.deployment)
                    : 'GitHub’s deployment (not signed)',
                d.approvedAt,
                hours(d.seconds),
                page.evidence(d.evidence),
              ]),
        ) +
        page.table(
          'Pull requests',
          ['pull request', 'opened', 'first counted approval', 'latency', 'review attestation'],
          m.review.pullRequests.map((p) => [
            page.link(`${p.repository}#${p.number}`, p.url),
            p.openedAt ?? 'not recorded',
            p.firstApprovalAt ?? '',
            p.seconds === null ? '' : hours(p.seconds),
            page.evidence(p.evidence),
          ]),
        ),
    };
  },
  M3: (report, page) => {
    const m = report.indicators.M3;
    const data = m.byMonth.flatMap((r) => [
      { month: r.month, by: 'admin', approvals: r.privileged },
      { month: r.month, by: 'others', approvals: r.approvals - r.privileged },
    ]);
    return {
      ...(data.length > 0 && {
        chart: page.plot({
          height: 300,
          x: { type: 'band', label: 'month' },
          y: { label: 'counted approvals', grid: true },
          color: { domain: ['admin', 'others'], range: ['#f58518', '#4c78a8'], legend: true },
          marks: [Plot.barY(data, { x: 'month', y: 'approvals', fill: 'by' }), Plot.ruleY([0])],
        }),
      }),
      note: 'no counted approval',
      table:
        page.table(
          'Approvals by month',
          ['month', 'approvals', 'by admins', 'share'],
          m.byMonth.map((r) => [
            r.month,
            r.approvals,
            r.privileged,
            percent(r.approvals ? r.privileged / r.approvals : null),
          ]),
        ) +
        page.table(
          'Admins who approved',
          ['approver', 'approvals', 'pull requests'],
          m.privilegedApprovers.map((a) => [
            a.logins ? `${a.login} (also ${a.logins.filter((l) => l !== a.login).join(', ')})` : a.login,
            a.approvals,
            page.list(a.pullRequests.map((url) => page.link(shortPull(url), url))),
          ]),
        ),
    };
  },
  M6: (report, page) => {
    const m = report.indicators.M6;
    return {
      ...(m.byKind.length > 0 && {
        chart: page.plot({
          marginLeft: 190,
          x: { label: 'findings', grid: true, ...counts(Math.max(...m.byKind.map((k) => k.count))) },
          y: { label: null },
          marks: [Plot.barX(m.byKind, { x: 'count', y: 'kind', fill: '#e45756', sort: { y: '-x' } }), Plot.ruleX([0])],
        }),
      }),
      note: 'no finding: every bundle verified, is the policy’s, and every deploy run left its record',
      table: page.table(
        'Findings',
        ['kind', 'evidence', 'why'],
        m.items.map((f) => [f.kind, page.evidence(f.evidence), f.code ? `${f.code}: ${f.reason}` : f.reason]),
      ),
    };
  },
  M7: (report, page) => {
    const m = report.indicators.M7;
    const data = [
      { reuse: 'review approval', count: m.reviewApprovals.length },
      { reuse: 'deploy approval', count: m.deployApprovals.length },
      { reuse: 'break-glass', count: m.breakGlasses.length },
    ];
    return {
      chart: page.plot({
        marginLeft: 120,
        x: { label: 'reused', grid: true, ...counts(Math.max(...data.map((d) => d.count))) },
        y: { label: null },
        marks: [Plot.barX(data, { x: 'count', y: 'reuse', fill: '#e45756' }), Plot.ruleX([0])],
      }),
      table:
        page.table(
          'Review approvals counted for more than one commit',
          ['review', 'reviewer', 'pull request', 'commits', 'review attestations'],
          m.reviewApprovals.map((r) => [
            String(r.reviewId),
            r.reviewer,
            page.link(shortPull(r.pullRequest), r.pullRequest),
            r.commits.map((c) => c.slice(0, 12)).join(', '),
            page.list(r.evidence.map((e) => page.evidence(e))),
          ]),
        ) +
        page.table(
          'Deploy approvals behind another run or environment',
          ['deploy approval', 'its run', 'environment', 'used by'],
          m.deployApprovals.map((d) => [
            page.evidence(d.approval),
            page.link(shortRun(d.run), d.run),
            d.environment,
            page.list(
              d.usedBy.map(
                (u) =>
                  new Markup(
                    `${page.evidence(u.record).html} (${escapeHtml(u.environment ?? '?')}, ${u.run ? page.link(shortRun(u.run), u.run).html : 'no run'})`,
                  ),
              ),
            ),
          ]),
        ) +
        page.table(
          'Break-glasses used more than once',
          ['break-glass', 'artifact', 'environment', 'decision records'],
          m.breakGlasses.map((b) => [
            b.id.slice(0, 12),
            b.artifact.slice(0, 12),
            b.environment ?? '',
            page.list(b.records.map((r) => page.evidence(r))),
          ]),
        ),
    };
  },
  M8: (report, page) => {
    const m = report.indicators.M8;
    if (m.status === 'not-measured') return { note: `not measured: ${m.reason}`, table: '' };
    const limit = report.thresholds.find((t) => t.key === 'max-break-glass-per-month')?.limit;
    return {
      chart: page.plot({
        height: 240,
        x: { type: 'band', label: 'month' },
        y: { label: 'break-glasses used', grid: true, ...counts(Math.max(m.maxPerMonth, limit ?? 0)) },
        marks: [
          Plot.barY(m.byMonth, { x: 'month', y: 'used', fill: '#e45756' }),
          ...(limit === undefined
            ? []
            : [
                Plot.ruleY([limit], { stroke: '#333', strokeDasharray: '4,3' }),
                Plot.text([limit], {
                  y: (d) => d,
                  text: () => 'max-break-glass-per-month',
                  frameAnchor: 'right',
                  dy: -6,
                }),
              ]),
          Plot.ruleY([0]),
        ],
      }),
      table:
        page.table(
          'By month',
          ['month', 'used', 'signed'],
          m.byMonth.map((b) => [b.month, b.used, b.signed]),
        ) +
        page.table(
          'Break-glasses',
          ['first used', 'repository', 'incident', 'requester', 'approvers', 'uses', 'follow-up review', 'attestation'],
          m.breakGlasses.map((b) => [
            b.firstUsedAt ?? 'not used',
            b.repository ?? '',
            b.incident ? page.link(b.incident, b.incident) : '',
            b.requester ?? '',
            (b.approvers ?? []).join(', '),
            b.uses,
            b.followUp ? page.link(shortPull(b.followUp.pullRequest), b.followUp.pullRequest) : 'none',
            b.evidence ? page.evidence(b.evidence) : `not among the evidence (${b.id.slice(0, 12)})`,
          ]),
        ),
    };
  },
  M9: (report, page) => {
    const m = report.indicators.M9;
    const renamed = (m.people ?? []).filter((p) => p.logins.length > 1);
    const people = [...new Set(m.pairs.flatMap((p) => [p.author, p.approver]))].sort();
    const at = new Map(
      people.map((login, i) => {
        const angle = (2 * Math.PI * i) / people.length - Math.PI / 2;
        return [login, { login, x: Math.cos(angle), y: Math.sin(angle) }];
      }),
    );
    const suspect = new Set(m.suspectedCollusion.flatMap((s) => [`${s.a}\n${s.b}`, `${s.b}\n${s.a}`]));
    const links = m.pairs.map((p) => ({
      ...p,
      from: at.get(p.approver)!,
      to: at.get(p.author)!,
      suspect: suspect.has(`${p.author}\n${p.approver}`),
    }));
    return {
      ...(people.length > 0 && {
        chart: page.plot({
          width: 560,
          height: 560,
          inset: 60,
          caption: 'An arrow from approver to author, as thick as the approvals; suspected collusion in red.',
          x: { axis: null },
          y: { axis: null },
          color: { domain: [false, true], range: ['#9ab', '#e45756'] },
          marks: [
            Plot.arrow(links, {
              x1: (l) => l.from.x,
              y1: (l) => l.from.y,
              x2: (l) => l.to.x,
              y2: (l) => l.to.y,
              stroke: 'suspect',
              strokeWidth: (l) => 1 + l.approvals,
              bend: true,
              insetEnd: 10,
              insetStart: 10,
              title: (l) => `${l.approver} approved ${l.author} ${l.approvals}×`,
            }),
            Plot.dot([...at.values()], { x: 'x', y: 'y', r: 6, fill: '#333' }),
            Plot.text([...at.values()], {
              x: 'x',
              y: 'y',
              text: 'login',
              dy: -14,
              fontSize: 12,
            }),
          ],
        }),
      }),
      note: 'no counted approval',
      table:
        page.table(
          'Suspected collusion',
          ['pair', 'share of a’s approvals by b', 'share of b’s approvals by a', 'pull requests'],
          m.suspectedCollusion.map((s) => [
            `${s.a} ↔ ${s.b}`,
            percent(s.shareBA),
            percent(s.shareAB),
            page.list(s.pullRequests.map((url) => page.link(shortPull(url), url))),
          ]),
        ) +
        page.table(
          'Authors by concentration',
          ['author', 'approvals', 'approvers', 'top approver', 'share', 'Herfindahl'],
          m.byAuthor.map((a) => [
            a.author,
            a.approvals,
            a.approvers,
            a.topApprover,
            percent(a.topShare),
            a.herfindahl.toFixed(3),
          ]),
        ) +
        (renamed.length > 0
          ? page.table(
              'People counted under several logins (one account: a rename keeps its id)',
              ['named', 'account id', 'logins'],
              renamed.map((p) => [p.login, p.id ?? '', p.logins.join(', ')]),
            )
          : '') +
        page.table(
          'Author → approver pairs',
          ['author', 'approver', 'approvals', 'share', 'pull requests'],
          m.pairs.map((p) => [
            p.author,
            p.approver,
            p.approvals,
            percent(p.share),
            page.list(p.pullRequests.map((url) => page.link(shortPull(url), url))),
          ]),
        ),
    };
  },
  M10: (report, page) => {
    const m = report.indicators.M10;
    if (m.status === 'not-measured') return { note: `not measured: ${m.reason}`, table: '' };
    const data = [
      { outcome: 'success', deploys: m.succeeded },
      { outcome: 'failure', deploys: m.failed },
      { outcome: 'pending', deploys: m.pending },
      { outcome: 'no deployment', deploys: m.unmatched.length },
    ];
    return {
      chart: page.plot({
        marginLeft: 100,
        x: { label: 'passed deploys', grid: true },
        y: { label: null, domain: data.map((d) => d.outcome) },
        color: { domain: data.map((d) => d.outcome), range: ['#54a24b', '#e45756', '#eeca3b', '#bab0ac'] },
        marks: [Plot.barX(data, { x: 'deploys', y: 'outcome', fill: 'outcome' }), Plot.ruleX([0])],
      }),
      table: page.table(
        'Passed deploys and their outcome',
        ['when', 'repository', 'environment', 'outcome', 'deployment', 'decision record'],
        [
          ...m.deploys.map((d) => [
            d.at,
            d.repository,
            d.environment ?? '',
            d.state,
            page.link(d.deployment, d.deployment),
            page.evidence(d.record),
          ]),
          ...m.unmatched.map((d) => [
            d.at,
            d.repository,
            d.environment ?? '',
            'no deployment',
            '',
            page.evidence(d.record),
          ]),
        ],
      ),
    };
  },
};

/** One page's document (for Plot) and its links. */
class Page {
  constructor(
    private readonly document: unknown,
    private readonly hrefOf: (source: string) => string | undefined,
  ) {}

  /** A chart as static SVG. */
  plot(options: Plot.PlotOptions): string {
    const figure = Plot.plot({
      ...options,
      document: this.document as Plot.PlotOptions['document'],
      style: { background: 'transparent' },
    });
    return (figure as unknown as { outerHTML: string }).outerHTML;
  }

  /** A table under its caption; cells are text (escaped) or markup this page made (`Markup`). */
  table(caption: string, header: string[], rows: (string | number | Markup)[][], empty?: string): string {
    const cell = (value: string | number | Markup) =>
      value instanceof Markup ? value.html : escapeHtml(String(value));
    const summary = `<summary>${escapeHtml(caption)} (${rows.length})</summary>`;
    const open = rows.length <= 20 ? ' open' : '';
    if (rows.length === 0)
      return `<details${open}>${summary}<p class="empty">${escapeHtml(empty ?? 'none')}</p></details>`;
    const head = `<tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`;
    const shown = rows.slice(0, MAX_TABLE_ROWS);
    const body = shown.map((row) => `<tr>${row.map((c) => `<td>${cell(c)}</td>`).join('')}</tr>`).join('');
    const more = rows.length - shown.length;
    const rest = more > 0 ? `<p class="more">and ${more} more rows: see <code>twokey report --json</code></p>` : '';
    return `<details${open}>${summary}<div class="scroll"><table><thead>${head}</thead><tbody>${body}</tbody></table></div>${rest}</details>`;
  }

  /** A link to an https page, else its text. */
  link(text: string, href: string): Markup {
    return new Markup(
      /^https:\/\//.test(href) ? `<a href="${escapeHtml(href)}">${escapeHtml(text)}</a>` : escapeHtml(text),
    );
  }

  /** A bundle: its source, linked to the file when it has one, with its digest. */
  evidence(link: EvidenceLink): Markup {
    const href = this.hrefOf(link.source);
    const name = href
      ? `<a href="${escapeHtml(href)}">${escapeHtml(link.source)}</a>`
      : `<code>${escapeHtml(link.source)}</code>`;
    return new Markup(
      link.sha256
        ? `${name} <code class="digest" title="sha256:${escapeHtml(link.sha256)}">${escapeHtml(link.sha256.slice(0, 12))}</code>`
        : name,
    );
  }

  list(items: Markup[]): Markup {
    return new Markup(items.map((item) => item.html).join('<br>'));
  }
}

/** Markup this page made from escaped parts: put into a cell as it is. */
class Markup {
  constructor(readonly html: string) {}
}

/** Text as HTML that shows exactly that text, in an element or an attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** An axis of counts: whole numbers, a tick each up to ten. */
function counts(max: number): { ticks: number; tickFormat: string } {
  return { ticks: Math.min(10, Math.max(1, max)), tickFormat: 'd' };
}

function shortPull(url: string): string {
  const match = /github\.com\/([^/]+\/[^/]+)\/pull\/(\d+)/.exec(url);
  return match ? `${match[1]}#${match[2]}` : url;
}

function shortRun(uri: string): string {
  const match = /\/actions\/runs\/(\d+)/.exec(uri);
  return match ? `run ${match[1]}` : uri;
}

const STYLE = `
:root { color-scheme: light; font-family: system-ui, sans-serif; color: #222; }
body { margin: 0 auto; max-width: 1100px; padding: 1rem 2rem 3rem; line-height: 1.4; }
h1 { margin-bottom: 0.2rem; }
h2 { margin: 2rem 0 0.3rem; font-size: 1.25rem; }
h2 .id { color: #777; font-weight: 600; margin-right: 0.3rem; }
header p { margin: 0.2rem 0; color: #444; }
.headline { margin: 0.2rem 0 0.8rem; }
.chart svg { max-width: 100%; height: auto; }
.chart figcaption { color: #555; font-size: 0.85rem; }
.scroll { overflow-x: auto; }
.not-measured, .empty { color: #777; font-style: italic; }
#thresholds { border-left: 4px solid #54a24b; padding: 0.2rem 1rem; margin-top: 1rem; }
#thresholds.fail { border-left-color: #e45756; }
#thresholds li.fail, #thresholds li.not-evaluated { color: #b00; }
details { margin: 0.5rem 0; }
summary { cursor: pointer; font-weight: 600; }
table { border-collapse: collapse; margin: 0.5rem 0; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }
code { font-size: 0.85em; }
.digest { color: #777; }
footer { margin-top: 3rem; color: #777; font-size: 0.85rem; }
`;
