// A private repository's release on GitHub's Sigstore instance (issue 15): no transparency log (it would publish the
// repository's names and commits), a signed timestamp instead. Signed on a loopback stack shaped like that instance,
// the chain passes the gate under a policy that trusts it; presented to a policy that requires the public-good
// instance, it is refused; and a bundle of it whose timestamp was stripped is refused for want of one.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { type DeployGateRequest, judgeDeploy } from '@twokey/gate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Corpus, makeCorpus } from '../../bench/corpus';

let dir: string;
let corpus: Corpus;
let honest: Corpus['artifacts'][number];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twokey-github-instance-'));
  corpus = await makeCorpus(join(dir, 'release'), 2, join(dir, 'release'), { instance: 'github' });
  honest = corpus.artifacts.find((a) => !a.forged)!;
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function request(policy: string, bundles = corpus.bundlesDir): DeployGateRequest {
  return {
    policy,
    repository: { repository: 'acme/app', name: '--repo', role: 'narrow' },
    artifacts: { arguments: [honest.path] },
    bundles: [bundles],
    cwd: dir,
  };
}

describe("a private repository's release on GitHub's Sigstore instance", () => {
  it('has no log entry in any bundle, and a signed timestamp in each', () => {
    for (const path of [honest.provenance, honest.signature, honest.review]) {
      const bundle = JSON.parse(readFileSync(path, 'utf8'));
      expect(bundle.verificationMaterial.tlogEntries ?? [], path).toEqual([]);
      expect(bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps, path).toHaveLength(1);
    }
    const root = JSON.parse(readFileSync(corpus.trustedRoot, 'utf8'));
    expect(root.tlogs ?? []).toEqual([]);
    expect(root.ctlogs ?? []).toEqual([]);
    expect(root.timestampAuthorities).toHaveLength(1);
  });

  it('passes the gate under a policy whose trusted root is that instance’s', async () => {
    const { report } = await judgeDeploy(request(corpus.policy));
    expect(report.verdict, JSON.stringify(report.artifacts[0]?.checks)).toBe('pass');
  });

  it('is refused under a policy that requires the public-good instance', async () => {
    const publicGood = join(dir, 'public-good-policy.yml');
    writeFileSync(
      publicGood,
      readFileSync(corpus.policy, 'utf8').replace(/^ {2}trusted-root: .*$/m, '  trusted-root: public-good'),
    );
    const { report } = await judgeDeploy(request(publicGood));
    expect(report.verdict).toBe('fail');
    expect(report.rejected.map((r) => r.code)).toEqual(Array(6).fill('CERTIFICATE_CHAIN_UNTRUSTED'));
  });

  it('refuses a bundle of it whose timestamp was stripped: nothing else dates the signature', async () => {
    const stripped = join(dir, 'stripped');
    mkdirSync(stripped);
    for (const path of [honest.provenance, honest.review]) copyFileSync(path, join(stripped, basename(path)));
    const signature = JSON.parse(readFileSync(honest.signature, 'utf8'));
    signature.verificationMaterial.timestampVerificationData = { rfc3161Timestamps: [] };
    writeFileSync(join(stripped, basename(honest.signature)), JSON.stringify(signature));
    const { report } = await judgeDeploy(request(corpus.policy, stripped));
    expect(report.verdict).toBe('fail');
    expect(report.rejected).toEqual([
      expect.objectContaining({
        code: 'TIMESTAMP_INVALID',
        reason: expect.stringContaining('expected 1 timestamps, got 0'),
      }),
    ]);
  });
});
