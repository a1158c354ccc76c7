// Runs one case of an external verification suite (the `cases.json` format of ../shared/conformance): through the
// built CLI when the case is a plain conformance-protocol invocation, else through the library's BundleVerifier
// with the case's thresholds, identity policy and extension policy.
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  type ArtifactInput,
  BundleVerificationError,
  BundleVerifier,
  type ExpectedIdentity,
  loadTrustedRoot,
  parseDigestReference,
  publicGoodTrustedRoot,
  readBundleFile,
  SigstoreInputError,
} from '@twokey/sigstore';
import { afterAll, describe, expect, it } from 'vitest';
import { conformanceRoot } from './paths';
import { runCli } from './run-cli';

export interface SuiteCase {
  id: string;
  bundle: string;
  artifact?: string | null;
  artifact_digest?: string | null;
  trusted_root?: string | null;
  key?: string | null;
  certificate_identity?: string | null;
  certificate_oidc_issuer?: string | null;
  /** Fulcio extension values the upstream test checked (gh `--owner`/`--repo`, sigstore-python policies). */
  policy?: Record<string, string> | null;
  verifier_options?: { ctlogThreshold?: number; tlogThreshold?: number } | null;
  /** ../shared/github-instance: the thresholds its verifier used (GitHub's instance: no log, no SCT, a timestamp). */
  verifier_thresholds?: { tlog_threshold: number; ctlog_threshold: number; timestamp_threshold: number } | null;
  /** sigstore-python: how many verified times (SET, RFC 3161) must agree. */
  verified_time_threshold?: number | null;
  expected: string;
  description: string;
}

export interface CaseOutcome {
  via: 'cli' | 'library';
  verdict: 'pass' | 'fail';
  /** The error code of a refusal (`error CODE:` on stderr, USAGE for a usage error). */
  code?: string;
  detail: string;
}

/** What twokey does with a case whose `expected` is a policy choice rather than plain `pass` / `fail`. */
export interface PolicyDecision {
  verdict: 'pass' | 'fail';
  /** The error code a refusal must carry. */
  code?: string;
  why: string;
}

/** Fulcio extension names (as packages/sigstore names them) of the policy keys the suites use. */
const POLICY_EXTENSIONS: Record<string, string> = {
  source_repository_uri: 'sourceRepositoryURI',
  source_repository_owner_uri: 'sourceRepositoryOwnerURI',
  source_repository_ref: 'sourceRepositoryRef',
  runner_environment: 'runnerEnvironment',
  build_trigger: 'buildTrigger',
  source_repository_visibility: 'sourceRepositoryVisibilityAtSigning',
};

export function loadSuite(name: string, root = conformanceRoot): { dir: string; cases: SuiteCase[] } {
  const dir = join(root, name);
  const { cases } = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')) as { cases: SuiteCase[] };
  return { dir, cases };
}

/** The verdict a case must get: its plain `expected`, or the documented decision for a policy case. */
export function wantedVerdict(
  c: SuiteCase,
  decisions: Record<string, PolicyDecision>,
): { verdict: 'pass' | 'fail'; code?: string } {
  if (c.expected === 'pass' || c.expected === 'fail') return { verdict: c.expected };
  const decision = decisions[c.id];
  if (!decision) throw new Error(`${c.id}: expected "${c.expected}" is a policy case with no documented decision`);
  return decision;
}

/** A plain conformance-protocol invocation: an artifact, and either a key or an identity with its issuer. */
export function runsThroughCli(c: SuiteCase): boolean {
  const artifact = Boolean(c.artifact || c.artifact_digest);
  const identity = c.key ? !c.certificate_identity : Boolean(c.certificate_oidc_issuer);
  return (
    artifact && identity && !c.policy && !c.verifier_options && !c.verified_time_threshold && !c.verifier_thresholds
  );
}

export async function runCase(dir: string, c: SuiteCase): Promise<CaseOutcome> {
  return runsThroughCli(c) ? runThroughCli(dir, c) : runThroughLibrary(dir, c);
}

async function runThroughCli(dir: string, c: SuiteCase): Promise<CaseOutcome> {
  const argv = ['verify-bundle', '--bundle', c.bundle];
  if (c.key) argv.push('--key', c.key);
  // No SAN in the upstream test: it checked the issuer only, so any SAN is accepted (anchored `.*`).
  else if (c.certificate_identity) argv.push('--certificate-identity', c.certificate_identity);
  else argv.push('--certificate-identity-regexp', '.*');
  if (c.certificate_oidc_issuer && !c.key) argv.push('--certificate-oidc-issuer', c.certificate_oidc_issuer);
  if (c.trusted_root) argv.push('--trusted-root', c.trusted_root);
  argv.push((c.artifact ?? c.artifact_digest)!);
  const result = await runCli(argv, dir);
  if (result.status === null || /\n\s+at /.test(result.stderr)) {
    throw new Error(`${c.id}: the CLI crashed\n${result.stderr}`);
  }
  const detail = `${result.stdout}${result.stderr}`.trim();
  if (result.status === 0) return { via: 'cli', verdict: 'pass', detail };
  const code = /^error ([A-Z_]+):/.exec(result.stderr)?.[1] ?? (result.stderr.startsWith('twokey:') ? 'USAGE' : '');
  return { via: 'cli', verdict: 'fail', code, detail };
}

