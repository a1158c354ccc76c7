// The attack: whoever can push tags to the platform repository (or to twokey's) moves `v1` to other code after a
// caller pinned the reusable workflow by commit. The certificate still names the pinned workflow, so the code behind
// the identity must not move with the tag. A local git copy of the platform repository and a resolver that does what
// GitHub does with `uses:` show it: `$/` runs the workflow's own commit; the old `…/actions/sign@v1` followed the tag.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../conformance/paths';

const STAGES = ['build', 'sign', 'deploy'] as const;
type Stage = (typeof STAGES)[number];
/** The id of the step that runs twokey's action in each reusable workflow. */
const STEP_ID: Record<Stage, string> = { build: 'build', sign: 'sign', deploy: 'gate' };
/** How the reusable workflows named twokey's actions before `$/`: through the mutable v1 tag. */
const TAGGED: Record<Stage, string> = {
  build: 'twokey-dev/twokey/actions/build@v1',
  sign: 'twokey-dev/twokey/actions/sign@v1',
  deploy: 'twokey-dev/twokey@v1',
};

/** A committer of our own and no signing, whatever the machine's git configuration says. */
const GIT_CONFIG = ['user.name=t', 'user.email=t@example.com', 'commit.gpgsign=false', 'tag.gpgsign=false'].flatMap(
  (setting) => ['-c', setting],
);

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', [...GIT_CONFIG, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' },
  });
}

/** A ref (tag, branch or SHA) resolved to its commit, as GitHub resolves `@ref`. */
const commitOf = (repository: string, ref: string) =>
  git(repository, 'rev-parse', '--verify', `${ref}^{commit}`).trim();
const show = (repository: string, commit: string, path: string) => git(repository, 'show', `${commit}:${path}`);

interface Resolved {
  repository: string;
  commit: string;
  /** The file the action's runs.main names, at that commit. */
  main: string;
  code: string;
}

/** An action directory of a repository at a commit: its action.yml's runs.main and that file's content. */
function action(repositories: Record<string, string>, name: string, commit: string, directory: string): Resolved {
  const repository = repositories[name]!;
  const manifest = parse(show(repository, commit, posix.join(directory, 'action.yml'))) as { runs: { main: string } };
  const main = posix.join(directory, manifest.runs.main);
  return { repository: name, commit, main, code: show(repository, commit, main) };
}

/**
 * What GitHub runs for a caller's job `uses: OWNER/REPO/.github/workflows/FILE@REF`: the called workflow read at REF's
 * commit, and for each of its steps (by id) that runs an action of a repository we hold, the code that step runs.
 * `$/path` is the called workflow's own repository at its own commit; `OWNER/REPO[/path]@ref` is that repository at
 * whatever commit ref names now. Actions of other repositories (actions/checkout…) are left out.
 */
