// `npm test`'s slice of the fuzzer (`npm run fuzz` runs the rest): a fixed seed, a few hundred cases of bundle, policy
// and command-line mutations, in this process, on the committed seeds only (real public-good and conformance bundles,
// the loopback seeds), so that every run is the same run. No case may crash, hang or end in an internal error, and no
// mutated bundle may verify but the known open findings (open-findings.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CaseReport, disposeContext, type FuzzContext, makeContext, runCase, runCli } from './cases';
import { openFindingOf } from './open-findings';
import { bundleSeeds, verifyBundleArgv } from './seeds';

const SEED = 20_240_611;
const CASES = 400;

let context: FuzzContext;
let reports: CaseReport[];

beforeAll(async () => {
  // A generous budget: a slow machine must not turn a slow case into a "hang"; a real hang still fails the test.
  context = makeContext({ caseBudgetMs: 10_000, targets: ['bundle', 'policy', 'argv'] });
  reports = [];
  for (let index = 0; index < CASES; index++) reports.push(await runCase(context, SEED, index));
}, 120_000);

afterAll(() => {
  if (context) disposeContext(context);
});

function describeReport(report: CaseReport): string {
  return `#${report.index} ${report.target}/${report.via} [${report.group}] ${report.notes.join('; ')} -> ${report.result.outcome} ${report.result.code ?? ''} ${report.result.message ?? ''}`;
}

describe(`fuzz slice (seed ${SEED}, ${CASES} cases)`, () => {
  it('verifies every seed unmutated, so that a refusal of a mutation means something', async () => {
    for (const seed of bundleSeeds()) {
      const result = await runCli(verifyBundleArgv(seed, seed.path));
      expect(result.status, `${seed.name}: ${result.stderr}`).toBe(0);
    }
  });

  it('mutates bundles, policies and command lines in many ways', () => {
    const targets = new Set(reports.map((r) => r.target));
    expect([...targets].sort()).toEqual(['argv', 'bundle', 'control', 'policy']);
    expect(new Set(reports.map((r) => r.group)).size).toBeGreaterThan(150);
    const outcomes = new Set(reports.map((r) => r.result.outcome));
    for (const outcome of ['refused', 'input-error', 'accepted'] as const) expect(outcomes).toContain(outcome);
  });

  it('never crashes, hangs or fails with an internal error, whatever the input', () => {
    const failures = reports.filter((r) => r.finding && r.finding !== 'accepted-mutation');
    expect(failures.map(describeReport)).toEqual([]);
  });

  it('verifies no mutated bundle and accepts no changed identity (known open findings aside)', () => {
    const accepted = reports.filter((r) => r.finding === 'accepted-mutation' && !openFindingOf(r));
    expect(accepted.map(describeReport)).toEqual([]);
  });
});
