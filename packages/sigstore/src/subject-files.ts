// Finds and hashes the artifacts named by the subject inputs, the same way for the build, sign and deploy stages.
// Every subject is resolved before anything is signed: one unmatched pattern, bad checksums line or unreadable file
// stops the stage.
import { type Dirent, lstatSync, readdirSync, realpathSync, type Stats, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
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
  terminalText,
  withoutTrailingSlashes,
} from '@twokey/core';
import picomatch from 'picomatch';
import { type GlobOptions, glob, isDynamicPattern } from 'tinyglobby';
import { type DigestAlgorithm, digestFile } from './digest';
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
  const matchesOf = new Map<string, string[]>();
  for (const pattern of patterns) {
    const matched = await glob(pattern, options);
    if (matched.length === 0) {
      throw new SubjectError(
        'NO_SUBJECT_MATCHED',
        `subject-path: no file matches ${JSON.stringify(pattern)} (in ${workspace}); check the path and that the build wrote the artifact`,
      );
    }
    for (const file of matched.sort()) files.add(file);
    matchesOf.set(pattern, matched);
  }
  await refuseUnjudgedFiles(patterns, files, options, workspace);
  // Counted before hashing: a pattern that matches too much fails at once.
  checkSubjectCount(files.size, `subject-path ${patterns.join(', ')}`);
  const subjects = [...files].map((file) => ({ name: basename(file), digest: { sha256: sha256Of(file) } }));
  // Once each subject has read as a file: then what the directories each pattern crosses hold (crossPatterns), and what
  // else each subject's directory holds.
  const released = crossPatterns(patterns, matchesOf, workspace);
  refuseUnseenEntries(files, workspace, released);
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
    const under = `${withoutTrailingSlashes(pattern)}/**`;
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
 * As `sha256sum -c`: a listed name that exists beside the checksums file must be a regular file of its digest (in the
 * algorithm listed). The digests are what is judged — an artifact given by digest alone (an image) needs no file, and
 * a file beside the list under a name it does not list is not judged at all: a step that ships must ship what the list
 * names (`sha256sum -c`), not the directory (then use subject-path). The directories of the files it names are
 * checked as a subject's are (refuseUnseenEntries).
 */
function checkListedFiles(subjects: readonly Subject[], directory: string, workspace: string): void {
  const found = new Set<string>();
  // Each name where `sha256sum -c` would look for it: beside the list, and — a name with a directory in it — from the
  // workspace the list was written in (`sha256sum dist/* > dist/SHA256SUMS` names dist/app.tar.gz). A bare name
  // (`cd dist && sha256sum *`) is only the list's neighbour: the checkout's README.md is not dist/README.md. What is
  // found from the workspace is walked as a subject's directory is, unless that directory is the checkout itself.
  const root = resolve(workspace);
  const places = subjects.flatMap((subject) => {
    if (subject.name === undefined) return [];
    const beside = resolve(directory, subject.name);
    const fromWorkspace = resolve(workspace, subject.name);
    return [
      { subject, file: beside, walk: true },
      ...(subject.name.includes('/') && fromWorkspace !== beside
        ? [{ subject, file: fromWorkspace, walk: dirname(fromWorkspace) !== root }]
        : []),
    ];
  });
  for (const { subject, file, walk } of places) {
    let stat: ReturnType<typeof statSync>;
    try {
      stat = statSync(file);
    } catch {
      continue;
    }
    if (!stat.isFile()) {
      throw new SubjectError(
        'SUBJECT_DIRECTORY',
        `subject-checksums: ${relative(workspace, file)} is listed, but what is there is no regular file (a directory, a device, or a link to one): what would ship is not what is judged`,
      );
    }
    const [algorithm, hex] = Object.entries(subject.digest)[0] as [DigestAlgorithm, string];
    const actual = hashOf(file, algorithm);
    if (actual !== hex) {
      throw new SubjectError(
        'SUBJECT_DIGEST_MISMATCH',
        `subject-checksums: ${relative(workspace, file)} is listed as ${algorithm}:${hex}, but the file there is ${algorithm}:${actual}: what would ship is not what is judged`,
      );
    }
    if (walk) found.add(file);
  }
  refuseUnseenEntries(found, workspace);
}

