// The reusable workflows GitHub calls (.github/workflows) and the examples users copy (workflows/): valid against
// GitHub's schema, and every `uses:` of a twokey action or workflow points at a path that exists here.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../conformance/paths';

const run = promisify(execFile);
const validator = join(repoRoot, 'node_modules', '.bin', 'action-validator');
const OUR_REPOSITORY = 'twokey-dev/twokey';

const workflowFiles = ['.github/workflows', 'workflows'].flatMap((dir) =>
  readdirSync(join(repoRoot, dir))
    .filter((name) => name.endsWith('.yml'))
    .map((name) => `${dir}/${name}`),
);

/** Every `uses:` value in a workflow, from job-level (reusable workflows) and step-level entries. */
function usesOf(file: string): string[] {
  const workflow = parse(readFileSync(join(repoRoot, file), 'utf8')) as {
    jobs: Record<string, { uses?: string; steps?: { uses?: string }[] }>;
  };
  return Object.values(workflow.jobs).flatMap((job) => [
    ...(job.uses ? [job.uses] : []),
    ...(job.steps ?? []).flatMap((step) => (step.uses ? [step.uses] : [])),
  ]);
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

  it.each(workflowFiles)('%s is valid for GitHub (action-validator)', async (file) => {
    await expect(run(validator, [join(repoRoot, file)])).resolves.toBeDefined();
  });

  it.each(workflowFiles)('%s: each twokey `uses:` points at an action or workflow that exists', (file) => {
    const ours = usesOf(file).filter((uses) => uses.startsWith(OUR_REPOSITORY));
    expect(ours.length).toBeGreaterThan(0);
    for (const uses of ours) {
      const path = uses.slice(OUR_REPOSITORY.length).split('@')[0]!.replace(/^\//, '');
      const target = path.endsWith('.yml') ? join(repoRoot, path) : join(repoRoot, path, 'action.yml');
      expect(existsSync(target), `${file}: ${uses} → ${target}`).toBe(true);
    }
  });

  it.each(workflowFiles)('%s pins third-party actions by full commit SHA', (file) => {
    for (const uses of usesOf(file).filter((u) => !u.startsWith(OUR_REPOSITORY) && !u.startsWith('./'))) {
      expect(uses, file).toMatch(/@[0-9a-f]{40}$/);
    }
  });

  it('the example caller pins twokey by full commit SHA', () => {
    for (const uses of usesOf('workflows/release.yml').filter((u) => u.startsWith(OUR_REPOSITORY))) {
      expect(uses).toMatch(/@[0-9a-f]{40}$/);
    }
  });
});
