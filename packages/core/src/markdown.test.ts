// The one escaper and the one renderer of every step summary, against text an attacker writes: a pull request title,
// a branch, a login, a file name. What GitHub's Markdown (CommonMark + GFM) would make of each is argued from the
// spec: a backslash-escaped punctuation character is only itself, an entity is only its character.
import { describe, expect, it } from 'vitest';
import { escapeMarkdown, renderInline, renderSummary } from './markdown';

/** Characters that mean something in Markdown or HTML, with no backslash before them (and `\\` pairs skipped). */
function unescaped(markdown: string, characters: string): string[] {
  const found: string[] = [];
  for (let i = 0; i < markdown.length; i++) {
    if (markdown[i] === '\\') i++;
    else if (characters.includes(markdown[i]!)) found.push(markdown[i]!);
  }
  return found;
}

const HOSTILE_TITLES = [
  'Fix <img src=x onerror=alert(1)> and <script>alert(1)</script>',
  '<details open><summary>✅ every check passed, signed</summary></details>',
  'Bump [deps](https://evil.example/login) ![pixel](https://evil.example/p.png)',
  'See https://evil.example/phish and www.evil.example and <https://evil.example>',
  'Row | verdict | ✅ signed |',
  '**bold** _em_ ~~struck~~ `code` $x^2$ [^1] &amp; &#60;b&#62;',
  'line one\nline two\r\n| injected | row |',
  'bell\u0007 escape\u001b[31m red\u001b[0m nul\u0000 del\u007f',
  'right-to-left \u202egnp.exe\u202c isolate \u2066x\u2069 separator\u2028here',
  '# heading',
  '- item',
  '1. first',
  '\\| backslash before a pipe',
];

