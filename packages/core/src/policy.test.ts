import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { SignerIdentity } from './model';
import { DEFAULT_MAX_AGE_SECONDS, matchIdentity, PolicyError, parseDuration, parsePolicy } from './policy';

const ISSUER = 'https://token.actions.githubusercontent.com';
const BUILD_SAN = 'https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main';
const SIGN_PATTERN = String.raw`https://github\.com/acme/platform/\.github/workflows/sign\.yml@refs/heads/main`;
const SOURCE = '.twokey/policy.yml';

const MINIMAL = `version: 1
identities:
  build:
    issuer: ${ISSUER}
    san: ${BUILD_SAN}
  sign:
    issuer: ${ISSUER}
    san-pattern: '${SIGN_PATTERN}'
`;

/** The PolicyError parsePolicy throws for `text` (fails the test when it does not throw). */
function policyError(text: string): PolicyError {
  try {
    parsePolicy(text, SOURCE);
  } catch (error) {
    if (error instanceof PolicyError) return error;
    throw error;
  }
  throw new Error('expected a PolicyError');
}

function signer(san: string, issuer = ISSUER): SignerIdentity {
  return { san, issuer, extensions: {} };
}

describe('parsePolicy', () => {
  it('reads a minimal policy and applies the defaults of issues 4 and 5', () => {
    const policy = parsePolicy(MINIMAL, SOURCE);
    expect(policy).toEqual({
      source: SOURCE,
      digest: createHash('sha256').update(MINIMAL).digest('hex'),
      version: 1,
      identities: {
        build: { issuer: ISSUER, san: BUILD_SAN },
        sign: { issuer: ISSUER, sanPattern: SIGN_PATTERN },
      },
      review: {
        minApprovals: 1,
        allowBots: false,
        requireApprovalOnHead: true,
        changesRequestedBlocks: true,
        unidentifiedCoAuthors: 'refuse',
        nonHumanCoAuthors: [],
        allowActivityFallback: false,
      },
      deploy: { maxAgeSeconds: DEFAULT_MAX_AGE_SECONDS },
    });
    expect(DEFAULT_MAX_AGE_SECONDS).toBe(30 * 86400);
  });

  it('reads every key of the review and deploy parts', () => {
    const policy = parsePolicy(
      `${MINIMAL}review:
  min-approvals: 2
  allow-bots: true
  require-approval-on-head: false
  changes-requested-blocks: false
  protected-branches: [main, release/*]
  unidentified-co-authors: allow
  non-human-co-authors: [Assistant@Tools.example]
  allow-activity-fallback: true
deploy:
  max-age: 12h
  trusted-root: public-good
  artifacts: [dist/app.tar.gz, "dist/*.whl"]
  repositories: [acme/app, acme/lib]
`,
      SOURCE,
    );
    expect(policy.review).toEqual({
      minApprovals: 2,
      allowBots: true,
      requireApprovalOnHead: false,
      changesRequestedBlocks: false,
      protectedBranches: ['main', 'release/*'],
      unidentifiedCoAuthors: 'allow',
      nonHumanCoAuthors: ['assistant@tools.example'],
      allowActivityFallback: true,
    });
    expect(policy.deploy).toEqual({
      maxAgeSeconds: 12 * 3600,
      trustedRoot: 'public-good',
      artifacts: ['dist/app.tar.gz', 'dist/*.whl'],
      repositories: ['acme/app', 'acme/lib'],
    });
  });

  it('reads durations in days, hours, minutes, seconds and plain seconds', () => {
    expect(parseDuration('30d')).toBe(2592000);
    expect(parseDuration('12h')).toBe(43200);
    expect(parseDuration('90m')).toBe(5400);
    expect(parseDuration('45s')).toBe(45);
    expect(parseDuration('3600')).toBe(3600);
    expect(parseDuration(600)).toBe(600);
    expect(() => parseDuration('1w')).toThrow(RangeError);
    expect(parsePolicy(`${MINIMAL}deploy: { max-age: 3600 }\n`, SOURCE).deploy.maxAgeSeconds).toBe(3600);
  });

  it('names the file, the key and the line of an unknown key', () => {
    const error = policyError(MINIMAL.replace('san-pattern:', 'san-regexp:'));
    expect(error.code).toBe('POLICY_INVALID');
    expect(error.message).toContain(
      '.twokey/policy.yml: identities.sign.san-regexp: unknown key (expected one of: issuer, san, san-pattern, source-repository) (line 8)',
    );
  });

  it('refuses an unknown key anywhere, including one that tries to switch off distinct identities', () => {
    expect(policyError(`${MINIMAL}owner: me\n`).problems[0]).toMatchObject({ path: 'owner', message: /unknown key/ });
    expect(policyError(`${MINIMAL}review: { min-aprovals: 2 }\n`).problems[0]!.path).toBe('review.min-aprovals');
    expect(policyError(`${MINIMAL}deploy: { distinct-identities: false }\n`).problems[0]!.path).toBe(
      'deploy.distinct-identities',
    );
  });

  it('refuses wrong types, naming the key and what was found', () => {
    expect(policyError(`${MINIMAL}review: { allow-bots: "no" }\n`).problems).toEqual([
      { path: 'review.allow-bots', message: 'expected boolean, found the string "no"', line: 9 },
    ]);
    expect(policyError(`${MINIMAL}review: { min-approvals: 1.5 }\n`).problems[0]!.message).toBe(
      'expected integer, found the number 1.5',
    );
    expect(policyError(`${MINIMAL}deploy: { artifacts: app.tar.gz }\n`).problems[0]).toMatchObject({
      path: 'deploy.artifacts',
      message: 'expected array, found the string "app.tar.gz"',
    });
    expect(policyError(MINIMAL.replace('version: 1', 'version: "1"')).problems[0]).toMatchObject({
      path: 'version',
      message: 'expected 1, found "1"',
    });
  });

  it('refuses malformed keys of issue 11, naming the key and what was expected', () => {
    expect(policyError(`${MINIMAL}review: { unidentified-co-authors: maybe }\n`).problems[0]).toMatchObject({
      path: 'review.unidentified-co-authors',
      message: 'expected one of "refuse", "allow", found "maybe"',
    });
    expect(policyError(`${MINIMAL}review: { protected-branches: [refs/heads/main] }\n`).problems[0]).toMatchObject({
      path: 'review.protected-branches.0',
      message: 'expected a branch name or glob without refs/heads/ (e.g. main, release/*), found "refs/heads/main"',
    });
    expect(policyError(`${MINIMAL}review: { non-human-co-authors: [Copilot] }\n`).problems[0]).toMatchObject({
      path: 'review.non-human-co-authors.0',
      message: 'expected an e-mail address, found "Copilot"',
    });
    expect(
      policyError(`${MINIMAL}deploy: { repositories: [https://github.com/acme/app] }\n`).problems[0],
    ).toMatchObject({
      path: 'deploy.repositories.0',
      message: 'expected owner/name, found "https://github.com/acme/app"',
    });
  });

  it('refuses min-approvals below 1 (a gate that needs no approval is no gate)', () => {
    const error = policyError(`${MINIMAL}review: { min-approvals: 0 }\n`);
    expect(error.message).toContain('.twokey/policy.yml: review.min-approvals: expected at least 1, found 0');
  });

  it('refuses a malformed max-age', () => {
    for (const bad of ['"30 days"', '0', '-5', '1w', '"0d"']) {
      const error = policyError(`${MINIMAL}deploy: { max-age: ${bad} }\n`);
      expect(error.problems[0]!.path).toBe('deploy.max-age');
      expect(error.problems[0]!.message).toContain('expected a duration such as 30d');
    }
  });

  it('refuses a policy without identities, or without one of build and sign', () => {
    expect(policyError('version: 1\n').problems[0]).toMatchObject({
      path: 'identities',
      message: 'required key is missing',
    });
    const noSign = MINIMAL.slice(0, MINIMAL.indexOf('  sign:'));
    expect(policyError(noSign).message).toContain('.twokey/policy.yml: identities.sign: required key is missing');
    expect(policyError(MINIMAL.replace('version: 1\n', '')).problems[0]!.path).toBe('version');
  });

  it('refuses an identity with both san and san-pattern, or neither', () => {
    const both = MINIMAL.replace(`    san: ${BUILD_SAN}`, `    san: ${BUILD_SAN}\n    san-pattern: x`);
    expect(policyError(both).problems).toEqual([
      { path: 'identities.build', message: 'give exactly one of san and san-pattern, found both', line: 3 },
    ]);
    const neither = MINIMAL.replace(`    san: ${BUILD_SAN}\n`, '');
    expect(policyError(neither).problems[0]!.message).toContain('found neither');
  });

  it('refuses an identity without an https issuer', () => {
    const error = policyError(MINIMAL.replace(`issuer: ${ISSUER}`, 'issuer: token.actions.githubusercontent.com'));
    expect(error.problems[0]).toMatchObject({ path: 'identities.build.issuer', message: /expected an https:\/\/ URL/ });
  });

  it('refuses a san-pattern that is not a regular expression', () => {
    const error = policyError(MINIMAL.replace(`'${SIGN_PATTERN}'`, "'https://github.com/(acme'"));
    expect(error.code).toBe('POLICY_INVALID');
    expect(error.problems[0]).toMatchObject({ path: 'identities.sign.san-pattern', line: 8 });
    expect(error.problems[0]!.message).toMatch(/^not a valid regular expression/);
  });

  it('refuses build and sign under the same identity (exact SAN equal)', () => {
    const same = MINIMAL.replace(`san-pattern: '${SIGN_PATTERN}'`, `san: ${BUILD_SAN}`);
    const error = policyError(same);
    expect(error.problems[0]!.path).toBe('identities.sign.san');
    expect(error.message).toContain('build and sign must be different identities');
  });

  it('refuses a sign pattern that the build identity matches (the build could sign for itself)', () => {
    const broad = MINIMAL.replace(SIGN_PATTERN, String.raw`https://github\.com/acme/.*`);
    expect(policyError(broad).problems[0]).toMatchObject({
      path: 'identities.sign.san-pattern',
      message: expect.stringContaining('matches identities.build.san'),
    });
  });

  it('reports YAML syntax errors and duplicate keys as POLICY_SYNTAX with the line', () => {
    const syntax = policyError('version: 1\nidentities: [\n');
    expect(syntax.code).toBe('POLICY_SYNTAX');
    expect(syntax.message).toMatch(/^\.twokey\/policy\.yml: \(yaml\): /);
    const duplicate = policyError(`${MINIMAL}version: 1\n`);
    expect(duplicate.code).toBe('POLICY_SYNTAX');
    expect(duplicate.problems[0]).toMatchObject({ message: expect.stringContaining('unique'), line: 9 });
  });

  it('refuses a file that is not a mapping (empty, a list, a scalar)', () => {
    for (const text of ['', '- a\n', 'just words\n']) {
      const error = policyError(text);
      expect(error.code).toBe('POLICY_INVALID');
      expect(error.problems[0]!.path).toBe('(root)');
    }
  });

  it('refuses an alias bomb instead of expanding it', () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 10; i++)
      lines.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    expect(policyError(`${lines.join('\n')}\n`).code).toBe('POLICY_SYNTAX');
  });
});

