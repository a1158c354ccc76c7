import { GITHUB_ACTIONS_ISSUER } from './oidc-issuer';

/** The example organisation of the tests: acme/app's workflow builds, acme/platform's reusable workflow signs. */
export const ACME = {
  issuer: GITHUB_ACTIONS_ISSUER,
  buildSan: 'https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main',
  signSan: 'https://github.com/acme/platform/.github/workflows/sign.yml@refs/heads/main',
} as const;

/** The smallest policy naming ACME's identities: each by its exact SAN, issued by GitHub Actions. */
export const ACME_POLICY = `version: 1
identities:
  build:
    issuer: ${ACME.issuer}
    san: ${ACME.buildSan}
  sign:
    issuer: ${ACME.issuer}
    san: ${ACME.signSan}
`;
