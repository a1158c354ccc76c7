// How the build stage shows its result in the job's step summary.
import { summary } from '@actions/core';
import type { BuildResult } from './main';

const SHOWN_SUBJECTS = 100;

export async function writeSuccessSummary(result: BuildResult): Promise<void> {
  const rows = result.subjects.slice(0, SHOWN_SUBJECTS).map((subject) => [
    { data: `<code>${escapeHtml(subject.name ?? '')}</code>` },
    {
      data: Object.entries(subject.digest)
        .map(([algorithm, hex]) => `<code>${algorithm}:${hex}</code>`)
        .join('<br>'),
    },
  ]);
  await summary
    .addHeading('twokey build: provenance signed', 2)
    .addRaw(
      `Signed by <code>${escapeHtml(result.signer)}</code> for commit <code>${result.claims.sha}</code> ` +
        `(${escapeHtml(result.claims.ref)})${result.logIndex ? `, Rekor log index ${result.logIndex}` : ''}.`,
      true,
    )
    .addTable([
      [
        { data: 'Artifact', header: true },
        { data: 'Digest', header: true },
      ],
      ...rows,
    ])
    .addRaw(
      result.subjects.length > SHOWN_SUBJECTS
        ? `… and ${result.subjects.length - SHOWN_SUBJECTS} more (see the subjects output).`
        : '',
      true,
    )
    .write();
}

export async function writeFailureSummary(message: string): Promise<void> {
  await summary.addHeading('twokey build: nothing signed', 2).addCodeBlock(message).write();
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}
