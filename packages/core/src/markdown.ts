// The one way twokey writes text into Markdown (the step summaries of the three stages, the deploy report). A pull
// request title, a login, a file name or a reason is whatever someone typed, so every string a summary shows passes
// through escapeMarkdown: nothing in it can open HTML, a link, an image, emphasis, math, a heading, a list or a new
// table cell, nor break the line. A summary is data (blocks of inline parts) and renderSummary is the only writer:
// code and links are parts that say what they are, never text that happens to look like them.

/**
 * Inline text: a string is shown as it reads; `{ code }` as inline code; `{ text, href }` as a link when `href` is a
 * plain https URL (else as its text); a list is its parts side by side.
 */
export type Inline = string | { code: string } | { text: string; href: string } | readonly Inline[];

/** One block of a summary. */
export type SummaryBlock =
  | { heading: Inline; level?: 2 | 3 }
  | { paragraph: Inline }
  | { table: { header: readonly Inline[]; rows: readonly (readonly Inline[])[] } }
  | { list: readonly Inline[] }
  /** Preformatted text (an error message): shown exactly, line breaks kept, nothing in it interpreted. */
  | { preformatted: string };

/**
 * Control characters (C0, DEL, C1), line and paragraph separators, and the bidirectional controls that make text read
 * otherwise than it is: shown as `\uXXXX`, so a title cannot break a line or hide what it says.
 */
const INVISIBLE = /[\p{Cc}\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;
/** HTML's own characters, as entities: no tag, no entity, no `<…>` autolink. */
const HTML_ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
/**
 * What Markdown reads wherever it stands, each backslash-escaped (CommonMark: an escaped punctuation character is only
 * itself): the escape, code, emphasis, strikethrough, links and images (`[`), table cells, math, headings.
 */
const SYNTAX = /[\\`*_~[\]|$#&<>"']/g;
/** GitHub's extended autolinks (`scheme://…`, `www.…`) are broken by escaping their `:` or `.`. */
// Any `www.`, whatever stands before it: GitHub links one after `_`, `*`, `~` or `(` too, which the escapes leave.
const AUTOLINK = /:(?=\/\/)|(?<=www)\./gi;
/** What starts a list or a numbered list (or a rule) when it is the first thing in a line. */
const BLOCK_START = /^(\s*)([-+]|\d+[.)])/;

/**
 * Untrusted text as Markdown that shows exactly that text, in a paragraph, a list item, a heading, a table cell and
 * inside `<code>`: invisible characters made visible, HTML's characters as entities, Markdown's backslash-escaped,
 * autolinks broken. (An e-mail address may still be linked as `mailto:`; GitHub finds those after escapes are undone.)
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(INVISIBLE, visible)
    .replace(SYNTAX, (c) => HTML_ENTITIES[c] ?? `\\${c}`)
    .replace(AUTOLINK, (c) => `\\${c}`)
    .replace(BLOCK_START, (_, space: string, marker: string) => `${space}${marker.slice(0, -1)}\\${marker.slice(-1)}`);
}

/** A link target shown as a link: https, and none of the characters that could end the link or a table cell. */
const SAFE_HREF = /^https:\/\/[\w\-.~:/?#@!$&*+,;=%]+$/;

/** Renders one inline part (see Inline). */
export function renderInline(inline: Inline): string {
  if (typeof inline === 'string') return escapeMarkdown(inline);
  if (Array.isArray(inline)) return inline.map(renderInline).join('');
  if ('code' in inline) return `<code>${escapeMarkdown(inline.code)}</code>`;
  const { text, href } = inline as { text: string; href: string };
  return SAFE_HREF.test(href) ? `[${escapeMarkdown(text)}](${href})` : escapeMarkdown(text);
}

/** A summary as GitHub-flavoured Markdown: its blocks, separated by blank lines. */
export function renderSummary(blocks: readonly SummaryBlock[]): string {
  return `${blocks.map(renderBlock).join('\n\n')}\n`;
}

function renderBlock(block: SummaryBlock): string {
  if ('heading' in block) return `${'#'.repeat(block.level ?? 2)} ${renderInline(block.heading)}`;
  if ('paragraph' in block) return renderInline(block.paragraph);
  if ('list' in block) return block.list.map((item) => `- ${renderInline(item)}`).join('\n');
  if ('preformatted' in block) return `<pre>${escapePreformatted(block.preformatted)}</pre>`;
  const { header, rows } = block.table;
  const row = (cells: readonly Inline[]) => `| ${cells.map((cell) => renderInline(cell) || ' ').join(' | ')} |`;
  return [row(header), `|${header.map(() => '---').join('|')}|`, ...rows.map(row)].join('\n');
}

/** Inside `<pre>` (which only `</pre>` ends) nothing is Markdown: HTML entities only, line breaks and tabs kept. */
function escapePreformatted(text: string): string {
  return text
    .replace(INVISIBLE, (c) => (c === '\n' || c === '\t' ? c : visible(c)))
    .replace(/[&<>"']/g, (c) => HTML_ENTITIES[c]!);
}

function visible(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}
