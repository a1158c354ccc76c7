import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { MAX_MATCHED_SAN_LENGTH } from './identity-pattern';
import type { SignerIdentity } from './model';
import {
  DEFAULT_MAX_AGE_SECONDS,
  MAX_POLICY_DEPTH,
  MAX_POLICY_LENGTH,
  MAX_REPORTED_PROBLEMS,
  matchIdentity,
  PolicyError,
  parseDuration,
  parsePolicy,
} from './policy';

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
        build: {
          issuer: ISSUER,
          san: BUILD_SAN,
          runnerEnvironment: 'github-hosted',
          triggers: ['push', 'workflow_dispatch'],
        },
        sign: { issuer: ISSUER, sanPattern: SIGN_PATTERN, runnerEnvironment: 'github-hosted' },
      },
      review: {
        minApprovals: 1,
        allowBots: false,
        requireApprovalOnHead: true,
        changesRequestedBlocks: true,
        unidentifiedCoAuthors: 'refuse',
        nonHumanCoAuthors: [],
        allowActivityFallback: false,
        allowNonDefaultBranches: false,
        minSecondsAfterPush: 30,
        botPushers: [],
      },
      deploy: {
        maxAgeSeconds: DEFAULT_MAX_AGE_SECONDS,
        approvals: { min: 0, distinctFrom: ['author', 'contributors', 'pusher'], requirePreventSelfReview: false },
        breakGlass: { maxDurationSeconds: 24 * 3600, minApprovers: 1 },
      },
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
  allow-non-default-branches: true
  min-seconds-after-push: 120
  bot-pushers: ["Dependabot[bot]", "renovate[bot]"]
