// The times a person types (`twokey verify --at`, `twokey report --since/--until`): a date, midnight UTC, or an ISO 8601
// time with its zone — only one that names a real instant. Date.parse rolls a day the month does not have over into
// the next month (2026-02-30 is 2026-03-02) and takes 24:00 as the next day's midnight: an auditor who typed one would
// be judged as of another day without a word.

/** The last instant `toISOString` writes as `YYYY-…Z` (after it: `+010000-…`), which reports and predicates hold. */
export const LAST_ISO_TIME_MS = Date.parse('9999-12-31T23:59:59.999Z');

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2})))?$/;

/** The instant `value` names (a date is its midnight UTC), or undefined when it is not such a time or names none. */
export function isoTime(value: string): Date | undefined {
  const parts = ISO_TIME.exec(value);
  if (!parts) return undefined;
  const [, year, month, day, hour = '00', minute = '00', second = '00', offsetHours = '00', offsetMinutes = '00'] =
    parts.map((p) => p as string);
  const y = Number(year);
  const m = Number(month);
  // Day 0 of the next month is this month's last; setUTCFullYear, as Date.UTC reads years 0–99 as 1900–1999.
  const last = new Date(0);
  last.setUTCFullYear(y, m, 0);
  const daysInMonth = last.getUTCDate();
  const valid =
    m >= 1 &&
    m <= 12 &&
    Number(day) >= 1 &&
    Number(day) <= daysInMonth &&
    Number(hour) <= 23 &&
    Number(minute) <= 59 &&
    Number(second) <= 59 &&
    Number(offsetHours) <= 23 &&
    Number(offsetMinutes) <= 59;
  if (!valid) return undefined;
  const time = new Date(value);
  // An offset may take the instant out of years 0000–9999 (9999-12-31T23:59-14:00 is in year 10000): no time a
  // report or a record can name.
  if (Number.isNaN(time.getTime()) || !/^\d{4}-/.test(time.toISOString())) return undefined;
  return time;
}
