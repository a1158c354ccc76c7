// What the build, sign and break-glass stages do after their first step — build-sign.ts, sign-decide.ts and
// break-glass-sign.ts — behind one module, which each stage imports when it gets there
// (`await import('./later-steps')`), so that its action's start reads only the first step (bench/README.md,
// "Start-up").
//
// One module, not one a stage: esbuild makes a chunk of every import() in the modules a bundle holds, and every action
// bundles all of packages/github's stages (its index names them all), so each import() is one more way to split what
// a bundle reads at start into files. With three, the deploy gate's start read nine files instead of four, and was
// ~4% slower to its first line; the build and break-glass actions now read the sign stage's later step too when they
// sign (~0.5 MB, after their first step), which their start does not.
export { breakGlassOutcome, signBreakGlass } from './break-glass-sign';
export { signProvenance } from './build-sign';
export { signUnderPolicy } from './sign-decide';
