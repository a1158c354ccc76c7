// An artifact's digest is parsed and normalised here, once, wherever it comes from — `sha256:HEX` on a command line
// or in a step's input, the hex of a file just hashed, an in-toto subject — and then keeps one shape (Digest) up to
// the report, where it is written `sha256:HEX`. Evidence names artifacts by sha256, so no other algorithm is one.

import { CodedError } from './error';
import type { Digest } from './model';

export type DigestErrorCode = 'DIGEST_MALFORMED' | 'ARTIFACT_DIGEST_UNSUPPORTED';

/** A digest that cannot name an artifact: not `sha256:HEX`, or another algorithm (exit 2, naming the value). */
export class DigestError extends CodedError<DigestErrorCode> {
  readonly kind = 'usage';
  override readonly name = 'DigestError';
}

const REFERENCE = /^([a-z][a-z0-9_-]*):([0-9a-fA-F]*)$/;
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/** True when a command-line argument is written as a digest (`sha256:…`, also another algorithm's, to refuse it). */
export function isDigestReference(value: string): boolean {
  return /^sha(?:1|224|256|384|512):/i.test(value);
}

/**
 * `sha256:HEX` (hex in either case) as a Digest. `what` names the value in messages (`--name`, `subject-digest`…).
 * Throws DigestError ARTIFACT_DIGEST_UNSUPPORTED for another algorithm, DIGEST_MALFORMED for anything else.
 */
export function parseDigest(reference: string, what = reference): Digest {
  const match = REFERENCE.exec(reference);
  if (!match) {
    throw new DigestError('DIGEST_MALFORMED', `${what}: not a digest (expected sha256:HEX)`);
  }
  const [, algorithm, hex] = match;
  if (algorithm!.toLowerCase() !== 'sha256') {
    throw new DigestError(
      'ARTIFACT_DIGEST_UNSUPPORTED',
      `${what}: expected a sha256 digest (signatures and attestations name artifacts by sha256), found ${algorithm}`,
    );
  }
  return sha256Digest(hex!, what);
}

/** The hex of a sha256 (a file just hashed, a subject's `sha256`) as a Digest; DIGEST_MALFORMED unless 64 hex. */
export function sha256Digest(hex: string, what = `sha256:${hex}`): Digest {
  if (!SHA256_HEX.test(hex)) {
    throw new DigestError('DIGEST_MALFORMED', `${what}: a sha256 digest has 64 hex digits, found ${hex.length}`);
  }
  return { algorithm: 'sha256', hex: hex.toLowerCase() };
}

/** How a digest is written in reports, messages and on command lines: `sha256:HEX`. */
export function formatDigest(digest: Digest): string {
  return `${digest.algorithm}:${digest.hex}`;
}
