// An artifact file given to `twokey verify` is read once: a small one whole (hashed, its bytes kept for the signature
// check, within a memory budget), a large one streamed through the hash and never held.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { artifactsFromArguments } from '@twokey/gate';
import { digestFile, IN_MEMORY_ARTIFACT_BYTES, readArtifactFile } from '@twokey/sigstore';
import { describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'twokey-artifact-files-'));

function file(name: string, bytes: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('artifact files', () => {
  it('keeps the bytes of a small file with its digest, and only the digest of a large one', () => {
    const small = Buffer.from('a small artifact');
    const large = Buffer.alloc(IN_MEMORY_ARTIFACT_BYTES + 1, 7);
    const smallRead = readArtifactFile(file('small.bin', small), ['sha256', 'sha512']);
    expect(smallRead.content?.equals(small)).toBe(true);
    expect(smallRead.digests).toEqual([
      { algorithm: 'sha256', hex: sha256(small) },
      { algorithm: 'sha512', hex: createHash('sha512').update(small).digest('hex') },
    ]);
    const largeRead = readArtifactFile(file('large.bin', large));
    expect(largeRead.content).toBeUndefined();
    expect(largeRead.digests).toEqual([{ algorithm: 'sha256', hex: sha256(large) }]);
  });

  it('streams a file through its hashes in reads of any length: every byte once, in order, for each algorithm', () => {
    // Lengths around the read buffer's 128 KiB and its multiples (a read that ends on a boundary, one byte past
    // it, one short of it), random bytes so that a chunk repeated, dropped or reordered changes the digest.
    const buffer = 128 * 1024;
    for (const length of [0, 1, buffer - 1, buffer, buffer + 1, 3 * buffer, 5 * buffer + 12_345]) {
      const bytes = randomBytes(length);
      const path = file(`streamed-${length}.bin`, bytes);
      expect(digestFile(path, ['sha256', 'sha384', 'sha512'])).toEqual(
        (['sha256', 'sha384', 'sha512'] as const).map((algorithm) => ({
          algorithm,
          hex: createHash(algorithm).update(bytes).digest('hex'),
        })),
      );
    }
  });

  it('refuses a directory or a missing file by name', () => {
    expect(() => readArtifactFile(dir)).toThrow(/cannot read artifact: it is a directory/);
    expect(() => readArtifactFile(join(dir, 'missing.bin'))).toThrow(
      /missing\.bin: cannot read artifact: no such file/,
    );
  });

  it('keeps artifact bytes within a budget: past it, only the digest (its signature is checked against that)', () => {
    const bytes = [Buffer.alloc(600, 1), Buffer.alloc(600, 2), Buffer.alloc(300, 3)];
    const paths = bytes.map((b, i) => file(`budget-${i}.bin`, b));
    const artifacts = artifactsFromArguments([...paths, `sha256:${'a'.repeat(64)}`], dir, 1000);
    expect(artifacts.map((a) => a.content?.length)).toEqual([600, undefined, 300, undefined]);
    expect(artifacts.map((a) => a.digest.hex)).toEqual([...bytes.map(sha256), 'a'.repeat(64)]);
    expect(artifacts.map((a) => a.file)).toEqual([...paths, undefined]);
  });
});
