// No glob pattern matches a name holding a line break: `subject-path: dist/*` over a directory whose `sub/` holds
// `payload\n.sh` made no SUBJECT_DIRECTORY refusal (`dist/*/**` never saw the file) and `dist/**` left it out without a
// word, while `./deploy.sh dist/*` ships it unjudged. A name with any control character where the subjects are is now
// refused, shown escaped. Found by the review of this stop's output fixes.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveSubjects } from '@twokey/sigstore';
import { describe, expect, it } from 'vitest';

const inputs = (subjectPath: string) => ({ subjectPath, subjectDigest: '', subjectName: '', subjectChecksums: '' });

function release(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'twokey-control-names-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

describe('subject-path over a file whose name holds a control character', () => {
  it.each([
    ['dist/*, the file in a directory it matches', 'dist/*', 'dist/sub/payload\n.sh', 'dist/sub/payload\\u000a.sh'],
    ['dist/**, the file beside the subjects', 'dist/**', 'dist/payload\n.sh', 'dist/payload\\u000a.sh'],
    ['dist/*, an escape in the name', 'dist/*', 'dist/app\u001b[8m.tgz', 'dist/app\\u001b[8m.tgz'],
    [
      'dist/*, a line separator (U+2028) in a directory it matches',
      'dist/*',
      'dist/sub/payload\u2028.sh',
      'dist/sub/payload\\u2028.sh',
    ],
    ['dist/**, a paragraph separator (U+2029) naming a directory', 'dist/**', 'dist/lib\u2029/x.so', 'dist/lib\\u2029'],
  ])('%s: refused, naming it escaped', async (_what, pattern, name, shown) => {
    const dir = release({ 'dist/app.tgz': 'reviewed', [name]: 'unreviewed' });
    await expect(resolveSubjects(inputs(pattern), dir)).rejects.toMatchObject({
      code: 'SUBJECT_NAME_INVALID',
      message: `subject-path: ${shown} has a control character or a line separator in its name (a line break, a tab, an escape), which no pattern matches and no log shows as it is: rename it`,
    });
  });

  // Found by the review of the fix: the walk started only at the directories holding a subject, so with every
  // artifact in `dist/linux/` a sibling `dist/evil\u2028/` the glob skipped was never read, and `zip -r dist` ships it.
  it.each([
    ['dist/**, a sibling directory with U+2028', 'dist/**', 'evil\u2028', 'payload.sh'],
    ['dist/**/*.tgz, a sibling directory with U+2028', 'dist/**/*.tgz', 'evil\u2028', 'x.tgz'],
    ['dist/**, a sibling directory with a line feed', 'dist/**', 'evil\n', 'payload.sh'],
    ['dist/**, a sibling directory not named in UTF-8', 'dist/**', Buffer.from([0x65, 0xff]), 'payload.sh'],
    ['dist/*/*.tgz, a sibling directory not named in UTF-8', 'dist/*/*.tgz', Buffer.from([0x65, 0xff]), 'x.tgz'],
  ])('%s, every artifact in a subdirectory: refused', async (_what, pattern, sibling, file) => {
    const dir = release({ 'dist/linux/app.tgz': 'reviewed' });
    const at =
      typeof sibling === 'string' ? join(dir, 'dist', sibling) : Buffer.concat([Buffer.from(`${dir}/dist/`), sibling]);
    mkdirSync(at);
    writeFileSync(typeof at === 'string' ? join(at, file) : Buffer.concat([at, Buffer.from(`/${file}`)]), 'unreviewed');
    await expect(resolveSubjects(inputs(pattern), dir)).rejects.toMatchObject({ code: 'SUBJECT_NAME_INVALID' });
  });

  // Found by the review of that fix: a directory named with glob syntax, escaped in the pattern as tinyglobby reads it,
  // is the root without its escapes; and a root above the workspace is not walked (it holds the whole checkout).
  it.each([
    ['out/\\[slug\\]/*.html', 'out/[slug]/index.html'],
    ['out/\\(marketing\\)/**', 'out/(marketing)/about/index.html'],
    ['out/v1\\.2/*.html', 'out/v1.2/index.html'],
  ])('%s: a directory named with glob syntax is read as before', async (pattern, file) => {
    const dir = release({ [file]: 'page' });
    expect((await resolveSubjects(inputs(pattern), dir)).map((s) => s.name)).toEqual(['index.html']);
  });

  it('../**/*.tgz: a root above the workspace is not walked (it holds the whole checkout)', async () => {
    const dir = release({ 'out/app.tgz': 'reviewed', 'ws/README.md': 'x' });
    symlinkSync(join(dir, 'nowhere'), join(dir, 'ws', 'stale-link'));
    const subjects = await resolveSubjects(inputs('../**/*.tgz'), join(dir, 'ws'));
    expect(subjects.map((s) => s.name)).toEqual(['app.tgz']);
  });

  it('a workspace reached through a link: a pattern naming it by its real path roots at the workspace, not walked', async () => {
    // Found by the review of the last fix: compared as text, `/…/real/**/*.tgz` from the workspace `/…/link` rooted at
    // a directory the text said was elsewhere, and the whole checkout was walked (a FIFO in it refused the release).
    const dir = release({ 'real/dist/app.tgz': 'reviewed', 'real/tmp/keep': 'x' });
    symlinkSync(join(dir, 'real'), join(dir, 'link'));
    spawnSync('mkfifo', [join(dir, 'real', 'tmp', 'fifo')]);
    const subjects = await resolveSubjects(inputs(`${join(dir, 'real')}/**/*.tgz`), join(dir, 'link'));
    expect(subjects.map((s) => s.name)).toEqual(['app.tgz']);
  });

  // Found by the review of the last fix: the root was walked only when it held every match by real path, and
  // tinyglobby reports a match through a directory link by the link's path, so one link among the matches
  // (dist/linux -> ../build/linux) left the sibling dist/evil\u2028/ unread.
  it.each(['dist/**', 'dist/**/*.tgz', 'dist/*/*.tgz'])(
    '%s, a directory link among the matches: a sibling directory no glob sees is still refused',
    async (pattern) => {
      const dir = release({ 'build/linux/app.tgz': 'reviewed' });
      mkdirSync(join(dir, 'dist'));
      symlinkSync('../build/linux', join(dir, 'dist', 'linux'));
      mkdirSync(join(dir, 'dist', 'evil\u2028'));
      writeFileSync(join(dir, 'dist', 'evil\u2028', 'payload.tgz'), 'unreviewed');
      await expect(resolveSubjects(inputs(pattern), dir)).rejects.toMatchObject({
        code: 'SUBJECT_NAME_INVALID',
        message: expect.stringContaining('dist/evil\\u2028'),
      });
    },
  );

  // Found by the same review: packages/*/dist/*.tgz rooted at packages/ walked every package's whole tree as a
  // subject's directory, so a pnpm dependency linked into packages/a/node_modules (its files no subject) or a bin link
  // to a file not built yet refused an honest monorepo's release. Only the names the pattern's globs cross are read.
  it('packages/*/dist/*.tgz in a pnpm monorepo: its packages’ dependencies and bin links are no part of the release', async () => {
    const dir = release({
      'packages/a/dist/a-1.0.0.tgz': 'reviewed',
      'packages/b/dist/b-1.0.0.tgz': 'reviewed',
      'node_modules/.pnpm/dep@1.0.0/node_modules/dep/index.js': '',
      'packages/a/node_modules/.bin/.keep': '',
    });
    symlinkSync('../../../node_modules/.pnpm/dep@1.0.0/node_modules/dep', join(dir, 'packages/a/node_modules/dep'));
    symlinkSync('../b/dist/cli.js', join(dir, 'packages/a/node_modules/.bin/b'));
    spawnSync('mkfifo', [join(dir, 'packages', 'a', 'fifo')]);
    const subjects = await resolveSubjects(inputs('packages/*/dist/*.tgz'), dir);
    expect(subjects.map((s) => s.name).sort()).toEqual(['a-1.0.0.tgz', 'b-1.0.0.tgz']);
  });

  it.each([
    ['a package named with a line feed', 'packages/evil\n/dist/x.tgz', 'packages/evil\\u000a'],
    [
      'a release directory named with U+2028 under a package',
      'packages/a/dist/v\u2028/x.tgz',
      'packages/a/dist/v\\u2028',
    ],
  ])('packages/*/dist/**: %s, crossed by the pattern’s globs: refused', async (_what, file, shown) => {
    const dir = release({ 'packages/a/dist/ok/a-1.0.0.tgz': 'reviewed', [file]: 'unreviewed' });
    await expect(resolveSubjects(inputs('packages/*/dist/**'), dir)).rejects.toMatchObject({
      code: 'SUBJECT_NAME_INVALID',
      message: expect.stringContaining(shown),
    });
  });

  // Found by the review of that fix: the directories a pattern crosses were listed by the glob library, which does not
  // report a link to a directory (a shell crosses it), and in them only names were read (a link to nothing, which the
  // glob library does not list either and `tar` keeps, went unjudged); and a committed link `dist -> .` made an honest
  // pattern one rooted at the workspace, which is not crossed. What a shell's glob of the same pattern ships:
  const shell = (dir: string, pattern: string) =>
    spawnSync('bash', ['-O', 'globstar', '-c', `printf '%s\\0' ${pattern}`], { cwd: dir, encoding: 'utf8' })
      .stdout.split('\0')
      .filter((s) => s !== '');
  it.each([
    [
      'packages/*/dist/**, packages/a/dist a link to a directory holding payload\\n.sh',
      'packages/*/dist/**',
      { 'packages/b/dist/b-1.0.0.tgz': 'reviewed', 'build/a/payload\n.sh': 'unreviewed' },
      { 'packages/a/dist': '../../build/a' },
      'packages/a/dist/payload\n.sh',
      'SUBJECT_NAME_INVALID',
    ],
    [
      'dist/*/**/*.tgz, dist/evil a link to a directory whose sub\\n/ holds q.tgz',
      'dist/*/**/*.tgz',
      { 'dist/linux/app.tgz': 'reviewed', 'stash/sub\n/q.tgz': 'unreviewed' },
      { 'dist/evil': '../stash' },
      'dist/evil/sub\n/q.tgz',
      'SUBJECT_NAME_INVALID',
    ],
    [
      'dist/*/**, dist/evil a link to a directory holding q\\u2028.tgz',
      'dist/*/**',
      { 'dist/linux/app.tgz': 'reviewed', 'stash/q\u2028.tgz': 'unreviewed' },
      { 'dist/evil': '../stash' },
      'dist/evil/q\u2028.tgz',
      'SUBJECT_NAME_INVALID',
    ],
    [
      'dist/*/*.tgz, dist/other/q.tgz a link to nothing',
      'dist/*/*.tgz',
      { 'dist/linux/app.tgz': 'reviewed', 'dist/other/.keep': '' },
      { 'dist/other/q.tgz': '/opt/attacker/q.tgz' },
      'dist/other/q.tgz',
      'SUBJECT_LINK_DANGLING',
    ],
    [
      'dist/*/*.tgz, the same through a directory link dist/evil -> ../stash',
      'dist/*/*.tgz',
      { 'dist/linux/app.tgz': 'reviewed', 'stash/.keep': '' },
      { 'dist/evil': '../stash', 'stash/q.tgz': '/opt/attacker/q.tgz' },
      'dist/evil/q.tgz',
      'SUBJECT_LINK_DANGLING',
    ],
    [
      'dist/*/** with dist -> . committed',
      'dist/*/**',
      { 'linux/app.tgz': 'reviewed', 'other/p\u2028.sh': 'unreviewed' },
      { dist: '.' },
      'dist/other/p\u2028.sh',
      'SUBJECT_DIRECTORY',
    ],
  ])('%s: what a shell ships is refused', async (_what, pattern, files, links, shipped, code) => {
    const dir = release(files);
    for (const [name, target] of Object.entries(links)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      symlinkSync(target, join(dir, name));
    }
    expect(shell(dir, pattern)).toContain(shipped);
    await expect(resolveSubjects(inputs(pattern), dir)).rejects.toMatchObject({ code });
  });

  // Found by the review of that fix: a directory the last segment matches, beside no subject, was never read (a shell
  // hands it to `tar` or `zip -r` whole); `.`, `..` or an empty segment after a glob left the rest unread; and `**`
  // went into dot directories and through links (bash's globstar does neither), refusing an honest monorepo over a
  // bin link its `*.tgz` could not match.
  const linked = (dir: string, links: Record<string, string>) => {
    for (const [name, target] of Object.entries(links)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      symlinkSync(target, join(dir, name));
    }
    return dir;
  };
  it.each([
    [
      'dist/*/*.tgz, dist/evil/x.tgz/ a directory holding payload\\n.sh',
      'dist/*/*.tgz',
      { 'dist/linux/app.tgz': 'reviewed', 'dist/evil/x.tgz/payload\n.sh': 'unreviewed' },
      {},
      'SUBJECT_NAME_INVALID',
    ],
    [
      'dist/*/*.tgz, dist/evil/x.tgz/ holding a link to nothing',
      'dist/*/*.tgz',
      { 'dist/linux/app.tgz': 'reviewed' },
      { 'dist/evil/x.tgz/install.sh': '/opt/attacker/payload.sh' },
      'SUBJECT_LINK_DANGLING',
    ],
    [
      'dist/*/app.tgz (a literal last segment), dist/evil/app.tgz/ a directory',
      'dist/*/app.tgz',
      { 'dist/linux/app.tgz': 'reviewed', 'dist/evil/app.tgz/payload\u2028.sh': 'unreviewed' },
      {},
      'SUBJECT_NAME_INVALID',
    ],
    [
      'packages/*/dist/*, packages/b/dist/sub/ beside no subject',
      'packages/*/dist/*',
      { 'packages/a/dist/a-1.0.0.tgz': 'reviewed', 'packages/b/dist/sub/payload\u2028.sh': 'unreviewed' },
      {},
      'SUBJECT_NAME_INVALID',
    ],
    [
      'dist/*/*.tgz, dist/evil/x.tgz a link to a directory (tar -h, zip -r follow it)',
      'dist/*/*.tgz',
      { 'dist/linux/app.tgz': 'reviewed', 'stash/payload.sh': 'unreviewed', 'dist/evil/.keep': '' },
      { 'dist/evil/x.tgz': '../../stash' },
      'SUBJECT_DIRECTORY',
    ],
    [
      'dist/*/./*.tgz, a link to nothing',
      'dist/*/./*.tgz',
      { 'dist/linux/app.tgz': 'reviewed', 'dist/evil/.keep': '' },
      { 'dist/evil/q.tgz': '/opt/attacker/q.tgz' },
      'SUBJECT_LINK_DANGLING',
    ],
    [
      'dist/*/../*/*.tgz, a link to nothing',
      'dist/*/../*/*.tgz',
      { 'dist/linux/app.tgz': 'reviewed', 'dist/evil/.keep': '' },
      { 'dist/evil/q.tgz': '/opt/attacker/q.tgz' },
      'SUBJECT_DIRECTORY',
    ],
  ])('%s: refused', async (_what, pattern, files, links, code) => {
    const dir = linked(release(files), links);
    await expect(resolveSubjects(inputs(pattern), dir)).rejects.toMatchObject({ code });
  });

  // Found by the review of that fix: bash's `**` goes into no linked directory but counts a link to one among the
  // directories it stands for (`dist/**/*.tgz` expands `dist/l/*.tgz`); the walk left such links out.
  it.each([
    [
      'dist/**/*.tgz, dist/l -> ../stash whose x.tgz/ holds payload\\n.sh',
      'dist/**/*.tgz',
      { 'dist/linux/app.tgz': 'reviewed', 'stash/x.tgz/payload\n.sh': 'unreviewed' },
      { 'dist/l': '../stash' },
      'dist/l/x.tgz',
      'SUBJECT_NAME_INVALID',
    ],
    [
      'dist/**/*.tgz, a link to nothing reached as dist/l/q.tgz',
      'dist/**/*.tgz',
      { 'dist/linux/app.tgz': 'reviewed', 'stash/.keep': '' },
      { 'dist/l': '../stash', 'stash/q.tgz': '/opt/attacker/q.tgz' },
      'dist/l/q.tgz',
      'SUBJECT_LINK_DANGLING',
    ],
    [
      'dist/**/bin/*, dist/l -> ../stash whose bin/tool/ holds run\\u2028.sh',
      'dist/**/bin/*',
      { 'dist/a/bin/app': 'reviewed', 'stash/bin/tool/run\u2028.sh': 'unreviewed' },
      { 'dist/l': '../stash' },
      'dist/l/bin/tool',
      'SUBJECT_NAME_INVALID',
    ],
  ])('%s: refused', async (_what, pattern, files, links, shipped, code) => {
    const dir = linked(release(files), links);
    expect(shell(dir, pattern)).toContain(shipped);
    await expect(resolveSubjects(inputs(pattern), dir)).rejects.toMatchObject({ code });
  });

  // Found by the review of that fix: `**/**` walked a second time from the links the first `**` counted (bash reads it
  // as `**`), and `..` after a link to a directory was read as the link's textual parent (bash goes to its target's).
  it('dist/**/**/*.tgz is read as dist/**/*.tgz: a name under a linked directory bash never reaches refuses nothing', async () => {
    const dir = linked(release({ 'dist/linux/app.tgz': 'reviewed', 'stash/sub/notes\u2028/x.txt': 'other' }), {
      'dist/l': '../stash',
    });
    expect(shell(dir, 'dist/**/**/*.tgz')).toEqual(['dist/linux/app.tgz']);
    expect((await resolveSubjects(inputs('dist/**/**/*.tgz'), dir)).map((s) => s.name)).toEqual(['app.tgz']);
  });

  // And then: `..` after a directory is read as a path by the glob library (`dist/evil/..` is `dist`) and through the
  // link by a shell (the parent of where `dist/evil` leads), where an ordinary file it ships was never judged.
  it.each(['dist/*/../*/*.tgz', 'dist/**/../*/*.tgz', 'dist/evil/../*/*.tgz'])(
    '%s: a pattern going up after a directory is refused',
    async (pattern) => {
      const dir = linked(
        release({ 'dist/linux/app.tgz': 'reviewed', 'stash/inner/.keep': '', 'stash/other/q.tgz': 'unreviewed' }),
        { 'dist/evil': '../stash/inner' },
      );
      expect(shell(dir, pattern)).toContain('dist/evil/../other/q.tgz');
      await expect(resolveSubjects(inputs(pattern), dir)).rejects.toMatchObject({
        code: 'SUBJECT_DIRECTORY',
        message: expect.stringContaining('goes up (..) after naming a directory'),
      });
    },
  );

  it('packages/**/*.tgz: a bin link to a file not built yet and pnpm links, which no shell glob of it reaches, are no part of the release', async () => {
    const dir = linked(
      release({
        'packages/a/dist/a-1.0.0.tgz': 'reviewed',
        'packages/b/dist/b-1.0.0.tgz': 'reviewed',
        'packages/a/node_modules/.bin/.keep': '',
        'node_modules/.pnpm/dep@1.0.0/node_modules/dep/index.js': '',
      }),
      {
        'packages/a/node_modules/.bin/b': '../../../b/bin/cli.js',
        'packages/a/node_modules/dep': '../../../node_modules/.pnpm/dep@1.0.0/node_modules/dep',
      },
    );
    expect(shell(dir, 'packages/**/*.tgz').sort()).toEqual([
      'packages/a/dist/a-1.0.0.tgz',
      'packages/b/dist/b-1.0.0.tgz',
    ]);
    const subjects = await resolveSubjects(inputs('packages/**/*.tgz'), dir);
    expect(subjects.map((s) => s.name).sort()).toEqual(['a-1.0.0.tgz', 'b-1.0.0.tgz']);
  });

  it('a release without one is read as before', async () => {
    const dir = release({ 'dist/app.tgz': 'reviewed', 'dist/sub/payload.sh': 'also' });
    const subjects = await resolveSubjects(inputs('dist/**'), dir);
    expect(subjects.map((s) => s.name).sort()).toEqual(['app.tgz', 'payload.sh']);
  });
});
