import { createPublicKey, type KeyObject } from 'node:crypto';
import { compileIdentityPattern, IdentityPatternError, type VerifiedBundle } from '@twokey/core';
import {
  type ArtifactInput,
  BundleVerificationError,
  BundleVerifier,
  type ExpectedIdentity,
  isDigestReference,
  isJsonLines,
  jsonLinesAddresses,
  MAX_TRUST_FILE_BYTES,
  parseDigestReference,
  publicGoodTrustedRoot,
  readBoundedFile,
  readBundleFile,
  SigstoreInputError,
  trustedRootNamed,
} from '@twokey/sigstore';
import { parseCommandArgs } from '../args';
import { type CliIO, EXIT, UsageError } from '../io';
import { describeSigner } from '../show';

export const VERIFY_BUNDLE_USAGE = `Usage: twokey verify-bundle --bundle FILE
         (--certificate-identity ID | --certificate-identity-regexp RE) --certificate-oidc-issuer ISSUER
         | --key PEM_FILE
         [--trusted-root FILE|public-good|github] ARTIFACT_PATH|sha256:HEX|sha512:HEX

Verifies one Sigstore bundle (v0.1, v0.2, v0.3) for an artifact, offline, against the Sigstore public-good
trusted root embedded in twokey, or the one given with --trusted-root: a trusted_root.json, or the name of an
embedded one (public-good; github, GitHub's instance, which signs private repositories without a public log).

Exit status: 0 verified; 1 does not verify; 2 usage error or unreadable input.
`;

/** The options of verify-bundle, as cosign and the Sigstore conformance protocol name them. */
const VERIFY_BUNDLE_OPTIONS = {
  bundle: { type: 'string' },
  'certificate-identity': { type: 'string' },
  'certificate-identity-regexp': { type: 'string' },
  'certificate-oidc-issuer': { type: 'string' },
  key: { type: 'string' },
  'trusted-root': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** What to do about a bundle that chains to no authority of the embedded root: give the instance's own root. */
export const TRUSTED_ROOT_HINT =
  "pass --trusted-root github for GitHub's instance (private repositories), or --trusted-root FILE for another";

export async function verifyBundleCommand(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs('verify-bundle', args, VERIFY_BUNDLE_OPTIONS);
  if (values.help) {
    io.stdout.write(VERIFY_BUNDLE_USAGE);
    return EXIT.ok;
  }
  if (positionals.length !== 1) {
    throw new UsageError(`verify-bundle takes exactly one artifact (a path or sha256:HEX), got ${positionals.length}`);
  }
  if (!values.bundle) throw new UsageError('verify-bundle: --bundle FILE is required');
  const identity = expectedIdentity(values);
  const publicKey = values.key ? readPublicKey(values.key) : undefined;
  if (identity && publicKey) {
    throw new UsageError(
      'verify-bundle: give either --key or --certificate-identity/--certificate-oidc-issuer, not both',
    );
  }
  if (!identity && !publicKey) {
    throw new UsageError(
      'verify-bundle: --certificate-identity (or --certificate-identity-regexp) with --certificate-oidc-issuer, or --key, is required',
    );
  }

  const artifactArg = positionals[0]!;
  const artifact: ArtifactInput = isDigestReference(artifactArg)
    ? { digest: parseDigestReference(artifactArg) }
    : { file: artifactArg };
  const trust = values['trusted-root'] ? trustedRootNamed(values['trusted-root']) : publicGoodTrustedRoot();
  const bundle = readBundleFile(oneBundleOf(values.bundle));

  const verifier = new BundleVerifier(trust, { publicKey });
  let verified: VerifiedBundle;
  try {
    verified = verifier.verify(bundle, { artifact, identity });
  } catch (error) {
    throw withTrustedRootHint(error, values['trusted-root']);
  }
  io.stdout.write(`Verified OK: ${values.bundle}\n`);
  io.stdout.write(describeSigner(verified, publicKey ? values.key : undefined));
  return EXIT.ok;
}

/** A bundle of another Sigstore instance verified against the embedded root: the refusal says which flag fixes it. */
function withTrustedRootHint(error: unknown, trustedRoot: string | undefined): unknown {
  if (!(error instanceof BundleVerificationError) || error.code !== 'CERTIFICATE_CHAIN_UNTRUSTED' || trustedRoot) {
    return error;
  }
  return new BundleVerificationError(error.code, `${error.message} — ${TRUSTED_ROOT_HINT}`, { cause: error });
}

type VerifyBundleValues = ReturnType<typeof parseCommandArgs<typeof VERIFY_BUNDLE_OPTIONS>>['values'];

function expectedIdentity(values: VerifyBundleValues): ExpectedIdentity | undefined {
  const san = values['certificate-identity'];
  const sanPattern = values['certificate-identity-regexp'];
  const issuer = values['certificate-oidc-issuer'];
  if (san === undefined && sanPattern === undefined && issuer === undefined) return undefined;
  // An empty value would match a certificate without a SAN or an issuer.
  for (const [flag, value] of [
    ['--certificate-identity', san],
    ['--certificate-identity-regexp', sanPattern],
    ['--certificate-oidc-issuer', issuer],
  ] as const) {
    if (value === '') throw new UsageError(`verify-bundle: ${flag}: empty; give the identity to expect`);
  }
  if (san !== undefined && sanPattern !== undefined) {
    throw new UsageError('verify-bundle: give --certificate-identity or --certificate-identity-regexp, not both');
  }
  if (san === undefined && sanPattern === undefined) {
    throw new UsageError('verify-bundle: --certificate-oidc-issuer needs --certificate-identity (or -regexp)');
  }
  if (issuer === undefined) throw new UsageError('verify-bundle: --certificate-oidc-issuer ISSUER is required');
  if (sanPattern !== undefined) {
    // RE2 syntax, matched in linear time, as cosign's flag of the same name.
    try {
      compileIdentityPattern(sanPattern);
    } catch (error) {
      if (!(error instanceof IdentityPatternError)) throw error;
      throw new UsageError(`verify-bundle: --certificate-identity-regexp: ${error.message}`);
    }
  }
  return { san, sanPattern, issuer };
}

function readPublicKey(path: string): KeyObject {
  const pem = readBoundedFile(path, MAX_TRUST_FILE_BYTES, 'KEY_UNREADABLE', 'public key');
  try {
    return createPublicKey(pem);
  } catch (error) {
    throw new SigstoreInputError('KEY_UNREADABLE', `${path}: not a PEM public key: ${(error as Error).message}`);
  }
}

/** The one bundle `--bundle` names: a file, or a JSON Lines file holding exactly one (`gh attestation download`). */
function oneBundleOf(path: string): string {
  if (!isJsonLines(path)) return path;
  const lines = jsonLinesAddresses(path);
  if (lines.length !== 1) {
    throw new UsageError(
      `verify-bundle: ${path} holds ${lines.length} bundles; verify-bundle checks one (twokey verify reads them all)`,
    );
  }
  return lines[0]!;
}
