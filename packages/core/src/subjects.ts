// The artifacts a build attests, as users name them with actions/attest's inputs: path patterns, a digest with
// a name, or a `sha256sum`-format checksums file. Parsing and limits only; finding and hashing files is the caller's.

import { CodedError } from './error';
import type { Subject } from './intoto';

/** The most subjects one provenance statement holds (as actions/attest allows). */
export const MAX_SUBJECTS = 1024;

export type SubjectErrorCode =
  | 'SUBJECT_INPUT_MISSING'
  | 'SUBJECT_INPUT_CONFLICT'
  | 'SUBJECT_NAME_MISSING'
  | 'SUBJECT_DIGEST_INVALID'
  | 'CHECKSUMS_LINE_INVALID'
  | 'NO_SUBJECT_MATCHED'
  | 'TOO_MANY_SUBJECTS'
  | 'SUBJECT_UNREADABLE'
  | 'SUBJECT_DIRECTORY'
  | 'SUBJECT_DIGEST_MISMATCH'
  | 'SUBJECT_NAME_INVALID'
  | 'SUBJECT_LINK_DANGLING';

export class SubjectError extends CodedError<SubjectErrorCode> {
  readonly kind = 'usage';
  override readonly name = 'SubjectError';
}

/** The subject inputs, as given (empty string = not given). */
export interface SubjectInputs {
  subjectPath: string;
  subjectDigest: string;
  subjectName: string;
  subjectChecksums: string;
}

export type SubjectSource = 'subject-path' | 'subject-digest' | 'subject-checksums';

/** Which one of the three ways to name subjects was used; exactly one must be. */
export function subjectSource(inputs: SubjectInputs): SubjectSource {
  const given: SubjectSource[] = [];
  // Patterns, not text: `subject-path: ","` names nothing (a build would attest no artifact).
  if (parseSubjectPatterns(inputs.subjectPath).length > 0) given.push('subject-path');
  if (inputs.subjectDigest.trim()) given.push('subject-digest');
  if (inputs.subjectChecksums.trim()) given.push('subject-checksums');
  if (given.length === 0) {
    throw new SubjectError(
      'SUBJECT_INPUT_MISSING',
      'no subject given: set one of subject-path, subject-digest (with subject-name) or subject-checksums',
    );
  }
  if (given.length > 1) {
    throw new SubjectError(
      'SUBJECT_INPUT_CONFLICT',
      `expected one of subject-path, subject-digest, subject-checksums, found ${given.join(' and ')}`,
    );
  }
  return given[0]!;
}

/** `subject-path`: patterns separated by newlines or commas; blanks are ignored. */
export function parseSubjectPatterns(input: string): string[] {
  return input
    .split(/[\n,]/)
    .map((pattern) => pattern.trim())
    .filter((pattern) => pattern !== '');
}

const DIGEST_PATTERN = /^(sha256|sha512):([0-9a-f]+)$/;
const HEX_LENGTH: Record<string, number> = { sha256: 64, sha512: 128 };

/** `subject-digest` (`sha256:HEX` or `sha512:HEX`) with its `subject-name`. */
export function digestSubject(digest: string, name: string): Subject {
  const trimmedName = name.trim();
  if (!trimmedName) {
    throw new SubjectError('SUBJECT_NAME_MISSING', 'subject-digest needs subject-name: the name of the artifact');
  }
  const match = DIGEST_PATTERN.exec(digest.trim());
  if (!match || match[2]!.length !== HEX_LENGTH[match[1]!]) {
    throw new SubjectError(
      'SUBJECT_DIGEST_INVALID',
      `subject-digest: expected sha256:<64 lowercase hex> or sha512:<128 lowercase hex>, found ${JSON.stringify(digest.trim())}`,
    );
  }
  return { name: trimmedName, digest: { [match[1]!]: match[2]! } };
}

/**
 * A `sha256sum` (or `sha512sum`) output: `HEX  NAME` or `HEX *NAME` per line; blank lines are skipped. A line
 * that is anything else is refused, naming the file, the line number and the line.
 */
export function parseChecksums(text: string, source: string): Subject[] {
  const subjects: Subject[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return;
    const match = /^([0-9a-fA-F]+) [ *](.+)$/.exec(line);
    const algorithm = match ? { 64: 'sha256', 128: 'sha512' }[match[1]!.length] : undefined;
    if (!match || !algorithm) {
      throw new SubjectError(
        'CHECKSUMS_LINE_INVALID',
        `${source}: line ${index + 1}: expected "<sha256 or sha512 hex>  <name>" as sha256sum writes it, found ${JSON.stringify(line.length > 120 ? `${line.slice(0, 117)}...` : line)}`,
      );
    }
    const name = match[2]!;
    // A name a shell loop or a trimming reader would read as another (`app.tar.gz `, a control character): the file
    // that ships would be one the list does not name.
    if (name.trim() !== name || /\p{Cc}/u.test(name)) {
      throw new SubjectError(
        'CHECKSUMS_LINE_INVALID',
        `${source}: line ${index + 1}: the name ${JSON.stringify(name)} begins or ends with blanks or holds a control character: rename the artifact`,
      );
    }
    // `sub/../app.tar.gz`: twokey would read it as app.tar.gz, the kernel (sha256sum -c, cp, scp) through whatever
    // `sub` links to.
    if (name.split('/').includes('..')) {
      throw new SubjectError(
        'CHECKSUMS_LINE_INVALID',
        `${source}: line ${index + 1}: the name ${JSON.stringify(name)} has a ".." component, which a link on the way makes another file: list the artifact by its own path`,
      );
    }
    subjects.push({ name, digest: { [algorithm]: match[1]!.toLowerCase() } });
  });
  if (subjects.length === 0) {
    throw new SubjectError('NO_SUBJECT_MATCHED', `${source}: the checksums file lists no artifact`);
  }
  return subjects;
}

/** Refuses more than MAX_SUBJECTS, before anything is hashed or signed. */
export function checkSubjectCount(count: number, what: string): void {
  if (count > MAX_SUBJECTS) {
    throw new SubjectError(
      'TOO_MANY_SUBJECTS',
      `${what}: found ${count} subjects, at most ${MAX_SUBJECTS} fit in one provenance statement; split the build or narrow the patterns`,
    );
  }
}

/** Drops exact repeats (same name and digest), keeping the first; the order is otherwise kept. */
export function distinctSubjects(subjects: Subject[]): Subject[] {
  const seen = new Set<string>();
  return subjects.filter((subject) => {
    const key = JSON.stringify([subject.name, Object.entries(subject.digest).sort()]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
