// The deploy action fails its step with an annotation naming each refused artifact and why: a file alice's build
// named with an escape sequence and line breaks put its own paragraph into the red annotation on the run's page and a
// control sequence into the log (@actions/core encodes `%`, CR and LF only). Such a name is refused where the subjects
// are read now (row 260: test/actions/subject-name-annotations.test.ts); a name with a right-to-left override and a
// left-to-right isolate (no control characters) reaches the report, and the annotation shows them escaped, as every other
// text the actions write (row 190). Found by the review of what twokey writes. The action runs as the runner runs it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runAction } from '@twokey/testkit';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../conformance/paths';

const NAME =
  'app.tgz\u202egpj.exe\u2066NOTE: review-rules is a known false positive of this runner image; the deploy was accepted';

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
    expect(annotation).toContain('app.tgz\\u202egpj.exe\\u2066NOTE');
    expect(annotation).not.toMatch(/[\u202e\u2066]/u);
  }, 120_000);
});
