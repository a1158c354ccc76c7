// Every error has its kind: JSON too deep for anything recursive is a malformed bundle (exit 2) naming the file, found
// by one linear scan; a timestamp token that is not one is TIMESTAMP_INVALID naming the bundle, never a raw
// JavaScript message; an exception no check anticipated is an internal error (exit 3, "this is a bug", the file
// named), never a refusal and never a pass — in the calling thread and in the batch's worker threads alike.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  InternalError,
  isRejected,
  parseBundleJSON,
  SigstoreInputError,
  signStatement,
  verifyEvidenceBatch,
} from '@twokey/sigstore';
import { ACME_POLICY } from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { reportError, run } from '../../packages/cli/src/cli';
import { repoRoot } from '../conformance/paths';
import { type CliResult, runCli } from '../conformance/run-cli';
import { type BundleJSON, changed, ISSUER, type LoopbackEvidence, outcomeOf, signLoopbackEvidence } from './evidence';

const BUG_REPORT =
  'twokey: internal error (this is a bug, please report it at https://github.com/twokey-dev/twokey/issues): ';

let evidence: LoopbackEvidence;
let dir: string;

beforeAll(async () => {
  evidence = await signLoopbackEvidence();
  dir = mkdtempSync(join(tmpdir(), 'twokey-error-kinds-'));
  writeFileSync(join(dir, 'policy.yml'), ACME_POLICY);
});

