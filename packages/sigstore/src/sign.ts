// Keyless signing on sigstore-js (@sigstore/sign): Fulcio certificate from an OIDC token, Rekor entry, TSA timestamp.
import { generateKeyPairSync, type KeyObject, sign as signMessage } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import {
  bundleToJSON,
  toMessageSignatureBundle as messageSignatureBundle,
  type SerializedBundle,
} from '@sigstore/bundle';
import { pem } from '@sigstore/core';
import type { Artifact, Bundle, BundleBuilder, Signature, Signer, Witness } from '@sigstore/sign';
import { IN_TOTO_PAYLOAD_TYPE } from '@twokey/core';
import { digestFile } from './digest';
import type { SigningEndpoints } from './endpoints';
import { describeCause, SigningError, type SigningErrorCode } from './error';
import type { ArtifactInput } from './verify';

export type { SerializedBundle };

export interface KeylessSigningOptions {
  endpoints: SigningEndpoints;
  /** The OIDC identity token (audience `sigstore`) whose identity the certificate will name. */
  identityToken: () => Promise<string>;
  /** Per request to each service. Default 60 s. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;
// Retries transient failures (5xx, 429, network) of the public-good services; loopback never needs them.
const RETRY = { retries: 2, factor: 2, minTimeout: 500 };

type SigstoreSign = typeof import('@sigstore/sign');
let sigstoreSignModule: Promise<SigstoreSign> | undefined;
/** @sigstore/sign (and its HTTP stack) is loaded on the first signing: verifying never pays for it (~60 ms at start). */
function sigstoreSign(): Promise<SigstoreSign> {
  sigstoreSignModule ??= import('@sigstore/sign');
  return sigstoreSignModule;
}

/**
 * Signs an in-toto statement keylessly: a v0.3 bundle holding a DSSE envelope (payload type
 * `application/vnd.in-toto+json`), the Fulcio certificate, a Rekor v1 `intoto` entry and, with a TSA, a timestamp.
 */
export async function signStatement(statement: object, options: KeylessSigningOptions): Promise<SerializedBundle> {
  return signPayload(Buffer.from(JSON.stringify(statement), 'utf8'), IN_TOTO_PAYLOAD_TYPE, options);
}

/** Signs payload bytes as they are, keylessly, in a DSSE envelope of the given payload type (a v0.3 bundle). */
export async function signPayload(
  payload: Buffer,
  payloadType: string,
  options: KeylessSigningOptions,
): Promise<SerializedBundle> {
  const token = await identityToken(options);
  const sign = await sigstoreSign();
  const builder = new sign.DSSEBundleBuilder({
    signer: fulcioSigner(sign, token, options),
    witnesses: witnesses(sign, options),
    certificateChain: false,
  });
  return bundleToJSON(await create(sign, builder, { data: payload, type: payloadType }, options));
}

/**
 * Signs an artifact keylessly: a v0.3 bundle holding a message signature over the artifact's SHA-256. The file is
 * hashed streaming and the digest is signed as is, so a multi-GiB artifact is never read into memory.
 */
export async function signArtifact(artifact: ArtifactInput, options: KeylessSigningOptions): Promise<SerializedBundle> {
  const digest = 'file' in artifact ? digestFile(artifact.file, ['sha256'])[0]! : artifact.digest;
  if (digest.algorithm !== 'sha256') {
    throw new SigningError('DIGEST_UNSUPPORTED', `expected a sha256 digest to sign, found ${digest.algorithm}`);
  }
  const digestBytes = Buffer.from(digest.hex, 'hex');
  const token = await identityToken(options);
  const key = new EphemeralPrehashKey(digestBytes);
  const sign = await sigstoreSign();
  const builder = new (prehashedMessageBundleBuilder(sign))({
    signer: fulcioSigner(sign, token, options, key),
    witnesses: witnesses(sign, options),
  });
  return bundleToJSON(await create(sign, builder, { data: digestBytes }, options));
}

async function identityToken(options: KeylessSigningOptions): Promise<string> {
  let token: string;
  try {
    token = await options.identityToken();
  } catch (error) {
    throw new SigningError('OIDC_TOKEN_UNAVAILABLE', `cannot get an OIDC identity token: ${describeCause(error)}`, {
      cause: error,
    });
  }
  if (typeof token !== 'string' || token.split('.').length !== 3) {
    throw new SigningError('OIDC_TOKEN_INVALID', 'expected an OIDC identity token (a JWT), found something else');
  }
  return token;
}

function fulcioSigner(sign: SigstoreSign, token: string, options: KeylessSigningOptions, keyHolder?: Signer): Signer {
  return new sign.FulcioSigner({
    identityProvider: { getToken: async () => token },
    fulcioBaseURL: options.endpoints.fulcioURL,
    keyHolder,
    timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    retry: RETRY,
  });
}

function witnesses(sign: SigstoreSign, options: KeylessSigningOptions): Witness[] {
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const { rekorURL, tsaURL } = options.endpoints;
  if (!rekorURL && !tsaURL) {
    throw new SigningError(
      'SIGNING_FAILED',
      'neither a transparency log (rekor-url) nor a timestamp authority (tsa-url): nothing would date the signature',
    );
  }
  const list: Witness[] = rekorURL
    ? [new sign.RekorWitness({ rekorBaseURL: rekorURL, entryType: 'intoto', timeout, retry: RETRY })]
    : [];
  if (tsaURL) {
    list.push(new sign.TSAWitness({ tsaBaseURL: tsaURL, timeout, retry: RETRY }));
  }
  return list;
}

async function create(
  sign: SigstoreSign,
  builder: BundleBuilder,
  artifact: Artifact,
  options: KeylessSigningOptions,
): Promise<Bundle> {
  try {
    return await builder.create(artifact);
  } catch (error) {
    throw signingFailure(sign, error, options.endpoints);
  }
}

/** Names the service that failed and what it answered, from sigstore-js's error code and HTTP cause. */
function signingFailure(sign: SigstoreSign, error: unknown, endpoints: SigningEndpoints): SigningError {
  if (!(error instanceof sign.InternalError)) {
    return new SigningError('SIGNING_FAILED', `signing failed: ${describeCause(error)}`, { cause: error });
  }
  const cause = error.cause as { statusCode?: number; message?: string } | undefined;
  const answered = cause?.statusCode ? `HTTP ${cause.statusCode}: ${cause.message}` : describeCause(cause ?? error);
  const failures: Partial<Record<typeof error.code, [SigningErrorCode, string]>> = {
    CA_CREATE_SIGNING_CERTIFICATE_ERROR: [
      'CERTIFICATE_REQUEST_FAILED',
      `Fulcio (${endpoints.fulcioURL}) did not issue a signing certificate`,
    ],
    TLOG_CREATE_ENTRY_ERROR: ['TLOG_ENTRY_FAILED', `Rekor (${endpoints.rekorURL}) did not log the signature`],
    TSA_CREATE_TIMESTAMP_ERROR: [
      'TIMESTAMP_FAILED',
      `the timestamp authority (${endpoints.tsaURL}) did not timestamp the signature`,
    ],
    IDENTITY_TOKEN_PARSE_ERROR: ['OIDC_TOKEN_INVALID', 'the OIDC identity token could not be read'],
    IDENTITY_TOKEN_READ_ERROR: ['OIDC_TOKEN_UNAVAILABLE', 'cannot get an OIDC identity token'],
  };
  const [code, what] = failures[error.code] ?? ['SIGNING_FAILED', `signing failed (${error.code})`];
  return new SigningError(code, `${what}: ${answered}`, { cause: error });
}

/**
 * An ephemeral P-256 key that signs the proof-of-possession challenge as a message and the one artifact digest
 * it was made for as a digest (prehashed): FulcioSigner asks its key holder for both signatures.
 */
class EphemeralPrehashKey implements Signer {
  private readonly privateKey: KeyObject;
  private readonly publicKeyPEM: string;
  private readonly secret: Uint8Array;

