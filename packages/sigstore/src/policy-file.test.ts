import { parsePolicy } from '@twokey/core';
import { describe, expect, it } from 'vitest';
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
