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

  it('a release without one is read as before', async () => {
    const dir = release({ 'dist/app.tgz': 'reviewed', 'dist/sub/payload.sh': 'also' });
    const subjects = await resolveSubjects(inputs('dist/**'), dir);
    expect(subjects.map((s) => s.name).sort()).toEqual(['app.tgz', 'payload.sh']);
  });
});