describe('matchIdentity', () => {
  const exact = { issuer: ISSUER, san: BUILD_SAN };
  const pattern = { issuer: ISSUER, sanPattern: SIGN_PATTERN };
  const SIGN_SAN = 'https://github.com/acme/platform/.github/workflows/sign.yml@refs/heads/main';

  it('matches the exact SAN and issuer', () => {
    expect(matchIdentity(signer(BUILD_SAN), exact)).toMatchObject({ ok: true });
    expect(matchIdentity(signer(SIGN_SAN), pattern)).toMatchObject({ ok: true });
  });

  it('refuses a branch lookalike (…@refs/heads/main-evil): a prefix never matches', () => {
    expect(matchIdentity(signer(`${BUILD_SAN}-evil`), exact)).toEqual({
      ok: false,
      reason: `expected ${BUILD_SAN}, found ${BUILD_SAN}-evil`,
    });
    expect(matchIdentity(signer(`${SIGN_SAN}-evil`), pattern).ok).toBe(false);
  });

  it('refuses a repository lookalike (acme/app-fork)', () => {
    const fork = BUILD_SAN.replace('acme/app/', 'acme/app-fork/');
    expect(matchIdentity(signer(fork), exact).ok).toBe(false);
    const forkedSign = SIGN_SAN.replace('acme/platform/', 'acme/platform-fork/');
    expect(matchIdentity(signer(forkedSign), pattern).ok).toBe(false);
  });

  it('refuses a SAN that contains the pattern with something in front (the pattern is anchored at both ends)', () => {
    expect(matchIdentity(signer(`https://evil.example/?${SIGN_SAN}`), pattern).ok).toBe(false);
    const alternation = { issuer: ISSUER, sanPattern: 'a|b' };
    expect(matchIdentity(signer('ab'), alternation).ok).toBe(false);
    expect(matchIdentity(signer('b'), alternation).ok).toBe(true);
  });

  it('refuses the right SAN from another issuer', () => {
    const result = matchIdentity(signer(BUILD_SAN, 'https://evil.example'), exact);
    expect(result.ok).toBe(false);
    expect(result.reason).toContain(`expected issuer ${ISSUER}, found https://evil.example`);
  });
});

