// The SARIF of a deploy report, anchored in the files the caller can name (twokey verify --sarif, the deploy action's
// sarif-path): the policies read, by their paths from the repository's root, and the caller's workflow when known.
// A policy outside the repository (the platform's org policy, read from the action's own commit) is named in
// fingerprints but never pointed into.
import { readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { type DeployReport, deployReportToSarif, type SarifSourceFile } from '@twokey/core';

export interface SarifRequest {
  report: DeployReport;
  /** The repository's root (the workspace): the report's policy paths are relative to it. */
  root: string;
  /** The org policy's path as read (absolute when it came from outside the workspace). */
  policyPath: string;
  /** The caller's workflow file (relative to the root) and the `uses:` of its deploy step, when known. */
  workflow?: { path: string; uses?: string };
  toolVersion: string;
  category?: string;
}

/** Writes the report as SARIF 2.1.0 to `file`; throws SarifError when no result could be anchored. */
export function writeSarif(file: string, request: SarifRequest): void {
  const { report, root } = request;
  const policy = sourceIn(root, request.policyPath);
  const repositoryPolicy = report.policy.repository
    ? sourceIn(root, resolve(root, report.policy.repository.source))
    : undefined;
  const workflow = request.workflow && readable(root, request.workflow.path);
  const log = deployReportToSarif(report, {
    policy: policy.inside
      ? { path: policy.path, text: policy.text }
      : { path: policy.path, text: policy.text, outsideRepository: true },
    ...(repositoryPolicy?.inside && { repositoryPolicy: { path: repositoryPolicy.path, text: repositoryPolicy.text } }),
    ...(workflow && { workflow: { ...workflow, ...(request.workflow?.uses && { uses: request.workflow.uses }) } }),
    toolVersion: request.toolVersion,
    ...(request.category && { category: request.category }),
  });
  writeFileSync(file, `${JSON.stringify(log, null, 2)}\n`);
}

/** A file as SARIF names it: its path from the root when it is inside, else the tail of its path; and its text. */
function sourceIn(root: string, path: string): { path: string; text: string; inside: boolean } {
  const absolute = resolve(root, path);
  const fromRoot = relative(root, absolute);
  const inside = fromRoot !== '' && !fromRoot.startsWith('..') && !isAbsolute(fromRoot);
  const shown = inside ? fromRoot.split(sep).join('/') : absolute.split(sep).slice(-2).join('/');
  return { path: shown, text: readFileSync(absolute, 'utf8'), inside };
}

function readable(root: string, path: string): SarifSourceFile | undefined {
  try {
    const source = sourceIn(root, path);
    return source.inside ? { path: source.path, text: source.text } : undefined;
  } catch {
    return undefined;
  }
}
