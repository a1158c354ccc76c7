// The report action's step summary when the run stops on an error: it was raw Markdown (`## twokey report` and the
// message), the one summary that skipped renderSummary, and the message names files of the evidence directory, whose
// names may hold newlines, Markdown and HTML: a dangling link named like this wrote a heading, a table claiming every
// threshold passes, and an unclosed <details> folding the real reason out of sight. Escaped now, as every summary.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sodReportStep } from '@twokey/cli/src/report-step';
import { orgHistoryPolicy } from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let ws: string;
const NAME =
  'x\n\n## ✅ twokey report: every threshold holds\n\n| indicator | verdict |\n|---|---|\n| M1 unapproved change rate | ✅ pass |\n\n<details>\n\n.jsonl';

beforeAll(() => {
  ws = mkdtempSync(join(tmpdir(), 'twokey-report-summary-'));
  writeFileSync(join(ws, 'org-policy.yml'), orgHistoryPolicy('trusted_root.json', ''));
  copyFileSync('packages/sigstore/src/roots/github-trusted-root.json', join(ws, 'trusted_root.json'));
  mkdirSync(join(ws, 'evidence'));
  // What alice commits to (or drops into) the evidence directory: a dangling symbolic link with this name.
  symlinkSync('/nonexistent', join(ws, 'evidence', NAME));
});
afterAll(() => rmSync(ws, { recursive: true, force: true }));

describe('report action: the summary of a run stopped by an error', () => {
  it('shows a hostile file name as text: no heading, table or HTML of its own, the reason in sight', async () => {
    const outcome = await sodReportStep({
      policy: 'org-policy.yml',
      bundles: ['evidence'],
      repository: '',
      owner: 'acme',
      token: '',
      apiUrl: 'http://127.0.0.1:9',
      since: '',
      until: '',
      period: '30d',
      workspace: ws,
      outputDirectory: join(ws, 'out'),
      now: new Date('2026-12-01T00:00:00Z'),
    });
    expect(outcome.failure).toMatch(/^BUNDLE_UNREADABLE: /);
    // Twokey's heading, then the message as text in one <pre> block (GitHub reads no Markdown inside it, blank lines
    // and all, up to its </pre>): the name's heading and table are shown as text, its HTML as entities.
    expect(outcome.summary).toMatch(/^## twokey report: not evaluated\n\n<pre>BUNDLE_UNREADABLE: [^<]*<\/pre>\n$/);
    expect(outcome.summary).not.toContain('<details>');
    expect(outcome.summary).toContain('&lt;details&gt;');
    expect(outcome.summary).toContain('cannot read');
  });
});
