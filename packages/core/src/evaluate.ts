// The deploy evaluation moved to packages/gate (evaluate.ts, checks.ts); the repository binding it shares with the
// sign stage is repository-binding.ts, the artifact and its digest are in model.ts. Kept only for the sign stage's
// `import … from './evaluate'` until that import names those modules.
export type { ArtifactRef } from './model';
export { bindRepositories, EvaluationError } from './repository-binding';
