// The artifacts the deploy gate judges, named with the same inputs (and resolved by the same code) as the build and
// sign stages. Evidence names artifacts by sha256, so a subject given only by another digest is refused.
import { type ArtifactRef, type Subject, SubjectError, type SubjectInputs } from '@twokey/core';
import { resolveSubjects } from '@twokey/sigstore';

export async function resolveArtifacts(inputs: SubjectInputs, workspace: string): Promise<ArtifactRef[]> {
  return (await resolveSubjects(inputs, workspace)).map(artifactOf);
}

function artifactOf(subject: Subject): ArtifactRef {
  const hex = subject.digest.sha256;
  if (hex === undefined) {
    throw new SubjectError(
      'SUBJECT_DIGEST_INVALID',
      `${subject.name ?? '(unnamed)'}: expected a sha256 digest (evidence names artifacts by sha256), found ${Object.keys(subject.digest).join(', ')}`,
    );
  }
  return { name: subject.name ?? `sha256:${hex}`, digest: { algorithm: 'sha256', hex } };
}
