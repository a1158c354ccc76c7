// The job's OIDC identity token, from the runner (ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN) via @actions/core. What the
// token says (its claims, the job's identity) is job-identity.ts: the actions read this module at start, to name the
// token in their inputs, and that one only when they use the token.
import { getIDToken } from '@actions/core';
import { CodedError } from '@twokey/core';

export type OidcErrorCode = 'OIDC_PERMISSION_MISSING' | 'OIDC_TOKEN_UNAVAILABLE' | 'OIDC_TOKEN_MALFORMED';

export class OidcTokenError extends CodedError<OidcErrorCode> {
  readonly kind = 'usage';
  override readonly name = 'OidcTokenError';
}

/** The line a workflow needs, shown in the error when the runner gave the job no way to request a token. */
export const ID_TOKEN_PERMISSION_HINT = `Add this to the job (or the workflow) that runs this step:

    permissions:
      id-token: write   # lets the job request its OIDC identity token for Sigstore
      contents: read`;

/**
 * Requests the job's OIDC identity token for `audience` from the runner. Without `permissions: id-token: write`
 * the runner sets no ACTIONS_ID_TOKEN_REQUEST_URL: that is reported as OIDC_PERMISSION_MISSING, with the fix.
 */
export async function requestIdToken(audience = 'sigstore'): Promise<string> {
  const missing = ['ACTIONS_ID_TOKEN_REQUEST_URL', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN'].filter(
    (name) => !process.env[name],
  );
  if (missing.length > 0) {
    throw new OidcTokenError(
      'OIDC_PERMISSION_MISSING',
      `this job cannot request an OIDC identity token (${missing.join(' and ')} not set): it needs the ` +
        `\`id-token: write\` permission.\n${ID_TOKEN_PERMISSION_HINT}`,
    );
  }
  try {
    return await getIDToken(audience);
  } catch (error) {
    throw new OidcTokenError(
      'OIDC_TOKEN_UNAVAILABLE',
      `the runner did not give an OIDC identity token for audience ${audience}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
