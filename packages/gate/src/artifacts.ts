// What the gate judges, as its two callers name it: `twokey verify`'s arguments (a file, `sha256:HEX`,
// `NAME=sha256:HEX`), parsed here, or the artifacts the deploy action's subject inputs name (resolved by
// packages/github as for the sign stage). Each digest is parsed once, into the one Digest shape; nothing downstream
// parses or lower-cases it again.
import { lstatSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { isDigestReference, parseDigest, sha256Digest } from '@twokey/core';
import { readArtifactFile } from '@twokey/sigstore';
import { DeployInputError } from './error';
import type { DeployArtifact } from './evaluate';

/** An artifact, with its file when it was given as one: its signature is checked against the file's bytes. */
export interface ArtifactInput extends DeployArtifact {
  file?: string;
  /** The file's bytes, when it is small: read once, hashed, and checked against its signature as they are. */
  content?: Buffer;
}

/** How a caller names the artifacts: `twokey verify`'s arguments, or artifacts already resolved (the deploy action). */
export type ArtifactSpec =
  | {
      arguments: readonly string[];
      /** `--name`: the name the one artifact given as `sha256:HEX` is judged under. */
      name?: string;
    }
  | { resolved: readonly ArtifactInput[] };

/**
 * Small artifacts' bytes are kept, from the read that hashed them to their signature check, up to this many bytes in
 * all; past it an artifact's bytes are dropped (memory stays bounded) and its signature is checked against its digest.
 */
export const KEPT_ARTIFACT_BYTES = 64 * 1024 * 1024;

/** The artifacts a spec names: arguments read as artifactsFromArguments (relative to `cwd`), or as resolved. */
export function readArtifacts(spec: ArtifactSpec, cwd: string): ArtifactInput[] {
  if ('resolved' in spec) return [...spec.resolved];
  const artifacts = artifactsFromArguments(spec.arguments, cwd);
  return spec.name === undefined
    ? artifacts
    : artifacts.map((a) => (a.name === undefined ? { ...a, name: spec.name } : a));
}

/**
 * An artifact named on a command line: `NAME=sha256:HEX` (a digest, judged under NAME), `sha256:HEX` (a digest alone:
 * no name to judge under deploy.artifacts), or a file (hashed; its name is the file's base name). Another algorithm
 * than sha256 is refused: the evidence names artifacts by sha256.
 */
export function artifactFromArgument(argument: string, cwd = process.cwd()): ArtifactInput {
  const named = /^([^=]*)=(sha[0-9]+:.*)$/s.exec(argument);
  if ((named || isDigestReference(argument)) && pathExists(resolve(cwd, argument))) {
    // A file named like a digest (`evil.tar.gz=sha256:HEX`, dropped into a release directory a glob expands) would be
    // judged as the digest it names, its bytes never hashed: which one is meant is not for twokey to guess.
    throw new DeployInputError(
      'ARTIFACT_ARGUMENT_AMBIGUOUS',
      `${argument}: names a file and reads as a digest (${named ? 'NAME=sha256:HEX' : 'sha256:HEX'}); rename the file, or give the digest where no such file is`,
    );
  }
  if (named) {
    const [, name, reference] = named;
    if (name!.trim() === '') {
      throw new DeployInputError('ARTIFACT_NAME_EMPTY', `${argument}: expected NAME=sha256:HEX, found no name`);
    }
    return { name: name!, digest: parseDigest(reference!, argument) };
  }
  if (isDigestReference(argument)) return { digest: parseDigest(argument) };
  const file = resolve(cwd, argument);
  const { digests, content } = readArtifactFile(file, ['sha256']);
  return {
    name: basename(argument),
    digest: sha256Digest(digests[0]!.hex, argument),
    file,
    ...(content && { content }),
  };
}

/** artifactFromArgument for each argument, keeping at most `budget` bytes of artifact files in all. */
export function artifactsFromArguments(
  argumentList: readonly string[],
  cwd = process.cwd(),
  budget = KEPT_ARTIFACT_BYTES,
): ArtifactInput[] {
  let kept = 0;
  return argumentList.map((argument) => {
    const { content, ...artifact } = artifactFromArgument(argument, cwd);
    if (!content || kept + content.length > budget) return artifact;
    kept += content.length;
    return { ...artifact, content };
  });
}

/** Whether anything is at the path (a file, a directory, a link — even a dangling one). */
function pathExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
