import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  fulcioHandler,
  type HandlerFn,
  initializeCA,
  initializeCTLog,
  initializeTSA,
  tsaHandler,
} from '@sigstore/mock';
import { HashAlgorithm, PublicKeyDetails, TrustedRoot } from '@sigstore/protobuf-specs';
import { decodeJwt, type JWTPayload } from 'jose';
import { closeServer, listenOnLoopback } from './loopback';
import { answerRekorRequest, RekorLog } from './rekor-log';

/**
 * A Fulcio, CT log, Rekor (v1) and timestamp authority on loopback, and the trusted root that matches their keys.
 * The Rekor is a real log: one Merkle tree grows with every entry, and each answer carries the entry's audit path
 * to a signed checkpoint of that tree (`rekor-log.ts`).
 */
export interface SigstoreStack {
  /** The server's base URL, `http://127.0.0.1:PORT`. */
  url: string;
  fulcioURL: string;
  rekorURL: string;
  /** The transparency log behind `rekorURL` (its tree, checkpoints and entries), for tests that look inside. */
  rekor: RekorLog;
  /** The full timestamp URL, as the public-good TSA is given (`…/api/v1/timestamp`). */
  tsaURL: string;
  /** `trusted_root.json` (media type `application/vnd.dev.sigstore.trustedroot+json;version=0.1`) as a JSON object. */
  trustedRoot: Record<string, unknown>;
  /** The same trusted root, written to a file in a temporary directory that `close()` removes. */
  trustedRootPath: string;
  /** Every identity token Fulcio was asked to certify, in order (for tests that check what was presented). */
  presentedTokens: string[];
  close(): Promise<void>;
}

export interface SigstoreStackOptions {
  /**
   * Checks an identity token's signature before Fulcio certifies it, as real Fulcio does against the issuer's
   * keys (e.g. `OidcIssuer.verify`). Without it the stack, like @sigstore/mock, trusts the token's claims.
   */
  verifyIdentityToken?: (token: string) => Promise<unknown>;
  /**
   * The log opens with an entry of its own unless this is true, so every signed entry sits at index 1 or later with a
   * non-empty audit path, as on every real log. With true the first signed entry is leaf 0 of a one-leaf tree.
   */
  logStartsEmpty?: boolean;
  /**
   * `github`: shaped like GitHub's Sigstore instance (private repositories): its trusted root names no transparency
   * log and no CT log, so a bundle is dated by the timestamp authority alone (sign without `rekorURL`).
   */
  instance?: 'public-good' | 'github';
}

const TRUSTED_ROOT_MEDIA_TYPE = 'application/vnd.dev.sigstore.trustedroot+json;version=0.1';
const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';
const FULCIO_PATH = '/api/v2/signingCert';
const TSA_PATH = '/api/v1/timestamp';
// The claim the rewritten token carries to the mock's fulcioHandler: the SAN real Fulcio derives.
const SAN_CLAIM = 'twokey_fulcio_san';
const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

