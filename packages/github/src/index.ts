export * from './evidence';
export * from './inputs';
export * from './octokit';
export * from './oidc';
