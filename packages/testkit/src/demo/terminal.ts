// How the demo speaks to a person at a terminal: headings per scenario, ✔/✘ verdicts, indented detail. Colors come
// from node:util styleText, which leaves text plain when stdout is not a TTY or NO_COLOR/NODE_DISABLE_COLORS is set.

import { styleText } from 'node:util';

type Style = Parameters<typeof styleText>[0];

export interface Terminal {
  /** A line as is. */
  line(text?: string): void;
  /** A scenario's heading. */
  heading(text: string): void;
  /** A stage's outcome: `build   ✔ what happened` (`–` skipped, `⚠` an attacker's step). */
  step(stage: string, ok: boolean | 'skipped' | 'attack', text: string): void;
  /** Detail under a step, indented; multi-line text keeps its lines. */
  detail(text: string, style?: Style): void;
  ok(text: string): string;
  bad(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

const WIDTH = 100;
const STEP_INDENT = '  ';
const DETAIL_INDENT = '              ';

export function terminal(stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stdout): Terminal {
  const paint = (style: Style, text: string) => styleText(style, text, { stream, validateStream: true });
  const write = (text: string) => stream.write(`${text}\n`);
  return {
    line: (text = '') => write(text),
    heading: (text) => {
      write('');
      write(paint('bold', `━━ ${text} ${'━'.repeat(Math.max(3, WIDTH - text.length - 4))}`));
    },
    step: (stage, ok, text) => {
      const mark =
        ok === 'skipped'
          ? paint('dim', '–')
          : ok === 'attack'
            ? paint('yellow', '⚠')
            : ok
              ? paint('green', '✔')
              : paint('red', '✘');
      write(`${STEP_INDENT}${paint('bold', stage.padEnd(10))}${mark} ${text}`);
    },
    detail: (text, style) => {
      for (const line of text.replace(/\n+$/, '').split('\n')) {
        write(line === '' ? '' : `${DETAIL_INDENT}${style ? paint(style, line) : line}`);
      }
    },
    ok: (text) => paint('green', text),
    bad: (text) => paint('red', text),
    dim: (text) => paint('dim', text),
    bold: (text) => paint('bold', text),
  };
}
