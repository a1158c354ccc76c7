// Fuzzer findings, fixed: internal errors. Each case is the mutation the fuzzer generated (seed 5 of `npm run fuzz`,
// run on the tree before the bundle reader bounded nesting and every error got its kind, 4237d7c), where twokey threw
// an engine error (a stack overflow, a TypeError in the timestamp reader, V8's regular expression size limit) and
// reported it as a refusal or not at all. Now each is a coded refusal or input error naming the file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CaseReport, disposeContext, type FuzzCase, type FuzzContext } from '../cases';
import { describeReport, regressionContext, replay, seedIndex } from './replay';

let context: FuzzContext;

beforeAll(async () => {
  context = await regressionContext();
});

afterAll(() => {
  if (context) disposeContext(context);
});

async function expectCoded(fuzzCase: FuzzCase, outcome: CaseReport['result']['outcome'], code: string): Promise<void> {
  const report = await replay(context, fuzzCase);
  expect(report.finding, describeReport(report)).toBeUndefined();
  expect(report.result.outcome, describeReport(report)).toBe(outcome);
  expect(report.result.code).toBe(code);
}

const TIMESTAMP = ['verificationMaterial', 'timestampVerificationData', 'rfc3161Timestamps', 0, 'signedTimestamp'];

describe('fuzz regressions: internal errors', () => {
  it('refuses JSON nested 200,000 deep as a malformed bundle (was RangeError: Maximum call stack size exceeded)', async () => {
    await expectCoded(
      {
        target: 'bundle',
        via: 'packages',
        mutation: {
          seed: seedIndex('realdata/sigstore-js-2.1.0'),
          ops: [{ op: 'nest', path: ['verificationMaterial'], depth: 200_000, kind: 'array' }],
        },
      },
      'input-error',
      'BUNDLE_MALFORMED',
    );
  });

  it('exits 2 for objects nested 10,000 deep in a DSSE signature (was exit 1, VERIFICATION_FAILED: Maximum call stack)', async () => {
    await expectCoded(
      {
        target: 'bundle',
        via: 'cli',
        mutation: {
          seed: seedIndex('loopback/dsse'),
          ops: [{ op: 'nest', path: ['dsseEnvelope', 'signatures'], depth: 10_000, kind: 'object' }],
        },
      },
      'input-error',
      'BUNDLE_MALFORMED',
    );
  });

  it('refuses a signature bundle spliced in as a timestamp token (was TypeError: Cannot read properties of undefined)', async () => {
    await expectCoded(
      {
        target: 'bundle',
        via: 'packages',
        mutation: {
          seed: seedIndex('realdata/hello-world.rekor-v2-hashedrekord'),
          ops: [{ op: 'splice', path: TIMESTAMP, from: 0, pick: 2147483640 }],
        },
      },
      'refused',
      'TIMESTAMP_INVALID',
    );
  });

  it('refuses a timestamp token whose TSTInfo lost an element (was TypeError in the timestamp reader)', async () => {
    await expectCoded(
      {
        target: 'bundle',
        via: 'packages',
        mutation: {
          seed: seedIndex('loopback/dsse'),
          ops: [{ op: 'der', path: TIMESTAMP, how: 'drop-child', region: 'inside', pick: 2147483625, bit: 1 }],
        },
      },
      'refused',
      'TIMESTAMP_INVALID',
    );
  });

  it('refuses a timestamp token in BER indefinite-length form (was TypeError in the timestamp reader)', async () => {
    await expectCoded(
      {
        target: 'bundle',
        via: 'packages',
        mutation: {
          seed: seedIndex('conformance/rekor2-dsse-happy-path'),
          ops: [{ op: 'der', path: TIMESTAMP, how: 'indefinite-length', region: 'any', pick: 1047288178, bit: 4 }],
        },
      },
      'refused',
      'TIMESTAMP_INVALID',
    );
  });

  it('refuses a 100,000-character san-pattern as invalid (was SyntaxError: regular expression too large)', async () => {
    await expectCoded(
      {
        target: 'policy',
        via: 'packages',
        mutation: { seed: 1, ops: [{ op: 'pattern', rule: 'build', pattern: 'x'.repeat(100_000) }] },
      },
      'input-error',
      'POLICY_INVALID',
    );
  });
});
