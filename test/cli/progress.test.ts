// The progress bar of a long `twokey report`: on a terminal only, only after a second, wiped at the end — a pipe, a
// CI log and a short run never see it.
import { describe, expect, it } from 'vitest';
import { PROGRESS_AFTER_MS, ProgressBar } from '../../packages/cli/src/progress';

function stream(isTTY: boolean) {
  const written: string[] = [];
  return { written, isTTY, columns: 120, write: (text: string) => written.push(text) };
}

describe('the progress bar', () => {
  it('draws nothing in the first second, then the bar, then wipes it', () => {
    let now = 0;
    const out = stream(true);
    const bar = new ProgressBar(out, 'verifying evidence', () => now);
    bar.update(10, 100);
    expect(out.written).toEqual([]);
    now = PROGRESS_AFTER_MS + 1;
    bar.update(50, 100);
    expect(out.written).toEqual([`\rverifying evidence [${'#'.repeat(12)}${'.'.repeat(12)}] 50/100 (50%, 50/s)\x1b[K`]);
    now += 10;
    bar.update(60, 100);
    expect(out.written).toHaveLength(1);
    bar.finish();
    expect(out.written.at(-1)).toBe('\r\x1b[K');
  });

  it('never draws on a pipe', () => {
    let now = 0;
    const out = stream(false);
    const bar = new ProgressBar(out, 'verifying evidence', () => now);
    now = 10 * PROGRESS_AFTER_MS;
    bar.update(50, 100);
    bar.finish();
    expect(out.written).toEqual([]);
  });
});
