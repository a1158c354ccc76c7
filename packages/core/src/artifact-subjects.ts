// The subjects of a statement that name artifacts: a break-glass's run subject (the run that signed it) and a review's
// reviewed-commit subject (review.reviewed-history) name none, and are never judged, reported or counted as one.
import { BREAK_GLASS_PREDICATE_TYPE, breakGlassArtifactSubjects } from './break-glass';
import { REVIEW_PREDICATE_TYPE, reviewArtifactSubjects } from './review-predicate';

/** `subjects` of a statement of `predicateType`, without the ones that stand for no artifact. */
export function artifactSubjects<S extends { name?: unknown }>(predicateType: unknown, subjects: readonly S[]): S[] {
  if (predicateType === BREAK_GLASS_PREDICATE_TYPE) return breakGlassArtifactSubjects(subjects);
  if (predicateType === REVIEW_PREDICATE_TYPE) return reviewArtifactSubjects(subjects);
  return [...subjects];
}
