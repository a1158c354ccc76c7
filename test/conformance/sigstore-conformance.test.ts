// The Sigstore client conformance suite (sigstore/sigstore-conformance, verify-bundle assets), run the way its
// harness runs a client: the built CLI as a subprocess, once with the artifact's path and once with its digest.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { conformanceRoot } from './paths';
import { runCli } from './run-cli';

interface ConformanceCase {
  id: string;
  expected: 'pass' | 'fail';
  description: string;
  verify_argv_path: string[];
  verify_argv_digest: string[];
}

const suiteDir = join(conformanceRoot, 'sigstore-conformance');
const { cases } = JSON.parse(readFileSync(join(suiteDir, 'cases.json'), 'utf8')) as { cases: ConformanceCase[] };
const runs = cases.flatMap((c) => [
  { c, mode: 'path' as const, argv: c.verify_argv_path },
  { c, mode: 'digest' as const, argv: c.verify_argv_digest },
]);

let passed = 0;
let failed = 0;

describe.concurrent('sigstore-conformance verify-bundle', () => {
  it('has the 140 invocations of the upstream suite', () => {
    expect(runs).toHaveLength(140);
  });

  it.each(runs.map((r) => [`${r.c.id} (${r.mode})`, r] as const))('%s', async (_name, { c, argv }) => {
    const result = await runCli(argv, suiteDir);
    // A refusal is a named one (exit 1 or 2, `error CODE: …`): a usage error (`twokey: …`) is not a verdict on the case.
    const refused = (result.status === 1 || result.status === 2) && /^error [A-Z_]+: /.test(result.stderr);
    const verdict = result.status === 0 ? 'pass' : refused ? 'fail' : 'no verdict';
    if (verdict === c.expected) passed++;
    else failed++;
    // A client that crashes (no exit status, or a stack trace) has not given a verdict.
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.status, `${c.description}\n${result.stdout}${result.stderr}`).not.toBeNull();
    expect(verdict, `${c.description}\n${result.stdout}${result.stderr}`).toBe(c.expected);
  });
});

afterAll(() => {
  process.stdout.write(`sigstore-conformance: ${passed} passed, ${failed} failed\n`);
});
