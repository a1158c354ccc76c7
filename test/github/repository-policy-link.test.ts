// A repository policy that is a symbolic link on the default branch (threat model row 188). The reusable workflows
// check out `.twokey` alone (sparse, non-cone); they checked out `/.twokey/policy.yml` alone, where a link (or a
// `.twokey` that is itself a link to a directory) was left dangling or not there at all, so the sign, deploy and
// report actions applied the org policy alone, without a word — while GitHub, every full clone and `twokey verify
// --repository-policy .twokey/policy.yml` followed it to the stricter file. A link to a file outside the checkout
// (/proc/self/environ, a token) was followed and its start echoed in the error. A repository policy is now read as the
// file itself: a link anywhere on its path is refused, by the actions and by the CLI alike.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { policyInputs } from '@twokey/github';
import { readPolicyFiles } from '@twokey/sigstore';
import { afterEach, describe, expect, it, vi } from 'vitest';

const ISSUER = 'https://token.actions.githubusercontent.com';
const ORG_POLICY = `version: 1
identities:
  build: { issuer: ${ISSUER}, san: "https://github.com/acme/platform/.github/workflows/b.yml@refs/tags/v1" }
  sign: { issuer: ${ISSUER}, san: "https://github.com/acme/platform/.github/workflows/s.yml@refs/tags/v1" }
`;
const STRICT = 'version: 1\nreview:\n  min-approvals: 3\ndeploy:\n  approvals:\n    min: 2\n';

