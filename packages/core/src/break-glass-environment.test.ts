// A break-glass names the environment it may be used in. GitHub's environment names are not case sensitive
// (`Production` and `production` are one environment of a repository; threat-model row 200): carol dispatches the
// break-glass for `Production`, the deploy workflow says `environment: production`, and the gate must not refuse the
// exception the incident needs for its spelling — while another environment, or a name folded beyond ASCII, stays
// another environment.
import { describe, expect, it } from 'vitest';
import { type BreakGlassPredicate, breakGlassProblems } from './break-glass';

const predicate: BreakGlassPredicate = {
  reason: 'checkout is down',
  incident: 'https://status.acme.example/1',
  environment: 'Production',
  repository: { name: 'acme/app', uri: 'https://github.com/acme/app' },
  change: {
    commit: 'a'.repeat(40),
    author: { login: 'alice', id: 1, type: 'User' },
    contributors: [{ account: { login: 'alice', id: 1, type: 'User' }, roles: ['author'] }],
  },
  requester: { login: 'carol', id: 3, type: 'User' },
  approvers: [{ login: 'dave', id: 4, type: 'User' }],
  notBefore: '2026-01-01T00:00:00Z',
  expires: '2026-01-01T02:00:00Z',
  waives: ['review-attestation'],
  run: { id: 9001, attempt: 1, uri: 'https://github.com/acme/app/actions/runs/9001/attempts/1' },
};
const rules = { maxDurationSeconds: 4 * 3600, minApprovers: 1 };
const now = new Date('2026-01-01T01:00:00Z');
const problemsIn = (environment: string) =>
  breakGlassProblems(predicate, rules, { now, environment, trigger: 'workflow_dispatch' });

describe('the environment a break-glass names', () => {
  it('is the deploy job environment in any ASCII case', () => {
    expect(problemsIn('Production')).toEqual([]);
    expect(problemsIn('production')).toEqual([]);
    expect(problemsIn('PRODUCTION')).toEqual([]);
  });

  it('is not another environment, nor a name folded beyond ASCII', () => {
    expect(problemsIn('staging')).toEqual(['it is for the environment Production, not staging']);
    // U+0130 (İ) lowercases to `i̇`, U+212A (K, KELVIN SIGN) to `k`: names GitHub keeps apart.
    const kelvin = { ...predicate, environment: 'kube-prod' };
    expect(
      breakGlassProblems(kelvin, rules, { now, environment: '\u212Aube-prod', trigger: 'workflow_dispatch' }),
    ).toEqual(['it is for the environment kube-prod, not \u212Aube-prod']);
  });
});
