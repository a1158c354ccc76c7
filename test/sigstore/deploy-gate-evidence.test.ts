// judgeDeploy judges each artifact on the bundles about it (and those about no judged artifact), so a release of N
// artifacts is evaluated in O(N): the verdicts must be those of judging every artifact on every bundle.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluateDeploy, type RepositoryBinding, type VerifiedBundle } from '@twokey/core';
import {
  artifactFromArgument,
  artifactsFromArguments,
  judgeDeploy,
  loadTrustedRoot,
  readPolicyFile,
} from '@twokey/sigstore';
import { describe, expect, it } from 'vitest';
import { makeCorpus } from '../../bench/corpus';

/** The corpus is acme/app's, judged as `twokey verify --repo acme/app` judges it. */
const binding: RepositoryBinding = { repositories: ['acme/app'], from: '--repo' };

describe('judgeDeploy over a release', () => {
  it('gives every artifact the verdict and checks of an evaluation on all bundles', async () => {
    const corpus = await makeCorpus(join(mkdtempSync(join(tmpdir(), 'twokey-release-')), 'corpus'), 4);
    const policy = readPolicyFile(corpus.policy);
    const trust = loadTrustedRoot(corpus.trustedRoot);
    const artifacts = corpus.artifacts.map((a) => artifactFromArgument(a.path));
    const now = new Date();
    const { report, verified } = await judgeDeploy({
      policy,
      binding,
      trust,
      artifacts,
      bundles: [corpus.bundlesDir],
      now,
    });
    const everyBundle = evaluateDeploy(
      artifacts.map((artifact) => ({ artifact, bundles: verified as VerifiedBundle[], policy, binding, now })),
    );
    const verdicts = (r: typeof report) =>
      r.artifacts.map((a) => ({ verdict: a.verdict, checks: a.checks.map((c) => `${c.id}:${c.verdict}`) }));
    expect(verdicts(report)).toEqual(verdicts(everyBundle));
    // The last artifact's signature was forged: it alone is refused, for its signature.
    expect(report.artifacts.map((a) => a.verdict)).toEqual(['pass', 'pass', 'pass', 'fail']);
    expect(report.artifacts[3]!.checks.find((c) => c.verdict === 'fail')?.id).toBe('artifact-signature');
  }, 60_000);

  it('judges an artifact whose bytes were not kept by its digest: the file is hashed once, never read again', async () => {
    const corpus = await makeCorpus(join(mkdtempSync(join(tmpdir(), 'twokey-release-')), 'corpus'), 4);
    const policy = readPolicyFile(corpus.policy);
    const trust = loadTrustedRoot(corpus.trustedRoot);
    // No bytes kept (a budget of 0, as for a large file): each artifact is only its digest from here on.
    const artifacts = artifactsFromArguments(
      corpus.artifacts.map((a) => a.path),
      process.cwd(),
      0,
    );
    expect(artifacts.every((a) => a.content === undefined)).toBe(true);
    for (const a of corpus.artifacts) rmSync(a.path);
    const { report } = await judgeDeploy({ policy, binding, trust, artifacts, bundles: [corpus.bundlesDir] });
    // The same verdicts as over the files: the forged signature is still refused.
    expect(report.artifacts.map((a) => a.verdict)).toEqual(['pass', 'pass', 'pass', 'fail']);
    expect(report.artifacts[3]!.checks.find((c) => c.verdict === 'fail')?.id).toBe('artifact-signature');
  }, 60_000);
});
