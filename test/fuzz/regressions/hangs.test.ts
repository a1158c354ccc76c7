// Fuzzer findings, fixed: hangs. Each case is the mutation the fuzzer generated (seed 5 of `npm run fuzz`, run on the
// tree before identity patterns went to RE2 and the policy was bounded, 5ebdae7), where the case never answered (a
// worker stopped after 6 s, a replay killed after 30 s) or took seconds. Now each answers within the fuzzer's budget.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disposeContext, type FuzzCase, type FuzzContext } from '../cases';
import { describeReport, regressionContext, replay } from './replay';

/** The fuzzer's catastrophic patterns, each matched against near-miss SANs such as `a` × 64 + `!`. */
const CATASTROPHIC = {
  'nested plus (a+)+$': '(a+)+$',
  'overlapping alternation (a|a)*b': '(a|a)*b',
  'the classic e-mail pattern ^(([a-z])+.)+[A-Z]([a-z])+$': '^(([a-z])+.)+[A-Z]([a-z])+$',
  'a star of a star (.*)*x': '(.*)*x',
  'a polynomial (.*a){20}': '(.*a){20}',
  'a workflow pattern with starred groups': 'https://github\\.com/(.*)*/\\.github/workflows/(.*)*\\.yml@(.*)*!',
};

let context: FuzzContext;

beforeAll(async () => {
  context = await regressionContext({ chain: true });
}, 120_000);

afterAll(() => {
  if (context) disposeContext(context);
});

async function expectAnswered(fuzzCase: FuzzCase): Promise<void> {
  const report = await replay(context, fuzzCase);
  // No finding: within the budget (2 s of CPU), and no crash or internal error on the way.
  expect(report.finding, describeReport(report)).toBeUndefined();
}

describe('fuzz regressions: hangs', () => {
  for (const [name, pattern] of Object.entries(CATASTROPHIC)) {
    it(`reads a policy whose san-pattern is ${name} and matches it against near-miss SANs in linear time`, async () => {
      for (const rule of ['build', 'sign'] as const) {
        await expectAnswered({
          target: 'policy',
          via: 'packages',
          mutation: { seed: 0, ops: [{ op: 'pattern', rule, pattern }] },
        });
      }
    });
  }

  it('twokey verify judges a chain under a policy whose build san-pattern backtracks (was a hang of the gate)', async () => {
    await expectAnswered({
      target: 'policy',
      via: 'cli',
      mutation: {
        seed: 0,
        ops: [{ op: 'pattern', rule: 'build', pattern: CATASTROPHIC['a workflow pattern with starred groups'] }],
      },
    });
  });

  it('twokey verify-bundle --certificate-identity-regexp with starred groups answers for a real SAN (was a hang)', async () => {
    await expectAnswered({
      target: 'argv',
      mutation: {
        base: 0,
        ops: [{ op: 'regexp', how: 'pattern', pattern: CATASTROPHIC['a workflow pattern with starred groups'] }],
      },
    });
  });

  it('refuses a policy with 20,000 unknown keys in milliseconds (the duplicate-key check was quadratic: 6 s)', async () => {
    await expectAnswered({
      target: 'policy',
      via: 'packages',
      mutation: { seed: 0, ops: [{ op: 'text', how: 'many-keys', pick: 0 }] },
    });
  });
});
