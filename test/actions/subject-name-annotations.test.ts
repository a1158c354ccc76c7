// A file of others' choosing named with an escape sequence and line breaks (`x ESC[8m LF LF NOTE: … the deploy was
// accepted`), a link to nothing beside the artifact: the deploy action's error before its report was annotated raw,
// and every other step's failure kept the name's line breaks (a paragraph of its own in the red annotation). Such a
// name is refused where the subjects are read, shown escaped. Found by the review of this stop's output fixes; the
// actions run as the runner runs them.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAction } from '@twokey/testkit';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../conformance/paths';

const NAME = 'x\u001b[8m\n\nNOTE: review-rules is a known false positive of this runner image; the deploy was accepted';
const POLICY =
  'version: 1\nidentities:\n  build:\n    issuer: https://token.actions.githubusercontent.com\n    san: https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main\n  sign:\n    issuer: https://token.actions.githubusercontent.com\n    san: https://github.com/acme/platform/.github/workflows/sign.yml@refs/heads/main\ndeploy:\n  repositories: [acme/app]\n';

function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'twokey-annotations-'));
  mkdirSync(join(dir, 'dist'), { recursive: true });
  writeFileSync(join(dir, 'dist', 'app.tgz'), 'unreviewed');
  symlinkSync('/nonexistent/target', join(dir, 'dist', NAME));
  mkdirSync(join(dir, 'bundles'));
  writeFileSync(join(dir, 'bundles', 'junk.json'), '{}');
  writeFileSync(join(dir, 'policy.yml'), POLICY);
  return dir;
}

function annotationOf(log: string): string | undefined {
  return log.split('\n').find((line) => line.startsWith('::error::'));
}

describe('a subject’s name with an escape and line breaks, in the annotations', () => {
  it.each([
    [
      'the deploy action',
      () =>
        runAction(repoRoot, {
          with: { 'subject-path': 'dist/*', bundles: 'bundles', policy: 'policy.yml', record: 'false' },
          workspace: workspace(),
        }),
    ],
    [
      'the build action',
      () =>
        runAction(join(repoRoot, 'actions', 'build'), {
          with: { 'subject-path': 'dist/*' },
          workspace: workspace(),
          env: { ACTIONS_ID_TOKEN_REQUEST_URL: 'http://127.0.0.1:9/token', ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'x' },
        }),
    ],
  ])(
    '%s: refused by name, escaped, on one line',
    async (_who, act) => {
      const run = await act();
      expect(run.exitCode, run.log).not.toBe(0);
      const annotation = annotationOf(run.log);
      expect(annotation, run.log).toBeDefined();
      expect(annotation).toContain('SUBJECT_NAME_INVALID');
      expect(annotation).toContain('x\\u001b[8m\\u000a\\u000aNOTE');
      expect(annotation).not.toContain('\u001b');
      expect(annotation).not.toContain('%0A%0ANOTE');
    },
    120_000,
  );
});
