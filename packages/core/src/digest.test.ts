// An artifact's digest is parsed once, into one shape: sha256, lowercase hex. Anything else is refused, named.
import { describe, expect, it } from 'vitest';
import { DigestError, formatDigest, isDigestReference, parseDigest, sha256Digest } from './digest';

const HEX = 'ab'.repeat(32);

describe('parseDigest', () => {
  it('reads sha256:HEX in either case as lowercase hex, and writes it back as sha256:HEX', () => {
    const digest = parseDigest(`sha256:${HEX.toUpperCase()}`);
    expect(digest).toEqual({ algorithm: 'sha256', hex: HEX });
    expect(formatDigest(digest)).toBe(`sha256:${HEX}`);
    expect(sha256Digest(HEX.toUpperCase())).toEqual(digest);
  });

  it('refuses another algorithm: evidence names artifacts by sha256', () => {
    expect(() => parseDigest(`sha512:${'ab'.repeat(64)}`, 'subject-digest')).toThrow(
      expect.objectContaining({
        code: 'ARTIFACT_DIGEST_UNSUPPORTED',
        kind: 'usage',
        message: expect.stringMatching(/^subject-digest: expected a sha256 digest .*found sha512$/),
      }),
    );
  });

  it('refuses what is not a sha256 digest, naming it', () => {
    for (const bad of ['sha256:1234', `sha256:${HEX}0`, `sha256:${'g'.repeat(64)}`, HEX, `sha256: ${HEX}`]) {
      expect(() => parseDigest(bad), bad).toThrow(DigestError);
      expect(() => parseDigest(bad), bad).toThrow(expect.objectContaining({ code: 'DIGEST_MALFORMED' }));
    }
  });

  it('tells a digest argument from a file name', () => {
    expect(isDigestReference(`sha256:${HEX}`)).toBe(true);
    expect(isDigestReference('sha512:x')).toBe(true);
    expect(isDigestReference(`app=sha256:${HEX}`)).toBe(false);
    expect(isDigestReference('dist/app.tar.gz')).toBe(false);
  });
});
