import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePolicy } from '@twokey/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SigstoreInputError } from './error';
import { readPolicyFile, readPolicyFiles } from './policy-file';
import { deployTrustedRoot } from './trust';

const policy = (trustedRoot: string) =>
  parsePolicy(
    `version: 1
identities:
  build: { issuer: https://token.actions.githubusercontent.com, san: https://github.com/acme/app/.github/workflows/b.yml@refs/heads/main }
  sign: { issuer: https://token.actions.githubusercontent.com, san: https://github.com/acme/app/.github/workflows/s.yml@refs/heads/main }
deploy:
  trusted-root: ${trustedRoot}
`,
    '.twokey/org-policy.yml',
  );

describe('the trusted root a deploy verifies against', () => {
  it("names the embedded roots: public-good, and github for GitHub's instance (private repositories)", () => {
    expect(deployTrustedRoot(policy('public-good'), undefined).source).toBe('public-good');
    const github = deployTrustedRoot(policy('github'), undefined);
    expect(github.source).toBe('github');
    expect(github.root.tlogs).toEqual([]);
    expect(github.root.timestampAuthorities.length).toBeGreaterThan(0);
  });

  it('lets the caller’s trusted-root override the policy’s, by name too', () => {
    expect(deployTrustedRoot(policy('public-good'), 'github').source).toBe('github');
    expect(deployTrustedRoot(policy('github'), 'public-good').source).toBe('public-good');
  });
});

describe('a policy file that is not UTF-8', () => {
  const ISSUER = 'https://token.actions.githubusercontent.com';
  const ORG = `version: 1
identities:
  build: { issuer: ${ISSUER}, san: "https://github.com/acme/platform/.github/workflows/b.yml@refs/tags/v1" }
  sign: { issuer: ${ISSUER}, san: "https://github.com/acme/platform/.github/workflows/s.yml@refs/tags/v1" }
`;
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'twokey-policy-utf8-'));
    mkdirSync(join(dir, '.twokey'));
    writeFileSync(join(dir, 'org-policy.yml'), ORG);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A repository policy whose comment holds `bad` where its author meant an "é". */
  const withBytes = (bad: number[]) =>
    Buffer.concat([
      Buffer.from('version: 1\n# r'),
      Buffer.from(bad),
      Buffer.from('sum\u00e9 of our rules\nreview:\n  min-approvals: 2\n'),
    ]);
  const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

  function refusal(read: () => unknown): SigstoreInputError {
    try {
      read();
    } catch (error) {
      if (error instanceof SigstoreInputError) return error;
      throw error;
    }
    throw new Error('expected the policy to be refused');
  }

  it.each([
    ['a Latin-1 é', [0xe9]],
    ['a byte that is never UTF-8', [0xff]],
    ['an overlong encoding of /', [0xc0, 0xaf]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ['a sequence cut short', [0xc3]],
  ])(
    'refuses a repository policy holding %s, naming the file and the line: its digest would be no file’s',
    (_name, bad) => {
      writeFileSync(join(dir, '.twokey', 'policy.yml'), withBytes(bad));
      for (const optional of [false, true]) {
        const error = refusal(() => readPolicyFiles('org-policy.yml', { path: '.twokey/policy.yml', optional }, dir));
        expect(error.code).toBe('POLICY_UNREADABLE');
        expect(error.kind).toBe('usage');
        expect(error.message).toBe(
          '.twokey/policy.yml: cannot read repository policy: it is not UTF-8 text (line 2); save it as UTF-8',
        );
      }
    },
  );

  it('refuses an org policy that is not UTF-8, naming it', () => {
    writeFileSync(join(dir, 'latin1.yml'), Buffer.concat([Buffer.from(ORG), Buffer.from('# caf\xe9\n', 'latin1')]));
    const error = refusal(() => readPolicyFile('latin1.yml', dir));
    expect(error.code).toBe('POLICY_UNREADABLE');
    expect(error.message).toBe('latin1.yml: cannot read policy: it is not UTF-8 text (line 5); save it as UTF-8');
    expect(() => readPolicyFiles('latin1.yml', undefined, dir)).toThrow(error.message);
  });

  it('records the SHA-256 of the file’s own bytes: UTF-8 text, with or without a byte order mark', () => {
    const text = withBytes([0xc3, 0xa9]); // "é" in UTF-8
    for (const bytes of [text, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), text])]) {
      writeFileSync(join(dir, '.twokey', 'policy.yml'), bytes);
      writeFileSync(
        join(dir, 'org-bom.yml'),
        Buffer.concat([bytes.subarray(0, bytes.length - text.length), Buffer.from(ORG)]),
      );
      const policy = readPolicyFiles('org-bom.yml', { path: '.twokey/policy.yml' }, dir);
      expect(policy.review.minApprovals).toBe(2);
      expect(policy.repository?.digest).toBe(sha256(readFileSync(join(dir, '.twokey', 'policy.yml'))));
      expect(policy.digest).toBe(sha256(readFileSync(join(dir, 'org-bom.yml'))));
    }
  });
});
