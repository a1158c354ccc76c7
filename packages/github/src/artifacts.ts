// The artifacts the sign and deploy stages judge, named with the same inputs (and found and hashed by the same code)
// as the build stage's subjects. Signatures and attestations name an artifact by its sha256, so a subject given only
// by another digest is refused here, once, for both stages.
import { type ArtifactRef, type Subject, SubjectError, type SubjectInputs } from '@twokey/core';
import { resolveSubjects } from '@twokey/sigstore';

/** Every artifact the subject inputs name, each with its sha256 (relative paths from `workspace`). */
export async function resolveArtifacts(inputs: SubjectInputs, workspace: string): Promise<ArtifactRef[]> {
  return (await resolveSubjects(inputs, workspace)).map(sha256Artifact);
}

/** A subject as an artifact named by sha256; its name, else `sha256:HEX`. */
export function sha256Artifact(subject: Subject): ArtifactRef {
  const hex = subject.digest.sha256;
  if (hex === undefined) {
    throw new SubjectError(
      'SUBJECT_DIGEST_INVALID',
      `${subject.name ?? '(unnamed)'}: expected a sha256 digest (signatures and attestations name artifacts by sha256), found ${Object.keys(subject.digest).join(', ')}`,
    );
  }
  return { name: subject.name ?? `sha256:${hex}`, digest: { algorithm: 'sha256', hex } };
}
