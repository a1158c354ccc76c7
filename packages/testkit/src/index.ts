export * from './oidc-issuer';
export * from './sigstore-stack';
