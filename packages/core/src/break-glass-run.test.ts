// The key a break-glass's single use is counted by, for every break-glass its run signed (threat-model row 177): the
// GitHub instance and the run id, unique there — never the repository's name, which an admin can change between two
// jobs of one run (leg A signed as acme/app and used; the repository renamed acme/app-v2; leg B, same run, signed as
// acme/app-v2 would have made a second key, and a second use).

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  BREAK_GLASS_RUN_SUBJECT,
  breakGlassArtifactSubjects,
  breakGlassRunDigest,
  breakGlassRunOf,
  breakGlassRunSubject,
  breakGlassRunSubjectProblem,
  buildBreakGlassStatement,
} from './break-glass';
import { InTotoError } from './intoto';

const run = (uri: string, id = 9001) =>
  breakGlassRunOf({
    repository: { name: 'x/y', uri },
    run: { id, attempt: 1, uri: `${uri}/actions/runs/${id}/attempts/1` },
  });

describe('breakGlassRunOf', () => {
  it('is one key for one run, however its repository is named or spelled', () => {
    const key = run('https://github.com/acme/app');
    expect(key).toBe('https://github.com/actions/runs/9001');
    for (const uri of [
      'https://github.com/acme/app-v2',
      'https://GitHub.com/Acme/App/',
      'https://github.com/acme/app.git',
    ]) {
      expect(run(uri)).toBe(key);
    }
  });

  it('tells runs apart, and instances', () => {
    expect(run('https://github.com/acme/app', 9002)).not.toBe(run('https://github.com/acme/app'));
    expect(run('https://acme.ghe.com/acme/app')).toBe('https://acme.ghe.com/actions/runs/9001');
  });
});

// Every break-glass carries one more subject, its run's (threat-model row 208): the attestation store indexes bundles by
// subject digest, so every leg of one run is listed under one digest, and the deploy gate finds the others' uses.
describe('breakGlassRunDigest', () => {
  const uri = 'https://github.com/acme/app/actions/runs/9001/attempts/1';
  it('is the sha256 of its name, a NUL and the run (instance and id), for every attempt and spelling', () => {
    const expected = createHash('sha256')
      .update('twokey-break-glass-run\0https://github.com/actions/runs/9001', 'utf8')
      .digest('hex');
    expect(breakGlassRunDigest(uri)).toBe(expected);
    expect(breakGlassRunDigest('https://GitHub.com/Acme/App-v2/actions/runs/9001/attempts/2')).toBe(expected);
    expect(breakGlassRunSubject(uri)).toEqual({ name: 'twokey-break-glass-run', digest: { sha256: expected } });
    expect(breakGlassRunDigest('https://github.com/acme/app/actions/runs/9002/attempts/1')).not.toBe(expected);
    expect(breakGlassRunDigest('https://acme.ghe.com/acme/app/actions/runs/9001/attempts/1')).not.toBe(expected);
  });

  const predicate = {
    reason: 'down',
    incident: 'https://status.acme.example/1',
    environment: 'production',
    repository: { name: 'acme/app', uri: 'https://github.com/acme/app' },
    change: { commit: 'a'.repeat(40), author: { login: 'alice', id: 1, type: 'User' } },
    requester: { login: 'carol', id: 3, type: 'User' },
    approvers: [{ login: 'dave', id: 4, type: 'User' }],
    notBefore: '2026-01-01T00:00:00Z',
    expires: '2026-01-01T02:00:00Z',
    waives: ['review-attestation'],
    run: { id: 9001, attempt: 1, uri },
  };
  const app = { name: 'app.tar.gz', digest: { sha256: 'b'.repeat(64) } };

  it('is a subject of every statement the break-glass workflow builds, and no artifact', () => {
    const statement = buildBreakGlassStatement([app], predicate);
    expect(statement.subject).toEqual([app, breakGlassRunSubject(uri)]);
    expect(breakGlassArtifactSubjects(statement.subject)).toEqual([app]);
    expect(breakGlassRunSubjectProblem(statement, uri)).toBeUndefined();
    expect(() => buildBreakGlassStatement([{ ...app, name: BREAK_GLASS_RUN_SUBJECT }], predicate)).toThrow(InTotoError);
  });

  it('is required, for the run its certificate names', () => {
    const statement = buildBreakGlassStatement([app], predicate);
    expect(breakGlassRunSubjectProblem({ subject: [app] }, uri)).toContain(
      `it carries no subject twokey-break-glass-run sha256:${breakGlassRunDigest(uri)}`,
    );
    expect(
      breakGlassRunSubjectProblem(statement, 'https://github.com/acme/app/actions/runs/9002/attempts/1'),
    ).toContain('it carries no subject twokey-break-glass-run');
    expect(breakGlassRunSubjectProblem(statement, undefined)).toContain('its certificate names no run');
  });
});
