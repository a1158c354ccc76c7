export * from './acme';
export * from './github-fake';
export * from './github-graphql';
export * from './oidc-issuer';
export * from './org-history';
export * from './process';
export * from './runner';
export * from './sigstore-stack';
