// A policy file that is not UTF-8 (a Latin-1 "é" in a comment): it was decoded with each bad byte replaced, so the
// digest a decision record and a report give for the policy was the SHA-256 of no file — an auditor's
// `sha256sum .twokey/policy.yml` found another — and two files differing in such bytes shared one. `twokey verify` and
// `twokey report` now refuse it as an input error (exit 2, POLICY_UNREADABLE, naming the file), as they refuse a
// policy they cannot read. Run in-process (packages/cli/src/cli.ts run), as the built CLI runs it.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACME_POLICY } from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../packages/cli/src/cli';

let dir: string;
const LATIN1 = Buffer.from('version: 1\n# r\xe9sum\xe9 of our rules\nreview:\n  min-approvals: 2\n', 'latin1');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'twokey-policy-utf8-cli-'));
  writeFileSync(join(dir, 'policy.yml'), ACME_POLICY);
  writeFileSync(
    join(dir, 'latin1-org.yml'),
    Buffer.concat([Buffer.from(ACME_POLICY), Buffer.from('# caf\xe9\n', 'latin1')]),
  );
  mkdirSync(join(dir, '.twokey'));
  writeFileSync(join(dir, '.twokey', 'policy.yml'), LATIN1);
  mkdirSync(join(dir, 'evidence'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function twokey(...argv: string[]) {
  const out = { stdout: '', stderr: '' };
  const status = await run(argv, {
    stdout: { write: (text: string) => (out.stdout += text) },
    stderr: { write: (text: string) => (out.stderr += text) },
  } as never);
  return { status, ...out };
}

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('a policy file that is not UTF-8', () => {
  it('twokey verify refuses an org policy that is not UTF-8: exit 2, naming it', async () => {
    const org = join(dir, 'latin1-org.yml');
    const result = await twokey(
      'verify',
      DIGEST,
      '--policy',
      org,
      '--repo',
      'acme/app',
      '--bundle',
      join(dir, 'evidence'),
    );
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`POLICY_UNREADABLE`);
    // Named as the CLI names files: relative to the working directory when that is shorter (the run's cwd varies).
    expect(result.stderr).toContain(`latin1-org.yml: cannot read policy: it is not UTF-8 text (line`);
  });

  it('twokey verify and twokey report refuse a repository policy that is not UTF-8: exit 2, naming it', async () => {
    const repository = join(dir, '.twokey', 'policy.yml');
    const policy = ['--policy', join(dir, 'policy.yml'), '--repository-policy', repository];
    for (const argv of [
      ['verify', DIGEST, ...policy, '--repo', 'acme/app', '--bundle', join(dir, 'evidence')],
      ['report', ...policy, '--bundle', join(dir, 'evidence')],
    ]) {
      const result = await twokey(...argv);
      expect(result.status, argv[0]).toBe(2);
      expect(result.stderr).toContain('POLICY_UNREADABLE');
      expect(result.stderr).toContain(
        `.twokey/policy.yml: cannot read repository policy: it is not UTF-8 text (line 2)`,
      );
    }
  });
});
