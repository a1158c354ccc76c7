// The deploy gate, shared by the deploy action and `twokey verify`:
//   judgeDeploy     the one decision on the files a request names: read the policy and the evidence, verify, evaluate
//   evaluateDeploy  the verdict on verified bundles (pure): every artifact's deploy checks (checks.ts), as a report
//   readArtifacts   what is judged, as `twokey verify`'s arguments or the action's subject inputs name it
//   readEvidence    every bundle verified once, named relative to the working directory
export * from './artifacts';
export * from './checksums-output';
export * from './deploy-step';
export * from './error';
export * from './evaluate';
export * from './evidence';
export * from './gate';
export * from './sarif-file';
