// The deploy step (runDeployStep) with plain inputs: what it refuses before judging, and what it writes without a token.
// Verdicts on real evidence, through the runner, are in test/e2e/pipeline.test.ts.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDeployReport } from '@twokey/core';
import { ACME_POLICY } from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DeployInputs, DeployStepError, runDeployStep as run } from './deploy-step';

const POLICY = ACME_POLICY;

let workspace: string;
let output: string;

beforeAll(() => {
  workspace = mkdtempSync(join(tmpdir(), 'twokey-deploy-main-'));
  output = join(workspace, '_temp');
  mkdirSync(join(workspace, '.twokey'));
  mkdirSync(join(workspace, 'bundles'));
  writeFileSync(join(workspace, '.twokey', 'policy.yml'), POLICY);
  writeFileSync(join(workspace, 'app.tar.gz'), 'app 1.0\n');
});

afterAll(() => {
  rmSync(workspace, { recursive: true, force: true });
});

function inputs(overrides: Partial<DeployInputs> = {}): DeployInputs {
  return {
    subjectPath: 'app.tar.gz',
    subjectDigest: '',
    subjectName: '',
    subjectChecksums: '',
    bundles: 'bundles',
    policy: '.twokey/policy.yml',
    trustedRoot: '',
    record: false,
    resourceUri: '',
    endpoints: { fulcioURL: 'http://127.0.0.1:9', rekorURL: 'http://127.0.0.1:9' },
    repository: 'acme/app',
    workspace,
    outputDirectory: output,
    version: '0.0.0-test',
    serverUrl: 'https://github.com',
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected run() to fail');
}

describe('the deploy gate refuses to judge', () => {
  it('without bundles', async () => {
    const error = await rejection(run(inputs({ bundles: ' \n, ' })));
    expect(error).toBeInstanceOf(DeployStepError);
    expect(error.code).toBe('BUNDLES_INPUT_MISSING');
  });

  it('when it must sign a record but the job has no id-token: write', async () => {
    const error = await rejection(run(inputs({ record: true })));
    expect(error.code).toBe('OIDC_PERMISSION_MISSING');
    expect(error.message).toContain('id-token: write');
    expect(error.message).toContain('record: false');
  });

  it('with a policy that does not exist, naming it', async () => {
    const error = await rejection(run(inputs({ policy: '.twokey/missing.yml' })));
    expect(error.code).toBe('POLICY_UNREADABLE');
    expect(error.message).toContain('.twokey/missing.yml');
  });

  it('without GITHUB_REPOSITORY when the policy names no repository: nothing says whose chain to accept', async () => {
    const error = await rejection(run(inputs({ repository: '' })));
    expect(error.code).toBe('REPOSITORY_UNBOUND');
    expect(error.message).toBe(
      'GITHUB_REPOSITORY is not set and .twokey/policy.yml pins no source-repository and names no deploy.repositories, so nothing says whose build → sign chain to accept',
    );
  });

  it('with a subject given only by a sha512 digest', async () => {
    const error = await rejection(
      run(inputs({ subjectPath: '', subjectDigest: `sha512:${'ab'.repeat(64)}`, subjectName: 'app.tar.gz' })),
    );
    expect(error.code).toBe('SUBJECT_DIGEST_INVALID');
  });
});

describe('the deploy gate without a deploy identity (record: false, no OIDC token)', () => {
  it('judges offline, writes the report, and records nothing', async () => {
    const result = await run(inputs());
    expect(result.recordPath).toBeUndefined();
    expect(result.deployIdentity).toBeUndefined();
    expect(result.reportPath.startsWith(join(output, 'twokey'))).toBe(true);
    const written = readDeployReport(readFileSync(result.reportPath, 'utf8'), result.reportPath);
    expect(written).toEqual(JSON.parse(JSON.stringify(result.report)));
    expect(written.verdict).toBe('fail');
    expect(written.policy.source).toBe('.twokey/policy.yml');
    expect(written.artifacts[0]!.checks.find((c) => c.id === 'same-commit')?.verdict).toBe('not-evaluated');
    expect(written.artifacts[0]?.checks.find((c) => c.id === 'distinct-identities')?.reason).toContain(
      'no build provenance',
    );
  });
});
