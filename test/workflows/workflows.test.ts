// The reusable workflows GitHub calls (.github/workflows) and the examples users copy (workflows/): valid against
// GitHub's schema, every `uses:` an immutable reference (no tag, no branch), twokey's own code run from the
// workflow's own commit (`$/`), and the org policy out of the callers' reach.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../conformance/paths';
import { mutableReferences, type ReferenceRules, usesEntries } from './uses';

const run = promisify(execFile);
const validator = join(repoRoot, 'node_modules', '.bin', 'action-validator');
const OUR_REPOSITORY = 'twokey-dev/twokey';
const REUSABLE = ['build', 'sign', 'deploy'] as const;
/** The id of the step that runs twokey's action in each reusable workflow. */
const STEP_ID = { build: 'build', sign: 'sign', deploy: 'gate' } as const;

const workflowFiles = ['.github/workflows', 'workflows'].flatMap((dir) =>
  readdirSync(join(repoRoot, dir))
    .filter((name) => name.endsWith('.yml') || name.endsWith('.yaml'))
    .map((name) => `${dir}/${name}`),
);

/** A GitHub expression as a workflow writes it: `${{ … }}`. */
const expression = (text: string) => `\${{ ${text} }}`;

const read = (file: string) => readFileSync(join(repoRoot, file), 'utf8');