function runThroughLibrary(dir: string, c: SuiteCase): CaseOutcome {
  const at = (path: string) => resolve(dir, path);
  try {
    const trust = c.trusted_root ? loadTrustedRoot(at(c.trusted_root)) : publicGoodTrustedRoot();
    const publicKey = c.key ? createPublicKey(readFileSync(at(c.key))) : undefined;
    const verifier = new BundleVerifier(trust, {
      publicKey,
      ctlogThreshold: c.verifier_options?.ctlogThreshold ?? c.verifier_thresholds?.ctlog_threshold,
      tlogThreshold: c.verifier_options?.tlogThreshold ?? c.verifier_thresholds?.tlog_threshold,
      timestampThreshold: c.verified_time_threshold ?? c.verifier_thresholds?.timestamp_threshold ?? undefined,
    });
    const bundle = readBundleFile(at(c.bundle));
    const artifact: ArtifactInput | undefined = c.artifact
      ? { file: at(c.artifact) }
      : c.artifact_digest
        ? { digest: parseDigestReference(c.artifact_digest) }
        : undefined;
    const identity = expectedIdentity(c);
    // Upstream verified these with no identity policy (sigstore-python's no-op policy, sigstore-js without one).
    const anyIdentity = !identity && !publicKey;
    const verified = verifier.verify(bundle, { artifact, identity, anyIdentity });
    return { via: 'library', verdict: 'pass', detail: `signed by ${verified.signer.san || 'the key'}` };
  } catch (error) {
    if (error instanceof SigstoreInputError || error instanceof BundleVerificationError) {
      return { via: 'library', verdict: 'fail', code: error.code, detail: error.message };
    }
    throw error;
  }
}

function expectedIdentity(c: SuiteCase): ExpectedIdentity | undefined {
  if (!c.certificate_identity && !c.certificate_oidc_issuer && !c.policy) return undefined;
  const extensions: Record<string, string> = {};
  for (const [key, value] of Object.entries(c.policy ?? {})) {
    const name = POLICY_EXTENSIONS[key];
    if (!name) throw new Error(`${c.id}: policy key ${key} has no Fulcio extension mapping`);
    extensions[name] = value;
  }
  return {
    // A key-signed bundle has no issuer: the identity check fails on the missing certificate before it.
    issuer: c.certificate_oidc_issuer ?? '',
    ...(c.certificate_identity ? { san: c.certificate_identity } : { sanPattern: '.*' }),
    extensions,
  };
}

/**
 * Declares the tests of one suite: every case gets its wanted verdict, every refusal the error code listed for it
 * in `refusals` (the right reason, not just a non-zero exit), and a closing line `<suite>: N passed, N failed`.
 */
export function describeSuite(
  name: string,
  options: {
    cases: number;
    refusals: Record<string, string>;
    decisions?: Record<string, PolicyDecision>;
    /** Where the suite's folder is: ../shared/conformance, unless said. */
    root?: string;
  },
) {
  const { dir, cases } = loadSuite(name, options.root);
  const decisions = options.decisions ?? {};
  let passed = 0;
  let failed = 0;

  describe.concurrent(name, () => {
    it(`has the ${options.cases} cases of the suite, a decision for each policy case and a code for each refusal`, () => {
      expect(cases).toHaveLength(options.cases);
      const policyCases = cases.filter((c) => c.expected !== 'pass' && c.expected !== 'fail').map((c) => c.id);
      expect(Object.keys(decisions).sort()).toEqual(policyCases.sort());
      const refused = cases.filter((c) => c.expected === 'fail').map((c) => c.id);
      expect(Object.keys(options.refusals).sort()).toEqual(refused.sort());
    });

    it.each(cases.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
      const wanted = wantedVerdict(c, decisions);
      const code = wanted.verdict === 'fail' ? (decisions[c.id]?.code ?? options.refusals[c.id]) : undefined;
      const outcome = await runCase(dir, c);
      if (outcome.verdict === wanted.verdict && outcome.code === code) passed++;
      else failed++;
      const why = decisions[c.id] ? `\ndecision: ${decisions[c.id]!.why}` : '';
      const context = `${c.description}${why}\n(${outcome.via}) ${outcome.detail}`;
      expect(outcome.verdict, context).toBe(wanted.verdict);
      expect(outcome.code, context).toBe(code);
    });
  });

  afterAll(() => {
    process.stdout.write(`${name}: ${passed} passed, ${failed} failed\n`);
  });
}