/** Whether `directory` is itself a link (its own last component), wherever the path above it leads. */
function isLinkItself(directory: string, real: string): boolean {
  try {
    return real !== join(realpathSync(dirname(directory)), basename(directory));
  } catch {
    return true;
  }
}

/**
 * The directories each pattern crosses, read as a shell's glob of the same pattern crosses them — not as the glob
 * library reports them, which is what is being checked. A name holding a control character or a line separator is
 * matched by no glob pattern here, but a shell's glob or `zip -r` ships it: `dist/**` with every artifact in
 * `dist/linux/` never read a sibling `dist/evil\u2028/` (found by the review of the output fixes). From the pattern's
 * root (its leading segments without glob syntax), segment by segment, as bash does: a literal segment is that path
 * (`.`, `..` and an empty segment included); a glob segment every entry it matches (tinyglobby's own matcher for one
 * part, dot files too), links to directories included (the glob library does not report a linked directory, which a
 * shell crosses: found by the review of a fix); `**` every directory below, neither through a link nor into a dot
 * directory (bash's globstar goes into neither). In each directory a glob segment (or one after `**`) reads, every
 * entry's name is checked (checkEntryName); of what the last segment matches, a link to nothing or a FIFO (which the
 * glob library does not list, and `tar` keeps) stops the stage, and a directory, or a link to one (a shell hands it
 * to `tar` or `zip -r` whole), is returned with the directories a pattern ending in `**` names, to be walked as a
 * subject's directory is (refuseUnseenEntries; found by the review of that fix, where a directory `dist/evil/x.tgz/`
 * was never read). What else is in `packages/a/` for `packages/*\/dist/*.tgz` is no part of the release.
 *
 * A pattern rooted at or above the workspace as it is written (`**\/*.tgz`, `../**`), or with glob syntax in its first
 * segment, is not crossed: that would be the whole checkout (threat model, row 260); a root written below the
 * workspace that a link makes the workspace or above (`dist -> .`) is refused, not skipped. Nor one whose root does not
 * hold every match it made, compared as written (tinyglobby reports a match through a directory link by the link's
 * path): read otherwise than here.
 */
