// A progress bar on stderr for a long run (`twokey report` over an organisation's evidence): drawn only on a
// terminal, only once the run has taken longer than a second, at most ten times a second, and wiped at the end, so
// that a short run, a pipe and a CI log never see it.
import type { Output } from './io';

/** Shown once a run takes longer than this. */
export const PROGRESS_AFTER_MS = 1000;
const REDRAW_EVERY_MS = 100;
const BAR_WIDTH = 24;

export class ProgressBar {
  private readonly started: number;
  private drawnAt = 0;
  private drawn = false;

  constructor(
    private readonly stream: Output & { isTTY?: boolean; columns?: number },
    private readonly label: string,
    private readonly clock: () => number = Date.now,
  ) {
    this.started = clock();
  }

  /** `done` of `total` finished. */
  update(done: number, total: number): void {
    if (this.stream.isTTY !== true) return;
    const now = this.clock();
    if (now - this.started < PROGRESS_AFTER_MS || now - this.drawnAt < REDRAW_EVERY_MS) return;
    this.drawnAt = now;
    this.drawn = true;
    const share = total === 0 ? 1 : Math.min(1, done / total);
    const filled = Math.round(share * BAR_WIDTH);
    const rate = done / Math.max(0.001, (now - this.started) / 1000);
    const line = `${this.label} [${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${done.toLocaleString('en')}/${total.toLocaleString('en')} (${Math.round(share * 100)}%, ${Math.round(rate).toLocaleString('en')}/s)`;
    this.stream.write(`\r${line.slice(0, Math.max(20, (this.stream.columns ?? 100) - 1))}\x1b[K`);
  }

  /** Wipes the bar, if it was drawn. */
  finish(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}
