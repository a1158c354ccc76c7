// A repository policy moved under a name that only looks like `.twokey/policy.yml` (threat model row 188). alice has a
// "tidy-up" merged to the default branch that renames the directory to `.two\u212Aey` (a Kelvin sign, which Unicode
// case folding takes for `k`), `.twokey\u200B` (a zero-width space: GitHub shows `.twokey`), `．ｔｗｏｋｅｙ` (full-width
// forms) or the file to `policy.yml\u200B`, `pol\u0131cy.yml` (a dotless i). The default location was then
// missing, which means no repository policy: the sign, deploy and report actions applied the org policy alone,
// without a word, while a reader of the repository sees the stricter policy there. Any name at either level that
// equals `.twokey` or `policy.yml` once default-ignorable code points are removed, NFKC-normalised and case-folded,
// but is not exactly it, is now refused (POLICY_UNREADABLE, naming it with its invisible characters shown) — beside
// the policy as well as in its place, by the actions and by the CLI alike.
// The workspace here is checked out as the reusable workflows check it out (their sparse-checkout pattern, read from
// twokey-sign.yml), which brings every top-level lookalike of `.twokey` (a file beside policy.yml in `.twokey` always
// was).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPolicyFiles, SigstoreInputError } from '@twokey/sigstore';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../conformance/paths';

const ISSUER = 'https://token.actions.githubusercontent.com';
const ORG_POLICY = `version: 1
identities:
  build: { issuer: ${ISSUER}, san: "https://github.com/acme/platform/.github/workflows/b.yml@refs/tags/v1" }
  sign: { issuer: ${ISSUER}, san: "https://github.com/acme/platform/.github/workflows/s.yml@refs/tags/v1" }
`;
const STRICT = 'version: 1\nreview:\n  min-approvals: 3\ndeploy:\n  approvals:\n    min: 2\n';
const LENIENT = 'version: 1\nreview:\n  min-approvals: 1\n';

/** The reusable workflows' sparse-checkout pattern for the repository policy, as twokey-sign.yml writes it. */
const SPARSE_CHECKOUT = (
  parse(readFileSync(join(repoRoot, '.github/workflows/twokey-sign.yml'), 'utf8')) as {
    jobs: Record<string, { steps?: { uses?: string; with?: Record<string, unknown> }[] }>;
  }
).jobs.sign!.steps!.find((s) => s.uses?.startsWith('actions/checkout@'))!.with!['sparse-checkout'] as string;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.email=a@b', '-c', 'user.name=a', '-c', 'core.quotePath=false', ...args], {
    cwd,
    stdio: 'pipe',
  });

/**
 * The default branch: the honest `.twokey/policy.yml` first, then alice's "tidy-up" commit (`tidy`), merged. The
 * workspace of the sign, deploy and report actions with that branch checked out at `repository-policy`, and a release
 * manager's clone.
 */
function setUp(tidy: (repo: string) => void) {
  const root = mkdtempSync(join(tmpdir(), 'twokey-lookalike-'));
  dirs.push(root);
  const repo = join(root, 'origin');
  mkdirSync(repo);
  git(repo, 'init', '-q', '-b', 'main');
  mkdirSync(join(repo, '.twokey'));
  writeFileSync(join(repo, '.twokey', 'policy.yml'), STRICT);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-qm', 'our stricter policy');
  tidy(repo);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-qm', 'tidy up the policy directory');
  const workspace = join(root, 'workspace');
  mkdirSync(workspace);
  // The reusable workflows' checkout: the default branch, sparse, every top-level entry that does not start with an
  // ASCII letter, digit, `_` or `-` (non-cone; .github/workflows/twokey-{sign,deploy,report}.yml).
  const checkout = join(workspace, 'repository-policy');
  mkdirSync(checkout);
  git(checkout, 'init', '-q');
  git(checkout, 'remote', 'add', 'origin', repo);
  git(checkout, 'sparse-checkout', 'set', '--no-cone', SPARSE_CHECKOUT);
  git(checkout, 'fetch', '-q', '--depth', '1', 'origin', 'main');
  git(checkout, 'checkout', '-q', 'FETCH_HEAD');
  writeFileSync(join(workspace, 'org-policy.yml'), ORG_POLICY);
  const full = join(root, 'full');
  git(root, 'clone', '-q', repo, full);
  writeFileSync(join(full, 'org-policy.yml'), ORG_POLICY);
  return { workspace, full };
}

