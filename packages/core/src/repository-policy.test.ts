// A repository's own policy may only tighten the org policy (issue 14): each way to loosen it, as the owner of an
// application repository would try, is an error naming the key and the org policy; each way to tighten it applies.
import { describe, expect, it } from 'vitest';
import { matchIdentity, type Policy, PolicyError, parsePolicy, parseRepositoryPolicy } from './policy';

const ISSUER = 'https://token.actions.githubusercontent.com';
const BUILD_SAN = 'https://github.com/acme/platform/.github/workflows/twokey-build.yml@refs/tags/v1.4.0';
const SIGN_SAN = 'https://github.com/acme/platform/.github/workflows/twokey-sign.yml@refs/tags/v1.4.0';
const ORG_SOURCE = 'platform/.twokey/org-policy.yml';
const REPOSITORY_SOURCE = '.twokey/policy.yml';

const ORG = `version: 1
identities:
  build:
    issuer: ${ISSUER}
    san: ${BUILD_SAN}
  sign:
    issuer: ${ISSUER}
    san: ${SIGN_SAN}
review:
  min-approvals: 2
  min-seconds-after-push: 60
  protected-branches: [main, "release/*"]
  non-human-co-authors: ["copilot@users.noreply.github.com"]
deploy:
  max-age: 30d
  artifacts: ["*.tar.gz", "app-*"]
  repositories: [acme/app, acme/billing]
`;

const org: Policy = parsePolicy(ORG, ORG_SOURCE);

function tightened(text: string): Policy {
  return parseRepositoryPolicy(`version: 1\n${text}`, REPOSITORY_SOURCE, org);
}

function refusal(text: string): PolicyError {
  try {
    tightened(text);
  } catch (error) {
    if (error instanceof PolicyError) return error;
    throw error;
  }
  throw new Error('expected a PolicyError');
}

