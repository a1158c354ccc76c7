// Finds and hashes the artifacts named by the subject inputs, the same way for the build, sign and deploy stages.
// Every subject is resolved before anything is signed: one unmatched pattern, bad checksums line or unreadable file
// stops the stage.
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
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
import { type GlobOptions, glob } from 'tinyglobby';
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
      checkListedFiles(subjects, dirname(path), workspace);
      return subjects;
    }
    case 'subject-path':
      return pathSubjects(parseSubjectPatterns(inputs.subjectPath), workspace);
  }
}

async function pathSubjects(patterns: string[], workspace: string): Promise<Subject[]> {
  const files = new Set<string>();
  const options: GlobOptions = { cwd: workspace, absolute: true, expandDirectories: false, dot: true, onlyFiles: true };
  for (const pattern of patterns) {
    const matched = await glob(pattern, options);
    if (matched.length === 0) {
      throw new SubjectError(
        'NO_SUBJECT_MATCHED',
        `subject-path: no file matches ${JSON.stringify(pattern)} (in ${workspace}); check the path and that the build wrote the artifact`,
      );
    }
    for (const file of matched.sort()) files.add(file);
  }
  await refuseUnjudgedFiles(patterns, files, options, workspace);
  refuseUnseenEntries(files, workspace);
  // Counted before hashing: a pattern that matches too much fails at once.
  checkSubjectCount(files.size, `subject-path ${patterns.join(', ')}`);
  const subjects = [...files].map((file) => ({ name: basename(file), digest: { sha256: sha256Of(file) } }));
  return distinctSubjects(subjects);
}

/**
 * A directory a pattern matches (or a link to one) is no artifact, but whatever ships the pattern's matches
 * (`./deploy.sh artifacts/*`, `zip -r`, a sync) ships what is in it: every file under it — `PATTERN/**`, through links
 * as tinyglobby follows them — must be a subject too (`artifacts/**`), else the stage stops, naming one that would go
 * unjudged: never a directory silently left out of the evidence.
 */
async function refuseUnjudgedFiles(
  patterns: string[],
  files: ReadonlySet<string>,
  options: GlobOptions,
  workspace: string,
): Promise<void> {
  for (const pattern of patterns) {
    const under = `${pattern.replace(/\/+$/, '')}/**`;
    const inside = await glob(under, options);
    const unjudged = inside.sort().find((file) => !files.has(file));
    if (unjudged !== undefined) {
      throw new SubjectError(
        'SUBJECT_DIRECTORY',
        `subject-path: ${JSON.stringify(pattern)} matches a directory that holds ${relative(workspace, unjudged)}, which is no subject; an artifact is a file: name the files in it too (e.g. ${JSON.stringify(under)}) or leave the directory out`,
      );
    }
  }
}

/**
 * As `sha256sum -c`: a listed name that is a file beside the checksums file must hash to its digest. The digests are
 * what is judged (an artifact given by digest alone, an image, needs no file), but a file there of other bytes is what
 * a step that ships the directory would ship: judged by nobody.
 */
function checkListedFiles(subjects: readonly Subject[], directory: string, workspace: string): void {
  for (const subject of subjects) {
    if (subject.name === undefined) continue;
    const file = resolve(directory, subject.name);
    let isFile = false;
    try {
      isFile = statSync(file).isFile();
    } catch {
      continue;
    }
    if (!isFile) continue;
    const hex = sha256Of(file);
    if (hex !== subject.digest.sha256) {
      throw new SubjectError(
        'SUBJECT_DIGEST_MISMATCH',
        `subject-checksums: ${relative(workspace, file)} is listed as sha256:${subject.digest.sha256}, but the file there is sha256:${hex}: what would ship is not what is judged`,
      );
    }
  }
}

/**
 * What the file listing cannot show, in every directory that holds a subject: a name that is not valid UTF-8 (Node
 * reads it as another name, perhaps a subject's: its bytes would ship unjudged beside it) and a link to nothing (a
 * transport that keeps links ships it, to resolve wherever it lands). Either stops the stage, naming it.
 */
function refuseUnseenEntries(files: ReadonlySet<string>, workspace: string): void {
  for (const directory of new Set([...files].map((file) => dirname(file)))) {
    let entries: { name: Buffer; isSymbolicLink(): boolean }[];
    try {
      entries = readdirSync(directory, { encoding: 'buffer', withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      const name = entry.name.toString('utf8');
      if (!Buffer.from(name, 'utf8').equals(entry.name)) {
        throw new SubjectError(
          'SUBJECT_NAME_INVALID',
          `subject-path: ${relative(workspace, directory) || '.'} holds a file whose name is not valid UTF-8 (bytes ${entry.name.toString('hex')}), which this runtime reads as another name: rename it`,
        );
      }
      if (entry.isSymbolicLink()) {
        try {
          statSync(join(directory, name));
        } catch {
          throw new SubjectError(
            'SUBJECT_LINK_DANGLING',
            `subject-path: ${relative(workspace, join(directory, name))} is a link to nothing here, which a step shipping the directory would ship as it is: remove it`,
          );
        }
      }
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
