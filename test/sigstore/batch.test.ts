import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  BundleVerifier,
  isRejected,
  type KeylessSigningOptions,
  loadTrustedRoot,
  readBundleFile,
  SigstoreInputError,
  signArtifact,
  signStatement,
  verifyEvidenceBatch,
} from '@twokey/sigstore';
import { identity, type OidcIssuer, type SigstoreStack, startOidcIssuer, startSigstoreStack } from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ARTIFACTS = 48;
const SHA = 'e'.repeat(40);
const build = identity('acme/app', '.github/workflows/build.yml', 'refs/heads/main', SHA);

let stack: SigstoreStack;
let issuer: OidcIssuer;
let dir: string;
/** ~100 bundle files: an artifact signature and a statement per artifact, plus four that were tampered with. */
let paths: string[];
const tampered = new Set<string>();

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack();
  dir = mkdtempSync(join(tmpdir(), 'twokey-batch-'));
  const options: KeylessSigningOptions = {
    endpoints: { fulcioURL: stack.fulcioURL, rekorURL: stack.rekorURL, tsaURL: stack.tsaURL },
    identityToken: () => issuer.mint(build, { audience: 'sigstore' }),
  };
  const jobs = Array.from({ length: ARTIFACTS }, (_, i) => async () => {
    const hex = createHash('sha256').update(`artifact ${i}`).digest('hex');
    const signature = await signArtifact({ digest: { algorithm: 'sha256', hex } }, options);
    const statement = await signStatement(
      {
        _type: 'https://in-toto.io/Statement/v1',
        subject: [{ name: `app-${i}.tar.gz`, digest: { sha256: hex } }],
        predicateType: 'https://example.com/test/v1',
        predicate: { index: i },
      },
      options,
    );
    const signaturePath = join(dir, `app-${i}.sigstore.json`);
    const statementPath = join(dir, `app-${i}.intoto.sigstore.json`);
    writeFileSync(signaturePath, JSON.stringify(signature));
    writeFileSync(statementPath, JSON.stringify(statement));
    return [signaturePath, statementPath];
  });
  paths = (await inBatches(jobs, 8)).flat();

  // An attacker's edits: another digest under a valid signature, and a rewritten in-toto payload.
  for (const i of [3, 17]) {
    const bundle = JSON.parse(readFileSync(paths[2 * i]!, 'utf8'));
    bundle.messageSignature.messageDigest.digest = createHash('sha256').update('evil').digest('base64');
    const path = join(dir, `forged-digest-${i}.json`);
    writeFileSync(path, JSON.stringify(bundle));
    tampered.add(path);
  }
  for (const i of [5, 40]) {
    const bundle = JSON.parse(readFileSync(paths[2 * i + 1]!, 'utf8'));
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
    statement.subject[0].digest.sha256 = 'f'.repeat(64);
    bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    const path = join(dir, `forged-payload-${i}.json`);
    writeFileSync(path, JSON.stringify(bundle));
    tampered.add(path);
  }
  // Tampered files sit among the honest ones, so both threads see some.
  paths.splice(10, 0, ...[...tampered].slice(0, 2));
  paths.splice(70, 0, ...[...tampered].slice(2));
}, 180_000);

afterAll(async () => {
  await stack?.close();
  await issuer?.close();
});

async function inBatches<T>(jobs: (() => Promise<T>)[], concurrency: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const lanes = Array.from({ length: concurrency }, async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  });
  await Promise.all(lanes);
  return results;
}

