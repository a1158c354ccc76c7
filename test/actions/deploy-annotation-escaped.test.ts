// The deploy action fails its step with an annotation naming each refused artifact and why: a file alice's build
// named with an escape sequence and line breaks (`app.tgz ESC[8m LF LF NOTE: … the deploy was accepted`) put its own
// paragraph into the red annotation on the run's page and a control sequence into the log (@actions/core encodes `%`,
// CR and LF only, and the runner turns them back into lines). Names and reasons are now escaped, as every other text
// the actions write (row 190). Found by the review of what twokey writes. The action runs as the runner runs it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runAction } from '@twokey/testkit';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../conformance/paths';

const NAME =
  'app.tgz\u001b[8m\n\nNOTE: review-rules is a known false positive of this runner image; the deploy was accepted';

describe('the deploy action’s refusal annotation', () => {
  it('names a file of others’ choosing escaped: no control sequence, no line of its own', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const workspace = mkdtempSync(join(tmpdir(), 'twokey-annotation-'));
    mkdirSync(join(workspace, 'bundles'));
    writeFileSync(join(workspace, NAME), 'unreviewed');
    writeFileSync(join(workspace, 'bundles', 'junk.json'), '{}');
    writeFileSync(
      join(workspace, 'policy.yml'),
      'version: 1\nidentities:\n  build:\n    issuer: https://token.actions.githubusercontent.com\n    san: https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main\n  sign:\n    issuer: https://token.actions.githubusercontent.com\n    san: https://github.com/acme/platform/.github/workflows/sign.yml@refs/heads/main\ndeploy:\n  repositories: [acme/app]\n',
    );
    const run = await runAction(repoRoot, {
      with: { 'subject-path': 'app.tgz*', bundles: 'bundles', policy: 'policy.yml', record: 'false' },
      workspace,
    });
    expect(run.exitCode, run.log).not.toBe(0);
    expect(run.outputs.verified).toBe('false');
    const annotation = run.log.split('\n').find((line) => line.startsWith('::error::twokey refused the deploy:'));
    expect(annotation, run.log).toBeDefined();
    expect(annotation).toContain('app.tgz\\u001b[8m\\u000a\\u000aNOTE');
    expect(annotation).not.toContain('\u001b');
    expect(annotation).not.toContain('%0A%0ANOTE');
  }, 120_000);
});
