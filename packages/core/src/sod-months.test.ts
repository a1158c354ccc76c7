// The months a report lists (M8 counts break-glasses per month): from the earliest time's month to the latest's. A
// time past year 9999 (`+010000-…` as toISOString spells it) sorted first as text and never ended the walk: a report
// that hung. Only the policy's identities sign the times it is given, but a report never loops on its input.
import { describe, expect, it } from 'vitest';
import { monthsOf } from './sod-metrics';

describe('monthsOf', () => {
  it('lists every month from the earliest to the latest, across a year', () => {
    expect(monthsOf(['2026-11-20T10:00:00Z', '2027-02-01T00:00:00Z', '2026-12-31T23:59:59Z'])).toEqual([
      '2026-11',
      '2026-12',
      '2027-01',
      '2027-02',
    ]);
    expect(monthsOf([])).toEqual([]);
  });

  it('ends on a time past year 9999, and lists at most a century: the latest one', () => {
    expect(monthsOf(['+010000-01-01T00:00:00.000Z', '2026-03-02T00:00:00Z'])).toEqual(['2026-03']);
    // A window opened in 1900: the months that hold facts are listed, not 1900–1999.
    const century = monthsOf(['1900-01-01T00:00:00Z', '2026-03-02T00:00:00Z']);
    expect(century).toHaveLength(1200);
    expect(century.at(-1)).toBe('2026-03');
    expect(century[0]).toBe('1926-04');
  });

  it('leaves out times after the report’s own: one far-future time hid every month with a fact', () => {
    const times = ['2026-03-02T00:00:00Z', '2026-04-10T00:00:00Z', '9999-01-01T00:00:00Z'];
    expect(monthsOf(times, Date.parse('2026-12-01T00:00:00Z'))).toEqual(['2026-03', '2026-04']);
  });

  it('takes any number of times (no spread of arguments)', () => {
    const times = Array.from({ length: 300_000 }, (_, i) => new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString());
    expect(monthsOf(times)).toEqual(['2026-01', '2026-02', '2026-03', '2026-04', '2026-05', '2026-06', '2026-07']);
  });
});
