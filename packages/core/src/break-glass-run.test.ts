// The key a break-glass's single use is counted by, for every break-glass its run signed (threat-model row 177): the
// GitHub instance and the run id, unique there — never the repository's name, which an admin can change between two
// jobs of one run (leg A signed as acme/app and used; the repository renamed acme/app-v2; leg B, same run, signed as
// acme/app-v2 would have made a second key, and a second use).
import { describe, expect, it } from 'vitest';
import { breakGlassRunOf } from './break-glass';

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