interface Step {
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Workflow {
  on: { workflow_call?: { inputs?: Record<string, { default?: unknown; type?: string }> } } & Record<string, unknown>;
  jobs: Record<string, { uses?: string; with?: Record<string, unknown>; steps?: Step[] }>;
}
const workflow = (file: string) => parse(read(file)) as Workflow;
const isReusable = (file: string) => workflow(file).on?.workflow_call !== undefined;

/** `$/` only in .github/workflows (our reusable workflows run our own code); `./` never in a reusable workflow. */
const rulesFor = (file: string): ReferenceRules => ({
  root: repoRoot,
  allowSelf: file.startsWith('.github/workflows/'),
  allowLocal: !isReusable(file),
});

/** The step of a reusable workflow that runs twokey's action. */
function twokeyStep(stage: (typeof REUSABLE)[number]): Step {
  const steps = Object.values(workflow(`.github/workflows/twokey-${stage}.yml`).jobs).flatMap((job) => job.steps ?? []);
  const step = steps.find((s) => s.id === STEP_ID[stage]);
  if (!step) throw new Error(`twokey-${stage}.yml: no step ${STEP_ID[stage]}`);
  return step;
}

describe('workflows', () => {
  it('has the three reusable workflows and an example caller', () => {
    expect(workflowFiles).toEqual(
      expect.arrayContaining([
        '.github/workflows/twokey-build.yml',
        '.github/workflows/twokey-sign.yml',
        '.github/workflows/twokey-deploy.yml',
        'workflows/release.yml',
      ]),
    );
  });

  // @action-validator/cli 0.6.0 reads workflows (its runs.using list, which lacks node24, is for action.yml files,
  // checked in test/actions) and accepts `uses: $/…`, which it does not check the form of. Its schema predates the
  // `attestations` permission (GitHub's artifact attestations, 2024): the copy it checks leaves out exactly the
  // `attestations: write` and `attestations: read` lines, which actionlint (actionlint.test.ts) checks as they are.
  it.each(workflowFiles)('%s is valid for GitHub (action-validator)', async (file) => {
    const copy = join(mkdtempSync(join(tmpdir(), 'twokey-workflow-')), 'workflow.yml');
    writeFileSync(copy, read(file).replace(/^\s+attestations: (?:read|write)(?: #.*)?\n/gm, ''));
    await expect(run(validator, [copy])).resolves.toBeDefined();
  });
});

describe('every uses: is immutable: no tag, no branch, no short SHA', () => {
  it.each(workflowFiles)('%s', (file) => {
    expect(mutableReferences(file, read(file), rulesFor(file))).toEqual([]);
  });

  it('the check fails on each mutable reference, naming the file and the line', () => {
    const sha = '11bd71901bbe5b1630ceea73d27597364c9af683';
    const source = [
      'on: push', // 1
      'jobs:', // 2
      '  a:', // 3
      '    runs-on: ubuntu-latest', // 4
      '    steps:', // 5
      `      - uses: actions/checkout@${sha} # v4.2.2`, // 6: fine
      '      - uses: actions/checkout@v4', // 7: a tag
      '      - uses: twokey-dev/twokey/actions/sign@v1', // 8: the old form
      '      - uses: actions/checkout@main', // 9: a branch
      '      - uses: actions/checkout@11bd719', // 10: a short SHA
      `      - uses: actions/checkout@${sha}`, // 11: no version comment
      `      - uses: actions/checkout@${sha} # four`, // 12: not a version
      '      - uses: docker://alpine:3.20', // 13: a docker tag
      `      - uses: docker://alpine@sha256:${'a'.repeat(64)}`, // 14: fine
      '      - uses: $/actions/sign', // 15: fine in .github/workflows, an error in workflows/
      '      - uses: $/actions/nothing', // 16: no such action
      '      - uses: $/actions/sign@v1', // 17: `$/` takes no ref
      '      - uses: ./local', // 18: fine outside a reusable workflow
      '  b:', // 19
      '    uses: twokey-dev/twokey/.github/workflows/twokey-sign.yml@v1', // 20: a reusable workflow by tag
      '',
    ].join('\n');
    const lines = (problems: string[]) => problems.map((p) => Number(/^x\.yml:(\d+):/.exec(p)?.[1]));
    const asReusable = mutableReferences('x.yml', source, { root: repoRoot, allowSelf: true, allowLocal: false });
    expect(lines(asReusable)).toEqual([7, 8, 9, 10, 11, 12, 13, 16, 17, 18, 20]);
    expect(asReusable).toContain(
      'x.yml:8: uses: twokey-dev/twokey/actions/sign@v1: @v1 is mutable (a tag, a branch or a short SHA): pin the full commit SHA',
    );
    const asExample = mutableReferences('x.yml', source, { root: repoRoot, allowSelf: false, allowLocal: true });
    expect(lines(asExample)).toEqual([7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 20]);
  });
});

describe("twokey's own code runs from the reusable workflow's own commit", () => {
  it.each(workflowFiles)('%s: each twokey `uses:` points at an action or workflow that exists', (file) => {
    // twokey's own release (.github/workflows/release.yml) calls this commit's reusable workflows as `./…`.
    const ours = usesEntries(file, read(file)).filter(
      (e) => e.uses.startsWith('$/') || e.uses.startsWith(OUR_REPOSITORY) || e.uses.startsWith('./.github/workflows/'),
    );
    expect(ours.length, file).toBeGreaterThan(0);
    for (const { uses, line } of ours) {
      const path = uses.startsWith('$/')
        ? uses.slice(2)
        : uses.startsWith('./')
          ? uses.slice(2)
          : uses.slice(OUR_REPOSITORY.length).split('@')[0]!.replace(/^\//, '');
      const target = path.endsWith('.yml') ? join(repoRoot, path) : join(repoRoot, path, 'action.yml');
      expect(existsSync(target), `${file}:${line}: ${uses} → ${target}`).toBe(true);
    }
  });

  it.each(REUSABLE)('twokey-%s.yml runs $/actions/%s, never twokey through a tag', (stage) => {
    const file = `.github/workflows/twokey-${stage}.yml`;
    expect(twokeyStep(stage).uses).toBe(`$/actions/${stage}`);
    expect(usesEntries(file, read(file)).filter((e) => e.uses.includes(OUR_REPOSITORY))).toEqual([]);
  });

  it('the example caller pins twokey’s reusable workflows by exact release tag (the SAN the org policy lists), its action by full commit SHA', () => {
    const ours = usesEntries('workflows/release.yml', read('workflows/release.yml')).filter((e) =>
      e.uses.startsWith(OUR_REPOSITORY),
    );
    const workflows = ours.filter((e) => e.level === 'job');
    const actions = ours.filter((e) => e.level === 'step');
    expect(workflows.length).toBe(3);
    for (const { uses } of workflows)
      expect(uses).toMatch(/\.github\/workflows\/twokey-(build|sign|deploy)\.yml@v\d+\.\d+\.\d+$/);
    for (const { uses, rest } of actions) {
      expect(uses).toMatch(/@[0-9a-f]{40}$/);
      expect(rest).toMatch(/^\s+# v\d+\.\d+\.\d+/);
    }
  });

  it('refuses a floating tag for a reusable workflow: only an exact release vX.Y.Z', () => {
    const rules = { root: repoRoot, allowSelf: false, allowLocal: true };
    const caller = (ref: string) =>
      `jobs:\n  sign:\n    uses: acme/platform/.github/workflows/twokey-sign.yml@${ref}\n`;
    expect(mutableReferences('caller.yml', caller('v1.5.0'), rules)).toEqual([]);
    // Another project's reusable workflow at a tag: that project's to move.
    const foreign = 'jobs:\n  x:\n    uses: someone/tools/.github/workflows/lint.yml@v1.5.0\n';
    expect(mutableReferences('caller.yml', foreign, rules)).toHaveLength(1);
    for (const ref of ['v1', 'v1.5', 'main', 'v1.5.0-rc', 'abc1234']) {
      expect(mutableReferences('caller.yml', caller(ref), rules), ref).toHaveLength(1);
    }
  });
});

describe('one deploy gate at a time per repository and environment', () => {
  it('twokey-deploy.yml queues its gate job by repository and environment, never cancelling one in progress', () => {
    const gate = workflow('.github/workflows/twokey-deploy.yml').jobs.gate as {
      concurrency?: { group?: string; 'cancel-in-progress'?: boolean };
    };
    expect(gate.concurrency).toEqual({
      group: `twokey-deploy-${expression('github.repository')}-${expression('inputs.environment')}`,
      'cancel-in-progress': false,
    });
  });
});

describe('the org policy is out of the callers’ reach', () => {
  // A caller choosing the repository policy's path could name another, looser file of the default branch, or spell
  // the path so that the sparse checkout matches nothing (`./.twokey/policy.yml`) and the policy is dropped.
  it.each(['sign', 'deploy', 'report'] as const)(
    'twokey-%s.yml takes no policy or repository-policy input: it passes the default branch’s .twokey/policy.yml alone',
    (stage) => {
      const file = `.github/workflows/twokey-${stage}.yml`;
      const inputs = workflow(file).on.workflow_call!.inputs!;
      expect(inputs).not.toHaveProperty('policy');
      expect(inputs).not.toHaveProperty('repository-policy');

      const steps = Object.values(workflow(file).jobs).flatMap((job) => job.steps ?? []);
      const checkout = steps.find((s) => s.uses?.startsWith('actions/checkout@'));
      expect(checkout?.with).toMatchObject({
        ref: expression('github.event.repository.default_branch'),
        // Every top-level entry not starting with an ASCII letter, digit, `_` or `-`: a `.twokey` that is a link, a
        // submodule, `.TwoKey` or a lookalike (`.two\u212Aey`, a zero-width character in the name) is then there (and
        // refused), not missing (test/github/repository-policy-link.test.ts runs git with it).
        'sparse-checkout': '/[!a-zA-Z0-9_-]*',
        'sparse-checkout-cone-mode': false,
        'persist-credentials': false,
        path: 'repository-policy',
      });
      const step = steps.find((s) => s.uses === `$/actions/${stage}`)!;
      expect(step.with).not.toHaveProperty('policy');
      expect(step.with?.['repository-policy']).toBe('repository-policy/.twokey/policy.yml');
    },
  );

  it('twokey-build.yml has no policy', () => {
    expect(workflow('.github/workflows/twokey-build.yml').on.workflow_call!.inputs).not.toHaveProperty('policy');
    expect(twokeyStep('build').with).not.toHaveProperty('policy');
  });

  it('the example caller passes no policy (it would be the org policy) to the reusable workflows or the gate', () => {
    const { jobs } = workflow('workflows/release.yml');
    for (const [name, job] of Object.entries(jobs)) {
      if (job.uses?.startsWith(OUR_REPOSITORY)) expect(job.with ?? {}, name).not.toHaveProperty('policy');
      for (const step of job.steps ?? []) {
        if (step.uses?.startsWith(OUR_REPOSITORY)) expect(step.with ?? {}, name).not.toHaveProperty('policy');
      }
    }
  });
});

describe('the example caller (workflows/release.yml) runs no code of the repository where a job can sign', () => {
  // A job holding id-token: write mints certificates for whatever workflow identity it runs as: a step of the
  // repository's (make, ./deploy.sh, and all they pull in) there could sign as it. The example's deploy gate ran in
  // the caller's own job beside ./deploy.sh: its records named the caller's workflow, not the deploy identity the org
  // policy lists, and an org listing that workflow would have let the deploy script sign decision records.
  const { jobs } = workflow('workflows/release.yml') as {
    jobs: Record<
      string,
      { permissions?: Record<string, string>; steps?: Step[]; uses?: string; if?: string; needs?: string }
    >;
  };
  it.each(Object.keys(jobs))('job %s: no run step beside id-token: write', (name) => {
    const job = jobs[name]!;
    if (job.permissions?.['id-token'] === 'write') {
      expect(
        (job.steps ?? []).filter((step) => step.run !== undefined),
        name,
      ).toEqual([]);
    }
  });
  it('deploys through the reusable deploy workflow, and ships in a later job only what passed it', () => {
    expect(jobs.deploy!.uses).toMatch(/\.github\/workflows\/twokey-deploy\.yml@v\d+\.\d+\.\d+$/);
    expect(jobs.ship!.needs).toBe('deploy');
    expect(jobs.ship!.if).toBe("needs.deploy.outputs.verified == 'true'");
    expect(jobs.ship!.permissions).toEqual({ contents: 'read' });
  });
});

describe('every workflow file runs no code where a job can sign', () => {
  // The same rule as the example caller's, over every workflow twokey ships or runs (found by the review of the
  // workflows: it was checked for workflows/release.yml alone), and the reusable workflows run no shell at all: an
  // input or an event field written into a script runs as code in a job that signs.
  const files = workflowFiles;
  const jobsOf = (file: string) =>
    Object.entries(
      (workflow(file) as { jobs: Record<string, { permissions?: Record<string, string>; steps?: Step[] }> }).jobs,
    );
  it.each(files)('%s: no run step in a job holding id-token: write', (file) => {
    for (const [name, job] of jobsOf(file)) {
      if (job.permissions?.['id-token'] !== 'write') continue;
      expect(
        (job.steps ?? []).filter((step) => step.run !== undefined),
        `${file}: job ${name}`,
      ).toEqual([]);
    }
  });
  it.each(files.filter((file) => /\/twokey-[^/]+\.yml$/.test(file)))('%s: no run step at all', (file) => {
    for (const [name, job] of jobsOf(file)) {
      expect(
        (job.steps ?? []).filter((step) => step.run !== undefined),
        `${file}: job ${name}`,
      ).toEqual([]);
    }
  });
});

describe('action.yml', () => {
  const root = read('action.yml');
  const deploy = read('actions/deploy/action.yml');

  it('actions/deploy/action.yml is the root action.yml but for runs.main (one for `$/actions/deploy`, one for owner/twokey@SHA)', () => {
    const main = /^ {2}main: .*$/m;
    expect(parse(root).runs.main).toBe('actions/deploy/dist/index.js');
    expect(parse(deploy).runs.main).toBe('dist/index.js');
    expect(deploy.replace(main, '  main: MAIN')).toBe(root.replace(main, '  main: MAIN'));
    const { runs: rootRuns, ...rootRest } = parse(root);
    const { runs: deployRuns, ...deployRest } = parse(deploy);
    expect(deployRest).toEqual(rootRest);
    expect({ ...deployRuns, main: undefined }).toEqual({ ...rootRuns, main: undefined });
  });

  it.each(['action.yml', 'actions/deploy/action.yml', 'actions/sign/action.yml'])(
    '%s: policy defaults to empty (the org policy of its own commit), repository-policy to empty (none)',
    (file) => {
      const { inputs } = parse(read(file));
      expect(inputs.policy).toMatchObject({ required: false, default: '' });
      expect(inputs['repository-policy']).toMatchObject({ required: false, default: '' });
    },
  );
});

describe("twokey's own release (.github/workflows/release.yml) goes through twokey's own three stages", () => {
  const release = parse(read('.github/workflows/release.yml')) as {
    on: Record<string, unknown>;
    jobs: Record<
      string,
      {
        if?: string;
        uses?: string;
        needs?: string | string[];
        permissions?: Record<string, string>;
        environment?: string;
        steps?: { id?: string; if?: string; run?: string; uses?: string; with?: Record<string, string | boolean> }[];
      }
    >;
  };

  it('runs only from main, started by hand with the version; never on a tag push (a build on a tag is refused)', () => {
    expect(Object.keys(release.on)).toEqual(['workflow_dispatch']);
    expect(release.jobs.test!.if).toBe("github.ref == 'refs/heads/main'");
    expect(release.jobs.build!.if).toBe("github.ref == 'refs/heads/main'");
  });

  it('attests with this commit’s reusable build workflow and signs with its sign workflow: two identities', () => {
    expect(release.jobs.provenance!.uses).toBe('./.github/workflows/twokey-build.yml');
    expect(release.jobs.sign!.uses).toBe('./.github/workflows/twokey-sign.yml');
    expect(release.jobs.sign!.needs).toBe('provenance');
  });

  it('tests, then builds in another job, with no token that can sign or write; the committed dist/ must be what this commit builds', () => {
    const scripts = (job: string) => (release.jobs[job]!.steps ?? []).map((s) => s.run ?? '').join('\n');
    expect(release.jobs.test!.permissions).toEqual({ contents: 'read' });
    expect(scripts('test')).toContain('npm test');
    // The tests run every development dependency: none of that runs in the job that uploads what is released.
    expect(release.jobs.build!.needs).toBe('test');
    expect(release.jobs.build!.permissions).toEqual({ contents: 'read' });
    expect(scripts('build')).not.toContain('npm test');
    expect(scripts('build')).toContain('git diff --exit-code -- actions');
    expect(scripts('build')).toContain('npm pack ./packages/cli');
  });

  it('tags the signed commit itself, after signing, in a protected environment', () => {
    const publish = release.jobs.publish!;
    expect(publish.needs).toEqual(['provenance', 'sign']);
    expect(publish.environment).toBe('release');
    expect(publish.permissions).toEqual({ contents: 'write' });
    const script = (publish.steps ?? []).map((s) => s.run ?? '').join('\n');
    expect(script).toMatch(/gh release create "v\$VERSION" .*--target "\$GITHUB_SHA"/s);
  });

  it('releases only what passes its own deploy gate: the three stages’ workflow artifacts, each by its name', () => {
    const steps = release.jobs.publish!.steps ?? [];
    // A step of the build job that uploads one more twokey-* artifact releases nothing: no pattern, no merging.
    const downloads = steps.filter((s) => s.uses?.startsWith('actions/download-artifact@'));
    expect(downloads.map((s) => s.with?.name)).toEqual([
      'twokey-release',
      expression('needs.provenance.outputs.provenance-artifact'),
      expression('needs.sign.outputs.signatures-artifact'),
    ]);
    for (const download of downloads) {
      expect(download.with).not.toHaveProperty('pattern');
      expect(download.with).not.toHaveProperty('merge-multiple');
    }
    const gate = steps.find((s) => s.uses === './');
    expect(gate).toMatchObject({
      id: 'gate',
      with: { 'subject-path': 'release/*', bundles: 'evidence', policy: '.twokey/org-policy.yml' },
    });
    const publishing = steps.find((s) => s.run?.includes('gh release create'));
    expect(steps.indexOf(publishing!)).toBeGreaterThan(steps.indexOf(gate!));
    expect(publishing!.if).toBe("steps.gate.outputs.verified == 'true'");
    expect(publishing!.run).toMatch(/release\/\* evidence\/provenance\/\* evidence\/signatures\/\*$/);
  });
});

describe('two calls of a reusable workflow in one run upload under names of their own', () => {
  // actions/upload-artifact refuses a name the run already holds (409). Named by run and attempt alone, the second
  // call of a workflow in one run (staging then production; a matrix of services) failed at its last step, after
  // its bundles or its PASSED decision record were signed and stored: its caller's next job skipped, and a re-run of
  // a deploy under a break-glass refused as the break-glass's second use.
  const uploads = [
    ['twokey-build.yml', 'provenance', 'twokey-provenance', 'provenance-artifact'],
    ['twokey-sign.yml', 'sign', 'twokey-signatures', 'signatures-artifact'],
    ['twokey-break-glass.yml', 'break-glass', 'twokey-break-glass', 'break-glass-artifact'],
    ['twokey-deploy.yml', 'gate', 'deploy-report', undefined],
    ['twokey-report.yml', 'report', 'sod-report', undefined],
  ] as const;
  it.each(uploads)('%s names its upload by its job’s check run, and says that name', (file, job, prefix, output) => {
    const definition = workflow(`.github/workflows/${file}`).jobs[job] as {
      outputs?: Record<string, string>;
      steps: (Step & { 'continue-on-error'?: boolean })[];
    };
    const upload = definition.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'))!;
    const name = `${prefix}-${expression('github.run_id')}-${expression('github.run_attempt')}-${expression('job.check_run_id')}`;
    expect(upload.with?.name).toBe(name);
    if (output) expect(definition.outputs?.[output]).toBe(name);
    // Two calls in one run: the same run and attempt, two jobs, two check runs, two names.
    const evaluate = (checkRun: string) =>
      name
        .replace(expression('github.run_id'), '4242')
        .replace(expression('github.run_attempt'), '1')
        .replace(expression('job.check_run_id'), checkRun);
    expect(evaluate('51725241954')).not.toBe(evaluate('51725241955'));
    // A report is an archive: its upload failing does not fail a deploy whose record is stored, nor a report whose
    // verdict is the job's.
    const archive = file === 'twokey-deploy.yml' || file === 'twokey-report.yml';
    expect(upload['continue-on-error']).toBe(archive ? true : undefined);
    // Outside the deploy workflow's default bundle-artifacts pattern (twokey-*): never handed to a gate as bundles.
    if (archive) expect(prefix.startsWith('twokey-')).toBe(false);
  });
});
