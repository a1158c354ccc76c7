// The policy example the README points users at is a valid policy, with the meaning its comments give it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePolicy } from '@twokey/core';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../conformance/paths';

describe('docs/policy.example.yml', () => {
  it('parses, with the rules and identities its comments describe', () => {
    const source = 'docs/policy.example.yml';
    const policy = parsePolicy(readFileSync(join(repoRoot, source), 'utf8'), source);
    expect(policy.identities.build.san).toBe('https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main');
    expect(policy.identities.sign.sanPattern).toContain('acme/platform');
    expect(policy.identities.sign.sourceRepository).toBe('https://github.com/acme/app');
    expect(policy.review).toEqual({
      minApprovals: 1,
      allowBots: false,
      requireApprovalOnHead: true,
      changesRequestedBlocks: true,
    });
    expect(policy.deploy.maxAgeSeconds).toBe(30 * 24 * 3600);
  });
});