describe('verifyEvidenceBatch', () => {
  it('gives the same verdict for every bundle, in input order, in worker threads as in this thread', async () => {
    expect(paths.length).toBe(2 * ARTIFACTS + 4);
    const serial = await verifyEvidenceBatch(paths, stack.trustedRootPath, { workers: 1 });
    const threaded = await verifyEvidenceBatch(paths, stack.trustedRootPath, { workers: 2 });

    expect(threaded).toEqual(serial);
    expect(threaded.map((r) => r.source)).toEqual(paths);
    const rejected = serial.filter(isRejected);
    expect(new Set(rejected.map((r) => r.source))).toEqual(tampered);
    for (const r of rejected) expect(r.code).toMatch(/^(SIGNATURE_INVALID|TLOG_INVALID)$/);
    const verified = threaded.filter((r) => !isRejected(r));
    expect(verified).toHaveLength(2 * ARTIFACTS);
    for (const r of verified) {
      if (isRejected(r)) continue;
      expect(r.signer.san).toBe('https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main');
      // Signing times cross the thread boundary as Dates.
      expect(r.signedAt.length).toBeGreaterThan(0);
      for (const t of r.signedAt) expect(t).toBeInstanceOf(Date);
    }
  }, 120_000);

  it('names a truncated bundle among the batch instead of skipping it, in worker threads too', async () => {
    const text = readFileSync(paths[0]!, 'utf8');
    const truncated = join(dir, 'truncated.json');
    writeFileSync(truncated, text.slice(0, text.length / 2));
    const withTruncated = [...paths.slice(0, 10), truncated, ...paths.slice(10, 20)];
    for (const workers of [1, 2]) {
      const attempt = verifyEvidenceBatch(withTruncated, stack.trustedRootPath, { workers });
      await expect(attempt).rejects.toThrow(SigstoreInputError);
      await expect(attempt).rejects.toThrow(/truncated\.json: bundle is not JSON/);
    }
  }, 120_000);

  it.each([
    ['esm', 'mjs'],
    ['cjs', 'cjs'],
  ])(
    'runs its worker threads from the worker entry beside an esbuild bundle (%s), never the bundle main again',
    async (format, extension) => {
      const root = resolve(import.meta.dirname, '..', '..');
      const out = mkdtempSync(join(dir, `bundle-${format}-`));
      const outfile = join(out, `batch-entry.${extension}`);
      // Bundled exactly as scripts/build.mjs bundles the actions (ES modules) and the CLI (CommonJS): the entry, and
      // the batch's worker entry beside it with the same extension.
      const targets = [
        { target: { entry: join(import.meta.dirname, 'fixtures', 'batch-entry.ts'), format }, outfile },
        {
          target: { entry: 'packages/sigstore/src/batch-worker.ts', format },
          outfile: join(out, `batch-worker.${extension}`),
        },
      ];
      execFileSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `import { bundle } from './scripts/build.mjs'; for (const t of ${JSON.stringify(targets)}) await bundle(t.target, t.outfile);`,
        ],
        { cwd: root },
      );
      const list = join(dir, 'paths.txt');
      writeFileSync(list, paths.join('\n'));
      const serial = JSON.parse(
        JSON.stringify(await verifyEvidenceBatch(paths, stack.trustedRootPath, { workers: 1 })),
      );
      const run = () => {
        // Three threads: this one and two workers.
        const stdout = execFileSync(process.execPath, [outfile, list, stack.trustedRootPath, '3'], {
          encoding: 'utf8',
        });
        const lines = stdout.trim().split('\n');
        expect(lines.filter((l) => l.startsWith('main body ran'))).toEqual(['main body ran (main thread: true)']);
        return JSON.parse(lines.at(-1)!);
      };
      const inWorkers = run();
      expect(inWorkers.threads).toBe(2);
      expect(inWorkers.dates).toBe(true);
      expect(inWorkers.results).toEqual(serial);
      // A bundle shipped without its worker entry verifies in its own thread: the same verdicts.
      rmSync(join(out, `batch-worker.${extension}`));
      const inThread = run();
      expect(inThread.threads).toBe(0);
      expect(inThread.results).toEqual(serial);
    },
    120_000,
  );

  it('checks a message signature against the artifact file when it has one: same verdicts, and a swapped file is refused', async () => {
    const artifactFiles = Array.from({ length: ARTIFACTS }, (_, i) => {
      const file = join(dir, `app-${i}.tar.gz`);
      writeFileSync(file, `artifact ${i}`);
      return {
        file,
        digest: { algorithm: 'sha256' as const, hex: createHash('sha256').update(`artifact ${i}`).digest('hex') },
      };
    });
    const byDigest = await verifyEvidenceBatch(paths, stack.trustedRootPath, { workers: 1 });
    for (const workers of [1, 2]) {
      expect(await verifyEvidenceBatch(paths, stack.trustedRootPath, { workers, artifactFiles })).toEqual(byDigest);
    }
    // The file changed after it was hashed: the signature check reads it again and refuses, never passes.
    writeFileSync(artifactFiles[7]!.file, 'artifact 7, changed');
    const signature = join(dir, 'app-7.sigstore.json');
    const [changed] = await verifyEvidenceBatch([signature], stack.trustedRootPath, { artifactFiles });
    expect(changed).toMatchObject({ code: 'ARTIFACT_MISMATCH' });
  }, 120_000);

  it('checks a signature against the bytes that were hashed when the caller kept them: the file is not read again', async () => {
    const artifactFiles = Array.from({ length: ARTIFACTS }, (_, i) => {
      const file = join(dir, `kept-${i}.tar.gz`);
      const content = Buffer.from(`artifact ${i}`);
      writeFileSync(file, content);
      return {
        file,
        content,
        digest: { algorithm: 'sha256' as const, hex: createHash('sha256').update(content).digest('hex') },
      };
    });
    const byDigest = await verifyEvidenceBatch(paths, stack.trustedRootPath, { workers: 1 });
    // Gone after it was read and hashed: a second read would fail (ARTIFACT_UNREADABLE); in this thread and in workers,
    // the kept bytes are what is checked.
    for (const { file } of artifactFiles) rmSync(file);
    for (const workers of [1, 2]) {
      expect(await verifyEvidenceBatch(paths, stack.trustedRootPath, { workers, artifactFiles })).toEqual(byDigest);
    }
    // Kept bytes that are not the artifact signed: refused, never passed.
    const signature = join(dir, 'app-7.sigstore.json');
    const swapped = artifactFiles.map((a, i) => (i === 7 ? { ...a, content: Buffer.from('artifact 7, changed') } : a));
    const [changed] = await verifyEvidenceBatch([signature], stack.trustedRootPath, { artifactFiles: swapped });
    expect(changed).toMatchObject({ code: 'ARTIFACT_MISMATCH' });
  }, 120_000);

  it('checks an in-toto subject against bytes already read as against the file (BundleVerifier)', () => {
    const verifier = new BundleVerifier(loadTrustedRoot(stack.trustedRootPath));
    const statement = readBundleFile(join(dir, 'app-5.intoto.sigstore.json'));
    const missing = join(dir, 'never-written.tar.gz');
    const read = { file: missing, content: Buffer.from('artifact 5') };
    expect(verifier.verify(statement, { anyIdentity: true, artifact: read })).toMatchObject({ kind: 'dsse' });
    const other = { file: missing, content: Buffer.from('artifact 6') };
    expect(() => verifier.verify(statement, { anyIdentity: true, artifact: other })).toThrow(
      /no subject of the statement has the artifact's digest/,
    );
  });

  it('names each verified bundle by the SHA-256 of the bytes it read and verified', async () => {
    const results = await verifyEvidenceBatch(paths.slice(0, 4), stack.trustedRootPath, { workers: 1 });
    expect(results.map((r) => ('sha256' in r ? r.sha256 : undefined))).toEqual(
      paths.slice(0, 4).map((path) => createHash('sha256').update(readFileSync(path)).digest('hex')),
    );
  });

  it('refuses an unusable trusted root before verifying anything', async () => {
    const root = join(dir, 'not-a-root.json');
    writeFileSync(root, '{"mediaType": "something else"}');
    await expect(verifyEvidenceBatch(paths, root)).rejects.toMatchObject({ code: 'TRUSTED_ROOT_INVALID' });
  });
});
