import type { SodReport } from '@twokey/core';

export function renderSodReportHtml(report: SodReport): string {
  return `<!doctype html><title>twokey report</title><pre>${JSON.stringify(report.verdict)}</pre>`;
}
