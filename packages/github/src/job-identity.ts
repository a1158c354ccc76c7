// What a job's OIDC identity token says: its claims, and the job's identity as Fulcio will certify it. Apart from
// oidc.ts (which requests the token, and which every action reads at start), so that what this needs (jose, the
// signer rules of packages/core) is read only by the stages that use a token.
import { type SignerIdentity, workflowSigner } from '@twokey/core';
import { decodeJwt } from 'jose';
import { OidcTokenError } from './oidc';

/**
 * The claims of a GitHub Actions OIDC token, read without checking its signature: the token was just handed to
 * this job by its runner, and Fulcio checks the signature when it certifies it.
 */
export function idTokenClaims(token: string): Record<string, unknown> {
  try {
    return decodeJwt(token);
  } catch (error) {
    throw new OidcTokenError(
      'OIDC_TOKEN_MALFORMED',
      `the OIDC identity token is not a JWT: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

/**
 * Who this job is, from its OIDC token, as Fulcio will certify it: SAN `{serverUrl}/{job_workflow_ref}`, the token's
 * issuer, the source repository extensions. The one reading of a job's identity for every stage.
 */
export function jobIdentity(token: string, serverUrl: string): SignerIdentity {
  const identity = workflowSigner(idTokenClaims(token), serverUrl);
  if (!identity) {
    throw new OidcTokenError(
      'OIDC_TOKEN_MALFORMED',
      'the OIDC identity token has no job_workflow_ref or iss claim: it is not a GitHub Actions job token',
    );
  }
  return identity;
}
