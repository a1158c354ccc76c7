import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ORG_POLICY_PATH } from '@twokey/github';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const repoRoot = resolve(import.meta.dirname, '..', '..');
const validator = join(repoRoot, 'node_modules', '.bin', 'action-validator');

/** Every action.yml in the repository: the root deploy action and each actions/<stage>. */
const manifests = [
  join(repoRoot, 'action.yml'),
  ...readdirSync(join(repoRoot, 'actions')).map((stage) => join(repoRoot, 'actions', stage, 'action.yml')),
].filter((path) => existsSync(path));

/**
 * Runs @action-validator/cli on an action.yml. Its newest release (0.6.0) knows runs.using up to node20, so the
 * copy it checks says node20 where ours says node24; that one field is checked below, exactly.
 */
function validate(text: string): { status: number | null; output: string } {
  const copy = join(mkdtempSync(join(tmpdir(), 'twokey-action-yml-')), 'action.yml');
  writeFileSync(copy, text.replace(/^(\s*using:\s*)['"]?node24['"]?\s*$/m, '$1node20'));
  const result = spawnSync(validator, [copy], { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('action.yml files', () => {
  it('there is at least the build action', () => {
    expect(manifests).toContain(join(repoRoot, 'actions', 'build', 'action.yml'));
  });

  for (const path of manifests) {
    const name = path.slice(repoRoot.length + 1);
    it(`${name} passes @action-validator/cli`, () => {
      const { status, output } = validate(readFileSync(path, 'utf8'));
      expect(status, output).toBe(0);
    });

    // The root action.yml is the deploy gate: its bundle is the deploy action's.
    const main = name === 'action.yml' ? 'actions/deploy/dist/index.js' : 'dist/index.js';
    it(`${name} runs on node24 from its bundled ${main}`, () => {
      const manifest = parse(readFileSync(path, 'utf8'));
      expect(manifest.runs).toMatchObject({ using: 'node24', main });
    });
  }

  it('the validator does reject a malformed action (so a pass means something)', () => {
    const { status, output } = validate(
      'name: broken\ndescription: x\nruns:\n  using: node24\n  mian: dist/index.js\n',
    );
    expect(status).not.toBe(0);
    expect(output).toContain('runs');
  });
});

describe('the actions read their inputs one way', () => {
  it('every action with a policy input defaults it to empty: the org policy of its own repository and commit', () => {
    const withPolicy = manifests.filter((path) => parse(readFileSync(path, 'utf8')).inputs?.policy);
    expect(withPolicy.map((path) => path.slice(repoRoot.length + 1)).sort()).toEqual([
      'action.yml',
      'actions/deploy/action.yml',
      'actions/report/action.yml',
      'actions/sign/action.yml',
    ]);
    for (const path of withPolicy) {
      const { inputs } = parse(readFileSync(path, 'utf8'));
      expect(inputs.policy.default).toBe('');
      expect(inputs['repository-policy'].default).toBe('');
    }
    // What the code reads when the input is empty: the platform repository's org policy, beside the actions.
    expect(ORG_POLICY_PATH).toBe('.twokey/org-policy.yml');
  });

  // An action's src/ reads inputs, calls one step of packages/github and reports it: a page, no decision.
  for (const stage of ['build', 'sign']) {
    it(`actions/${stage}/src is one entry of at most 100 lines that calls ${stage}Step and reportStep`, () => {
      const directory = join(repoRoot, 'actions', stage, 'src');
      expect(readdirSync(directory)).toEqual(['index.ts']);
      const source = readFileSync(join(directory, 'index.ts'), 'utf8');
      expect(source.split('\n').length).toBeLessThanOrEqual(100);
      expect(source).toContain(`await reportStep(await ${stage}Step(inputs));`);
    });
  }

  it('actions/deploy/src is one entry of at most 100 lines that calls the gate (runDeployStep)', () => {
    const directory = join(repoRoot, 'actions', 'deploy', 'src');
    expect(readdirSync(directory)).toEqual(['index.ts']);
    const source = readFileSync(join(directory, 'index.ts'), 'utf8');
    expect(source.split('\n').length).toBeLessThanOrEqual(100);
    expect(source).toContain('await runDeployStep(inputs)');
  });
});
