// The sign stage writes one file per artifact signature. Artifacts "a" (D1) and "a" (D2) get the digest in their
// names; a third artifact named "a-<D1 hex12>" (D3) — names the caller chooses, in a checksums file — must not share
// D1's file, or one signature overwrites the other and the signatures artifact lacks D1's.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { provenanceStatement, workflowProvenance, workflowRunClaims } from '@twokey/core';
import { DEFAULT_POLICY_PATH, evidenceDirectory, signStep } from '@twokey/github';
import { signStatement } from '@twokey/sigstore';
import {
  aCommit,
  aGitHubState,
  aPullRequest,
  aRepository,
  aReview,
  aUser,
  identity,
  mergePullRequest,
  type OidcIssuer,
  type SigstoreStack,
  startGitHubFake,
  startOidcIssuer,
  startSigstoreStack,
} from '@twokey/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';

const ISSUER = 'https://token.actions.githubusercontent.com';
const BUILD_SAN = 'https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main';
const SIGN_WORKFLOW = 'acme/platform/.github/workflows/twokey-sign.yml@refs/heads/main';
const POLICY = `version: 1
identities:
  build:
    issuer: ${ISSUER}
    san: ${BUILD_SAN}
  sign:
    issuer: ${ISSUER}
    san: https://github.com/${SIGN_WORKFLOW}
`;

let stack: SigstoreStack;
let issuer: OidcIssuer;
let workspace: string;

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  workspace = mkdtempSync(join(tmpdir(), 'twokey-sign-names-'));
  mkdirSync(join(workspace, '.twokey'));
  writeFileSync(join(workspace, '.twokey', 'policy.yml'), POLICY);
});
afterAll(async () => {
  await stack?.close();
  await issuer?.close();
});

const endpoints = () => ({ fulcioURL: stack.fulcioURL, rekorURL: stack.rekorURL, tsaURL: stack.tsaURL });
const hex = (s: string) => createHash('sha256').update(s).digest('hex');

it('writes each artifact’s signature to a file of its own, whatever names the artifacts are given', async () => {
  const alice = aUser('alice');
  const bob = aUser('bob');
  const repository = aRepository('acme/app', { collaborators: { alice: 'write', bob: 'write' } });
  const head = aCommit({ author: alice, message: 'change' });
  const pr = aPullRequest({ author: alice, commits: [head], title: 'x' });
  pr.reviews.push(aReview({ by: bob, on: head.sha }));
  const merged = mergePullRequest(repository, pr, { method: 'squash', by: bob });

  const d1 = hex('one');
  const d2 = hex('two');
  const d3 = hex('three');
  const d4 = hex('four');
  const d5 = hex('five');
  const subjects = [
    { name: 'a', digest: { sha256: d1 } },
    { name: 'a', digest: { sha256: d2 } },
    { name: `a-${d1.slice(0, 12)}`, digest: { sha256: d3 } },
    // Legal file names of 244 bytes, alike in their first 240: each signature's file name must still be writable (a
    // file system's limit is 255 bytes), and one of its own.
    { name: `${'x'.repeat(240)}.tgz`, digest: { sha256: d4 } },
    { name: `${'x'.repeat(240)}.zip`, digest: { sha256: d5 } },
  ];
  // Genuine provenance of the reviewed commit, covering all three.
  const build = identity('acme/app', '.github/workflows/build.yml', 'refs/heads/main', merged);
  const statement = provenanceStatement(subjects, workflowProvenance(workflowRunClaims({ ...build })));
  const bundle = await signStatement(statement, {
    endpoints: endpoints(),
    identityToken: () => issuer.mint(build, { audience: 'sigstore' }),
  });
  mkdirSync(join(workspace, 'prov'));
  writeFileSync(join(workspace, 'prov', 'p.json'), JSON.stringify(bundle));
  writeFileSync(join(workspace, 'sums.txt'), subjects.map((s) => `${s.digest.sha256}  ${s.name}`).join('\n'));

  const fake = await startGitHubFake(aGitHubState(repository));
  const runnerTemp = mkdtempSync(join(tmpdir(), 'twokey-sign-names-runner-'));
  const signJob = identity('acme/app', '.github/workflows/release.yml', 'refs/heads/main', merged, {
    job_workflow_ref: SIGN_WORKFLOW,
  });
  try {
    const outcome = await signStep({
      subjectPath: '',
      subjectDigest: '',
      subjectName: '',
      subjectChecksums: 'sums.txt',
      provenance: 'prov/*.json',
      policy: DEFAULT_POLICY_PATH,
      trustedRoot: stack.trustedRootPath,
      endpoints: endpoints(),
      githubToken: 'ghs_token',
      githubApiUrl: fake.url,
      workspace,
      outputDirectory: runnerTemp,
      serverUrl: 'https://github.com',
      identityToken: () => issuer.mint(signJob, { audience: 'sigstore' }),
    });
    expect(outcome.failure, outcome.summary).toBeUndefined();
    const directory = evidenceDirectory(runnerTemp);
    // Five signatures and the review attestation: six files, each signature in a file of its own.
    expect(readdirSync(directory).length).toBe(6);
    for (const file of readdirSync(directory)) expect(Buffer.byteLength(file)).toBeLessThan(255);
    const paths = outcome.outputs['bundle-paths']!.split('\n');
    expect(new Set(paths).size).toBe(paths.length);
    const signed = paths
      .filter((p) => p.endsWith('.sig.sigstore.json'))
      .map((p) => {
        const bundle = JSON.parse(readFileSync(p, 'utf8'));
        return Buffer.from(bundle.messageSignature.messageDigest.digest, 'base64').toString('hex');
      });
    expect(signed.sort()).toEqual([d1, d2, d3, d4, d5].sort());
  } finally {
    await fake.close();
  }
});