/** What the sign, deploy and report actions read: the default location, which may be absent. */
const actionPolicy = (workspace: string) =>
  readPolicyFiles('org-policy.yml', { path: 'repository-policy/.twokey/policy.yml', optional: true }, workspace);
/** `twokey verify --policy org-policy.yml --repository-policy .twokey/policy.yml` in the clone. */
const cliPolicy = (full: string) => readPolicyFiles('org-policy.yml', { path: '.twokey/policy.yml' }, full);

function refusal(read: () => unknown): SigstoreInputError {
  try {
    read();
  } catch (error) {
    if (error instanceof SigstoreInputError) return error;
    throw error;
  }
  throw new Error('expected the repository policy to be refused');
}

const rename = (from: string, to: string) => (repo: string) => git(repo, 'mv', from, to);

describe('a repository policy under a name that only looks like .twokey/policy.yml', () => {
  it.each([
    ['the directory: .two\\u212Aey, a Kelvin sign', rename('.twokey', '.two\u212Aey'), '.two\\u{212a}ey'],
    ['the directory: .twokey\\u200B, a zero-width space', rename('.twokey', '.twokey\u200B'), '.twokey\\u{200b}'],
    [
      'the directory: .ｔｗｏｋｅｙ in full-width forms',
      rename('.twokey', '.\uFF54\uFF57\uFF4F\uFF4B\uFF45\uFF59'),
      '.\\u{ff54}\\u{ff57}\\u{ff4f}\\u{ff4b}\\u{ff45}\\u{ff59}',
    ],
    ['the directory: .TWO\\u00ADKEY, a soft hyphen', rename('.twokey', '.TWO\u00ADKEY'), '.TWO\\u{ad}KEY'],
    [
      'the file: policy.yml\\u200B, a zero-width space',
      rename('.twokey/policy.yml', '.twokey/policy.yml\u200B'),
      '.twokey/policy.yml\\u{200b}',
    ],
    [
      'the file: pol\\u0131cy.yml, a dotless i',
      rename('.twokey/policy.yml', '.twokey/pol\u0131cy.yml'),
      '.twokey/pol\\u{131}cy.yml',
    ],
    [
      'the file: \\u2060policy.yml, a word joiner',
      rename('.twokey/policy.yml', '.twokey/\u2060policy.yml'),
      '.twokey/\\u{2060}policy.yml',
    ],
    // No folding makes these the name, yet a reader sees it (a review of the first check): spaces and homoglyphs.
    ['the directory: ".twokey ", a trailing space', rename('.twokey', '.twokey '), '.twokey\\u{20}'],
    ['the directory: .twokey\\u00A0, a no-break space', rename('.twokey', '.twokey\u00A0'), '.twokey\\u{a0}'],
    ['the directory: .twokey\\u2800, a Braille blank', rename('.twokey', '.twokey\u2800'), '.twokey\\u{2800}'],
    ['the directory: .tw\\u043Ekey, a Cyrillic o', rename('.twokey', '.tw\u043Ekey'), '.tw\\u{43e}key'],
    [
      'the file: "policy.yml ", a trailing space',
      rename('.twokey/policy.yml', '.twokey/policy.yml '),
      '.twokey/policy.yml\\u{20}',
    ],
    [
      'the file: policy.yml\\u3000, an ideographic space',
      rename('.twokey/policy.yml', '.twokey/policy.yml\u3000'),
      '.twokey/policy.yml\\u{3000}',
    ],
    [
      'the file: p\\u043Elicy.yml, a Cyrillic o',
      rename('.twokey/policy.yml', '.twokey/p\u043Elicy.yml'),
      '.twokey/p\\u{43e}licy.yml',
    ],
  ] as const)(
    '%s: refused by the actions and by twokey verify, naming it, never the org policy alone',
    (_name, tidy, shown) => {
      const { workspace, full } = setUp(tidy);
      const action = refusal(() => actionPolicy(workspace));
      expect(action.code).toBe('POLICY_UNREADABLE');
      expect(action.message).toContain('repository-policy/.twokey/policy.yml: cannot read repository policy: ');
      expect(action.message).toContain(`repository-policy/${shown}`);
      // Nothing invisible reaches the message: each such character is spelt out.
      expect(action.message).not.toMatch(/[^\x20-\x7e]/);
      const cli = refusal(() => cliPolicy(full));
      expect(cli.code).toBe('POLICY_UNREADABLE');
      expect(cli.message).toContain(`: ${shown} `);
    },
  );

  it('refuses a lookalike beside the policy too: which of the two is the policy is for no reader to guess', () => {
    const { workspace, full } = setUp((repo) => {
      // The honest file loosened to the org's defaults; the strict one kept where GitHub shows it as `.twokey` too.
      mkdirSync(join(repo, '.twokey\u200B'));
      writeFileSync(join(repo, '.twokey\u200B', 'policy.yml'), STRICT);
      writeFileSync(join(repo, '.twokey', 'policy.yml'), LENIENT);
    });
    expect(() => actionPolicy(workspace)).toThrow('repository-policy/.twokey\\u{200b} ');
    expect(() => cliPolicy(full)).toThrow('.twokey\\u{200b} ');
    const file = setUp((repo) => writeFileSync(join(repo, '.twokey', 'policy.yml\uFEFF'), STRICT));
    expect(() => actionPolicy(file.workspace)).toThrow('repository-policy/.twokey/policy.yml\\u{feff} ');
  });

  it('keeps the message of a name that differs only by ASCII case', () => {
    const { workspace } = setUp(rename('.twokey', '.TwoKey'));
    expect(() => actionPolicy(workspace)).toThrow(
      'repository-policy/.TwoKey differs from it only by case (a clone on a case-insensitive file system reads it as the policy',
    );
  });

  it('still reads the policy beside names that are not lookalikes, and no policy where there is none', () => {
    const { workspace, full } = setUp((repo) => {
      mkdirSync(join(repo, '.twokey-old'));
      writeFileSync(join(repo, '.twokey-old', 'policy.yml'), LENIENT);
      writeFileSync(join(repo, '.twokey', 'policy.yml.bak'), LENIENT);
      writeFileSync(join(repo, '.twokey', 'policy.yaml'), LENIENT);
      // Names outside ASCII that pass for neither (a team's own directory, a note beside the policy).
      mkdirSync(join(repo, '\u00DCbersicht'));
      writeFileSync(join(repo, '\u00DCbersicht', 'README.md'), 'notes\n');
      mkdirSync(join(repo, '.\u00E9t\u00E9'));
      writeFileSync(join(repo, '.\u00E9t\u00E9', 'notes.md'), 'notes\n');
      writeFileSync(join(repo, '.twokey', 'r\u00E9sum\u00E9.md'), 'notes\n');
    });
    for (const policy of [actionPolicy(workspace), cliPolicy(full)]) {
      expect(policy.review.minApprovals).toBe(3);
      expect(policy.deploy.approvals.min).toBe(2);
    }
    const none = setUp((repo) => git(repo, 'rm', '-rq', '.twokey'));
    expect(actionPolicy(none.workspace).repository).toBeUndefined();
  });
});
