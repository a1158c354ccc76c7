import { createPublicKey, type KeyObject } from 'node:crypto';
import {
  compileIdentityPattern,
  errorKindOf,
  GITHUB_ACTIONS_ISSUER,
  IdentityPatternError,
  terminalJSON,
  terminalText,
  type VerifiedBundle,
} from '@twokey/core';
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
import { type CliIO, EXIT, onRunner, UsageError } from '../io';
import { describeSigner } from '../show';

export const VERIFY_BUNDLE_USAGE = `Usage: twokey verify-bundle --bundle FILE
         (--certificate-identity ID | --certificate-identity-regexp RE) --certificate-oidc-issuer ISSUER
         | (--owner OWNER | --repo OWNER/REPO) (--signer-workflow WORKFLOW | --signer-repo OWNER/REPO)
           [--cert-oidc-issuer ISSUER]
         | --key PEM_FILE
         [--source-ref REF] [--source-digest SHA] [--deny-self-hosted-runners] [--predicate-type URI]
         [--trusted-root FILE|public-good|github] [--json | --format json|text] ARTIFACT_PATH|sha256:HEX|sha512:HEX

Verifies one Sigstore bundle (v0.1, v0.2, v0.3) for an artifact, offline, against the Sigstore public-good
trusted root embedded in twokey, or the one given with --trusted-root: a trusted_root.json, or the name of an
embedded one (public-good; github, GitHub's instance, which signs private repositories without a public log).

The signer, as cosign names it (--certificate-identity[-regexp], --certificate-oidc-issuer) or as
gh attestation verify does: --signer-workflow [HOST/]OWNER/REPO/PATH/TO/WORKFLOW.yml (that workflow file, at any
ref), --signer-repo OWNER/REPO (any workflow of that repository), --cert-oidc-issuer (default GitHub Actions'),
with --owner OWNER or --repo OWNER/REPO, whose run it must be (the certificate's source repository: a reusable
workflow's certificate names that workflow whichever repository called it; as gh, one of them is required);
--source-ref and --source-digest (the certificate's source repository ref and commit), --deny-self-hosted-runners
(a GitHub-hosted runner only), --predicate-type (an in-toto statement of that predicate type only).

--json (or --format json, as gh spells it) prints one JSON object on stdout: {"verified": true, the bundle, its
SHA-256, the artifact, the signer (SAN, issuer, certificate extensions; or the key file), the verified signing
times, and what was signed (the message digest, or the DSSE payload type and in-toto statement)}; a bundle that does
not verify prints {"verified": false, the bundle, "code", "reason"} (exit 1). Usage errors go to stderr only.

Exit status: 0 verified; 1 does not verify; 2 usage error or unreadable input; 3 internal error (a bug in twokey).
`;

/** The options of verify-bundle, as cosign and the Sigstore conformance protocol name them. */
const VERIFY_BUNDLE_OPTIONS = {
  bundle: { type: 'string' },
  'certificate-identity': { type: 'string' },
  'certificate-identity-regexp': { type: 'string' },
  'certificate-oidc-issuer': { type: 'string' },
  key: { type: 'string' },
  'trusted-root': { type: 'string' },
  // gh attestation verify's names for the same checks.
  'signer-workflow': { type: 'string' },
  'signer-repo': { type: 'string' },
  owner: { type: 'string' },
  repo: { type: 'string' },
  'cert-oidc-issuer': { type: 'string' },
  'source-ref': { type: 'string' },
  'source-digest': { type: 'string' },
  'deny-self-hosted-runners': { type: 'boolean' },
  'predicate-type': { type: 'string' },
  json: { type: 'boolean' },
  // gh attestation verify's spelling of --json.
  format: { type: 'string' },
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
      'verify-bundle: --certificate-identity (or --certificate-identity-regexp) with --certificate-oidc-issuer, --signer-workflow or --signer-repo, or --key, is required',
    );
  }

  if (values.format !== undefined && values.format !== 'json' && values.format !== 'text') {
    throw new UsageError(`verify-bundle: --format: expected json or text, found ${values.format}`);
  }
  if (values.json && values.format === 'text')
    throw new UsageError('verify-bundle: give --json or --format text, not both');
  const json = values.json === true || values.format === 'json';

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
    checkPredicateType(verified, values['predicate-type'], values.bundle);
  } catch (error) {
    const refusal = withTrustedRootHint(error, values['trusted-root']);
    // A refusal is an answer, on stdout as a success is; the error line still goes to stderr (exit 1). Anything else
    // (an unreadable input, a bug) is not a verdict and prints none.
    if (json && errorKindOf(refusal) === 'refusal') {
      const { code, message } = refusal as BundleVerificationError;
      io.stdout.write(`${terminalJSON({ verified: false, bundle: values.bundle, code, reason: message })}\n`);
    }
    throw refusal;
  }
  if (json) {
    io.stdout.write(`${terminalJSON(verifiedJSON(verified, values.bundle, artifact, values.key))}\n`);
    return EXIT.ok;
  }
  // The SAN is a workflow file's path, which may hold `##[` (a workflow command on a runner): commands off around it.
  io.stdout.write(
    onRunner(
      `Verified OK: ${terminalText(values.bundle!)}\n${describeSigner(verified, publicKey ? values.key : undefined)}`,
    ),
  );
  return EXIT.ok;
}

