// The pieces every stage shares (packages/github): where evidence is written, the sha256-only artifact rule, and a
// step's outcome as data and as the runner's file commands.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SubjectError } from '@twokey/core';
import {
  contentName,
  evidenceDirectory,
  failedStep,
  OidcTokenError,
  reportStep,
  resolveArtifacts,
  sha256Artifact,
  writeEvidence,
} from '@twokey/github';
import { parseFileCommand } from '@twokey/testkit';
import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('the evidence directory', () => {
  it('is twokey/ in the runner temporary directory, created on the first write', () => {
    const runnerTemp = mkdtempSync(join(tmpdir(), 'twokey-evidence-'));
    expect(evidenceDirectory(runnerTemp)).toBe(join(runnerTemp, 'twokey'));
    const paths = writeEvidence(runnerTemp, [
      { name: 'a.json', text: 'a\n' },
      { name: 'b.json', text: 'b\n' },
    ]);
    expect(paths).toEqual([join(runnerTemp, 'twokey', 'a.json'), join(runnerTemp, 'twokey', 'b.json')]);
    expect(readFileSync(paths[1]!, 'utf8')).toBe('b\n');
    expect(readdirSync(evidenceDirectory(runnerTemp)).sort()).toEqual(['a.json', 'b.json']);
  });

  it('names a file after its content, so two runs never overwrite each other', () => {
    expect(contentName('provenance', 'x', '.sigstore.json')).toBe('provenance-2d711642b726b044.sigstore.json');
    expect(contentName('provenance', 'y', '.sigstore.json')).not.toBe(contentName('provenance', 'x', '.sigstore.json'));
  });
});

describe('artifacts are named by sha256', () => {
  const hex = 'ab'.repeat(32);

  it('takes the sha256 of a subject, and its name (else sha256:HEX)', () => {
    expect(sha256Artifact({ name: 'app.tar.gz', digest: { sha256: hex } })).toEqual({
      name: 'app.tar.gz',
      digest: { algorithm: 'sha256', hex },
    });
    expect(sha256Artifact({ digest: { sha256: hex } }).name).toBe(`sha256:${hex}`);
  });

  it('refuses a subject given only by another digest, naming it', async () => {
    const error = await resolveArtifacts(
      { subjectPath: '', subjectDigest: `sha512:${'cd'.repeat(64)}`, subjectName: 'app.tar.gz', subjectChecksums: '' },
      tmpdir(),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SubjectError);
    expect(error).toMatchObject({ code: 'SUBJECT_DIGEST_INVALID', kind: 'usage' });
    expect((error as Error).message).toBe(
      'app.tar.gz: expected a sha256 digest (signatures and attestations name artifacts by sha256), found sha512',
    );
  });

  it('hashes the files a pattern names', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'twokey-artifacts-'));
    writeFileSync(join(workspace, 'app.bin'), 'app\n');
    expect(
      await resolveArtifacts(
        { subjectPath: '*.bin', subjectDigest: '', subjectName: '', subjectChecksums: '' },
        workspace,
      ),
    ).toEqual([
      {
        name: 'app.bin',
        digest: { algorithm: 'sha256', hex: '8a8f60ecb09b7e64c6d5214a8043865e608507db8c3f61f995eae6d078875901' },
      },
    ]);
  });
});

describe('a failed step', () => {
  it('says the coded error it stopped on, and shows it in the summary exactly, escaped', () => {
    const outcome = failedStep(
      'twokey sign: nothing signed',
      new OidcTokenError('OIDC_PERMISSION_MISSING', 'needs <id-token: write>\n    permissions:'),
    );
    expect(outcome).toEqual({
      outputs: {},
      errors: [],
      failure: 'OIDC_PERMISSION_MISSING: needs <id-token: write>\n    permissions:',
      summary:
        '## twokey sign: nothing signed\n\n<pre>OIDC_PERMISSION_MISSING: needs &lt;id-token: write&gt;\n    permissions:</pre>\n',
    });
  });

  it('says an error nobody anticipated is a bug', () => {
    expect(failedStep('twokey build: nothing signed', new TypeError('x is undefined')).failure).toMatch(
      /^INTERNAL_ERROR: twokey failed \(this is a bug, please report it at .*\): x is undefined$/,
    );
  });
});

describe('reportStep', () => {
  it('writes the annotations, the failure, the summary and the outputs as the runner reads them', async () => {
    const files = mkdtempSync(join(tmpdir(), 'twokey-step-'));
    for (const name of ['GITHUB_OUTPUT', 'GITHUB_STEP_SUMMARY']) {
      writeFileSync(join(files, name), '');
      vi.stubEnv(name, join(files, name));
    }
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    let log = '';
    try {
      await reportStep({
        outputs: { verdict: 'fail', checks: '[1,\n2]' },
        errors: ['min-independent-approvals: found 0'],
        failure: 'SIGN_REFUSED: nothing was signed',
        summary: '## twokey sign: nothing signed\n',
      });
      log = write.mock.calls.map(([chunk]) => String(chunk)).join('');
    } finally {
      write.mockRestore();
    }
    expect(log).toContain('::error::min-independent-approvals: found 0');
    expect(log).toContain('::error::SIGN_REFUSED: nothing was signed');
    expect(process.exitCode).toBe(1);
    process.exitCode = undefined;
    expect(readFileSync(join(files, 'GITHUB_STEP_SUMMARY'), 'utf8')).toBe('## twokey sign: nothing signed\n');
    expect(parseFileCommand(readFileSync(join(files, 'GITHUB_OUTPUT'), 'utf8'))).toEqual({
      verdict: 'fail',
      checks: '[1,\n2]',
    });
  });
});