function crossPatterns(
  patterns: readonly string[],
  matchesOf: ReadonlyMap<string, readonly string[]>,
  workspace: string,
): string[] {
  const released = new Set<string>();
  let walked = 0;
  for (const pattern of patterns) {
    const segments = patternSegments(withoutTrailingSlashes(pattern));
    // A `..` after a directory is read two ways: the glob library takes `dist/evil/..` as `dist`, a shell (and the
    // filesystem) as the parent of wherever the link `dist/evil` leads, so a file the shell ships there was never
    // judged (found by the reviews of this walk). Written without it, the pattern means one thing.
    const up = segments.findIndex((segment, at) => segment === '..' && segments.slice(0, at).some((s) => s !== '..'));
    if (up >= 0) {
      throw new SubjectError(
        'SUBJECT_DIRECTORY',
        `subject-path: ${JSON.stringify(pattern)} goes up (..) after naming a directory, which a link there makes another directory for a shell than for the glob: write the path without it`,
      );
    }
    const fixed = segments.findIndex((segment) => isDynamicPattern(segment));
    // Every segment but the last names a directory; tinyglobby's own crawl root drops every backslash (`out/v1\.2` is
    // `out/v1.2`, `out/\[slug\]` is `out/[slug]`: found by the reviews of the fix).
    const literal = fixed < 0 ? segments.slice(0, -1) : segments.slice(0, Math.min(fixed, segments.length - 1));
    const root = resolve(workspace, unescaped(literal).join('/') || '.');
    const matched = matchesOf.get(pattern) ?? [];
    if (!matched.every((file) => holdsAsWritten(root, dirname(file)))) continue;
    if (holdsResolved(root, workspace)) {
      if (holdsAsWritten(workspace, root) && !holdsAsWritten(root, workspace)) {
        throw new SubjectError(
          'SUBJECT_DIRECTORY',
          `subject-path: ${JSON.stringify(pattern)} is rooted at ${relative(workspace, root)}, which is a link to the checkout or above it: name the directory the artifacts are in`,
        );
      }
      continue;
    }
    // Each directory's entries counted once per pattern, whichever segments read it (a store linked under `**`).
    const counted = new Set<string>();
    const list = (directory: string): Dirent<Buffer>[] => {
      let entries: Dirent<Buffer>[];
      let real: string;
      try {
        real = realpathSync(directory);
        entries = readdirSync(directory, { encoding: 'buffer', withFileTypes: true });
      } catch (error) {
        throw new SubjectError(
          'SUBJECT_UNREADABLE',
          `subject-path: ${terminalText(relative(workspace, directory)) || '.'} cannot be listed (${(error as Error).message}): what is in it would ship unjudged`,
        );
      }
      if (!counted.has(real)) {
        counted.add(real);
        walked += entries.length;
        if (walked > MAX_WALKED_ENTRIES) {
          throw new SubjectError(
            'TOO_MANY_SUBJECTS',
            `subject-path: the directories the patterns cross from ${relative(workspace, root) || '.'} hold more than ${MAX_WALKED_ENTRIES} entries: keep the artifacts in a directory of their own, and root each pattern there`,
          );
        }
      }
      return entries;
    };
    let level = [root];
    for (let i = literal.length; i < segments.length && level.length > 0; i += 1) {
      const segment = segments[i]!;
      const last = i === segments.length - 1;
      // `**/**` is `**`, as bash reads it: the level is already every directory below (found by the review of the fix,
      // where a second `**` went into the links the first counted).
      if (segment === '**' && segments[i - 1] === '**' && !last) continue;
      if (segment === '**' && last) {
        for (const directory of level) released.add(directory);
        break;
      }
      const next: string[] = [];
      // What a path is, through its links; undefined for a link to nothing.
      const followed = (path: string): Stats | undefined => {
        try {
          return statSync(path);
        } catch {
          return undefined;
        }
      };
      const take = (path: string, kind: Stats | undefined) => {
        if (kind === undefined) {
          if (!last) return;
          throw new SubjectError(
            'SUBJECT_LINK_DANGLING',
            `subject-path: ${terminalText(relative(workspace, path))} is a link to nothing here, which a step shipping ${JSON.stringify(pattern)} would ship as it is: remove it`,
          );
        }
        if (kind.isDirectory()) {
          if (last) released.add(path);
          else next.push(path);
        } else if (last && !kind.isFile()) {
          throw new SubjectError(
            'SUBJECT_UNREADABLE',
            `subject-path: ${terminalText(relative(workspace, path))} is neither a file nor a directory (a FIFO, a socket or a device): remove it`,
          );
        }
      };
      if (segment === '**') {
        // Every directory below, and the directory itself (`**` matches none too): not through links, not into dot
        // directories, as bash's globstar; every name read on the way.
        const seen = new Set<string>();
        const pending = [...level];
        while (pending.length > 0) {
          const directory = pending.pop()!;
          let real: string;
          try {
            real = realpathSync(directory);
          } catch (error) {
            throw new SubjectError(
              'SUBJECT_UNREADABLE',
              `subject-path: ${terminalText(relative(workspace, directory)) || '.'} cannot be resolved (${(error as Error).message}): what is in it would ship unjudged`,
            );
          }
          if (seen.has(real)) continue;
          seen.add(real);
          next.push(directory);
          for (const entry of list(directory)) {
            const name = checkEntryName(entry, directory, workspace);
            if (name.startsWith('.')) continue;
            if (entry.isDirectory()) pending.push(join(directory, name));
            else if (entry.isSymbolicLink()) {
              // A link to a directory is one of the directories `**` stands for, though bash goes no further into it
              // (found by the review of the fix: its matches were never read).
              try {
                if (statSync(join(directory, name)).isDirectory()) next.push(join(directory, name));
              } catch {
                // A link to nothing is no directory: it is the last segment's to judge, where one may match it.
              }
            }
          }
        }
      } else if (!isDynamicPattern(segment)) {
        // A literal segment is a path, as a shell takes it: no directory is listed for it.
        const name = unescaped([segment])[0]!;
        for (const directory of level) {
          const path = name === '' ? directory : join(directory, name);
          try {
            lstatSync(path);
          } catch {
            continue;
          }
          take(path, followed(path));
        }
      } else {
        const matches = picomatch(segment, { dot: true, posix: true });
        for (const directory of level) {
          for (const entry of list(directory)) {
            const name = checkEntryName(entry, directory, workspace);
            if (!matches(name)) continue;
            const path = join(directory, name);
            take(path, entry.isDirectory() || entry.isFile() ? (entry as unknown as Stats) : followed(path));
          }
        }
      }
      level = next;
    }
  }
  return [...released];
}

