// `twokey verify --sarif PATH` where PATH cannot be written (no such directory, a directory) was an internal error
// (exit 3, "this is a bug") with no verdict; it is the command line's fault: exit 2, naming the flag and the path, as
// `report --html` does. Found by the review of the CLI for its users.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../packages/cli/src/cli';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'twokey-sarif-path-'));
  mkdirSync(join(dir, 'bundles'));
  writeFileSync(join(dir, 'app.tgz'), 'unreviewed');
  writeFileSync(join(dir, 'bundles', 'junk.json'), '{}');
  writeFileSync(
    join(dir, 'policy.yml'),
    'version: 1\nidentities:\n  build:\n    issuer: https://token.actions.githubusercontent.com\n    san: https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main\n  sign:\n    issuer: https://token.actions.githubusercontent.com\n    san: https://github.com/acme/platform/.github/workflows/sign.yml@refs/heads/main\ndeploy:\n  repositories: [acme/app]\n',
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function verify(sarif: string) {
  let stdout = '';
  let stderr = '';
  // Run where the policy is, so that the SARIF has a line of the repository to point at.
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const status = await run(['verify', 'app.tgz', '--policy', 'policy.yml', '--bundle', 'bundles', '--sarif', sarif], {
      stdout: { write: (t: string) => (stdout += t) },
      stderr: { write: (t: string) => (stderr += t) },
    });
    return { status, stdout, stderr };
  } finally {
    process.chdir(cwd);
  }
}

describe('twokey verify --sarif to a path it cannot write', () => {
  it.each([
    ['in a directory that does not exist', () => join(dir, 'missing', 'x.sarif'), 'ENOENT'],
    ['that is a directory', () => dir, 'EISDIR'],
  ])('%s: a usage error naming it (exit 2), not a bug', async (_what, path, code) => {
    const { status, stderr } = await verify(path());
    expect(status, stderr).toBe(2);
    expect(stderr).toContain(`verify: --sarif: cannot write ${path()}: ${code}`);
    expect(stderr).not.toContain('internal error');
  });

  it('writable: the verdict as ever (refused, exit 1), the SARIF written', async () => {
    const { status, stderr } = await verify(join(dir, 'refusals.sarif'));
    expect(status, stderr).toBe(1);
  });
});
