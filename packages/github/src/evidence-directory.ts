// Where every stage writes what it makes (bundles, reports): `twokey/` in the runner's temporary directory
// (RUNNER_TEMP), which the job's later steps read and upload and which no other job shares. A file is named after
// its content (the first 16 hex of its sha256), so one run's files never overwrite another's.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** `<runnerTemp>/twokey`. */
export function evidenceDirectory(runnerTemp: string): string {
  return join(runnerTemp, 'twokey');
}

/** `<prefix>-<first 16 hex of the text's sha256><extension>`, e.g. `provenance-0123456789abcdef.sigstore.json`. */
export function contentName(prefix: string, text: string, extension: string): string {
  return `${prefix}-${createHash('sha256').update(text).digest('hex').slice(0, 16)}${extension}`;
}

/** Writes each file into the evidence directory (created when missing); returns their paths, in order. */
export function writeEvidence(runnerTemp: string, files: readonly { name: string; text: string }[]): string[] {
  const directory = evidenceDirectory(runnerTemp);
  mkdirSync(directory, { recursive: true });
  return files.map(({ name, text }) => {
    const path = join(directory, name);
    writeFileSync(path, text);
    return path;
  });
}
