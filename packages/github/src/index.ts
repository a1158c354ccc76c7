export * from './evidence';
export * from './octokit';
export * from './oidc';
