// Each action's dist/ is committed (GitHub runs it as is, as actions/attest does): a fresh esbuild build of the
// sources must be byte for byte what is committed, file for file — the entry, the files its dynamic imports and the
// GitHub client are read from (scripts/build.mjs), and nothing else — so no action runs code that is not in its
// sources.
//
// And what an action reference serves is those files as they are: GitHub's tarball of the repository at the ref keeps
// a symbolic link as a link, which the action's Node then follows from its working directory (the job's workspace):
// a dist/github.cjs that is a link to /proc/self/cwd/actions/build/dist/github.cjs reads byte for byte as the genuine
// file here (the tests run in the repository) and runs the workspace's file on a runner, inside the deploy gate, with
// the job's OIDC request token at hand. So every entry the actions serve is a regular file or a directory, in the
// working tree (lstat) and in git (mode 100644: no link, no submodule), no attribute makes GitHub's tarball differ
// from the checkout, and no action runs a step of its own before or after its main (runs: using and main only).
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix } from 'node:path';
import { FRESH_DIST_VARIABLE } from '@twokey/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
// @ts-expect-error: the build script is plain JavaScript without type declarations
import { bundle, targets } from '../scripts/build.mjs';
import { repoRoot } from './conformance/paths';

interface Target {
  entry: string;
  outfile: string;
}

const actions = (targets as Target[]).filter((t) => t.outfile.startsWith('actions/'));

describe('committed dist/', () => {
  it('covers the five actions, and the batch worker entry of the one that verifies evidence in batches', () => {
    expect(actions.map((t) => t.outfile)).toEqual([
      'actions/build/dist/index.js',
      'actions/sign/dist/index.js',
      'actions/break-glass/dist/index.js',
      'actions/deploy/dist/index.js',
      'actions/deploy/dist/batch-worker.js',
      'actions/report/dist/index.js',
    ]);
  });

  const distDirectories = [...new Set(actions.map((t) => dirname(t.outfile)))];

  it.each(distDirectories)('%s matches a fresh build, file for file', async (dist) => {
    const here = actions.filter((t) => dirname(t.outfile) === dist);
    for (const target of here) {
      expect(
        existsSync(join(repoRoot, target.outfile)),
        `${target.outfile} is not committed: run \`npm run build\``,
      ).toBe(true);
    }
    // The fresh build the test run's global setup made (test/fresh-dist.ts), else one made here.
    const shared = process.env[FRESH_DIST_VARIABLE] && join(process.env[FRESH_DIST_VARIABLE], dist);
    const fresh = shared && existsSync(shared) ? shared : mkdtempSync(join(tmpdir(), 'twokey-dist-'));
    if (fresh !== shared) {
      const cwd = process.cwd();
      process.chdir(repoRoot);
      try {
        for (const target of here) await bundle(target, join(fresh, basename(target.outfile)));
      } finally {
        process.chdir(cwd);
      }
    }
    const made = readdirSync(fresh).sort();
    expect(
      readdirSync(join(repoRoot, dist)).sort(),
      `${dist}: run \`npm run build\` and commit what it writes`,
    ).toEqual(made);
    for (const file of made) {
      // Read through lstat first: readFileSync follows a link to whatever it leads to from here.
      expect(lstatSync(join(repoRoot, dist, file)).isFile(), `${dist}/${file} is not a regular file`).toBe(true);
      const same = readFileSync(join(fresh, file)).equals(readFileSync(join(repoRoot, dist, file)));
      expect(same, `${dist}/${file} differs from a fresh build: run \`npm run build\` and commit`).toBe(true);
    }
  });
});

/** What an action reference (`uses: twokey-dev/twokey@REF`, `…/actions/STAGE@REF`) serves and runs from. */
const SERVED = ['action.yml', 'actions', '.twokey'] as const;

/** Git modes by name: only 100644 (a regular file, not executable) is served as it is; no file here is executable. */
const MODES: Record<string, string> = {
  '100755': 'an executable file',
  '120000': 'a symbolic link',
  '160000': 'a submodule',
};