  constructor(private readonly digest: Buffer) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = privateKey;
    this.publicKeyPEM = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    this.secret = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
  }

  async sign(data: Buffer): Promise<Signature> {
    // The same Buffer object the bundle builder was given: the artifact's digest, signed without hashing again.
    const signature =
      data === this.digest
        ? Buffer.from(p256.sign(data, this.secret, { prehash: false, format: 'der', extraEntropy: true }))
        : signMessage('sha256', data, this.privateKey);
    return { signature, key: { $case: 'publicKey', publicKey: this.publicKeyPEM } };
  }
}

/** A message-signature bundle whose message digest is the artifact's digest (the builder's data), v0.3. */
function prehashedMessageBundleBuilder(sign: SigstoreSign) {
  return class PrehashedMessageBundleBuilder extends sign.MessageSignatureBundleBuilder {
    protected async package(artifact: Artifact, signature: Signature) {
      if (signature.key.$case !== 'x509Certificate') {
        throw new SigningError(
          'SIGNING_FAILED',
          'expected a Fulcio certificate for the signing key, found a public key',
        );
      }
      return messageSignatureBundle({
        digest: artifact.data,
        signature: signature.signature,
        certificate: pem.toDER(signature.key.certificate),
        certificateChain: false,
      });
    }
  };
}
