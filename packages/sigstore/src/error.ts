import { CodedError } from '@twokey/core';
// Errors of the sigstore package. Callers switch on `code`; `kind` says whether the input was unusable
// (usage: exit 2), the evidence did not verify (refusal: exit 1), or signing failed.

export type InputErrorCode =
  | 'BUNDLE_UNREADABLE'
  | 'BUNDLE_TOO_LARGE'
  | 'BUNDLE_NOT_JSON'
  | 'BUNDLE_MEDIA_TYPE'
  | 'BUNDLE_MALFORMED'
  | 'TRUSTED_ROOT_UNREADABLE'
  | 'TRUSTED_ROOT_INVALID'
  | 'KEY_UNREADABLE'
  | 'ARTIFACT_UNREADABLE'
  | 'DIGEST_MALFORMED'
  | 'POLICY_UNREADABLE';

export type VerificationFailureCode =
  | 'SIGNATURE_INVALID'
  | 'CERTIFICATE_INVALID'
  | 'TLOG_INVALID'
  | 'TIMESTAMP_INVALID'
  | 'PUBLIC_KEY_INVALID'
  | 'ARTIFACT_MISMATCH'
  | 'IDENTITY_MISMATCH'
  | 'ISSUER_MISMATCH'
  | 'EXTENSION_MISMATCH'
  | 'PAYLOAD_INVALID'
  | 'UNSUPPORTED'
  | 'VERIFICATION_FAILED';

export type SigningErrorCode =
  | 'OIDC_TOKEN_UNAVAILABLE'
  | 'OIDC_TOKEN_INVALID'
  | 'CERTIFICATE_REQUEST_FAILED'
  | 'TLOG_ENTRY_FAILED'
  | 'TIMESTAMP_FAILED'
  | 'DIGEST_UNSUPPORTED'
  | 'SIGNING_FAILED';

export class SigstoreInputError extends CodedError<InputErrorCode> {
  readonly kind = 'input' as const;
  override readonly name = 'SigstoreInputError';
}

export class BundleVerificationError extends CodedError<VerificationFailureCode> {
  readonly kind = 'verification' as const;
  override readonly name = 'BundleVerificationError';
}

/** Signing did not produce a bundle: no identity token, or a Sigstore service refused or could not be reached. */
export class SigningError extends CodedError<SigningErrorCode> {
  readonly kind = 'signing' as const;
  override readonly name = 'SigningError';
}

/** The cause's message on one line: a parser may quote the input it choked on, newlines included. */
export function describeCause(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\n\s*/g, ' ');
}