describe('source-repository', () => {
  const REUSABLE = 'https://github.com/acme/platform/.github/workflows/build.yml@refs/heads/main';
  const policyText = `version: 1
identities:
  build:
    issuer: ${ISSUER}
    san: ${REUSABLE}
    source-repository: https://github.com/acme/app
  sign:
    issuer: ${ISSUER}
    san-pattern: '${SIGN_PATTERN}'
`;

  it('refuses a reusable workflow run by another repository (acme/app-fork calling the same workflow file)', () => {
    const rule = parsePolicy(policyText, SOURCE).identities.build;
    expect(rule.sourceRepository).toBe('https://github.com/acme/app');
    const ours = { san: REUSABLE, issuer: ISSUER, extensions: { sourceRepositoryURI: 'https://github.com/acme/app' } };
    const fork = { ...ours, extensions: { sourceRepositoryURI: 'https://github.com/acme/app-fork' } };
    const unnamed = { ...ours, extensions: {} };
    expect(matchIdentity(ours, rule).ok).toBe(true);
    expect(matchIdentity(fork, rule)).toEqual({
      ok: false,
      reason: `expected a run of https://github.com/acme/app, found source repository https://github.com/acme/app-fork (SAN ${REUSABLE})`,
    });
    expect(matchIdentity(unnamed, rule).ok).toBe(false);
  });

  it('must be an https URL', () => {
    expect(policyError(policyText.replace('https://github.com/acme/app\n', 'acme/app\n')).message).toMatch(
      /identities\.build\.source-repository/,
    );
  });
});