describe('a repository policy that would loosen the org policy', () => {
  it.each([
    [
      'lowers min-approvals',
      'review:\n  min-approvals: 1\n',
      'review.min-approvals',
      "1 is fewer than the org policy's 2",
    ],
    [
      'lowers min-seconds-after-push (to count an approval in the seconds after a push)',
      'review:\n  min-seconds-after-push: 0\n',
      'review.min-seconds-after-push',
      "0 is fewer seconds than the org policy's 60",
    ],
    [
      'raises max-age',
      'deploy:\n  max-age: 90d\n',
      'deploy.max-age',
      "90d is longer than the org policy's 2592000 seconds",
    ],
    [
      'names another sign identity (the attacker’s own workflow)',
      `identities:\n  build:\n    issuer: ${ISSUER}\n    san: ${BUILD_SAN}\n  sign:\n    issuer: ${ISSUER}\n    san: https://github.com/acme/app/.github/workflows/evil.yml@refs/heads/main\n`,
      'identities',
      'a repository policy may not name identities',
    ],
    [
      'chooses another trusted root',
      'deploy:\n  trusted-root: ./my-root.json\n',
      'deploy.trusted-root',
      'may not choose the trusted root',
    ],
    ['lets bots approve', 'review:\n  allow-bots: true\n', 'review.allow-bots', 'true where the org policy says false'],
    [
      'counts approvals before the last push',
      'review:\n  require-approval-on-head: false\n',
      'review.require-approval-on-head',
      'false where the org policy says true',
    ],
    [
      'ignores requested changes',
      'review:\n  changes-requested-blocks: false\n',
      'review.changes-requested-blocks',
      'false where the org policy says true',
    ],
    [
      'accepts unidentified co-authors',
      'review:\n  unidentified-co-authors: allow\n',
      'review.unidentified-co-authors',
      'allow where the org policy says refuse',
    ],
    [
      'falls back without the activity feed',
      'review:\n  allow-activity-fallback: true\n',
      'review.allow-activity-fallback',
      'true where the org policy says false',
    ],
    [
      'accepts builds of branches other than the default one',
      'review:\n  allow-non-default-branches: true\n',
      'review.allow-non-default-branches',
      'true where the org policy says false',
    ],
    [
      'declares a human co-author non-human',
      'review:\n  non-human-co-authors: ["mallory@example.com"]\n',
      'review.non-human-co-authors.0',
      'mallory@example.com is not among',
    ],
    [
      'accepts the pushes of a bot the org policy does not',
      'review:\n  bot-pushers: ["mallorys-app[bot]"]\n',
      'review.bot-pushers.0',
      "mallorys-app[bot] is not among the org policy's bot pushers",
    ],
    [
      'protects a branch the org does not (to build from it)',
      'review:\n  protected-branches: [main, "feature/*"]\n',
      'review.protected-branches.1',
      'feature/* is not a branch the org policy protects',
    ],
    [
      'widens a glob the org protects',
      'review:\n  protected-branches: ["*"]\n',
      'review.protected-branches.0',
      '* is not a branch the org policy protects',
    ],
    [
      'covers an artifact the org does not',
      'deploy:\n  artifacts: ["*.tar.gz", "*.exe"]\n',
      'deploy.artifacts.1',
      '*.exe is not an artifact the org policy covers',
    ],
    [
      'deploys another repository’s chain',
      'deploy:\n  repositories: [acme/app, mallory/app]\n',
      'deploy.repositories.1',
      'mallory/app is not a repository the org policy deploys',
    ],
  ])('is refused when it %s, naming the key and the org policy', (_attack, text, key, words) => {
    const error = refusal(text);
    expect(error.code).toBe('POLICY_INVALID');
    const problem = error.problems.find((p) => p.path === key);
    expect(problem, error.message).toBeDefined();
    expect(problem!.message).toContain(words);
    expect(problem!.message).toContain(ORG_SOURCE);
    expect(error.message).toContain(`${REPOSITORY_SOURCE}: ${key}: `);
    expect(problem!.line).toBeGreaterThan(0);
  });

  it('is refused when the org protects only default branches and the repository names branches', () => {
    const orgWithoutBranches = parsePolicy(ORG.replace('  protected-branches: [main, "release/*"]\n', ''), ORG_SOURCE);
    expect(() =>
      parseRepositoryPolicy(
        'version: 1\nreview:\n  protected-branches: [main]\n',
        REPOSITORY_SOURCE,
        orgWithoutBranches,
      ),
    ).toThrow(/review\.protected-branches: the org policy protects only each repository's default branch/);
  });

  it('is refused when the org binds each deploy to its own repository and the repository names others', () => {
    const orgUnbound = parsePolicy(ORG.replace('  repositories: [acme/app, acme/billing]\n', ''), ORG_SOURCE);
    expect(() =>
      parseRepositoryPolicy('version: 1\ndeploy:\n  repositories: [acme/app]\n', REPOSITORY_SOURCE, orgUnbound),
    ).toThrow(/deploy\.repositories: the org policy binds each deploy to its own repository/);
  });

  it('is checked against the schema too: an unknown key or a wrong type is named', () => {
    expect(refusal('review:\n  min-aprovals: 3\n').message).toContain('review.min-aprovals: unknown key');
    expect(refusal('deploy:\n  max-age: soon\n').message).toContain('deploy.max-age: expected a duration');
  });
});

describe('a repository policy that tightens the org policy', () => {
  it('applies every stricter setting and keeps the org’s identities and trusted root', () => {
    const policy = tightened(
      [
        'review:',
        '  min-approvals: 3',
        '  min-seconds-after-push: 300',
        '  protected-branches: [main, release/2026]',
        '  non-human-co-authors: []',
        'deploy:',
        '  max-age: 7d',
        '  artifacts: ["app-server.tar.gz"]',
        '  repositories: [acme/app]',
        '',
      ].join('\n'),
    );
    expect(policy.identities).toEqual(org.identities);
    expect(policy.deploy.trustedRoot).toBe(org.deploy.trustedRoot);
    expect(policy.review).toMatchObject({
      minApprovals: 3,
      minSecondsAfterPush: 300,
      protectedBranches: ['main', 'release/2026'],
      nonHumanCoAuthors: [],
    });
    expect(policy.deploy).toMatchObject({
      maxAgeSeconds: 7 * 86400,
      artifacts: ['app-server.tar.gz'],
      repositories: ['acme/app'],
    });
    expect(policy.source).toBe(ORG_SOURCE);
    expect(policy.digest).toBe(org.digest);
    expect(policy.repository).toEqual({ source: REPOSITORY_SOURCE, digest: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('leaves the org policy as it is when it says nothing but its version', () => {
    const policy = tightened('');
    expect({ ...policy, repository: undefined }).toEqual({ ...org, repository: undefined });
  });
});

describe('identities with several exact SANs (an upgrade in progress)', () => {
  const next = SIGN_SAN.replace('v1.4.0', 'v1.5.0');
  const policy = parsePolicy(
    ORG.replace(`    san: ${SIGN_SAN}`, `    san:\n      - ${SIGN_SAN}\n      - ${next}`),
    ORG_SOURCE,
  );
  const signer = (san: string) => ({ san, issuer: ISSUER, extensions: { runnerEnvironment: 'github-hosted' } });

  it('accepts either pinned version and nothing else: no prefix, no other tag', () => {
    expect(policy.identities.sign.sans).toEqual([SIGN_SAN, next]);
    expect(matchIdentity(signer(SIGN_SAN), policy.identities.sign).ok).toBe(true);
    expect(matchIdentity(signer(next), policy.identities.sign).ok).toBe(true);
    for (const other of [
      SIGN_SAN.replace('v1.4.0', 'v1.3.0'),
      `${next}x`,
      SIGN_SAN.replace('@refs/tags/v1.4.0', '@refs/heads/main'),
    ]) {
      const result = matchIdentity(signer(other), policy.identities.sign);
      expect(result.ok).toBe(false);
      expect(result.reason).toContain(`one of ${SIGN_SAN}, ${next}`);
    }
  });

  it('refuses a build SAN that is also a sign SAN, in any position of the list', () => {
    const overlapping = ORG.replace(`    san: ${SIGN_SAN}`, `    san: [${next}, ${BUILD_SAN}]`);
    expect(() => parsePolicy(overlapping, ORG_SOURCE)).toThrow(
      /identities\.sign\.san: .* is also in identities\.build\.san/,
    );
  });

  it('refuses an empty list, a repeated SAN and a list of more than 8', () => {
    expect(() => parsePolicy(ORG.replace(`    san: ${SIGN_SAN}`, '    san: []'), ORG_SOURCE)).toThrow(
      /identities\.sign\.san/,
    );
    expect(() => parsePolicy(ORG.replace(`    san: ${SIGN_SAN}`, `    san: [${next}, ${next}]`), ORG_SOURCE)).toThrow(
      /identities\.sign\.san/,
    );
    const nine = Array.from({ length: 9 }, (_, i) => SIGN_SAN.replace('v1.4.0', `v1.${i}.0`)).join(', ');
    expect(() => parsePolicy(ORG.replace(`    san: ${SIGN_SAN}`, `    san: [${nine}]`), ORG_SOURCE)).toThrow(
      /identities\.sign\.san: expected at most 8 entries/,
    );
  });
});
