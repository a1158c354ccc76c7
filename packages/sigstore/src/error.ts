import { CodedError } from '@twokey/core';
// Errors of the sigstore package. Callers switch on `code`; `kind` says whether the input was unusable
// (usage: exit 2), the evidence did not verify (refusal: exit 1), signing failed, or twokey itself failed
// (internal: exit 3, a bug, never a refusal and never a pass).

export type InputErrorCode =
  | 'BUNDLE_UNREADABLE'
  | 'BUNDLE_TOO_LARGE'
  | 'BUNDLE_NOT_JSON'
  | 'BUNDLE_MEDIA_TYPE'
  | 'BUNDLE_MALFORMED'
  | 'NOT_A_BUNDLE'
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
  | 'VERIFICATION_FAILED'
  | CanonicalFailureCode;

/**
 * A bundle that verifies but is not in its one canonical encoding (canonical.ts): the same signed event could be
 * carried by other bytes, so the evidence is refused rather than read one of several ways.
 */
export type CanonicalFailureCode =
  | 'MEDIA_TYPE_MISMATCH'
  | 'INTEGER_NOT_CANONICAL'
  | 'DIGEST_ALGORITHM_UNKNOWN'
  | 'CERTIFICATE_NOT_DER'
  | 'CERTIFICATE_CHAIN_UNTRUSTED'
  | 'TIMESTAMP_NOT_CANONICAL'
  | 'CHECKPOINT_NOT_CANONICAL'
  | 'INCLUSION_PROOF_MISMATCH'
  | 'KEYID_NOT_CANONICAL';

export type SigningErrorCode =
  | 'OIDC_TOKEN_UNAVAILABLE'
  | 'OIDC_TOKEN_INVALID'
  | 'CERTIFICATE_REQUEST_FAILED'
  | 'TLOG_ENTRY_FAILED'
  | 'TIMESTAMP_FAILED'
  | 'DIGEST_UNSUPPORTED'
  | 'SIGNING_FAILED';

export class SigstoreInputError extends CodedError<InputErrorCode> {
  readonly kind = 'usage';
  override readonly name = 'SigstoreInputError';
}

export class BundleVerificationError extends CodedError<VerificationFailureCode> {
  readonly kind = 'refusal';
  override readonly name = 'BundleVerificationError';
}

/** Signing did not produce a bundle: no identity token, or a Sigstore service refused or could not be reached. */
export class SigningError extends CodedError<SigningErrorCode> {
  readonly kind = 'usage';
  override readonly name = 'SigningError';
}

/**
 * twokey failed where it should not: an exception no check anticipated, met while reading or verifying `source`.
 * Never a refusal and never a pass: the CLI exits 3 and asks for a report.
 */
export class InternalError extends CodedError<'INTERNAL_ERROR'> {
  readonly kind = 'internal';
  override readonly name = 'InternalError';

  /** `reason`: what went wrong, on one line; `source`: the file being read or verified, when there was one. */
  constructor(
    readonly reason: string,
    readonly source?: string,
    options?: { cause?: unknown },
  ) {
    super('INTERNAL_ERROR', source ? `${reason} while reading ${source}` : reason, options);
  }
}

/**
 * The error to throw for an exception met while reading or verifying `source`: twokey's own errors as they are,
 * anything else (a TypeError from a library, a stack overflow) as an InternalError naming the file.
 */
export function asKnownError(error: unknown, source: string): Error {
  if (
    error instanceof SigstoreInputError ||
    error instanceof BundleVerificationError ||
    error instanceof InternalError
  ) {
    return error;
  }
  return new InternalError(describeCause(error), source, { cause: error });
}

/** The cause's message on one line: a parser may quote the input it choked on, newlines included. */
export function describeCause(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\n\s*/g, ' ');
}
