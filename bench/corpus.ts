// The benchmark's release: N artifacts, each with the three bundles the deploy gate demands (build provenance by the
// build identity; artifact signature and review attestation by the sign identity), signed on the loopback Sigstore
// stack as the pipeline signs them, plus the stack's trusted root and a policy naming the two identities. A few
// artifacts carry a forged signature, so that verdicts can be compared, not only counted.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildReviewStatement,
  DEFAULT_REVIEW_RULES,
  evaluateReview,
  type GitHubAccount,
  type GitPerson,
  provenanceStatement,
  type ReviewEvidence,
  type ReviewRules,
  workflowProvenance,
  workflowRunClaims,
} from '@twokey/core';
import { type KeylessSigningOptions, type SerializedBundle, signArtifact, signStatement } from '@twokey/sigstore';
import { identity, startOidcIssuer, startSigstoreStack, type WorkflowIdentity } from '@twokey/testkit';

/** Bump when what the corpus holds changes: a cached corpus of another version is made again. */
export const CORPUS_VERSION = 'corpus-v3';
/** Evidence older than this is remade: the policy's default max-age is 30 days. */
const MAX_CORPUS_AGE_DAYS = 20;
/** One artifact in this many gets a forged signature (and must be refused by both verifiers). */
const FORGED_EVERY = 100;
const ARTIFACT_BYTES = 4096;

const REPOSITORY = 'acme/app';
const COMMIT = '5b1c3d2e4f60718293a4b5c6d7e8f90a1b2c3d4e';
const ISSUER = 'https://token.actions.githubusercontent.com';
const BUILD_WORKFLOW_REF = `${REPOSITORY}/.github/workflows/build.yml@refs/heads/main`;
const SIGN_WORKFLOW_REF = 'acme/platform/.github/workflows/twokey-sign.yml@refs/heads/main';

export interface CorpusArtifact {
  name: string;
  path: string;
  sha256: string;
  provenance: string;
  signature: string;
  review: string;
  /** This artifact's signature was forged after signing: every verifier must refuse it. */
  forged: boolean;
}

export interface Corpus {
  version: string;
  createdAt: string;
  dir: string;
  trustedRoot: string;
  policy: string;
  bundlesDir: string;
  identities: { build: string; sign: string; issuer: string };
  artifacts: CorpusArtifact[];
}

