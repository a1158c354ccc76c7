// Finds and hashes the artifacts named by the subject inputs, the same way for the build, sign and deploy stages.
// Every subject is resolved before anything is signed: one unmatched pattern, bad checksums line or unreadable file
// stops the stage.
import { basename, relative, resolve } from 'node:path';
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
import { glob } from 'tinyglobby';
import { digestFile } from './digest';
import { SigstoreInputError } from './error';
import { readBoundedFile } from './files';

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
  const directories: { pattern: string; directory: string }[] = [];
  for (const pattern of patterns) {
    const options = { cwd: workspace, absolute: true, expandDirectories: false, dot: true };
    const [matched, all] = await Promise.all([
      glob(pattern, { ...options, onlyFiles: true }),
      glob(pattern, { ...options, onlyFiles: false }),
    ]);
    if (matched.length === 0) {
      throw new SubjectError(
        'NO_SUBJECT_MATCHED',
        `subject-path: no file matches ${JSON.stringify(pattern)} (in ${workspace}); check the path and that the build wrote the artifact`,
      );
    }
    for (const file of matched.sort()) files.add(file);
    const matchedFiles = new Set(matched);
    for (const path of all) if (!matchedFiles.has(path)) directories.push({ pattern, directory: path });
  }
  await refuseUnjudgedDirectories(directories, files, workspace);
  // Counted before hashing: a pattern that matches too much fails at once.
  checkSubjectCount(files.size, `subject-path ${patterns.join(', ')}`);
  const subjects = [...files].map((file) => ({ name: basename(file), digest: { sha256: sha256Of(file) } }));
  return distinctSubjects(subjects);
}

/**
 * A directory a pattern matches is no artifact, but whatever ships the pattern's matches (`./deploy.sh artifacts/*`)
 * ships its files too: each file under it must be a subject as well (`artifacts/**`), else the stage stops, naming
 * one that would go unjudged — never a directory silently left out of the evidence.
 */
async function refuseUnjudgedDirectories(
  directories: { pattern: string; directory: string }[],
  files: ReadonlySet<string>,
  workspace: string,
): Promise<void> {
  for (const { pattern, directory } of directories) {
    const inside = await glob('**', { cwd: directory, absolute: true, onlyFiles: true, dot: true });
    const unjudged = inside.sort().find((file) => !files.has(file));
    if (unjudged !== undefined) {
      throw new SubjectError(
        'SUBJECT_DIRECTORY',
        `subject-path: ${JSON.stringify(pattern)} matches the directory ${relative(workspace, directory.replace(/\/+$/, '')) || '.'}, and ${relative(workspace, unjudged)} in it is no subject; an artifact is a file: name the files (e.g. ${JSON.stringify(`${relative(workspace, directory.replace(/\/+$/, ''))}/**`)}) or leave the directory out`,
      );
    }
  }
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
  try {
    return readBoundedFile(path, MAX_CHECKSUMS_BYTES, 'ARTIFACT_UNREADABLE', 'checksums file').toString('utf8');
  } catch (error) {
    if (error instanceof SigstoreInputError) {
      throw new SubjectError('SUBJECT_UNREADABLE', `subject-checksums: ${error.message}`);
    }
    throw error;
  }
}
