// The TUF client `twokey trusted-root --refresh` uses, bundled apart from the CLI (packages/cli/dist/tuf.cjs) so that
// it and its HTTP client are read only by a refresh, never at the start of a verification.
export { initTUF } from '@sigstore/tuf';