deploy:
  max-age: 12h
  trusted-root: public-good
  artifacts: [dist/app.tar.gz, "dist/*.whl"]
  repositories: [acme/app, acme/lib]
  approvals:
    min: 2
    distinct-from: [author, code-approvers, requester, author]
    require-prevent-self-review: true
  break-glass: { max-duration: 4h, min-approvers: 2 }
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
      allowNonDefaultBranches: true,
      minSecondsAfterPush: 120,
      botPushers: ['dependabot[bot]', 'renovate[bot]'],
    });
    expect(policy.deploy).toEqual({
      maxAgeSeconds: 12 * 3600,
      trustedRoot: 'public-good',
      artifacts: ['dist/app.tar.gz', 'dist/*.whl'],
      repositories: ['acme/app', 'acme/lib'],
      approvals: { min: 2, distinctFrom: ['author', 'code-approvers', 'requester'], requirePreventSelfReview: true },
      breakGlass: { maxDurationSeconds: 4 * 3600, minApprovers: 2 },
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

  it('requires a GitHub Actions identity to have signed on a GitHub-hosted runner, unless runner-environment: any', () => {
    const hosted = parsePolicy(MINIMAL, SOURCE).identities.build;
    const on = (runnerEnvironment?: string): SignerIdentity => ({
      san: BUILD_SAN,
      issuer: ISSUER,
      extensions: runnerEnvironment === undefined ? {} : { runnerEnvironment },
    });
    expect(matchIdentity(on('github-hosted'), hosted).ok).toBe(true);
    expect(matchIdentity(on('self-hosted'), hosted)).toEqual({
      ok: false,
      reason: `expected a job on a GitHub-hosted runner, found runner environment self-hosted (SAN ${BUILD_SAN}): whoever runs a self-hosted runner holds the jobs' tokens it runs (runner-environment: any in the policy's identity accepts it)`,
    });
    expect(matchIdentity(on(), hosted).reason).toContain('found runner environment none in the certificate');
    const anyRunner = parsePolicy(
      MINIMAL.replace(`    san: ${BUILD_SAN}`, `    san: ${BUILD_SAN}\n    runner-environment: any`),
      SOURCE,
    ).identities.build;
    expect(anyRunner.runnerEnvironment).toBeUndefined();
    expect(matchIdentity(on('self-hosted'), anyRunner).ok).toBe(true);
    // A GitHub Enterprise Cloud tenant with data residency (GHE.com) issues its own tokens: the same default.
    for (const issuer of ['https://token.actions.acme.ghe.com', `${ISSUER}/acme-enterprise`]) {
      const tenant = parsePolicy(
        MINIMAL.replace(`issuer: ${ISSUER}\n    san: ${BUILD_SAN}`, `issuer: ${issuer}\n    san: ${BUILD_SAN}`),
        SOURCE,
      );
      expect(tenant.identities.build.runnerEnvironment, issuer).toBe('github-hosted');
    }
    // Another issuer's tokens name no runner: nothing is required unless the policy says github-hosted.
    const other = parsePolicy(
      MINIMAL.replace(`issuer: ${ISSUER}\n    san: ${BUILD_SAN}`, `issuer: https://gitlab.com\n    san: ${BUILD_SAN}`),
      SOURCE,
    );
    expect(other.identities.build.runnerEnvironment).toBeUndefined();
    expect(
      policyError(MINIMAL.replace(`    san: ${BUILD_SAN}`, `    san: ${BUILD_SAN}\n    runner-environment: hosted`))
        .problems[0],
    ).toMatchObject({
      path: 'identities.build.runner-environment',
      message: 'expected one of "github-hosted", "any", found "hosted"',
    });
  });

  it('names the file, the key and the line of an unknown key', () => {
    const error = policyError(MINIMAL.replace('san-pattern:', 'san-regexp:'));
    expect(error.code).toBe('POLICY_INVALID');
    expect(error.message).toContain(
      '.twokey/policy.yml: identities.sign.san-regexp: unknown key (expected one of: issuer, san, san-pattern, source-repository, runner-environment, triggers, workflows) (line 8)',
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
    expect(policyError(`${MINIMAL}review: { bot-pushers: [dependabot@github.com] }\n`).problems[0]).toMatchObject({
      path: 'review.bot-pushers.0',
      message: `expected a bot's login (e.g. dependabot[bot]), found "dependabot@github.com"`,
    });
    expect(
      policyError(`${MINIMAL}deploy: { repositories: [https://github.com/acme/app] }\n`).problems[0],
    ).toMatchObject({
      path: 'deploy.repositories.0',
      message: 'expected owner/name, found "https://github.com/acme/app"',
    });
  });

  it('refuses github-actions[bot] as a bot pusher: any writer pushes what they choose as it, from a workflow', () => {
    for (const login of ['github-actions[bot]', 'GitHub-Actions[bot]', 'github-actions']) {
      const error = policyError(`${MINIMAL}review:\n  bot-pushers: ["dependabot[bot]", "${login}"]\n`);
      expect(error.problems).toEqual([
        {
          path: 'review.bot-pushers.1',
          line: 10,
          message: `${login} cannot be a bot pusher: any writer pushes what they choose as it, from a workflow with the GITHUB_TOKEN`,
        },
      ]);
    }
  });

  it('refuses the Copilot coding agent as a bot pusher: it pushes what whoever asks it chooses', () => {
    // Found by the review of bots and agents: listed, alice's own commits put on its branch by a fast-forward she asks
    // for ("@copilot merge origin/alice-scratch") were the agent's pushes, and her approval counted as independent.
    for (const login of ['Copilot', 'copilot[bot]', 'copilot-swe-agent[bot]', 'Copilot-SWE-Agent', 'claude[bot]']) {
      const error = policyError(`${MINIMAL}review:\n  bot-pushers: ["dependabot[bot]", "${login}"]\n`);
      expect(error.problems).toEqual([
        {
          path: 'review.bot-pushers.1',
          line: 10,
          message: `${login} cannot be a bot pusher: a coding agent pushes what whoever asks it chooses, and names nobody who did`,
        },
      ]);
    }
  });

  it('refuses min-approvals below 1 (a gate that needs no approval is no gate)', () => {
    const error = policyError(`${MINIMAL}review: { min-approvals: 0 }\n`);
    expect(error.message).toContain('.twokey/policy.yml: review.min-approvals: expected at least 1, found 0');
  });

  it('refuses a min-seconds-after-push that is not a whole number of seconds from 0 to 86400', () => {
    for (const [bad, expected] of [
      ['-1', 'expected at least 0, found -1'],
      ['86401', 'expected at most 86400, found 86401'],
      ['1.5', 'expected integer, found the number 1.5'],
      ['30s', 'expected integer, found the string "30s"'],
    ]) {
      const error = policyError(`${MINIMAL}review: { min-seconds-after-push: ${bad} }\n`);
      expect(error.problems[0]).toMatchObject({ path: 'review.min-seconds-after-push', message: expected });
    }
    expect(parsePolicy(`${MINIMAL}review: { min-seconds-after-push: 0 }\n`, SOURCE).review.minSecondsAfterPush).toBe(0);
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
    const hosted = { runnerEnvironment: 'github-hosted' };
    const ours = {
      san: REUSABLE,
      issuer: ISSUER,
      extensions: { ...hosted, sourceRepositoryURI: 'https://github.com/acme/app' },
    };
    const fork = { ...ours, extensions: { ...hosted, sourceRepositoryURI: 'https://github.com/acme/app-fork' } };
    const unnamed = { ...ours, extensions: hosted };
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

/** A hang guard, not a benchmark (the figures are in bench/README.md): a backtracking engine takes hours here. */
const HANG_GUARD_MS = 3000;

/** The eight classic catastrophic patterns, each with the 64 KiB SAN that makes a backtracking engine explode. */
const CATASTROPHIC: { pattern: string; san: string }[] = [
  { pattern: '(a+)+$', san: `${'a'.repeat(MAX_MATCHED_SAN_LENGTH - 1)}!` },
  { pattern: '(a|a)*$', san: `${'a'.repeat(MAX_MATCHED_SAN_LENGTH - 1)}!` },
  { pattern: '(.|.)*X', san: 'x'.repeat(MAX_MATCHED_SAN_LENGTH) },
  { pattern: '(a*)*b', san: 'a'.repeat(MAX_MATCHED_SAN_LENGTH) },
  { pattern: '(x+x+)+y', san: 'x'.repeat(MAX_MATCHED_SAN_LENGTH) },
  { pattern: '^(([a-z])+.)+[A-Z]([a-z])+$', san: 'a'.repeat(MAX_MATCHED_SAN_LENGTH) },
  { pattern: String.raw`(\w+\s?)*$`, san: `${'a'.repeat(MAX_MATCHED_SAN_LENGTH - 1)}!` },
  { pattern: '(a|aa)+$', san: `${'a'.repeat(MAX_MATCHED_SAN_LENGTH - 1)}!` },
];

/** MINIMAL with the build identity given by a pattern and the sign identity by an exact SAN. */
function withBuildPattern(pattern: string, signSan = SIGN_SAN): string {
  return `version: 1
identities:
  build:
    issuer: ${ISSUER}
    san-pattern: '${pattern.replaceAll("'", "''")}'
  sign:
    issuer: ${ISSUER}
    san: '${signSan}'
`;
}

const SIGN_SAN = 'https://github.com/acme/platform/.github/workflows/sign.yml@refs/heads/main';

describe('identity patterns in a policy: RE2, linear time, anchored', () => {
  it.each(CATASTROPHIC)(
    'loads $pattern as a san-pattern and answers a 64 KiB SAN within a second',
    ({ pattern, san }) => {
      const start = performance.now();
      // At load the build pattern is tested against the sign SAN (build and sign must differ): here, one made to explode
      // a backtracking engine — that test alone hung the CLI and the gate, with no bundle at all.
      const policy = parsePolicy(withBuildPattern(pattern, san.slice(-4000)), SOURCE);
      expect(policy.identities.build.sanPattern).toBe(pattern);
      expect(matchIdentity(signer(san), policy.identities.build).ok).toBe(false);
      expect(matchIdentity(signer(san), { issuer: ISSUER, sanPattern: pattern }).ok).toBe(false);
      expect(performance.now() - start).toBeLessThan(HANG_GUARD_MS);
    },
  );

  it.each([
    ['a backreference', String.raw`(https://github\.com/[^/]+/)\1.*`],
    ['a lookahead', String.raw`(?=https://github\.com/acme/).*`],
    ['a negative lookahead', '(?!.*-evil).*'],
    ['a lookbehind', '.*(?<=main)'],
  ])('refuses %s (RE2 cannot express it), naming the key and the line', (_name, pattern) => {
    const error = policyError(withBuildPattern(pattern));
    expect(error.code).toBe('POLICY_INVALID');
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatchObject({ path: 'identities.build.san-pattern', line: 5 });
    expect(error.message).toMatch(/^\.twokey\/policy\.yml: identities\.build\.san-pattern: not an RE2 pattern: /);
  });

  it('refuses a pattern that closes the anchoring group (…)|(?:…), which would match every SAN with its prefix', () => {
    const error = policyError(withBuildPattern(String.raw`https://github\.com/acme/)|(?:.*`));
    expect(error.problems[0]).toMatchObject({
      path: 'identities.build.san-pattern',
      message: expect.stringMatching(/^not a valid regular expression: unexpected \)/),
    });
  });

  it('refuses a pattern over 1024 characters, or one that compiles to more than 2048 RE2 instructions', () => {
    expect(policyError(withBuildPattern('a'.repeat(1025))).problems[0]).toMatchObject({
      path: 'identities.build.san-pattern',
      message: 'expected at most 1024 characters, found 1025',
    });
    expect(policyError(withBuildPattern('(.?){1000}(.?){1000}')).problems[0]).toMatchObject({
      path: 'identities.build.san-pattern',
      message: expect.stringMatching(/^compiles to \d+ RE2 instructions, more than 2048/),
    });
  });

  it('still refuses a build pattern that the sign SAN matches (the overlap check runs on the new engine)', () => {
    const error = policyError(withBuildPattern(String.raw`https://github\.com/acme/.*`));
    expect(error.problems[0]).toMatchObject({
      path: 'identities.build.san-pattern',
      message: expect.stringContaining(`matches identities.sign.san (${SIGN_SAN})`),
    });
    // Anchored: a pattern for …/main does not overlap …/main-evil.
    expect(() =>
      parsePolicy(
        withBuildPattern(String.raw`https://github\.com/acme/platform/.*@refs/heads/main`, `${SIGN_SAN}-evil`),
        SOURCE,
      ),
    ).not.toThrow();
  });

  it('names a SAN over 64 KiB by its length: it never matches a pattern', () => {
    const long = `https://github.com/acme/${'a'.repeat(MAX_MATCHED_SAN_LENGTH)}`;
    const result = matchIdentity(signer(long), { issuer: ISSUER, sanPattern: '.*' });
    expect(result.ok).toBe(false);
    expect(result.reason).toContain(
      `found a SAN of ${long.length} characters (more than the 65536 an identity is matched on)`,
    );
  });
});

describe('YAML a policy may not use', () => {
  it.each([
    ['!!python/object:os.system', 'identities:\n  build: !!python/object:os.system\n    issuer: x\n'],
    ['!!js/function', 'deploy:\n  max-age: !!js/function "function () { return 1 }"\n'],
    ['!custom', 'review:\n  min-approvals: !custom 2\n'],
    ['!!binary', 'deploy:\n  trusted-root: !!binary cHVibGljLWdvb2Q=\n'],
    ['!!set', 'review:\n  protected-branches: !!set {main}\n'],
    ['!e!thing', '%TAG !e! tag:example.com,2026:\n---\nversion: !e!thing 1\n'],
  ])('refuses the tag %s as POLICY_SYNTAX, naming the line', (tag, text) => {
    const error = policyError(text);
    expect(error.code).toBe('POLICY_SYNTAX');
    expect(error.problems[0]).toMatchObject({
      path: '(yaml)',
      message: expect.stringContaining(`the tag ${tag.startsWith('!e!') ? 'tag:example.com,2026:thing' : tag}`),
    });
    expect(error.problems[0]!.line).toBe(
      text.split('\n').findIndex((l) => l.includes(tag.startsWith('!e!') ? '!e!thing 1' : tag)) + 1,
    );
  });

  it('still reads ordinary YAML: comments, quotes, flow and block lists, anchors, plain explicit tags', () => {
    const policy = parsePolicy(
      `# the org policy
version: !!int 1
identities:
  build: &github
    issuer: ${ISSUER}
    san: "${BUILD_SAN}"
  sign:
    issuer: !!str ${ISSUER}
    san-pattern: '${SIGN_PATTERN}'
review:
  min-approvals: 2 # two people
  protected-branches:
    - main
    - 'release/*'
deploy: !!map
  artifacts: [dist/app.tar.gz]
`,
      SOURCE,
    );
    expect(policy.identities.build).toEqual({
      issuer: ISSUER,
      san: BUILD_SAN,
      runnerEnvironment: 'github-hosted',
      triggers: ['push', 'workflow_dispatch'],
    });
    expect(policy.review.protectedBranches).toEqual(['main', 'release/*']);
    expect(policy.deploy.artifacts).toEqual(['dist/app.tar.gz']);
  });

  it('refuses a key given twice, also as 1 and "1" (both would become the same key), and a key that is a list', () => {
    const error = policyError(`${MINIMAL}review: { min-approvals: 2 }\nreview: { min-approvals: 1 }\n`);
    expect(error.problems[0]).toMatchObject({
      path: '(yaml)',
      message: 'Map keys must be unique: "review" appears twice',
      line: 10,
    });
    expect(policyError(`${MINIMAL}deploy: { 1: a, "1": b }\n`).problems[0]!.message).toContain('"1" appears twice');
    expect(policyError(`${MINIMAL}? [review]\n: { min-approvals: 0 }\n`).problems[0]).toMatchObject({
      path: '(yaml)',
      message: 'a key must be a plain scalar',
      line: 9,
    });
  });
});

describe('bounds on what can grow in a policy', () => {
  const timed = <T>(run: () => T): T => {
    const start = performance.now();
    const result = run();
    expect(performance.now() - start).toBeLessThan(HANG_GUARD_MS);
    return result;
  };

  it('refuses a document over 128 KiB before parsing it', () => {
    const error = timed(() => policyError(`${MINIMAL}# ${'x'.repeat(MAX_POLICY_LENGTH)}\n`));
    expect(error.problems).toEqual([
      {
        path: '(document)',
        message: `${MINIMAL.length + MAX_POLICY_LENGTH + 3} characters, more than the 131072 a policy may have`,
      },
    ]);
  });

  it(`refuses nesting deeper than ${MAX_POLICY_DEPTH} levels, and a flow list 50,000 deep, quickly`, () => {
    const deep = timed(() => policyError(`${MINIMAL}review: ${'['.repeat(20)}${']'.repeat(20)}\n`));
    expect(deep.code).toBe('POLICY_SYNTAX');
    expect(deep.problems[0]).toMatchObject({ path: '(yaml)', message: 'nested more than 16 levels deep', line: 9 });
    const deeper = timed(() => policyError(`${MINIMAL}review: ${'['.repeat(50000)}${']'.repeat(50000)}\n`));
    expect(deeper.code).toBe('POLICY_SYNTAX');
    expect(deeper.problems[0]!.message).toMatch(/^nested (too deeply to read|more than 16 levels deep)/);
  });

  it('reads 5,000 keys (10,000 given twice) in linear time and lists the first 20 problems, then how many more', () => {
    const keys = Array.from({ length: 5000 }, (_, i) => `  k${i}: 1`).join('\n');
    const error = timed(() => policyError(`${MINIMAL}review:\n${keys}\n`));
    expect(error.problems).toHaveLength(MAX_REPORTED_PROBLEMS + 1);
    expect(error.problems.at(-1)).toEqual({ path: '(policy)', message: 'and 4980 more problems' });
    expect(error.message.split('\n')).toHaveLength(MAX_REPORTED_PROBLEMS + 1);
    const twice = timed(() => policyError(`${MINIMAL}review:\n${keys}\n${keys}\n`));
    expect(twice.problems[0]!.message).toBe('Map keys must be unique: "k0" appears twice');
  });

  it.each([
    ['deploy.artifacts', 'deploy', 'artifacts', (i: number) => `dist/app-${i}.tar.gz`],
    ['deploy.repositories', 'deploy', 'repositories', (i: number) => `acme/app-${i}`],
    ['review.protected-branches', 'review', 'protected-branches', (i: number) => `release/${i}`],
    ['review.non-human-co-authors', 'review', 'non-human-co-authors', (i: number) => `bot-${i}@tools.example`],
    ['review.bot-pushers', 'review', 'bot-pushers', (i: number) => `"app-${i}[bot]"`],
  ])('refuses more than 256 entries in %s', (path, part, key, entry) => {
    const list = (n: number) =>
      `${MINIMAL}${part}:\n  ${key}: [${Array.from({ length: n }, (_, i) => entry(i)).join(', ')}]\n`;
    expect(() => parsePolicy(list(256), SOURCE)).not.toThrow();
    expect(policyError(list(257)).problems[0]).toMatchObject({
      path,
      message: 'expected at most 256 entries, found 257',
    });
  });

  it('refuses an entry too long to be a glob, branch, repository, address, SAN, issuer or path', () => {
    const cases: [string, string, string][] = [
      [
        `deploy: { artifacts: [${'a'.repeat(256)}] }`,
        'deploy.artifacts.0',
        'expected at most 255 characters, found 256',
      ],
      [
        `review: { protected-branches: [${'b'.repeat(256)}] }`,
        'review.protected-branches.0',
        'expected at most 255 characters, found 256',
      ],
      [
        `deploy: { repositories: [acme/${'r'.repeat(136)}] }`,
        'deploy.repositories.0',
        'expected at most 140 characters, found 141',
      ],
      [
        `review: { non-human-co-authors: [${'m'.repeat(250)}@x.io] }`,
        'review.non-human-co-authors.0',
        'expected at most 254 characters, found 255',
      ],
      [
        `deploy: { trusted-root: ${'p'.repeat(4097)} }`,
        'deploy.trusted-root',
        'expected at most 4096 characters, found 4097',
      ],
    ];
    for (const [part, path, message] of cases) {
      expect(policyError(`${MINIMAL}${part}\n`).problems[0]).toMatchObject({ path, message });
    }
    expect(
      policyError(MINIMAL.replace(`san: ${BUILD_SAN}`, `san: ${BUILD_SAN}${'x'.repeat(4096)}`)).problems[0],
    ).toMatchObject({
      path: 'identities.build.san',
      message: `expected at most 4096 characters, found ${BUILD_SAN.length + 4096}`,
    });
    expect(
      policyError(MINIMAL.replace(`issuer: ${ISSUER}`, `issuer: ${ISSUER}/${'i'.repeat(1024)}`)).problems[0],
    ).toMatchObject({
      path: 'identities.build.issuer',
      message: `expected at most 1024 characters, found ${ISSUER.length + 1025}`,
    });
  });

  it('quotes a long wrong value by its first 100 characters', () => {
    const error = policyError(`${MINIMAL}review: { allow-bots: "${'y'.repeat(5000)}" }\n`);
    expect(error.problems[0]!.message).toBe(
      `expected boolean, found the string "${'y'.repeat(100)}"… (5000 characters)`,
    );
  });
});
