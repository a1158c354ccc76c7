import { describe, expect, it } from 'vitest';
import {
  checkSubjectCount,
  digestSubject,
  distinctSubjects,
  MAX_SUBJECTS,
  parseChecksums,
  parseSubjectPatterns,
  subjectSource,
} from './subjects';

const HEX = 'ab'.repeat(32);
const none = { subjectPath: '', subjectDigest: '', subjectName: '', subjectChecksums: '' };

describe('subject inputs', () => {
  it('takes exactly one of subject-path, subject-digest, subject-checksums', () => {
    expect(subjectSource({ ...none, subjectPath: 'dist/*' })).toBe('subject-path');
    expect(subjectSource({ ...none, subjectDigest: `sha256:${HEX}`, subjectName: 'a' })).toBe('subject-digest');
    expect(() => subjectSource(none)).toThrow(expect.objectContaining({ code: 'SUBJECT_INPUT_MISSING' }));
    // Separators alone name no pattern: a usage error, never a build attesting no artifact.
    for (const subjectPath of [',', ' , \n ,']) {
      expect(() => subjectSource({ ...none, subjectPath })).toThrow(
        expect.objectContaining({ code: 'SUBJECT_INPUT_MISSING' }),
      );
    }
    expect(() => subjectSource({ ...none, subjectPath: 'a', subjectChecksums: 'SUMS' })).toThrow(
      expect.objectContaining({ code: 'SUBJECT_INPUT_CONFLICT' }),
    );
  });

  it('splits subject-path on newlines and commas', () => {
    expect(parseSubjectPatterns('dist/*.tgz, out/app\n\n  bin/**  \n')).toEqual(['dist/*.tgz', 'out/app', 'bin/**']);
  });

  it('reads subject-digest with its name, refusing a bad digest or a missing name', () => {
    expect(digestSubject(`sha256:${HEX}`, ' app ')).toEqual({ name: 'app', digest: { sha256: HEX } });
    expect(() => digestSubject(`sha256:${HEX}`, '')).toThrow(expect.objectContaining({ code: 'SUBJECT_NAME_MISSING' }));
    expect(() => digestSubject(`sha256:${HEX.slice(2)}`, 'app')).toThrow(
      expect.objectContaining({ code: 'SUBJECT_DIGEST_INVALID' }),
    );
    expect(() => digestSubject(`md5:${HEX}`, 'app')).toThrow(
      expect.objectContaining({ code: 'SUBJECT_DIGEST_INVALID' }),
    );
  });
});

describe('parseChecksums', () => {
  it('reads sha256sum output, text and binary mode, CRLF and blank lines', () => {
    const text = `${HEX}  app.tar.gz\r\n\n${'CD'.repeat(32)} *app name with spaces.zip\n${'ef'.repeat(64)}  big.iso\n`;
    expect(parseChecksums(text, 'SUMS')).toEqual([
      { name: 'app.tar.gz', digest: { sha256: HEX } },
      { name: 'app name with spaces.zip', digest: { sha256: 'cd'.repeat(32) } },
      { name: 'big.iso', digest: { sha512: 'ef'.repeat(64) } },
    ]);
  });

  it('names the file, the line number and the line that does not parse', () => {
    for (const bad of [`${HEX}app`, `${HEX.slice(1)}  app`, 'not-a-digest  app', `${HEX}  `, `sha256:${HEX}  app`]) {
      expect(() => parseChecksums(`${HEX}  ok\n${bad}\n`, 'dist/SHA256SUMS')).toThrow(
        expect.objectContaining({
          code: 'CHECKSUMS_LINE_INVALID',
          message: expect.stringContaining(`dist/SHA256SUMS: line 2: `),
        }),
      );
    }
  });

  it('refuses a file that lists nothing', () => {
    expect(() => parseChecksums('\n\n', 'SUMS')).toThrow(expect.objectContaining({ code: 'NO_SUBJECT_MATCHED' }));
  });
});

describe('limits', () => {
  it('allows 1024 subjects and refuses 1025', () => {
    expect(() => checkSubjectCount(MAX_SUBJECTS, 'x')).not.toThrow();
    expect(() => checkSubjectCount(MAX_SUBJECTS + 1, 'x')).toThrow(
      expect.objectContaining({ code: 'TOO_MANY_SUBJECTS' }),
    );
  });

  it('drops exact repeats only', () => {
    const a = { name: 'a', digest: { sha256: HEX } };
    const b = { name: 'a', digest: { sha256: 'cd'.repeat(32) } };
    expect(distinctSubjects([a, b, { ...a }])).toEqual([a, b]);
  });
});
