import { describe, expect, it } from 'vitest';
import { errorKindOf } from './error';
import { compileNameGlob, MAX_NAME_GLOB_LENGTH, matchesAnyGlob, NameGlobError } from './name-glob';
import { PolicyError, parsePolicy, parseRepositoryPolicy } from './policy';

describe('compileNameGlob', () => {
  it.each([
    ['*.tar.gz', 'app.tar.gz', true],
    ['*.tar.gz', 'dist/app.tar.gz', false],
    ['dist/*.whl', 'dist/app-1.0.whl', true],
    ['**/*.whl', 'dist/py/app.whl', true],
    ['app-?', 'app-x', true],
    ['app-?', 'app-/', false],
    ['release/*', 'release/1.2', true],
    ['release/*', 'release/1.2/hotfix', false],
    ['release/**', 'release/1.2/hotfix', true],
    ['[ab]pp', 'app', true],
    ['[!ab]pp', 'app', false],
    ['v[0-9].*', 'v1.2', true],
    ['a.b', 'axb', false],
    ['main', 'main-evil', false],
    ['(x)+', '(x)+', true],
  ])('%s against %s: %s (whole name, literal elsewhere)', (glob, name, expected) => {
    expect(compileNameGlob(glob).matches(name)).toBe(expected);
  });

  it('answers catastrophic globs on long names at once (node:path matchesGlob backtracked for seconds)', () => {
    const name = `${'a'.repeat(250)}c`;
    for (const glob of ['*a*a*a*ab', '*a*a*a*a*a*a*a*a*a*ab', '**a**a**a**a**ab']) {
      const started = performance.now();
      expect(compileNameGlob(glob).matches(name)).toBe(false);
      // A hang guard, not a benchmark: the match is linear in the name.
      expect(performance.now() - started).toBeLessThan(1000);
    }
  });

  it('refuses braces, extglobs, unclosed classes and over-long globs, saying what is wrong', () => {
    expect(() => compileNameGlob('{1..100000}')).toThrow(/braces and extglobs are not part of a name glob/);
    expect(() => compileNameGlob('+(a|aa)b')).toThrow(/braces and extglobs/);
    expect(() => compileNameGlob('app[0-9')).toThrow(/never closed/);
    // What RE2 refuses in a class the glob wrote is the glob's error, never an internal one (exit 3).
    for (const glob of ['release/[9-0]*', 'app-[z-a].tgz', '[😀-a]']) {
      expect(() => compileNameGlob(glob)).toThrow(NameGlobError);
      expect(() => compileNameGlob(glob)).toThrow(/is no name glob: invalid character class range/);
    }
    expect(() => compileNameGlob('x'.repeat(MAX_NAME_GLOB_LENGTH + 1))).toThrow(/more than 255/);
  });

  it('finds the first glob of a list a name matches', () => {
    expect(matchesAnyGlob('app.whl', ['*.tar.gz', '*.whl'])).toBe('*.whl');
    expect(matchesAnyGlob('app.zip', ['*.tar.gz', '*.whl'])).toBeUndefined();
  });
});

describe('name globs in a policy', () => {
  const minimal = `version: 1
identities:
  build: { issuer: https://token.actions.githubusercontent.com, san: https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main }
  sign: { issuer: https://token.actions.githubusercontent.com, san: https://github.com/acme/platform/.github/workflows/sign.yml@refs/heads/main }
`;

  it('names the file and the key of an inverted range, in an org policy and a repository policy (exit 2)', () => {
    const org = parsePolicy(`${minimal}review: { protected-branches: [main, "release/*"] }\n`, 'org.yml');
    for (const [parse, file, path] of [
      [
        () => parsePolicy(`${minimal}deploy: { artifacts: ["app-[9-0].tgz"] }\n`, 'org.yml'),
        'org.yml',
        'deploy.artifacts.0',
      ],
      [
        () =>
          parseRepositoryPolicy(
            'version: 1\nreview:\n  protected-branches: ["release/[9-0]*"]\n',
            '.twokey/policy.yml',
            org,
          ),
        '.twokey/policy.yml',
        'review.protected-branches.0',
      ],
    ] as const) {
      let error: unknown;
      try {
        parse();
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(PolicyError);
      expect(errorKindOf(error)).toBe('usage');
      expect((error as PolicyError).message).toContain(file);
      expect((error as PolicyError).problems.map((p) => p.path)).toEqual([path]);
    }
  });

  it('names the key and the glob of a glob it cannot use', () => {
    let error: unknown;
    try {
      parsePolicy(
        `${minimal}deploy: { artifacts: ["*.tar.gz", "{a,b}.zip"] }\nreview: { protected-branches: ["release/[0-9"] }\n`,
        'p.yml',
      );
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(PolicyError);
    expect((error as PolicyError).problems.map((p) => p.path)).toEqual([
      'deploy.artifacts.1',
      'review.protected-branches.0',
    ]);
    expect((error as PolicyError).message).toContain('braces and extglobs');
  });
});
