// Finds and hashes the artifacts named by the subject inputs. Every subject is resolved before anything is
// signed: one unmatched pattern, bad checksums line or unreadable file stops the build stage.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import {
  checkSubjectCount,
  digestSubject,
  distinctSubjects,
  parseChecksums,
  parseSubjectPatterns,
  type Subject,
  SubjectError,
  type SubjectInputs,
  subjectSource,
} from '@twokey/core';
import { digestFile, SigstoreInputError } from '@twokey/sigstore';
import { glob } from 'tinyglobby';

const MAX_CHECKSUMS_BYTES = 4 * 1024 * 1024;

export async function resolveSubjects(inputs: SubjectInputs, workspace: string): Promise<Subject[]> {
  switch (subjectSource(inputs)) {
    case 'subject-digest':
      return [digestSubject(inputs.subjectDigest, inputs.subjectName)];
    case 'subject-checksums': {
      const path = resolve(workspace, inputs.subjectChecksums.trim());
      const subjects = distinctSubjects(parseChecksums(readChecksums(path), path));
      checkSubjectCount(subjects.length, `subject-checksums ${path}`);
      return subjects;
    }
    case 'subject-path':
      return pathSubjects(parseSubjectPatterns(inputs.subjectPath), workspace);
  }
}

async function pathSubjects(patterns: string[], workspace: string): Promise<Subject[]> {
  const files = new Set<string>();
  for (const pattern of patterns) {
    const matched = await glob(pattern, {
      cwd: workspace,
      absolute: true,
      onlyFiles: true,
      expandDirectories: false,
      dot: true,
    });
    if (matched.length === 0) {
      throw new SubjectError(
        'NO_SUBJECT_MATCHED',
        `subject-path: no file matches ${JSON.stringify(pattern)} (in ${workspace}); check the path and that the build wrote the artifact`,
      );
    }
    for (const file of matched.sort()) files.add(file);
  }
  // Counted before hashing: a pattern that matches too much fails at once.
  checkSubjectCount(files.size, `subject-path ${patterns.join(', ')}`);
  const subjects = [...files].map((file) => ({ name: basename(file), digest: { sha256: sha256Of(file) } }));
  return distinctSubjects(subjects);
}

function sha256Of(file: string): string {
  try {
    return digestFile(file, ['sha256'])[0]!.hex;
  } catch (error) {
    if (error instanceof SigstoreInputError) throw new SubjectError('SUBJECT_UNREADABLE', error.message);
    throw error;
  }
}

function readChecksums(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw unreadable(path, (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error));
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw unreadable(path, 'it is a directory');
    if (stat.size > MAX_CHECKSUMS_BYTES) throw unreadable(path, `over ${MAX_CHECKSUMS_BYTES} bytes`);
    const buffer = Buffer.alloc(stat.size);
    let read = 0;
    while (read < buffer.length) {
      const n = readSync(fd, buffer, read, buffer.length - read, null);
      if (n === 0) break;
      read += n;
    }
    return buffer.subarray(0, read).toString('utf8');
  } catch (error) {
    if (error instanceof SubjectError) throw error;
    throw unreadable(path, (error as Error).message);
  } finally {
    closeSync(fd);
  }
}

function unreadable(path: string, reason: string): SubjectError {
  return new SubjectError('SUBJECT_UNREADABLE', `subject-checksums: cannot read ${path}: ${reason}`);
}