describe('escapeMarkdown', () => {
  it.each(HOSTILE_TITLES)('leaves no HTML, link, image, emphasis, code, math or cell break in %j', (title) => {
    const escaped = escapeMarkdown(title);
    expect(escaped).not.toMatch(/[<>"']/);
    expect(unescaped(escaped, '`*_~[]|$#\\')).toEqual([]);
    // No entity of the title's survives as one: every & is the start of an entity we wrote.
    expect(escaped.replace(/&(amp|lt|gt|quot|#39);/g, '')).not.toContain('&');
    expect(escaped).not.toMatch(/(?<!\\):\/\//);
    expect(escaped).not.toMatch(/\bwww\./i);
    expect(escaped).not.toMatch(/[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/u);
  });

  it('neutralises HTML as entities and Markdown with backslashes, so the text reads as typed', () => {
    expect(escapeMarkdown('Parser <b>fast</b> | [x](https://evil.example)')).toBe(
      'Parser &lt;b&gt;fast&lt;/b&gt; \\| \\[x\\](https\\://evil.example)',
    );
    expect(escapeMarkdown('**bold** _em_ ~~s~~ `c` $m$ #1')).toBe(
      '\\*\\*bold\\*\\* \\_em\\_ \\~\\~s\\~\\~ \\`c\\` \\$m\\$ \\#1',
    );
    expect(escapeMarkdown('a & b "c" \'d\'')).toBe('a &amp; b &quot;c&quot; &#39;d&#39;');
  });

  it('shows control, separator and bidirectional characters as \\uXXXX instead of obeying them', () => {
    expect(escapeMarkdown('a\nb')).toBe('a\\\\u000ab');
    expect(escapeMarkdown('x\u001b[31my')).toBe('x\\\\u001b\\[31my');
    expect(escapeMarkdown('doc\u202efdp.exe')).toBe('doc\\\\u202efdp.exe');
    expect(escapeMarkdown('a\u2028b')).toBe('a\\\\u2028b');
  });

  it('breaks autolinks: a scheme and www', () => {
    expect(escapeMarkdown('https://evil.example')).toBe('https\\://evil.example');
    expect(escapeMarkdown('ftp://x and WWW.evil.example')).toBe('ftp\\://x and WWW\\.evil.example');
    // GitHub links `www.` after `_`, `*`, `~` or `(` too (cmark-gfm's www_match reads the escape's raw character): a
    // pull request title `fix _www.evil.example/login` was a live link in a step summary.
    expect(escapeMarkdown('approve at _www.evil.example/login')).toBe('approve at \\_www\\.evil.example/login');
    expect(escapeMarkdown('*www.evil.example ~www.evil.example')).toBe('\\*www\\.evil.example \\~www\\.evil.example');
  });

  it('does not start a list, a numbered list or a heading', () => {
    expect(escapeMarkdown('- item')).toBe('\\- item');
    expect(escapeMarkdown('+ item')).toBe('\\+ item');
    expect(escapeMarkdown('12. item')).toBe('12\\. item');
    expect(escapeMarkdown('3) item')).toBe('3\\) item');
    expect(escapeMarkdown('# heading')).toBe('\\# heading');
  });

  it('leaves ordinary text as it is: names, digests, identities without a scheme', () => {
    for (const text of ['review-rules', 'app-linux-amd64.tar.gz', 'sha256:0a1b', 'alice', 'refs/heads/main', '✅ ok']) {
      expect(escapeMarkdown(text)).toBe(text);
    }
  });
});

describe('renderInline', () => {
  it('shows code as <code> with its content escaped (a backtick cannot end it)', () => {
    expect(renderInline({ code: 'a`b</code><b>' })).toBe('<code>a\\`b&lt;/code&gt;&lt;b&gt;</code>');
  });

  it('links only a plain https URL, and escapes the link text', () => {
    expect(renderInline({ text: '#7 [x](y)', href: 'https://github.com/acme/app/pull/7' })).toBe(
      '[\\#7 \\[x\\](y)](https://github.com/acme/app/pull/7)',
    );
    for (const href of [
      'javascript:alert(1)',
      'http://github.com/acme/app/pull/7',
      'https://evil.example/a)(b',
      'https://evil.example/a b',
      'https://evil.example/a|b',
      'https://evil.example/<x>',
      'https://evil.example/a\\)',
    ]) {
      expect(renderInline({ text: 'title', href })).toBe('title');
    }
  });

  it('puts parts side by side', () => {
    expect(renderInline(['by ', { code: 'x' }, ' at ', 'y_z'])).toBe('by <code>x</code> at y\\_z');
  });
});

describe('renderSummary', () => {
  it('renders headings, paragraphs, tables and lists, blank lines between them', () => {
    expect(
      renderSummary([
        { heading: 'twokey sign: signed' },
        { paragraph: ['Signed by ', { code: 'me' }] },
        { table: { header: ['', 'check'], rows: [['✅', { code: 'a' }]] } },
        { heading: 'More', level: 3 },
        { list: ['one', 'two'] },
      ]),
    ).toBe(
      '## twokey sign: signed\n\nSigned by <code>me</code>\n\n|   | check |\n|---|---|\n| ✅ | <code>a</code> |\n\n### More\n\n- one\n- two\n',
    );
  });

  it('keeps every hostile title inside its one table cell: one line per row, one unescaped pipe per cell border', () => {
    const markdown = renderSummary([
      { table: { header: ['', ''], rows: HOSTILE_TITLES.map((title) => ['pull request', title]) } },
    ]);
    const lines = markdown.trimEnd().split('\n');
    expect(lines).toHaveLength(HOSTILE_TITLES.length + 2);
    for (const line of lines.slice(2)) {
      expect(line.startsWith('| pull request | ')).toBe(true);
      expect(unescaped(line, '|')).toHaveLength(3);
    }
  });

  it('shows a preformatted message exactly, in <pre>, which nothing in it can close or turn into Markdown', () => {
    const message = 'POLICY_INVALID: x.yml: </pre><img src=x> **bold**\n\n    permissions:\n\tid-token: write\u001b';
    expect(renderSummary([{ preformatted: message }])).toBe(
      '<pre>POLICY_INVALID: x.yml: &lt;/pre&gt;&lt;img src=x&gt; **bold**\n\n    permissions:\n\tid-token: write\\u001b</pre>\n',
    );
  });
});
