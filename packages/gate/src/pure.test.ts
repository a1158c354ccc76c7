// The deploy verdict is pure, as packages/core is: evaluate.ts, checks.ts and candidates.ts import only the core and
// each other — no file, no network, no clock but the one they are given. Reading and verifying evidence (gate.ts,
// evidence.ts, artifacts.ts) is the I/O around them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const PURE = ['evaluate.ts', 'checks.ts', 'candidates.ts', 'error.ts'];

function imports(file: string): string[] {
  const text = readFileSync(join(import.meta.dirname, file), 'utf8');
  return [...text.matchAll(/^(?:import|export)[^;]*?from '([^']+)'/gms)].map((m) => m[1]!);
}

describe('the deploy verdict is pure', () => {
  it.each(PURE)('%s imports only @twokey/core and the other pure modules', (file) => {
    const found = imports(file);
    expect(found.length).toBeGreaterThan(0);
    for (const from of found) {
      expect(['@twokey/core', ...PURE.map((p) => `./${p.replace(/\.ts$/, '')}`)], `${file}: ${from}`).toContain(from);
    }
  });

  it('reads no clock of its own: the time is an input', () => {
    for (const file of PURE)
      expect(readFileSync(join(import.meta.dirname, file), 'utf8')).not.toMatch(/new Date\(\)|Date\.now\(/);
  });
});
