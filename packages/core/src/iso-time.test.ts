import { describe, expect, it } from 'vitest';
import { isoTime } from './iso-time';

describe('isoTime', () => {
  it('reads a date as its midnight UTC, and a time with its zone', () => {
    expect(isoTime('2026-11-21')?.toISOString()).toBe('2026-11-21T00:00:00.000Z');
    expect(isoTime('2026-11-21T12:00:00Z')?.toISOString()).toBe('2026-11-21T12:00:00.000Z');
    expect(isoTime('2026-11-21T12:00+02:00')?.toISOString()).toBe('2026-11-21T10:00:00.000Z');
    expect(isoTime('2024-02-29')?.toISOString()).toBe('2024-02-29T00:00:00.000Z');
    // Years 0–99 are years 0–99 (Date.UTC reads them as 1900–1999): 0000 is a leap year, 0100 is not.
    expect(isoTime('0000-02-29')?.toISOString()).toBe('0000-02-29T00:00:00.000Z');
    expect(isoTime('0004-02-29')?.toISOString()).toBe('0004-02-29T00:00:00.000Z');
    expect(isoTime('0100-02-29')).toBeUndefined();
  });

  it('refuses a day the month does not have, which Date.parse rolls over into the next month (found by the review of inputs)', () => {
    expect(new Date('2026-02-30').toISOString()).toBe('2026-03-02T00:00:00.000Z');
    for (const value of ['2026-02-30', '2026-02-29', '2026-04-31', '2026-13-01', '2026-00-10', '2026-01-00']) {
      expect(isoTime(value), value).toBeUndefined();
      expect(isoTime(`${value}T12:00:00Z`), value).toBeUndefined();
    }
  });

  it('refuses 24:00, minutes and seconds past 59, and an offset out of range', () => {
    for (const value of [
      '2026-11-21T24:00:00Z',
      '2026-11-21T12:60Z',
      '2026-11-21T12:00:60Z',
      '2026-11-21T12:00+24:00',
    ]) {
      expect(isoTime(value), value).toBeUndefined();
    }
  });

  it('refuses a time without its zone, other forms, and an instant past year 9999', () => {
    for (const value of ['2026-11-21T12:00:00', 'yesterday', '21/11/2026', '9999-12-31T23:59:59-14:00', '']) {
      expect(isoTime(value), value).toBeUndefined();
    }
  });
});
