// What the gate judges, as `twokey verify` names it: each digest parsed once, each name kept.
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { artifactFromArgument, readArtifacts } from './artifacts';

const HEX = 'cd'.repeat(32);
const dir = mkdtempSync(join(tmpdir(), 'twokey-gate-artifacts-'));

describe('artifacts named on a command line', () => {
  it('a file: its base name and the sha256 of its bytes', () => {
    writeFileSync(join(dir, 'app.tar.gz'), 'app 1.0\n');
    const artifact = artifactFromArgument('app.tar.gz', dir);
    expect(artifact.name).toBe('app.tar.gz');
    expect(artifact.digest).toEqual({
      algorithm: 'sha256',
      hex: createHash('sha256').update('app 1.0\n').digest('hex'),
    });
    expect(artifact.file).toBe(join(dir, 'app.tar.gz'));
  });

  it('sha256:HEX: a digest alone, with no name; NAME=sha256:HEX: a digest judged under NAME', () => {
    expect(artifactFromArgument(`sha256:${HEX.toUpperCase()}`)).toEqual({ digest: { algorithm: 'sha256', hex: HEX } });
    expect(artifactFromArgument(`dist/app.tar.gz=sha256:${HEX}`)).toEqual({
      name: 'dist/app.tar.gz',
      digest: { algorithm: 'sha256', hex: HEX },
    });
  });

  it('refuses NAME=sha256:HEX without a name, or with another algorithm', () => {
    expect(() => artifactFromArgument(`=sha256:${HEX}`)).toThrow(
      expect.objectContaining({ code: 'ARTIFACT_NAME_EMPTY' }),
    );
    expect(() => artifactFromArgument(`app=sha512:${'ab'.repeat(64)}`)).toThrow(
      expect.objectContaining({ code: 'ARTIFACT_DIGEST_UNSUPPORTED' }),
    );
  });

  it('refuses an argument that names a file and reads as a digest: the file’s bytes would never be hashed', () => {
    // Dropped into a release directory, `twokey verify release/*` would judge the reviewed digest under this name.
    const release = mkdtempSync(join(tmpdir(), 'twokey-gate-release-'));
    for (const name of [`evil.tar.gz=sha256:${HEX}`, `sha256:${HEX}`]) {
      writeFileSync(join(release, name), 'anything at all\n');
      expect(() => artifactFromArgument(name, release)).toThrow(
        expect.objectContaining({
          code: 'ARTIFACT_ARGUMENT_AMBIGUOUS',
          message: expect.stringContaining(`${name}: names a file and reads as a digest`),
        }),
      );
    }
    // Where no such file is, the digest forms are digests.
    expect(artifactFromArgument(`app=sha256:${HEX}`, release).digest.hex).toBe(HEX);
  });

  it('--name names the artifact given by digest alone, and no other', () => {
    writeFileSync(join(dir, 'other.bin'), 'other');
    const artifacts = readArtifacts({ arguments: ['other.bin', `sha256:${HEX}`], name: 'app.tar.gz' }, dir);
    expect(artifacts.map((a) => a.name)).toEqual(['other.bin', 'app.tar.gz']);
  });
});

describe('artifacts the deploy action resolved from its subject inputs', () => {
  it('are judged as given', () => {
    const resolved = [{ name: 'app.tar.gz', digest: { algorithm: 'sha256' as const, hex: HEX } }];
    expect(readArtifacts({ resolved }, dir)).toEqual(resolved);
  });
});