/** The cached corpus of `count` artifacts under `cacheDir`, made (once) when missing, stale or of another version. */
export async function corpusOf(cacheDir: string, count: number, log: (line: string) => void): Promise<Corpus> {
  const dir = join(cacheDir, `${CORPUS_VERSION}-${count}`);
  const manifest = join(dir, 'corpus.json');
  if (existsSync(manifest)) {
    const corpus = JSON.parse(readFileSync(manifest, 'utf8')) as Corpus;
    const ageDays = (Date.now() - Date.parse(corpus.createdAt)) / 86_400_000;
    if (corpus.version === CORPUS_VERSION && corpus.dir === dir && ageDays < MAX_CORPUS_AGE_DAYS) return corpus;
    log(`corpus in ${dir} is ${ageDays.toFixed(0)} days old or of another version: making it again`);
  }
  const building = `${dir}.partial-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  const started = performance.now();
  log(`signing a corpus of ${count} artifacts (${3 * count} bundles) on the loopback Sigstore stack...`);
  const corpus = await makeCorpus(building, count, dir);
  rmSync(dir, { recursive: true, force: true });
  renameSync(building, dir);
  log(`corpus ready in ${((performance.now() - started) / 1000).toFixed(1)} s: ${dir}`);
  return corpus;
}

/** Signs a fresh corpus into `dir`; paths in the manifest name `finalDir`, where it will live. */
export async function makeCorpus(
  dir: string,
  count: number,
  finalDir = dir,
  options: {
    /** The workflow that signs artifacts and review attestations (tests: an attacker's own workflow). */
    signWorkflowRef?: string;
    /** `github`: signed as on GitHub's instance (private repositories): no transparency log, a timestamp. */
    instance?: 'public-good' | 'github';
  } = {},
): Promise<Corpus> {
  const signWorkflowRef = options.signWorkflowRef ?? SIGN_WORKFLOW_REF;
  const artifactsDir = join(dir, 'artifacts');
  const bundlesDir = join(dir, 'bundles');
  mkdirSync(artifactsDir, { recursive: true });
  mkdirSync(bundlesDir, { recursive: true });

  const issuer = await startOidcIssuer();
  const stack = await startSigstoreStack({
    verifyIdentityToken: (token) => issuer.verify(token),
    ...(options.instance && { instance: options.instance }),
  });
  try {
    const build = identity(REPOSITORY, '.github/workflows/build.yml', 'refs/heads/main', COMMIT);
    const sign = identity(REPOSITORY, '.github/workflows/release.yml', 'refs/heads/main', COMMIT, {
      job_workflow_ref: signWorkflowRef,
      job_workflow_sha: COMMIT,
    });
    const endpoints =
      options.instance === 'github'
        ? { fulcioURL: stack.fulcioURL, tsaURL: stack.tsaURL }
        : { fulcioURL: stack.fulcioURL, rekorURL: stack.rekorURL, tsaURL: stack.tsaURL };
    const signingAs = (who: WorkflowIdentity): KeylessSigningOptions => ({
      endpoints,
      identityToken: () => issuer.mint(who, { audience: 'sigstore' }),
    });
    const provenance = workflowProvenance(workflowRunClaims({ ...build }));
    const evidence = reviewEvidence();
    const rules: ReviewRules = { ...DEFAULT_REVIEW_RULES };
    const review = evaluateReview(evidence, rules);

    const jobs = Array.from({ length: count }, (_, i) => async (): Promise<CorpusArtifact> => {
      const name = `app-${String(i).padStart(4, '0')}.tar.gz`;
      const bytes = randomBytes(ARTIFACT_BYTES);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      writeFileSync(join(artifactsDir, name), bytes);
      const subjects = [{ name, digest: { sha256 } }];
      const [provenanceBundle, signatureBundle, reviewBundle] = await Promise.all([
        signStatement(provenanceStatement(subjects, provenance), signingAs(build)),
        signArtifact({ digest: { algorithm: 'sha256', hex: sha256 } }, signingAs(sign)),
        signStatement(buildReviewStatement({ subjects, evidence, rules, result: review }), signingAs(sign)),
      ]);
      const forged = (i + 1) % FORGED_EVERY === 0 || (count < FORGED_EVERY && i === count - 1);
      if (forged) forgeDigest(signatureBundle);
      const stem = name.replace(/\.tar\.gz$/, '');
      const files = {
        provenance: `${stem}.provenance.sigstore.json`,
        signature: `${stem}.sigstore.json`,
        review: `${stem}.review.sigstore.json`,
      };
      writeFileSync(join(bundlesDir, files.provenance), JSON.stringify(provenanceBundle));
      writeFileSync(join(bundlesDir, files.signature), JSON.stringify(signatureBundle));
      writeFileSync(join(bundlesDir, files.review), JSON.stringify(reviewBundle));
      const bundle = (file: string) => join(finalDir, 'bundles', file);
      return {
        name,
        path: join(finalDir, 'artifacts', name),
        sha256,
        provenance: bundle(files.provenance),
        signature: bundle(files.signature),
        review: bundle(files.review),
        forged,
      };
    });
    const artifacts = await withConcurrency(jobs, 8);

    writeFileSync(join(dir, 'trusted_root.json'), `${JSON.stringify(stack.trustedRoot, null, 2)}\n`);
    const buildSan = `https://github.com/${BUILD_WORKFLOW_REF}`;
    const signSan = `https://github.com/${signWorkflowRef}`;
    writeFileSync(
      join(dir, 'policy.yml'),
      [
        '# The benchmark corpus policy: the loopback stack trusted root, the build and sign identities that signed it.',
        'version: 1',
        'identities:',
        '  build:',
        `    issuer: ${ISSUER}`,
        `    san: ${buildSan}`,
        '  sign:',
        `    issuer: ${ISSUER}`,
        `    san: ${signSan}`,
        'deploy:',
        `  trusted-root: ${join(finalDir, 'trusted_root.json')}`,
        '',
      ].join('\n'),
    );
    const corpus: Corpus = {
      version: CORPUS_VERSION,
      createdAt: new Date().toISOString(),
      dir: finalDir,
      trustedRoot: join(finalDir, 'trusted_root.json'),
      policy: join(finalDir, 'policy.yml'),
      bundlesDir: join(finalDir, 'bundles'),
      identities: { build: buildSan, sign: signSan, issuer: ISSUER },
      artifacts,
    };
    writeFileSync(join(dir, 'corpus.json'), `${JSON.stringify(corpus, null, 2)}\n`);
    return corpus;
  } finally {
    await stack.close();
    await issuer.close();
  }
}