export async function startSigstoreStack(options: SigstoreStackOptions = {}): Promise<SigstoreStack> {
  const started = new Date();
  // One whole-second clock, 2 s ahead of the roots' notBefore: the mock TSA writes fractional GeneralizedTime
  // that @sigstore/core rejects, and a truncated time could precede the freshly made roots (FIELD-NOTES).
  const clock = new Date(wholeSecondsAhead());

  const server = createServer();
  const url = await listenOnLoopback(server);

  const ctLogKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const caKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const tlogKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const tsaKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ctLog = await initializeCTLog(ctLogKeys, clock);
  // GitHub's instance has no CT log: its certificates carry no SCT.
  const ca = await initializeCA(caKeys, options.instance === 'github' ? undefined : ctLog, clock);
  const rekor = await RekorLog.create({ url, keys: tlogKeys, clock, startsEmpty: options.logStartsEmpty });
  const tsa = await initializeTSA(tsaKeys, clock);

  const fulcio = fulcioHandler(ca, { subjectClaim: SAN_CLAIM });
  const presentedTokens: string[] = [];
  const handlers: Record<string, HandlerFn> = {
    [FULCIO_PATH]: async (body) => {
      const request = await fulcioRequest(body, options.verifyIdentityToken);
      if ('error' in request) return { statusCode: 401, response: request.error };
      presentedTokens.push(request.token);
      return fulcio.fn(request.body);
    },
    [TSA_PATH]: tsaHandler(tsa).fn,
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const requestURL = new URL(req.url ?? '/', url);
    const method = req.method ?? 'GET';
    readBody(req)
      .then(async (body) => {
        // Every answer is stamped with the current whole second (+2 s), so evidence times advance as in life.
        clock.setTime(wholeSecondsAhead());
        const fromRekor = await answerRekorRequest(rekor, { method, url: requestURL, body });
        if (fromRekor) {
          res.writeHead(fromRekor.statusCode, fromRekor.headers).end(fromRekor.body);
          return;
        }
        const handler = handlers[requestURL.pathname];
        if (method !== 'POST' || !handler) {
          res
            .writeHead(404, { 'content-type': 'text/plain' })
            .end(`no such endpoint: ${method} ${requestURL.pathname}`);
          return;
        }
        const { statusCode, response, contentType } = await handler(body);
        res.writeHead(statusCode, { 'content-type': contentType ?? 'text/plain' });
        res.end(typeof response === 'string' ? response : Buffer.from(response.buffer));
      })
      .catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
      });
  });

  const validFor = { start: started };
  const root: TrustedRoot = {
    mediaType: TRUSTED_ROOT_MEDIA_TYPE,
    tlogs: [
      {
        baseUrl: url,
        hashAlgorithm: HashAlgorithm.SHA2_256,
        publicKey: { rawBytes: rekor.publicKey, keyDetails: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256, validFor },
        // @sigstore/verify matches a checkpoint to this log by its key hint and by its name (the URL's host) in baseUrl.
        logId: { keyId: rekor.logID },
        checkpointKeyId: undefined,
        operator: '',
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
        uri: url,
        certChain: { certificates: [{ rawBytes: Buffer.from(ca.rootCertificate.buffer) }] },
        validFor,
        operator: '',
      },
    ],
    ctlogs: [
      {
        baseUrl: url,
        hashAlgorithm: HashAlgorithm.SHA2_256,
        publicKey: { rawBytes: ctLog.publicKey, keyDetails: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256, validFor },
        logId: { keyId: Buffer.from(ctLog.logID.buffer) },
        checkpointKeyId: undefined,
        operator: '',
      },
    ],
    timestampAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'tsa' },
        uri: `${url}${TSA_PATH}`,
        certChain: {
          certificates: [
            { rawBytes: Buffer.from(tsa.intCertificate.buffer) },
            { rawBytes: Buffer.from(tsa.rootCertificate.buffer) },
          ],
        },
        validFor,
        operator: '',
      },
    ],
  };
  if (options.instance === 'github') {
    root.tlogs = [];
    root.ctlogs = [];
  }
  const trustedRoot = TrustedRoot.toJSON(root) as Record<string, unknown>;
  const directory = mkdtempSync(join(tmpdir(), 'twokey-sigstore-'));
  const trustedRootPath = join(directory, 'trusted_root.json');
  writeFileSync(trustedRootPath, `${JSON.stringify(trustedRoot, null, 2)}\n`);

  return {
    url,
    fulcioURL: url,
    rekorURL: url,
    rekor,
    tsaURL: `${url}${TSA_PATH}`,
    trustedRoot,
    trustedRootPath,
    presentedTokens,
    close: async () => {
      await closeServer(server);
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

function wholeSecondsAhead(): number {
  return Math.floor(Date.now() / 1000) * 1000 + 2000;
}

/**
 * What real Fulcio checks before it certifies a token — audience `sigstore`, not expired, signed by the issuer
 * (when a verifier is given) — and the SAN it derives: `https://github.com/{job_workflow_ref}` for GitHub Actions.
 */
async function fulcioRequest(
  body: string,
  verifyIdentityToken: SigstoreStackOptions['verifyIdentityToken'],
): Promise<{ body: string; token: string } | { error: string }> {
  let request: { credentials?: { oidcIdentityToken?: string } };
  let claims: JWTPayload;
  try {
    request = JSON.parse(body);
    claims = decodeJwt(request.credentials?.oidcIdentityToken ?? '');
  } catch (error) {
    return { error: `invalid identity token: ${(error as Error).message}` };
  }
  const token = request.credentials!.oidcIdentityToken!;
  if (verifyIdentityToken) {
    try {
      await verifyIdentityToken(token);
    } catch (error) {
      return { error: `identity token does not verify: ${(error as Error).message}` };
    }
  }
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.includes('sigstore')) return { error: `identity token audience is ${claims.aud}, not sigstore` };
  if (typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now()) return { error: 'identity token expired' };
  let san: unknown = claims.sub;
  if (claims.iss === GITHUB_ACTIONS_ISSUER) {
    if (typeof claims.job_workflow_ref !== 'string') return { error: 'GitHub token without job_workflow_ref' };
    san = `https://github.com/${claims.job_workflow_ref}`;
  }
  // The mock does not check the token's signature, so the derived SAN travels as one more claim.
  const [header, , signature] = token.split('.');
  const payload = Buffer.from(JSON.stringify({ ...claims, [SAN_CLAIM]: san })).toString('base64url');
  const rewritten = {
    ...request,
    credentials: { ...request.credentials, oidcIdentityToken: `${header}.${payload}.${signature}` },
  };
  return { body: JSON.stringify(rewritten), token };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > MAX_REQUEST_BYTES) throw new Error('request too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
