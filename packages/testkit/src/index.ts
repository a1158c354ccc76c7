export * from './acme';
export * from './github-fake';
export * from './oidc-issuer';
export * from './runner';
export * from './sigstore-stack';
