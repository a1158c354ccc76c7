// The report action's `period` was checked only against /^[1-9][0-9]{0,9}[smhd]?$/: `9999999999d` reaches past the
// range of a Date, so the window's start was an Invalid Date; report.min-period's comparison with NaN (`NaN < min` is
// false) let it through, and the report then failed as an internal error ("this is a bug", exit 3). Such a period is
// now a usage error naming the input (exit 2), and a window whose length is not a number fails min-period.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSodReport } from '@twokey/cli/src/report-run';
import { sodReportStep } from '@twokey/cli/src/report-step';
import { EXIT_CODES, errorKindOf } from '@twokey/core';
import { orgHistoryPolicy } from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let ws: string;

beforeAll(() => {
  ws = mkdtempSync(join(tmpdir(), 'twokey-period-'));
  writeFileSync(join(ws, 'org-policy.yml'), orgHistoryPolicy('trusted_root.json', 'report:\n  min-period: 7d\n'));
  copyFileSync('packages/sigstore/src/roots/github-trusted-root.json', join(ws, 'trusted_root.json'));
  mkdirSync(join(ws, 'evidence'));
  writeFileSync(join(ws, 'evidence', 'note.json'), '{"not":"a bundle"}');
});

afterAll(() => rmSync(ws, { recursive: true, force: true }));

const step = (period: string) =>
  sodReportStep({
    policy: 'org-policy.yml',
    bundles: ['evidence'],
    repository: '',
    owner: 'acme',
    token: '',
    apiUrl: 'http://127.0.0.1:9',
    since: '',
    until: '',
    period,
    workspace: ws,
    outputDirectory: join(ws, 'out'),
    now: new Date('2026-12-01T00:00:00Z'),
  });

describe('the report action’s period', () => {
  it('refuses a period past the range of a Date as a usage error naming the input, not an internal error', async () => {
    for (const period of ['9999999999d', '9999999999h', '999999999d', '9999999d']) {
      const outcome = await step(period);
      expect(outcome.failure).toMatch(new RegExp(`^USAGE: report: period: "${period}" reaches back before the year 0`));
      expect(outcome.failure).not.toMatch(/internal|bug|Invalid time value/i);
      expect(outcome.outputs['report-path']).toBeUndefined();
    }
  });

  it('still reports over a long period that a time can hold', async () => {
    const outcome = await step('3650d');
    expect(outcome.failure ?? '').not.toMatch(/period|internal/i);
    expect(outcome.outputs['report-path']).toBe(join(ws, 'out', 'sod-report.json'));
  });
});

describe('report.min-period over a window whose length is not a number', () => {
  it('fails it (exit 2): a comparison with NaN never passes', async () => {
    for (const window of [
      { since: new Date(Number.NaN) },
      { since: new Date('2026-01-01'), until: new Date(Number.NaN) },
    ]) {
      const error = await runSodReport({
        policy: 'org-policy.yml',
        boundedWindow: true,
        bundles: ['evidence'],
        cwd: ws,
        owner: 'acme',
        apiUrl: 'http://127.0.0.1:9',
        token: '',
        ...window,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(EXIT_CODES[errorKindOf(error)]).toBe(2);
      expect((error as Error).message).toMatch(/^report: (since|until): not a time/);
    }
  });
});

describe('a window that starts in the future', () => {
  it('is a usage error naming since, in the action and the CLI’s shared run, not a report of nothing that passes', async () => {
    const outcome = await sodReportStep({
      policy: 'org-policy.yml',
      bundles: ['evidence'],
      repository: '',
      owner: 'acme',
      token: '',
      apiUrl: 'http://127.0.0.1:9',
      since: '2026-12-02T00:00:00Z',
      until: '2026-12-31T00:00:00Z',
      period: '',
      workspace: ws,
      outputDirectory: join(ws, 'out-future'),
      now: new Date('2026-12-01T00:00:00Z'),
    });
    expect(outcome.failure).toMatch(/^USAGE: report: since \(2026-12-02T00:00:00\.000Z\) is in the future/);
    expect(outcome.outputs['report-path']).toBeUndefined();
    // The same window once it holds the policy's 7 days of the past is a report.
    const later = await sodReportStep({
      policy: 'org-policy.yml',
      bundles: ['evidence'],
      repository: '',
      owner: 'acme',
      token: '',
      apiUrl: 'http://127.0.0.1:9',
      since: '2026-12-02T00:00:00Z',
      until: '2026-12-31T00:00:00Z',
      period: '',
      workspace: ws,
      outputDirectory: join(ws, 'out-future'),
      now: new Date('2026-12-09T00:00:01Z'),
    });
    expect(later.failure ?? '').not.toMatch(/future/);
    expect(later.outputs['report-path']).toBe(join(ws, 'out-future', 'sod-report.json'));
  });
});

describe('a window that reaches into the future, or ends before it starts', () => {
  // Found by the review of the future-since fix: report.min-period measured since → until, so a window from a second
  // ago to eight days ahead met a 7-day minimum with nothing counted; and the action took a since after its until.
  const windowStep = (since: string, until: string) =>
    sodReportStep({
      policy: 'org-policy.yml',
      bundles: ['evidence'],
      repository: '',
      owner: 'acme',
      token: '',
      apiUrl: 'http://127.0.0.1:9',
      since,
      until,
      period: '',
      workspace: ws,
      outputDirectory: join(ws, 'out-window'),
      now: new Date('2026-12-01T00:00:00Z'),
    });

  it('counts only the past toward report.min-period', async () => {
    const ahead = await windowStep('2026-11-30T23:59:59Z', '2026-12-09T00:00:00Z');
    expect(ahead.failure).toMatch(/^USAGE: report: the window .* is shorter than the org policy's report.min-period/);
    expect(ahead.outputs['report-path']).toBeUndefined();
    const enough = await windowStep('2026-11-20T00:00:00Z', '2026-12-09T00:00:00Z');
    expect(enough.failure ?? '').not.toMatch(/min-period|USAGE/);
  });

  it('refuses a since at or after its until', async () => {
    for (const [since, until] of [
      ['2026-11-20T00:00:00Z', '2026-11-01T00:00:00Z'],
      ['2026-11-20T00:00:00Z', '2026-11-20T00:00:00Z'],
    ]) {
      const outcome = await windowStep(since!, until!);
      expect(outcome.failure).toMatch(/^USAGE: report: since \(.*\) must be before until/);
    }
  });
});