afterAll(async () => {
  await evidence?.close();
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, content: string | BundleJSON): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/** `twokey verify-bundle` on the loopback evidence: its signer, its trusted root, its artifact. */
function verifyBundle(bundle: string): Promise<CliResult> {
  return runCli(
    [
      'verify-bundle',
      '--bundle',
      bundle,
      '--certificate-identity',
      evidence.san,
      '--certificate-oidc-issuer',
      ISSUER,
      '--trusted-root',
      evidence.stack.trustedRootPath,
      `sha256:${evidence.artifact.hex}`,
    ],
    repoRoot,
  );
}

/** One `error CODE: …` line, the exit status of its kind, no stack trace, naming what is given. */
function expectError(result: CliResult, status: number, code: string, ...named: string[]): void {
  const context = `${result.stdout}${result.stderr}`;
  expect(result.status, context).toBe(status);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(result.stderr.trimEnd().split('\n'), context).toHaveLength(1);
  expect(result.stderr, context).toMatch(new RegExp(`^error ${code}: `));
  for (const name of named) expect(result.stderr, context).toContain(name);
}

describe('JSON nested deeper than anything recursive may see is a malformed bundle naming the file', () => {
  const DEPTH = 100_000;

  it('refuses 100,000 nested arrays with exit 2, naming the file, in one linear scan', async () => {
    const path = write('nested-arrays.json', `${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}`);
    const started = performance.now();
    const result = await verifyBundle(path);
    expectError(result, 2, 'BUNDLE_MALFORMED', path, 'nested deeper than 64 levels');
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('refuses a bundle with 100,000 nested objects in a field nobody reads, with exit 2 naming the file', async () => {
    const nested = `${'{"a":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)}`;
    const text = JSON.stringify(evidence.signature).replace(/^\{/, `{"extra":${nested},`);
    const path = write('nested-objects.json', text);
    expectError(await verifyBundle(path), 2, 'BUNDLE_MALFORMED', path, 'nested deeper than 64 levels');
  });

  it('refuses it in `twokey verify` too: exit 2 naming the file', async () => {
    const path = write('nested-evidence.json', `${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}`);
    const result = await runCli(
      [
        'verify',
        `sha256:${evidence.artifact.hex}`,
        '--policy',
        join(dir, 'policy.yml'),
        '--repo',
        'acme/app',
        '--trusted-root',
        evidence.stack.trustedRootPath,
        '--bundle',
        path,
      ],
      repoRoot,
    );
    expectError(result, 2, 'BUNDLE_MALFORMED', path);
  });

  it('refuses a deeply nested object handed to parseBundleJSON, without recursing', () => {
    let deep: unknown = 1;
    for (let i = 0; i < DEPTH; i++) deep = { a: deep };
    const bundle = { ...structuredClone(evidence.signature), extra: deep };
    expect(outcomeOf(() => parseBundleJSON(bundle, 'deep object'))).toBe('BUNDLE_MALFORMED');
  });

  it('refuses a signed in-toto statement nested deeper than 64 levels (PAYLOAD_INVALID), not a stack overflow', async () => {
    let predicate: unknown = {};
    for (let i = 0; i < 1000; i++) predicate = { a: predicate };
    const bundle = await signStatement(
      {
        _type: 'https://in-toto.io/Statement/v1',
        subject: [{ name: 'app.tar.gz', digest: { sha256: evidence.artifact.hex } }],
        predicateType: 'https://example.com/deep/v1',
        predicate,
      },
      evidence.options,
    );
    expect(
      outcomeOf(() => evidence.verifier.verify(parseBundleJSON(bundle, 'deep statement'), { anyIdentity: true })),
    ).toBe('PAYLOAD_INVALID');
  });
});

describe('how many timestamps and log entries a bundle carries is bounded before any is read', () => {
  it.each([
    [
      '1000 copies of its log entry',
      'TLOG_INVALID',
      (b: BundleJSON) => {
        b.verificationMaterial.tlogEntries = Array(1000).fill(b.verificationMaterial.tlogEntries[0]);
      },
    ],
    [
      '1000 copies of its timestamp',
      'TIMESTAMP_INVALID',
      (b: BundleJSON) => {
        const data = b.verificationMaterial.timestampVerificationData!;
        data.rfc3161Timestamps = Array(1000).fill(data.rfc3161Timestamps[0]);
      },
    ],
  ] as const)('refuses a bundle with %s (%s), at once', (_name, code, change) => {
    const bundle = changed(evidence.signature, change);
    const started = performance.now();
    expect(
      outcomeOf(() =>
        evidence.verifier.verify(parseBundleJSON(bundle, 'many'), {
          artifact: { digest: evidence.artifact },
          anyIdentity: true,
        }),
      ),
    ).toBe(code);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('a malformed timestamp token is TIMESTAMP_INVALID naming the bundle, never a raw JavaScript message', () => {
  const token = () =>
    Buffer.from(
      evidence.signature.verificationMaterial.timestampVerificationData!.rfc3161Timestamps[0]!.signedTimestamp,
      'base64',
    );
  const SHA256_OID = Buffer.from('0609608648016503040201', 'hex');

  it.each([
    ['bytes that are not DER', () => Buffer.from('not a timestamp token at all')],
    ['a response without its token', () => Buffer.from('30053003020100', 'hex')],
    [
      // sigstore-js: "Cannot read properties of undefined (reading 'subs')"
      'a token whose SignedData is missing',
      () => Buffer.from(`3014${'3003020100'}300d0609${'2a864886f70d010702'}a000`, 'hex'),
    ],
    [
      // sigstore-js: "invalid time"
      'a genTime that is not a time',
      () => {
        const bytes = token();
        const at = bytes.indexOf(Buffer.from([0x18, 0x0f, 0x32, 0x30])); // GeneralizedTime "20…"
        expect(at).toBeGreaterThan(0);
        bytes.write('99999999999999Z', at + 2, 'latin1');
        return bytes;
      },
    ],
    [
      'a message imprint by an unknown hash algorithm',
      () => {
        const bytes = token();
        // The second SHA-256 OID is the TSTInfo's message imprint (the first is SignedData.digestAlgorithms).
        const at = bytes.indexOf(SHA256_OID, bytes.indexOf(SHA256_OID) + 1);
        bytes[at + SHA256_OID.length - 1] = 0x09;
        return bytes;
      },
    ],
    ['a token cut short', () => token().subarray(0, 200)],
  ])('%s', async (name, make) => {
    const bundle = changed(evidence.signature, (b) => {
      b.verificationMaterial.timestampVerificationData!.rfc3161Timestamps[0]!.signedTimestamp =
        make().toString('base64');
    });
    const path = write(`token-${name.replace(/\W+/g, '-')}.sigstore.json`, bundle);
    expectError(
      await verifyBundle(path),
      1,
      'TIMESTAMP_INVALID',
      `${path}: verificationMaterial.timestampVerificationData.rfc3161Timestamps[0].signedTimestamp`,
    );
  });
});

describe('an unexpected exception is an internal error: exit 3, "this is a bug", the file named', () => {
  // The Verifier class @twokey/sigstore verifies with: a fault injected into it is one no check anticipated.
  const { Verifier } = createRequire(resolve(repoRoot, 'packages/sigstore/package.json'))('@sigstore/verify') as {
    Verifier: { prototype: { verify(...args: unknown[]): unknown } };
  };

  function capture() {
    const out = { stdout: '', stderr: '' };
    const io = {
      stdout: { write: (text: string) => (out.stdout += text) },
      stderr: { write: (text: string) => (out.stderr += text) },
    };
    return { out, io };
  }

  it('twokey verify-bundle exits 3 and names the bundle, never 1 (a refusal)', async () => {
    const path = write('injected-verify-bundle.sigstore.json', evidence.signature);
    const fault = vi.spyOn(Verifier.prototype, 'verify').mockImplementation(() => {
      throw new TypeError("Cannot read properties of undefined (reading 'subs')");
    });
    try {
      const { out, io } = capture();
      const status = await run(
        [
          'verify-bundle',
          '--bundle',
          path,
          '--certificate-identity',
          evidence.san,
          '--certificate-oidc-issuer',
          ISSUER,
          '--trusted-root',
          evidence.stack.trustedRootPath,
          `sha256:${evidence.artifact.hex}`,
        ],
        io,
      );
      expect(status).toBe(3);
      expect(out.stdout).toBe('');
      expect(out.stderr).toBe(
        `${BUG_REPORT}Cannot read properties of undefined (reading 'subs') while reading ${path}\n`,
      );
    } finally {
      fault.mockRestore();
    }
  });

  it('twokey verify exits 3 and names the bundle: the evidence batch reports it, never a rejected bundle', async () => {
    const path = write('injected-verify.sigstore.json', evidence.statement);
    const fault = vi.spyOn(Verifier.prototype, 'verify').mockImplementation(() => {
      throw new RangeError('injected fault');
    });
    try {
      const { out, io } = capture();
      const status = await run(
        [
          'verify',
          `sha256:${evidence.artifact.hex}`,
          '--policy',
          join(dir, 'policy.yml'),
          '--repo',
          'acme/app',
          '--trusted-root',
          evidence.stack.trustedRootPath,
          '--bundle',
          path,
        ],
        io,
      );
      expect(status).toBe(3);
      expect(out.stderr).toBe(`${BUG_REPORT}injected fault while reading ${path}\n`);
    } finally {
      fault.mockRestore();
    }
  });

  it('reports any error it does not recognise as internal (exit 3), never as a refusal', () => {
    const { out, io } = capture();
    expect(reportError(new Error('something nobody expected\nwith a second line'), io)).toBe(3);
    expect(out.stderr).toBe(`${BUG_REPORT}something nobody expected\n`);
  });
});

describe('the batch applies the same rules and error kinds in its worker threads', () => {
  it('rejects a non-canonical bundle and names a malformed file, with two workers as with none', async () => {
    const honest = write('batch-honest.sigstore.json', evidence.statement);
    const junkRoot = write(
      'batch-junk-root.sigstore.json',
      changed(evidence.statement, (b) => {
        b.verificationMaterial.tlogEntries[0]!.inclusionProof!.rootHash = Buffer.alloc(64, 7).toString('base64');
      }),
    );
    for (const workers of [1, 2]) {
      const results = await verifyEvidenceBatch([honest, junkRoot], evidence.trust, { workers });
      expect(results.map((r) => (isRejected(r) ? r.code : 'verified'))).toEqual([
        'verified',
        'INCLUSION_PROOF_MISMATCH',
      ]);
    }
    const nested = write('batch-nested.json', `${'['.repeat(10_000)}${']'.repeat(10_000)}`);
    for (const workers of [1, 2]) {
      const batch = verifyEvidenceBatch([honest, nested], evidence.trust, { workers });
      await expect(batch).rejects.toThrow(SigstoreInputError);
      await expect(batch).rejects.toThrow(`${nested}: JSON nested deeper than 64 levels`);
    }
  });

  it('an internal error names the file it met, as an InternalError, not a rejection', async () => {
    const { Verifier } = createRequire(resolve(repoRoot, 'packages/sigstore/package.json'))('@sigstore/verify') as {
      Verifier: { prototype: { verify(...args: unknown[]): unknown } };
    };
    const path = write('batch-injected.sigstore.json', evidence.statement);
    const fault = vi.spyOn(Verifier.prototype, 'verify').mockImplementation(() => {
      throw new TypeError('injected fault');
    });
    try {
      const batch = verifyEvidenceBatch([path], evidence.trust, { workers: 1 });
      await expect(batch).rejects.toThrow(InternalError);
      await expect(batch).rejects.toThrow(`injected fault while reading ${path}`);
    } finally {
      fault.mockRestore();
    }
  });
});