/**
 * Attributes that change nothing of what `git archive` (GitHub's tarball) writes: how GitHub shows a file. Any other
 * (export-ignore, export-subst, text, eol, crlf, ident, filter, working-tree-encoding, a macro of them) is refused.
 */
const HARMLESS_ATTRIBUTE = /^(linguist-[a-z-]+|diff|merge|whitespace)$/;

/**
 * Git, here, whatever the environment a test run inherits says (a hook's GIT_DIR or GIT_INDEX_FILE); in a copy made
 * here, whatever the machine's git configuration says too.
 */
function git(root: string, args: string[], input?: string): string {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('GIT_')));
  if (root !== repoRoot) Object.assign(env, { GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' });
  const run = spawnSync('git', ['-c', 'core.attributesFile=/dev/null', ...args], {
    cwd: root,
    encoding: 'utf8',
    input,
    env,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`git ${args.join(' ')} (in ${root}): ${run.error ?? run.stderr}`);
  return run.stdout;
}

const nulSeparated = (text: string) => text.split('\0').filter((part) => part !== '');

/**
 * Why the tree at `root` (a git work tree) must not be served as twokey's actions; empty when it may be. Git's index is
 * what is committed (a fresh clone's working tree is HEAD's, which is GitHub's tarball but for attributes); the
 * working tree is what the tests here read.
 */
function servedProblems(root: string): string[] {
  const problems: string[] = [];

  // Git: each entry a regular file, neither executable, nor a link, nor a submodule.
  const tracked: string[] = [];
  for (const entry of nulSeparated(git(root, ['ls-files', '--stage', '-z', '--', ...SERVED]))) {
    const [meta, path] = entry.split('\t') as [string, string];
    const mode = meta.split(' ')[0]!;
    tracked.push(path);
    if (mode !== '100644') problems.push(`${path}: git mode ${mode}, ${MODES[mode] ?? 'not a regular file'}`);
  }
  if (!tracked.includes('action.yml')) problems.push('action.yml: not in git');

  // The working tree: every entry a regular file or a directory by lstat, but what git ignores (the workspace's
  // node_modules links, which nothing serves).
  const ignored = new Set(
    nulSeparated(
      git(root, ['ls-files', '-z', '--others', '--ignored', '--exclude-standard', '--directory', '--', ...SERVED]),
    ).map((path) => path.replace(/\/$/, '')),
  );
  const visit = (path: string) => {
    if (ignored.has(path)) return;
    const stat = lstatSync(join(root, path));
    if (stat.isDirectory()) {
      for (const name of readdirSync(join(root, path)).sort()) visit(posix.join(path, name));
    } else if (stat.isSymbolicLink()) {
      problems.push(`${path}: a symbolic link in the working tree`);
    } else if (!stat.isFile()) {
      problems.push(`${path}: neither a regular file nor a directory in the working tree`);
    }
  };
  for (const top of SERVED) if (lstatExists(join(root, top))) visit(top);

  // Attributes (the committed .gitattributes files, as GitHub reads them): none that makes the tarball differ from
  // the checkout.
  if (tracked.length > 0) {
    const output = nulSeparated(git(root, ['check-attr', '--cached', '-a', '-z', '--stdin'], tracked.join('\0')));
    for (let k = 0; k + 2 < output.length; k += 3) {
      const [path, attribute, value] = [output[k]!, output[k + 1]!, output[k + 2]!];
      if (!HARMLESS_ATTRIBUTE.test(attribute)) {
        problems.push(`${path}: attribute ${attribute}=${value} changes what GitHub's tarball holds`);
      }
    }
  }

  // Each action: a Node action that runs its main and nothing else, from a file git holds.
  for (const file of tracked.filter((path) => /(^|\/)action\.ya?ml$/.test(path))) {
    let runs: unknown;
    try {
      runs = (parse(readFileSync(join(root, file), 'utf8')) as { runs?: unknown } | null)?.runs;
    } catch (error) {
      problems.push(`${file}: not YAML (${(error as Error).message.split('\n')[0]})`);
      continue;
    }
    const { using, main, ...others } = (runs ?? {}) as Record<string, unknown>;
    if (Object.keys(others).length > 0) {
      problems.push(`${file}: runs has ${Object.keys(others).join(', ')}: only using and main`);
    }
    if (typeof using !== 'string' || !/^node\d+$/.test(using)) problems.push(`${file}: runs.using is not node<N>`);
    const target = typeof main === 'string' ? posix.join(posix.dirname(file), main) : undefined;
    if (
      typeof main !== 'string' ||
      main.startsWith('/') ||
      main.split('/').includes('..') ||
      !tracked.includes(target!)
    ) {
      problems.push(`${file}: runs.main is not a file of this tree that git holds`);
    }
  }
  return problems;
}

function lstatExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

describe('what an action reference serves', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'twokey-served-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('is regular files and directories only, in git and in the working tree, served as committed; each action runs its main only', () => {
    expect(servedProblems(repoRoot)).toEqual([]);
  });

  /**
   * A git work tree holding what this repository serves (the files its index lists, and its .gitattributes), every
   * one added: the tree a contributor's change is made to.
   */
  let copies = 0;
  function servedCopy(): string {
    const root = join(scratch, `copy-${++copies}`);
    const files = nulSeparated(git(repoRoot, ['ls-files', '-z', '--', ...SERVED, '.gitattributes']));
    for (const file of files) {
      mkdirSync(dirname(join(root, file)), { recursive: true });
      copyFileSync(join(repoRoot, file), join(root, file));
    }
    git(root, ['init', '-q']);
    git(root, ['add', '-A']);
    return root;
  }

  /** Release.yml's step that refuses the same, run as a runner runs it in a fresh checkout. */
  const release = parse(readFileSync(join(repoRoot, '.github/workflows/release.yml'), 'utf8')) as {
    jobs: { build: { steps: { name?: string; run?: string }[] } };
  };
  const releaseStep = release.jobs.build.steps.find((step) => step.run?.includes('git ls-files --stage'));
  function releaseCheck(root: string) {
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('GIT_')));
    return spawnSync('bash', ['--noprofile', '--norc', '-e', '-c', releaseStep!.run!], {
      cwd: root,
      encoding: 'utf8',
      env: { ...env, GIT_CONFIG_GLOBAL: '/dev/null' },
    });
  }

  it('release.yml builds only from a tree whose served files git holds as regular files, before anything builds', () => {
    expect(releaseStep, 'release.yml: no step checks `git ls-files --stage`').toBeDefined();
    const steps = release.jobs.build.steps;
    const building = steps.findIndex((step) => step.run?.includes('npm run setup'));
    expect(steps.indexOf(releaseStep!)).toBeLessThan(building);
    const pristine = servedCopy();
    expect(servedProblems(pristine)).toEqual([]);
    const run = releaseCheck(pristine);
    expect(run.status, run.stdout + run.stderr).toBe(0);
  });

  it("refuses the red team's tree: dist/github.cjs a link to /proc/self/cwd/…, though it reads as the genuine file", () => {
    const root = servedCopy();
    const link = 'actions/deploy/dist/github.cjs';
    rmSync(join(root, link));
    symlinkSync('/proc/self/cwd/actions/build/dist/github.cjs', join(root, link));
    git(root, ['add', '-A']);
    // What the byte comparison saw: run from this repository, the link leads to its genuine twin.
    expect(readFileSync(join(root, link)).equals(readFileSync(join(repoRoot, link)))).toBe(true);
    expect(servedProblems(root)).toEqual([
      `${link}: git mode 120000, a symbolic link`,
      `${link}: a symbolic link in the working tree`,
    ]);
    const run = releaseCheck(root);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(link);
  });

  it('refuses a link git holds as one but the working tree does not show, and the other way round', () => {
    const inGit = servedCopy();
    const blob = git(inGit, ['hash-object', '-w', '--stdin'], '/proc/self/cwd/x.cjs').trim();
    git(inGit, ['update-index', '--cacheinfo', `120000,${blob},actions/deploy/dist/github.cjs`]);
    expect(servedProblems(inGit)).toEqual(['actions/deploy/dist/github.cjs: git mode 120000, a symbolic link']);
    expect(releaseCheck(inGit).status).toBe(1);

    const inTree = servedCopy();
    rmSync(join(inTree, 'actions/report/dist/index.js'));
    symlinkSync('../../report/src/index.ts', join(inTree, 'actions/report/dist/index.js'));
    expect(servedProblems(inTree)).toEqual(['actions/report/dist/index.js: a symbolic link in the working tree']);
    expect(releaseCheck(inTree).status).toBe(1);
  });

  it('refuses a dist/ directory that is a link, a submodule, an executable file, and a link in .twokey/', () => {
    const directory = servedCopy();
    rmSync(join(directory, 'actions/sign/dist'), { recursive: true });
    symlinkSync('/proc/self/cwd/actions/sign/dist', join(directory, 'actions/sign/dist'));
    git(directory, ['add', '-A']);
    expect(servedProblems(directory)).toContain('actions/sign/dist: git mode 120000, a symbolic link');
    expect(servedProblems(directory)).toContain('actions/sign/dist: a symbolic link in the working tree');
    expect(releaseCheck(directory).status).toBe(1);

    const submodule = servedCopy();
    git(submodule, ['update-index', '--add', '--cacheinfo', `160000,${'a'.repeat(40)},actions/deploy/vendor`]);
    expect(servedProblems(submodule)).toEqual(['actions/deploy/vendor: git mode 160000, a submodule']);
    expect(releaseCheck(submodule).status).toBe(1);

    const executable = servedCopy();
    git(executable, ['update-index', '--chmod=+x', 'actions/build/dist/index.js']);
    expect(servedProblems(executable)).toEqual(['actions/build/dist/index.js: git mode 100755, an executable file']);
    expect(releaseCheck(executable).status).toBe(1);

    const policy = servedCopy();
    rmSync(join(policy, '.twokey/org-policy.yml'));
    symlinkSync('/proc/self/cwd/.twokey/org-policy.yml', join(policy, '.twokey/org-policy.yml'));
    git(policy, ['add', '-A']);
    expect(servedProblems(policy)).toEqual([
      '.twokey/org-policy.yml: git mode 120000, a symbolic link',
      '.twokey/org-policy.yml: a symbolic link in the working tree',
    ]);
    expect(releaseCheck(policy).status).toBe(1);
  });

  it.each([
    ['export-ignore', 'actions/deploy/dist/github.cjs export-ignore'],
    ['export-subst', 'actions/deploy/dist/*.js export-subst'],
    ['eol', 'actions/*/dist/** eol=crlf'],
    ['text', '*.yml text'],
    ['ident', 'action.yml ident'],
    ['filter', '.twokey/* filter=lfs'],
  ])('refuses a .gitattributes line that makes GitHub’s tarball differ from the checkout (%s)', (attribute, line) => {
    const root = servedCopy();
    writeFileSync(join(root, '.gitattributes'), `${readFileSync(join(root, '.gitattributes'), 'utf8')}${line}\n`);
    git(root, ['add', '-A']);
    const problems = servedProblems(root);
    expect(problems.length).toBeGreaterThan(0);
    for (const problem of problems) expect(problem).toMatch(new RegExp(`: attribute ${attribute}=`));
    const run = releaseCheck(root);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(attribute);
  });

  it.each(['pre', 'post', 'pre-if'])(
    'refuses an action that runs a step of its own besides its main (runs.%s)',
    (key) => {
      const root = servedCopy();
      const file = join(root, 'actions/deploy/action.yml');
      writeFileSync(file, `${readFileSync(file, 'utf8').trimEnd()}\n  ${key}: dist/index.js\n`);
      git(root, ['add', '-A']);
      expect(servedProblems(root)).toEqual([`actions/deploy/action.yml: runs has ${key}: only using and main`]);
    },
  );

  it('refuses a root action whose main is not a file git holds', () => {
    const root = servedCopy();
    const file = join(root, 'action.yml');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace('main: actions/deploy/dist/index.js', 'main: ../x/index.js'),
    );
    git(root, ['add', '-A']);
    expect(servedProblems(root)).toEqual(['action.yml: runs.main is not a file of this tree that git holds']);
  });
});
