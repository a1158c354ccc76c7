export * from './oidc';