/** What `--json` prints for a bundle that verifies: what was checked and what was found, nothing else. */
function verifiedJSON(
  verified: VerifiedBundle,
  bundle: string,
  artifact: ArtifactInput,
  keyFile: string | undefined,
): Record<string, unknown> {
  return {
    verified: true,
    bundle,
    ...(verified.sha256 !== undefined && { bundleSha256: verified.sha256 }),
    artifact:
      'file' in artifact ? { path: artifact.file } : { digest: `${artifact.digest.algorithm}:${artifact.digest.hex}` },
    kind: verified.kind,
    signer: keyFile
      ? { key: keyFile }
      : { san: verified.signer.san, issuer: verified.signer.issuer, extensions: verified.signer.extensions },
    signedAt: verified.signedAt.map((time) => time.toISOString()),
    ...(verified.messageDigest && {
      messageDigest: `${verified.messageDigest.algorithm}:${verified.messageDigest.hex}`,
    }),
    ...(verified.payloadType !== undefined && { payloadType: verified.payloadType }),
    ...(verified.statement !== undefined && { statement: verified.statement }),
  };
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
  const given = (flags: readonly (keyof VerifyBundleValues)[]) => flags.some((flag) => values[flag] !== undefined);
  if (
    given(['certificate-identity', 'certificate-identity-regexp', 'certificate-oidc-issuer']) &&
    given(['signer-workflow', 'signer-repo', 'cert-oidc-issuer'])
  ) {
    throw new UsageError(
      "verify-bundle: give cosign's --certificate-identity[-regexp] and --certificate-oidc-issuer, or gh's --signer-workflow/--signer-repo and --cert-oidc-issuer, not both",
    );
  }
  const identity = cosignIdentity(values) ?? ghIdentity(values);
  const extensions = {
    ...sourceRepository(values),
    ...(values['source-ref'] !== undefined && { sourceRepositoryRef: nonEmpty('--source-ref', values['source-ref']) }),
    ...(values['source-digest'] !== undefined && {
      sourceRepositoryDigest: nonEmpty('--source-digest', values['source-digest']),
    }),
    ...(values['deny-self-hosted-runners'] && { runnerEnvironment: 'github-hosted' }),
  };
  if (Object.keys(extensions).length === 0) return identity;
  if (!identity) {
    throw new UsageError(
      'verify-bundle: --owner, --repo, --source-ref, --source-digest and --deny-self-hosted-runners need a signer',
    );
  }
  return { ...identity, extensions };
}

/**
 * gh's --owner and --repo: whose run signed, as the certificate's Source Repository Owner URI and Source Repository
 * URI name it (exactly, as GitHub spells it). A reusable workflow's SAN and Build Signer URI name that workflow
 * whichever repository called it, so --signer-workflow or --signer-repo alone would take any repository's run of a
 * public reusable workflow: gh requires one of them, and so does twokey.
 */
function sourceRepository(values: VerifyBundleValues): Record<string, string> {
  const owner = values.owner;
  const repository = values.repo;
  const gh = values['signer-workflow'] !== undefined || values['signer-repo'] !== undefined;
  if (gh && owner === undefined && repository === undefined) {
    throw new UsageError(
      'verify-bundle: --signer-workflow and --signer-repo need --owner OWNER or --repo OWNER/REPO, whose run it must be (a reusable workflow is the same whichever repository calls it)',
    );
  }
  const host = signerHost(values['signer-workflow']);
  const checked: Record<string, string> = {};
  if (owner !== undefined) {
    if (!/^[^/\s]+$/.test(nonEmpty('--owner', owner))) {
      throw new UsageError(`verify-bundle: --owner: expected OWNER, found ${owner}`);
    }
    checked.sourceRepositoryOwnerURI = `https://${host}/${owner}`;
  }
  if (repository !== undefined) {
    const parts = nonEmpty('--repo', repository).split('/');
    if (parts.length !== 2 || parts.some((p) => p === '' || /\s/.test(p))) {
      throw new UsageError(`verify-bundle: --repo: expected OWNER/REPO, found ${repository}`);
    }
    checked.sourceRepositoryURI = `https://${host}/${parts.join('/')}`;
  }
  return checked;
}