/** A pattern's segments: split at each `/` outside braces, brackets and parentheses (`{linux,mac/arm}` is one). */
function patternSegments(pattern: string): string[] {
  const segments: string[] = [];
  let depth = 0;
  let current = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) {
      current += c + pattern[i + 1];
      i += 1;
      continue;
    }
    if (c === '{' || c === '[' || c === '(') depth += 1;
    else if ((c === '}' || c === ']' || c === ')') && depth > 0) depth -= 1;
    if (c === '/' && depth === 0) {
      segments.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  segments.push(current);
  return segments;
}

/** Literal segments as tinyglobby reads them: every backslash dropped. */
function unescaped(segments: readonly string[]): string[] {
  return segments.map((segment) => segment.replace(/\\/g, ''));
}

/** Whether `directory` is `inner` or above it, as the filesystem resolves both (a workspace reached through a link). */
function holdsResolved(directory: string, inner: string): boolean {
  const real = (path: string) => {
    try {
      return realpathSync(path);
    } catch {
      return resolve(path);
    }
  };
  return holdsAsWritten(real(directory), real(inner));
}

/** Whether `directory` is `inner` or above it, as the two paths are written. */
function holdsAsWritten(directory: string, inner: string): boolean {
  const up = relative(resolve(directory), resolve(inner));
  return up === '' || (up !== '..' && !up.startsWith(`..${sep}`) && !isAbsolute(up));
}

/**
 * An entry's name that no glob sees or this runtime reads as another: a name that is not valid UTF-8 (Node reads it as
 * another name, perhaps a subject's, or cannot open it and skips it: its bytes would ship unjudged), or one holding a
 * control character or a line separator (no glob pattern matches a line break: `dist/*\/**` never saw `payload\n.sh`,
 * which `./deploy.sh dist/*` ships; found by the review of this stop's output fixes — and U+2028/U+2029, which
 * JavaScript's patterns take for line breaks too, found by the review of that fix). Each is refused, shown escaped.
 */
function checkEntryName(entry: Dirent<Buffer>, directory: string, workspace: string): string {
  const name = entry.name.toString('utf8');
  if (!Buffer.from(name, 'utf8').equals(entry.name)) {
    throw new SubjectError(
      'SUBJECT_NAME_INVALID',
      `subject-path: ${relative(workspace, directory) || '.'} holds an entry whose name is not valid UTF-8 (bytes ${entry.name.toString('hex')}), which this runtime reads as another name: rename it`,
    );
  }
  if (/[\p{Cc}\u2028\u2029]/u.test(name)) {
    throw new SubjectError(
      'SUBJECT_NAME_INVALID',
      `subject-path: ${terminalText(relative(workspace, join(directory, name)))} has a control character or a line separator in its name (a line break, a tab, an escape), which no pattern matches and no log shows as it is: rename it`,
    );
  }
  return name;
}

/** Entries of the directories under the subjects this walk looks at, at most: a larger tree is refused, not skipped. */
const MAX_WALKED_ENTRIES = 100_000;

/**
 * What the file listing cannot show, in every directory that holds a subject or a pattern names whole (`roots`:
 * `dist` for `dist/**`), and every directory below them: a name no glob sees (checkEntryName), a link to nothing (a
 * transport that keeps links ships it, to resolve wherever it lands), anything that is neither a file, a directory nor
 * a link (a FIFO, a socket, a device), and a file reached through a link to a directory that is no subject. Each stops
 * the stage, naming it.
 */
