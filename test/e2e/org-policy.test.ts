// The policy that names the identities is the org's, read from the platform repository, never from the repository it
// polices (issue 14). The attack: the owner of acme/app puts a `.twokey/policy.yml` on the branch they deploy from
// that trusts their own workflow as `sign`, signs the artifact and a review attestation with that workflow, and runs
// the deploy. The gate judges by the org policy and refuses; the file on the branch is never read. A repository policy
// the deploy is told to read may only tighten the org policy: this one names identities and is refused.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { type DeployInputs, runDeployStep } from '@twokey/gate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Corpus, makeCorpus } from '../../bench/corpus';
import { runCli } from '../conformance/run-cli';

const EVIL_WORKFLOW_REF = 'acme/app/.github/workflows/evil.yml@refs/heads/main';

let dir: string;
let attacker: Corpus;
let workspace: string;
/** The platform repository's org policy: the attacker's chain, but the platform's sign workflow as `sign`. */
let orgPolicy: string;
let honest: Corpus['artifacts'][number];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twokey-org-policy-'));
  // The attacker's release: provenance by the repository's build workflow, signature and review attestation by
  // their own evil.yml. Its policy.yml is the one they put on their branch: sign = evil.yml.
  attacker = await makeCorpus(join(dir, 'attacker'), 2, join(dir, 'attacker'), { signWorkflowRef: EVIL_WORKFLOW_REF });
  honest = attacker.artifacts.find((a) => !a.forged)!;
  const attackerPolicy = readFileSync(attacker.policy, 'utf8');
  expect(attackerPolicy).toContain(`san: https://github.com/${EVIL_WORKFLOW_REF}`);

  // The deploy job's workspace: the branch being deployed, with the attacker's policy where a repository keeps one.
  workspace = join(dir, 'workspace');
  mkdirSync(join(workspace, '.twokey'), { recursive: true });
  writeFileSync(join(workspace, '.twokey', 'policy.yml'), attackerPolicy);
  copyFileSync(honest.path, join(workspace, honest.name));
  mkdirSync(join(workspace, 'bundles'));
  for (const bundle of [honest.provenance, honest.signature, honest.review]) {
    copyFileSync(bundle, join(workspace, 'bundles', basename(bundle)));
  }

  // The platform repository, where the org policy lives (the deploy action reads it from its own commit).
  orgPolicy = join(dir, 'platform', '.twokey', 'org-policy.yml');
  mkdirSync(join(dir, 'platform', '.twokey'), { recursive: true });
  writeFileSync(
    orgPolicy,
    attackerPolicy.replace(
      `san: https://github.com/${EVIL_WORKFLOW_REF}`,
      'san: https://github.com/acme/platform/.github/workflows/twokey-sign.yml@refs/heads/main',
    ),
  );
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function deploy(overrides: Partial<DeployInputs>): ReturnType<typeof runDeployStep> {
  return runDeployStep({
    subjectPath: honest.name,
    subjectDigest: '',
    subjectName: '',
    subjectChecksums: '',
    bundles: 'bundles',
    policy: orgPolicy,
    ownOrgPolicy: true,
    trustedRoot: '',
    record: false,
    resourceUri: '',
    endpoints: { fulcioURL: 'http://127.0.0.1:9', rekorURL: 'http://127.0.0.1:9' },
    repository: 'acme/app',
    workspace,
    outputDirectory: join(dir, 'runner-temp'),
    version: '0.0.0-test',
    serverUrl: 'https://github.com',
    ...overrides,
  });
}

describe('a deploy from a branch whose .twokey/policy.yml trusts the attacker’s own workflow as sign', () => {
  it('is refused: the gate judges by the org policy, and never reads the file on the branch', async () => {
    const { report } = await deploy({});
    expect(report.verdict).toBe('fail');
    const artifact = report.artifacts[0]!;
    for (const id of ['artifact-signature', 'review-attestation']) {
      const check = artifact.checks.find((c) => c.id === id)!;
      expect(check.verdict).toBe('fail');
      expect(check.reason).toContain(
        'by the sign identity https://github.com/acme/platform/.github/workflows/twokey-sign.yml@refs/heads/main',
      );
      expect(check.reason).toContain(`by https://github.com/${EVIL_WORKFLOW_REF}`);
    }
    expect(report.policy.source).not.toContain('.twokey/policy.yml');
    expect(report.policy.repository).toBeUndefined();
  });

  it('would pass if the gate read that file as its policy: the evidence itself is sound (the test can fail)', async () => {
    const { report } = await deploy({ policy: '.twokey/policy.yml', ownOrgPolicy: false });
    expect(report.verdict).toBe('pass');
  });

  it('is refused before judging when the deploy is told to read it as the repository policy: it names identities', async () => {
    await expect(deploy({ repositoryPolicy: { path: '.twokey/policy.yml', optional: true } })).rejects.toThrow(
      /\.twokey\/policy\.yml: identities: a repository policy may not name identities: they are the org policy's/,
    );
  });

  it('applies a repository policy that tightens, and the report names both policies', async () => {
    writeFileSync(join(workspace, 'tighter.yml'), 'version: 1\ndeploy:\n  max-age: 1d\n');
    const { report } = await deploy({ repositoryPolicy: { path: 'tighter.yml', optional: true } });
    expect(report.policy.repository).toEqual({
      source: 'tighter.yml',
      digest: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(report.artifacts[0]!.checks.find((c) => c.id === 'fresh')?.verdict).toBe('pass');
  });
});

describe('twokey verify takes the same pair: --policy (the org policy) and --repository-policy', () => {
  const verify = (...extra: string[]) =>
    runCli(
      ['verify', honest.name, '--policy', orgPolicy, '--bundle', 'bundles', '--repo', 'acme/app', ...extra],
      workspace,
    );

  it('refuses the attacker’s file as a repository policy (exit 2, the key and the org policy named)', async () => {
    const result = await verify('--repository-policy', '.twokey/policy.yml');
    expect(result.status, result.stdout).toBe(2);
    expect(result.stderr).toContain('.twokey/policy.yml: identities: a repository policy may not name identities');
    // The org policy, named relative to the working directory as every file in twokey's messages.
    expect(result.stderr).toContain("they are the org policy's (../platform/.twokey/org-policy.yml)");
  });

  it('refuses the attacker’s evidence under the org policy, and says which repository policy tightened it', async () => {
    writeFileSync(join(workspace, 'tighter.yml'), 'version: 1\nreview:\n  min-approvals: 1\n');
    const result = await verify('--repository-policy', 'tighter.yml');
    expect(result.status, result.stderr).toBe(1);
    expect(result.stdout).toContain('tightened by the repository policy tighter.yml (sha256 ');
    expect(result.stdout).toContain(`by https://github.com/${EVIL_WORKFLOW_REF}`);
  });

  it('refuses a repository policy that is not there: one named on the command line must exist', async () => {
    const result = await verify('--repository-policy', 'missing.yml');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('missing.yml');
  });
});