/** The host of --signer-workflow's `HOST/OWNER/REPO/…` (a first part with a dot), else github.com. */
function signerHost(workflow: string | undefined): string {
  const first = workflow?.split('/')[0];
  return first?.includes('.') ? first : 'github.com';
}

function nonEmpty(flag: string, value: string): string {
  if (value === '') throw new UsageError(`verify-bundle: ${flag}: empty; give the value to expect`);
  return value;
}

/**
 * gh attestation verify's signer flags: --signer-workflow names a workflow file (at any ref: the SAN is the file
 * `@` a ref), --signer-repo any workflow of a repository; --cert-oidc-issuer defaults to GitHub Actions'. Both are
 * anchored patterns built from the values quoted, so a value never acts as a regular expression.
 */
function ghIdentity(values: VerifyBundleValues): ExpectedIdentity | undefined {
  const workflow = values['signer-workflow'];
  const repository = values['signer-repo'];
  const issuer = values['cert-oidc-issuer'];
  if (workflow === undefined && repository === undefined) {
    if (issuer !== undefined)
      throw new UsageError('verify-bundle: --cert-oidc-issuer needs --signer-workflow or --signer-repo');
    return undefined;
  }
  if (workflow !== undefined && repository !== undefined) {
    throw new UsageError('verify-bundle: give --signer-workflow or --signer-repo, not both');
  }
  if (values['certificate-identity'] !== undefined || values['certificate-identity-regexp'] !== undefined) {
    throw new UsageError(
      'verify-bundle: give --certificate-identity[-regexp] or --signer-workflow/--signer-repo, not both',
    );
  }
  let sanPattern: string;
  if (workflow !== undefined) {
    const parts = nonEmpty('--signer-workflow', workflow).split('/');
    // [HOST/]OWNER/REPO/PATH…: a first part with a dot is a host (github.com, a GHES host).
    const [host, rest] = parts[0]!.includes('.') ? [parts[0]!, parts.slice(1)] : ['github.com', parts];
    if (rest.length < 3 || rest.some((p) => p === '' || p === '.' || p === '..')) {
      throw new UsageError(
        `verify-bundle: --signer-workflow: expected [HOST/]OWNER/REPO/PATH/TO/WORKFLOW, found ${workflow}`,
      );
    }
    // Then `@` and the ref the workflow ran at — a ref or a commit, never more of a file name: a workflow file
    // `build.yml@x.yml` (its SAN `…/build.yml@x.yml@refs/heads/…`) is another workflow, not build.yml.
    sanPattern = `${quote(`https://${host}/${rest.join('/')}`)}${SAN_REF}`;
  } else {
    const parts = nonEmpty('--signer-repo', repository!).split('/');
    if (parts.length !== 2 || parts.some((p) => p === '')) {
      throw new UsageError(`verify-bundle: --signer-repo: expected OWNER/REPO, found ${repository}`);
    }
    sanPattern = `${quote(`https://github.com/${parts.join('/')}/`)}[^@]+${SAN_REF}`;
  }
  return { sanPattern, issuer: issuer === undefined ? GITHUB_ACTIONS_ISSUER : nonEmpty('--cert-oidc-issuer', issuer) };
}

/** How a GitHub Actions SAN ends after its workflow's path: `@` and a ref (`refs/…`) or a full commit SHA. */
const SAN_REF = '@(?:refs/.+|[0-9a-f]{40})';

/** A literal as an RE2 pattern: every metacharacter escaped. */
function quote(literal: string): string {
  return literal.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

/** --predicate-type: the bundle is an in-toto statement of that type (gh attestation verify's check). */
function checkPredicateType(verified: VerifiedBundle, expected: string | undefined, source: string): void {
  if (expected === undefined) return;
  const found = (verified.statement as { predicateType?: unknown } | undefined)?.predicateType;
  if (found !== expected) {
    throw new BundleVerificationError(
      'PAYLOAD_INVALID',
      `${source}: expected an in-toto statement of predicate type ${expected}, found ${
        verified.kind === 'dsse' ? `predicate type ${JSON.stringify(found)}` : 'a message signature'
      }`,
    );
  }
}

function cosignIdentity(values: VerifyBundleValues): ExpectedIdentity | undefined {
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