const dirs: string[] = [];
afterEach(() => {
  vi.unstubAllEnvs();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.email=a@b', '-c', 'user.name=a', ...args], { cwd, stdio: 'pipe' });

/** The default branch of a repository laid out by `layout`, and a workspace as the reusable workflows make it. */
function setUp(layout: (repo: string) => void) {
  const root = mkdtempSync(join(tmpdir(), 'twokey-symlink-'));
  dirs.push(root);
  const repo = join(root, 'origin');
  mkdirSync(repo);
  git(repo, 'init', '-q', '-b', 'main');
  layout(repo);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-qm', 'move the policy, keep a link');
  // The workflows' step: actions/checkout, ref = default branch, sparse-checkout of every top-level entry that does
  // not start with an ASCII letter, digit, `_` or `-` (non-cone), path: repository-policy.
  const workspace = join(root, 'workspace');
  const checkout = join(workspace, 'repository-policy');
  mkdirSync(checkout, { recursive: true });
  git(checkout, 'init', '-q');
  git(checkout, 'remote', 'add', 'origin', repo);
  git(checkout, 'sparse-checkout', 'set', '--no-cone', '/[!a-zA-Z0-9_-]*');
  git(checkout, 'fetch', '-q', '--depth', '1', 'origin', 'main');
  git(checkout, 'checkout', '-q', 'FETCH_HEAD');
  writeFileSync(join(workspace, 'org-policy.yml'), ORG_POLICY);
  // A release manager's full clone, for `twokey verify --policy org-policy.yml --repository-policy .twokey/policy.yml`.
  const full = join(root, 'full');
  git(root, 'clone', '-q', repo, full);
  writeFileSync(join(full, 'org-policy.yml'), ORG_POLICY);
  return { workspace, full };
}

/** What the sign, deploy and report actions read: policyInputs() then readPolicyFiles(), as the stages do. */
function actionPolicy(workspace: string) {
  vi.stubEnv('INPUT_POLICY', 'org-policy.yml');
  vi.stubEnv('INPUT_REPOSITORY-POLICY', 'repository-policy/.twokey/policy.yml'); // as twokey-{sign,deploy}.yml pass it
  const inputs = policyInputs('/platform/actions/sign/dist/index.js');
  return readPolicyFiles(inputs.policy, inputs.repositoryPolicy, workspace);
}

const LINK_REFUSED = /cannot read repository policy: .* is a symbolic link/;

describe('a repository policy behind a symbolic link', () => {
  it.each([
    [
      '.twokey/policy.yml -> policy.strict.yml',
      '.twokey/policy.yml',
      (repo: string) => {
        mkdirSync(join(repo, '.twokey'));
        writeFileSync(join(repo, '.twokey', 'policy.strict.yml'), STRICT);
        symlinkSync('policy.strict.yml', join(repo, '.twokey', 'policy.yml'));
      },
    ],
    [
      '.twokey -> config/twokey',
      '.twokey',
      (repo: string) => {
        mkdirSync(join(repo, 'config', 'twokey'), { recursive: true });
        writeFileSync(join(repo, 'config', 'twokey', 'policy.yml'), STRICT);
        symlinkSync('config/twokey', join(repo, '.twokey'));
      },
    ],
  ])('%s: refused by the actions and by twokey verify alike, never the org policy alone', (_name, link, layout) => {
    const { workspace, full } = setUp(layout);
    expect(() => actionPolicy(workspace)).toThrow(LINK_REFUSED);
    expect(() => actionPolicy(workspace)).toThrow(`repository-policy/${link} is a symbolic link`);
    expect(() => readPolicyFiles('org-policy.yml', { path: '.twokey/policy.yml' }, full)).toThrow(LINK_REFUSED);
  });

  it('refuses a link to a file outside the checkout, and shows nothing of it', () => {
    const secret = join(mkdtempSync(join(tmpdir(), 'twokey-secret-')), 'token');
    dirs.push(join(secret, '..'));
    writeFileSync(secret, 'ghs_THIS_IS_A_SECRET_TOKEN_0123456789\n');
    const { workspace } = setUp((repo) => {
      mkdirSync(join(repo, '.twokey'));
      symlinkSync(secret, join(repo, '.twokey', 'policy.yml')); // or /proc/self/environ, ../../artifacts/…
    });
    expect(() => actionPolicy(workspace)).toThrow(LINK_REFUSED);
    expect(() => actionPolicy(workspace)).not.toThrow(/ghs_THIS_IS_A_SECRET/);
  });

  it('refuses a .twokey that is a submodule: the checkout leaves an empty directory where a recursive clone reads a policy', () => {
    const { workspace } = setUp((repo) => {
      const config = join(repo, '..', 'config');
      mkdirSync(config);
      git(config, 'init', '-q', '-b', 'main');
      writeFileSync(join(config, 'policy.yml'), STRICT);
      git(config, 'add', '-A');
      git(config, 'commit', '-qm', 'the strict policy');
      git(repo, '-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', config, '.twokey');
    });
    expect(() => actionPolicy(workspace)).toThrow(
      'repository-policy/.twokey is an empty directory (a submodule, which the reusable workflows’ checkout does not fetch'.replace(
        '’',
        "'",
      ),
    );
  });

  it('refuses a .TwoKey that differs from .twokey only by case: a case-insensitive clone reads it as the policy', () => {
    const { workspace } = setUp((repo) => {
      mkdirSync(join(repo, '.TwoKey'));
      writeFileSync(join(repo, '.TwoKey', 'policy.yml'), STRICT);
    });
    expect(() => actionPolicy(workspace)).toThrow(
      'repository-policy/.TwoKey differs from it only by case (a clone on a case-insensitive file system reads it as the policy',
    );
  });

  it('still reads the file itself, and the org policy alone where the repository has none', () => {
    const { workspace, full } = setUp((repo) => {
      mkdirSync(join(repo, '.twokey'));
      writeFileSync(join(repo, '.twokey', 'policy.yml'), STRICT);
    });
    for (const policy of [
      actionPolicy(workspace),
      readPolicyFiles('org-policy.yml', { path: '.twokey/policy.yml' }, full),
    ]) {
      expect(policy.review.minApprovals).toBe(3);
      expect(policy.deploy.approvals.min).toBe(2);
    }
    const none = setUp((repo) => writeFileSync(join(repo, 'README.md'), 'no policy of its own\n'));
    const policy = actionPolicy(none.workspace);
    expect(policy.repository).toBeUndefined();
    expect(policy.review.minApprovals).toBe(1);
  });
});