/** An attacker's edit: the signature is kept, the digest it covers is changed to another artifact's. */
function forgeDigest(bundle: SerializedBundle): void {
  const signature = bundle.messageSignature;
  if (!signature?.messageDigest) throw new Error('expected a message signature bundle to forge');
  signature.messageDigest.digest = createHash('sha256').update('another artifact').digest('base64');
}

/** An honestly reviewed pull request: alice wrote it, bob (write access) approved the head that was merged. */
function reviewEvidence(): ReviewEvidence {
  const alice: GitHubAccount = { login: 'alice', id: 101, type: 'User' };
  const bob: GitHubAccount = { login: 'bob', id: 202, type: 'User' };
  const alicePerson: GitPerson = { name: 'Alice', email: 'alice@acme.example', account: alice };
  const head = 'b'.repeat(40);
  const now = Date.now();
  const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();
  return {
    repository: REPOSITORY,
    commit: COMMIT,
    builtRef: 'refs/heads/main',
    defaultBranch: 'main',
    gaps: [],
    pullRequest: {
      number: 42,
      url: `https://github.com/${REPOSITORY}/pull/42`,
      title: 'Add the widget endpoint',
      author: alice,
      headSha: head,
      headRef: 'widget',
      headRepository: REPOSITORY,
      createdAt: at(70),
      mergeCommitSha: COMMIT,
      mergedAt: at(10),
      mergedBy: bob,
      mergeMethod: 'squash',
      baseRef: 'main',
      baseChanges: [],
    },
    commits: [{ sha: head, author: alicePerson, committer: alicePerson, coAuthors: [], committedAt: at(60) }],
    reviews: [{ id: 1001, reviewer: bob, state: 'APPROVED', commitId: head, submittedAt: at(20) }],
    profiles: [{ account: bob, name: 'Bob Builder', email: 'bob@acme.example' }],
    lastPush: { accounts: [alice], people: [], source: 'activity' },
    activity: {
      available: true,
      headPushes: [
        {
          id: 1,
          ref: 'refs/heads/widget',
          before: '0'.repeat(40),
          after: head,
          timestamp: at(60),
          activityType: 'push',
          actor: alice,
        },
      ],
      builtCommitArrivals: [
        {
          id: 2,
          ref: 'refs/heads/main',
          before: '0'.repeat(40),
          after: COMMIT,
          timestamp: at(10),
          activityType: 'pr_merge',
          actor: bob,
        },
      ],
    },
    permissions: { alice: 'write', bob: 'write' },
  };
}

async function withConcurrency<T>(jobs: (() => Promise<T>)[], lanes: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(lanes, jobs.length) }, async () => {
      while (next < jobs.length) {
        const i = next++;
        results[i] = await jobs[i]!();
      }
    }),
  );
  return results;
}
