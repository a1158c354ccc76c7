// JSON text with what JSON.stringify cannot write: a key twice in one object, and raw number or nesting spellings.
// The fuzzer mutates a bundle as a JSON tree and writes it with these, so that a mutation can be anything a file can
// hold, not only what a JSON value can say.

/** On an object: keys written a second time, before or after the object's own entries. */
export const EXTRA_KEYS = Symbol('extra keys');

export interface ExtraKey {
  key: string;
  value: unknown;
  before: boolean;
}

/** Written as it is: `1e2`, `0123`, a nesting a million deep. */
export class RawJSON {
  constructor(readonly text: string) {}
}

type WithExtras = Record<string, unknown> & { [EXTRA_KEYS]?: ExtraKey[] };

export function toJSONText(value: unknown): string {
  return hasTextOnlyMarks(value) ? markedText(value) : JSON.stringify(value);
}

function markedText(value: unknown): string {
  if (value instanceof RawJSON) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJSONText).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const extras = (value as WithExtras)[EXTRA_KEYS] ?? [];
    const entries = [
      ...extras.filter((e) => e.before).map((e) => [e.key, e.value] as const),
      ...Object.entries(value),
      ...extras.filter((e) => !e.before).map((e) => [e.key, e.value] as const),
    ];
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${markedText(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Whether the tree holds a key written twice or a raw spelling: its text says more than its JSON.parse value. */
function hasTextOnlyMarks(value: unknown): boolean {
  if (value instanceof RawJSON) return true;
  if (Array.isArray(value)) return value.some(hasTextOnlyMarks);
  if (typeof value === 'object' && value !== null) {
    if (((value as WithExtras)[EXTRA_KEYS] ?? []).length > 0) return true;
    return Object.values(value).some(hasTextOnlyMarks);
  }
  return false;
}

/**
 * Whether the text of the tree says more than its JSON.parse value: a raw spelling, or a key that really stands twice
 * in one object. A key added a second time whose first stand was then dropped stands once: the text is the value's,
 * with its keys in another order (which a JSON object does not count), and says nothing more.
 */
export function saysMoreThanItsValue(value: unknown): boolean {
  if (value instanceof RawJSON) return true;
  if (Array.isArray(value)) return value.some(saysMoreThanItsValue);
  if (typeof value === 'object' && value !== null) {
    const extras = (value as WithExtras)[EXTRA_KEYS] ?? [];
    const twice = extras.some(
      (e, i) => Object.hasOwn(value, e.key) || extras.some((other, j) => j !== i && other.key === e.key),
    );
    if (twice || extras.some((e) => saysMoreThanItsValue(e.value))) return true;
    return Object.values(value).some(saysMoreThanItsValue);
  }
  return false;
}

/** Structural equality of two JSON.parse values (key order does not count, as it does not for a JSON object). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((x, i) => jsonEqual(x, other[i]));
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  return ka.every(
    (k) =>
      Object.hasOwn(b as object, k) && jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}

/** A deep copy of a JSON value (marks are not copied: they are added after copying). */
export function cloneJSON<T>(value: T): T {
  return structuredClone(value);
}

export type JsonPath = (string | number)[];

export function getAt(root: unknown, path: JsonPath): unknown {
  let node = root;
  for (const step of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string | number, unknown>)[step];
  }
  return node;
}

/** Sets the value at `path` (its parent must exist); returns false when it does not. */
export function setAt(root: unknown, path: JsonPath, value: unknown): boolean {
  if (path.length === 0) return false;
  const parent = getAt(root, path.slice(0, -1));
  if (typeof parent !== 'object' || parent === null) return false;
  (parent as Record<string | number, unknown>)[path[path.length - 1]!] = value;
  return true;
}

export function describePath(path: JsonPath): string {
  return (
    path.map((step, i) => (typeof step === 'number' ? `[${step}]` : i === 0 ? step : `.${step}`)).join('') || '(root)'
  );
}