function resolveCall(repositories: Record<string, string>, uses: string): Record<string, Resolved> {
  const call = /^([^/]+\/[^/]+)\/(\.github\/workflows\/[^@]+)@(.+)$/.exec(uses);
  if (!call || !repositories[call[1]!]) throw new Error(`cannot resolve ${uses}`);
  const [, name, path, ref] = call as unknown as [string, string, string, string];
  const workflowCommit = commitOf(repositories[name]!, ref);
  const workflow = parse(show(repositories[name]!, workflowCommit, path)) as {
    jobs: Record<string, { steps?: { id?: string; uses?: string }[] }>;
  };
  const resolved: Record<string, Resolved> = {};
  for (const step of Object.values(workflow.jobs).flatMap((job) => job.steps ?? [])) {
    if (!step.uses || !step.id) continue;
    if (step.uses.startsWith('$/')) {
      if (step.uses.includes('@')) throw new Error(`${step.uses}: $/ takes no ref`);
      resolved[step.id] = action(repositories, name, workflowCommit, step.uses.slice(2));
      continue;
    }
    if (step.uses.startsWith('./')) throw new Error(`${step.uses}: the caller's checkout is not modelled here`);
    const remote = /^([^/@]+\/[^/@]+)((?:\/[^@]+)?)@(.+)$/.exec(step.uses);
    if (!remote) throw new Error(`${step.uses}: not owner/repo[/path]@ref`);
    const [, actionRepository, directory, actionRef] = remote as unknown as [string, string, string, string];
    if (!repositories[actionRepository]) continue;
    const commit = commitOf(repositories[actionRepository], actionRef);
    resolved[step.id] = action(repositories, actionRepository, commit, directory.replace(/^\//, '') || '.');
  }
  return resolved;
}

describe('an attacker moves the v1 tag after the caller pinned the reusable workflow by commit', () => {
  let platform: string;
  /** The organisation's copy of twokey; the old workflows named twokey's own repository, here the same copy. */
  let repositories: Record<string, string>;
  let commitA: string;
  let commitB: string;
  const before: Record<string, Record<string, Resolved>> = {};
  const pinned = (stage: Stage) => `org/platform/.github/workflows/twokey-${stage}.yml@${commitA}`;
  const pinnedTagged = (stage: Stage) => `org/platform/.github/workflows/twokey-${stage}-tagged.yml@${commitA}`;
  const marker = (stage: Stage, version: string) => `// twokey ${stage}: code ${version}\n`;

  function write(path: string, content: string) {
    mkdirSync(dirname(join(platform, path)), { recursive: true });
    writeFileSync(join(platform, path), content);
  }

  beforeAll(() => {
    platform = mkdtempSync(join(tmpdir(), 'twokey-platform-'));
    repositories = { 'org/platform': platform, 'twokey-dev/twokey': platform };
    git(platform, 'init', '-q', '-b', 'main');

    // Commit A: the reusable workflows as this repository has them, twokey's action.yml files, code A; tag v1.
    write('action.yml', readFileSync(join(repoRoot, 'action.yml'), 'utf8'));
    for (const stage of STAGES) {
      const workflow = readFileSync(join(repoRoot, '.github', 'workflows', `twokey-${stage}.yml`), 'utf8');
      const self = `uses: $/actions/${stage}\n`;
      if (!workflow.includes(self)) throw new Error(`twokey-${stage}.yml does not run ${self}`);
      write(`.github/workflows/twokey-${stage}.yml`, workflow);
      // The control: the same workflow with the reference it had before, through the tag.
      write(`.github/workflows/twokey-${stage}-tagged.yml`, workflow.replace(self, `uses: ${TAGGED[stage]}\n`));
      write(`actions/${stage}/action.yml`, readFileSync(join(repoRoot, 'actions', stage, 'action.yml'), 'utf8'));
      write(`actions/${stage}/dist/index.js`, marker(stage, 'A'));
    }
    git(platform, 'add', '-A');
    git(platform, 'commit', '-q', '-m', 'A');
    commitA = commitOf(platform, 'HEAD');
    git(platform, 'tag', '-a', 'v1', '-m', 'v1');
    for (const stage of STAGES) {
      before[pinned(stage)] = resolveCall(repositories, pinned(stage));
      before[pinnedTagged(stage)] = resolveCall(repositories, pinnedTagged(stage));
    }

    // Commit B: other code behind the same action paths; v1 moved onto it.
    for (const stage of STAGES) write(`actions/${stage}/dist/index.js`, marker(stage, 'B'));
    git(platform, 'commit', '-q', '-am', 'B');
    commitB = commitOf(platform, 'HEAD');
    git(platform, 'tag', '-f', '-a', 'v1', '-m', 'v1 moved');
  });

  afterAll(() => {
    if (platform) rmSync(platform, { recursive: true, force: true });
  });

  it('the tag did move: v1 names commit B, no longer A', () => {
    expect(commitB).not.toBe(commitA);
    expect(commitOf(platform, 'v1')).toBe(commitB);
  });

  it.each(STAGES)('twokey-%s.yml pinned at A still runs code A ($/ is the workflow’s own commit)', (stage) => {
    expect(before[pinned(stage)]![STEP_ID[stage]]!.code).toBe(marker(stage, 'A'));
    const after = resolveCall(repositories, pinned(stage))[STEP_ID[stage]]!;
    expect(after).toEqual({
      repository: 'org/platform',
      commit: commitA,
      main: `actions/${stage}/dist/index.js`,
      code: marker(stage, 'A'),
    });
  });

  // The control, which shows the test can fail: the same pinned workflow with the old `@v1` reference ran code A
  // before the move and runs code B after it, under the same certificate identity (the workflow pinned at A).
  it.each(STAGES)(
    'control: twokey-%s.yml through @v1, pinned at A all the same, runs code B once v1 moved',
    (stage) => {
      expect(before[pinnedTagged(stage)]![STEP_ID[stage]]!.code).toBe(marker(stage, 'A'));
      const after = resolveCall(repositories, pinnedTagged(stage))[STEP_ID[stage]]!;
      expect(after.commit).toBe(commitB);
      expect(after.code).toBe(marker(stage, 'B'));
    },
  );

  it('the root action (owner/twokey@SHA for users) names the deploy bundle at the same path', () => {
    expect(before[pinnedTagged('deploy')]!.gate!.main).toBe('actions/deploy/dist/index.js');
  });
});
