// The npm provenance of sigstore@2.1.0 (../shared/sigstore-realdata): a real public-good bundle, and the
// verify-bundle arguments that verify it (its signer and the published tarball's digest).
import { join } from 'node:path';
import { realdataRoot } from '../conformance/paths';

export const NPM_PROVENANCE = join(realdataRoot, 'sigstore-js-2.1.0-bundle.json');

/** `--certificate-identity … --certificate-oidc-issuer … sha512:…`: what follows `--bundle FILE`. */
export const NPM_PROVENANCE_SIGNER = [
  '--certificate-identity',
  'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main',
  '--certificate-oidc-issuer',
  'https://token.actions.githubusercontent.com',
  'sha512:90f223f992e4c88dd068cd2a5fc57f9d2b30798343dd6e38f29c240e04ba090ef831f84490847c4e82b9232c78e8a258463b1e55c0f7469f730265008fa6633f',
];
