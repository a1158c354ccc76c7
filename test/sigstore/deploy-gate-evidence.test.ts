// The gate judges each artifact on the bundles about it (and those about no judged artifact), so a release of N
// artifacts is evaluated in O(N): the verdicts must be those of judging every artifact on every bundle.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bindRepositories } from '@twokey/core';
import {
  artifactsFromArguments,
  type DeployGateRequest,
  deployContext,
  evaluateArtifact,
  evaluateDeploy,
  judgeDeploy,
  readEvidence,
  relativePath,
} from '@twokey/gate';
import { loadTrustedRoot, readPolicyFile } from '@twokey/sigstore';
import { describe, expect, it } from 'vitest';
import { makeCorpus } from '../../bench/corpus';

/** The corpus is acme/app's, judged as `twokey verify --repo acme/app` judges it. */
const repository = { repository: 'acme/app', name: '--repo', role: 'narrow' } as const;

describe('judgeDeploy over a release', () => {
  it('gives every artifact the verdict and checks of an evaluation on all bundles', async () => {
    const corpus = await makeCorpus(join(mkdtempSync(join(tmpdir(), 'twokey-release-')), 'corpus'), 4);
    const request: DeployGateRequest = {
      policy: corpus.policy,
      repository,
      trustedRoot: corpus.trustedRoot,
      artifacts: { arguments: corpus.artifacts.map((a) => a.path) },
      bundles: [corpus.bundlesDir],
      cwd: process.cwd(),
    };
    const { report, verified, policy } = await judgeDeploy(request);
    const artifacts = artifactsFromArguments(corpus.artifacts.map((a) => a.path));
    const context = deployContext({
      policy,
      binding: bindRepositories(policy, repository),
      now: new Date(report.evaluatedAt),
      artifacts,
      bundles: verified,
    });
    const everyBundle = artifacts.map((artifact) => evaluateArtifact(artifact, verified, context));
    const verdicts = (artifactReports: typeof report.artifacts) =>
      artifactReports.map((a) => ({ verdict: a.verdict, checks: a.checks.map((c) => `${c.id}:${c.verdict}`) }));
    expect(verdicts(report.artifacts)).toEqual(verdicts(everyBundle));
    // The last artifact's signature was forged: it alone is refused, for its signature.
    expect(report.artifacts.map((a) => a.verdict)).toEqual(['pass', 'pass', 'pass', 'fail']);
    expect(report.artifacts[3]!.checks.find((c) => c.verdict === 'fail')?.id).toBe('artifact-signature');
  }, 60_000);

  it('judges an artifact whose bytes were not kept by its digest: the file is hashed once, never read again', async () => {
    const corpus = await makeCorpus(join(mkdtempSync(join(tmpdir(), 'twokey-release-')), 'corpus'), 4);
    // As the gate reads it: named relative to the working directory, as reports name files.
    const policy = readPolicyFile(relativePath(process.cwd(), corpus.policy));
    const trust = loadTrustedRoot(corpus.trustedRoot);
    // No bytes kept (a budget of 0, as for a large file): each artifact is only its digest from here on.
    const artifacts = artifactsFromArguments(
      corpus.artifacts.map((a) => a.path),
      process.cwd(),
      0,
    );
    expect(artifacts.every((a) => a.content === undefined)).toBe(true);
    for (const a of corpus.artifacts) rmSync(a.path);
    const { verified, rejected } = await readEvidence([corpus.bundlesDir], artifacts, trust, process.cwd());
    const binding = bindRepositories(policy, repository);
    const report = evaluateDeploy({ policy, binding, now: new Date(), artifacts, bundles: verified, rejected });
    // The same verdicts as over the files: the forged signature is still refused.
    expect(report.artifacts.map((a) => a.verdict)).toEqual(['pass', 'pass', 'pass', 'fail']);
    expect(report.artifacts[3]!.checks.find((c) => c.verdict === 'fail')?.id).toBe('artifact-signature');
  }, 60_000);
});
