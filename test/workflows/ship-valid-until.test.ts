// The example's ship job checks, before anything ships, that the gate's pass still holds (threat model, row 253):
// GitHub may start it long after the gate — its environment's reviewers have 30 days, and "Re-run failed jobs" runs it
// again with the gate's outputs of the first attempt — so a break-glass valid for an hour, or evidence past max-age,
// would otherwise ship weeks later on a pass of the past. Its step run with bash as the runner runs it.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../conformance/paths';

interface Step {
  name?: string;
  run?: string;
  env?: Record<string, string>;
}

const ship = (
  parse(readFileSync(join(repoRoot, 'workflows/release.yml'), 'utf8')) as { jobs: Record<string, { steps: Step[] }> }
).jobs.ship!;
const check = ship.steps.find((s) => s.name === "Check that the gate's pass still holds")!;

function runCheck(validUntil: string): number {
  const run = spawnSync('bash', ['-e', '-o', 'pipefail', '-c', check.run!], {
    env: { PATH: process.env.PATH, VALID_UNTIL: validUntil },
    encoding: 'utf8',
  });
  return run.status ?? -1;
}

describe("the example's ship job checks that the gate's pass still holds", () => {
  it('reads valid-until from the deploy job’s output, through the environment, before anything else', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, as the workflow spells it
    expect(check.env).toEqual({ VALID_UNTIL: '${{ needs.deploy.outputs.valid-until }}' });
    expect(check.run).not.toContain('${{');
    expect(ship.steps.indexOf(check)).toBe(0);
    expect(ship.steps.indexOf(check)).toBeLessThan(ship.steps.findIndex((s) => s.run?.startsWith('./deploy.sh')));
  });

  it('ships while the pass holds', () => {
    expect(runCheck(new Date(Date.now() + 3_600_000).toISOString())).toBe(0);
    expect(runCheck('9999-12-31T23:59:59.999Z')).toBe(0);
  });

  it('ships nothing once it has passed (the break-glass expired, the evidence grew older than max-age)', () => {
    expect(runCheck(new Date(Date.now() - 1000).toISOString())).not.toBe(0);
    expect(runCheck('2026-01-01T02:00:00.000Z')).not.toBe(0);
  });

  it('ships nothing without a time, or with one it cannot read', () => {
    expect(runCheck('')).not.toBe(0);
    expect(runCheck('soon')).not.toBe(0);
  });
});