function refuseUnseenEntries(files: ReadonlySet<string>, workspace: string, roots: readonly string[] = []): void {
  // Directories by the path the walk reached them through, and whether that path went through a link to a directory
  // (then every file in it is shipped by whatever follows links, and must be a subject: `PATTERN/**` sees only what
  // the glob library reports, which skips what it cannot read or takes for a loop).
  const pending: { directory: string; linked: boolean }[] = [
    ...new Set([...[...files].map((file) => dirname(file)), ...roots]),
  ].map((directory) => ({ directory, linked: false }));
  // Each directory once per way of reaching it (through a link or not), whatever path or link cycle leads to it.
  const seen = new Map<string, boolean>();
  let walked = 0;
  while (pending.length > 0) {
    const next = pending.pop()!;
    const { directory } = next;
    let real: string;
    try {
      real = realpathSync(directory);
    } catch (error) {
      throw new SubjectError(
        'SUBJECT_UNREADABLE',
        `subject-path: ${relative(workspace, directory) || '.'} cannot be resolved (${(error as Error).message}): what is in it would ship unjudged`,
      );
    }
    // A subject's own directory may itself be reached through a link (`dist/payload -> ../.stash/payload`).
    const linked = next.linked || isLinkItself(directory, real);
    if (seen.has(real) && (seen.get(real) || !linked)) continue;
    seen.set(real, linked);
    let entries: Dirent<Buffer>[];
    try {
      entries = readdirSync(directory, { encoding: 'buffer', withFileTypes: true });
    } catch (error) {
      throw new SubjectError(
        'SUBJECT_UNREADABLE',
        `subject-path: ${relative(workspace, directory) || '.'} cannot be listed (${(error as Error).message}): what is in it would ship unjudged`,
      );
    }
    walked += entries.length;
    if (walked > MAX_WALKED_ENTRIES) {
      throw new SubjectError(
        'TOO_MANY_SUBJECTS',
        `subject-path: the directories holding the subjects, or named whole by a pattern (${roots.map((r) => relative(workspace, r)).join(', ') || 'none'}), hold more than ${MAX_WALKED_ENTRIES} entries: keep the artifacts in a directory of their own, and root each pattern there`,
      );
    }
    for (const entry of entries) {
      const name = checkEntryName(entry, directory, workspace);
      const path = join(directory, name);
      let kind: ReturnType<typeof statSync>;
      try {
        kind = entry.isSymbolicLink() ? statSync(path) : lstatSync(path);
      } catch {
        throw new SubjectError(
          'SUBJECT_LINK_DANGLING',
          `subject-path: ${relative(workspace, path)} is a link to nothing here, which a step shipping the directory would ship as it is: remove it`,
        );
      }
      if (kind.isDirectory()) {
        pending.push({ directory: path, linked: linked || entry.isSymbolicLink() });
      } else if (!kind.isFile()) {
        throw new SubjectError(
          'SUBJECT_UNREADABLE',
          `subject-path: ${relative(workspace, path)} is neither a file nor a directory (a FIFO, a socket or a device): remove it`,
        );
      } else if (linked && !files.has(path)) {
        throw new SubjectError(
          'SUBJECT_DIRECTORY',
          `subject-path: ${relative(workspace, path)}, in a directory reached through a link, is no subject; a transport that follows links ships it: name it (e.g. "PATTERN/**") or remove the link`,
        );
      }
    }
  }
}

function sha256Of(file: string): string {
  return hashOf(file, 'sha256');
}

function hashOf(file: string, algorithm: DigestAlgorithm): string {
  try {
    return digestFile(file, [algorithm])[0]!.hex;
  } catch (error) {
    if (error instanceof SigstoreInputError) throw new SubjectError('SUBJECT_UNREADABLE', error.message);
    throw error;
  }
}

function readChecksums(path: string): string {
  let bytes: Buffer;
  try {
    bytes = readBoundedFile(path, MAX_CHECKSUMS_BYTES, 'ARTIFACT_UNREADABLE', 'checksums file');
  } catch (error) {
    if (error instanceof SigstoreInputError) {
      throw new SubjectError('SUBJECT_UNREADABLE', `subject-checksums: ${error.message}`);
    }
    throw error;
  }
  const text = bytes.toString('utf8');
  // A name in other bytes would be read as another name (U+FFFD), and the file it names never opened.
  if (!Buffer.from(text, 'utf8').equals(bytes)) {
    throw new SubjectError(
      'SUBJECT_NAME_INVALID',
      `subject-checksums: ${path} is not valid UTF-8: name each file as it is`,
    );
  }
  return text;
}
