// The deploy action's `digests` output: the artifacts that passed, one `sha256sum` line each, so that a later job that
// downloads them again (the example's ship job) can check with `sha256sum --check --strict` that it ships what the gate
// judged — not a copy replaced after the gate by whatever kept the run's artifact token (threat model, row 237).
import type { DeployReport } from '@twokey/core';

/**
 * `<hex>  <name>` for each named artifact of a passing report, in GNU coreutils' format: a name holding a backslash, a
 * line feed or a carriage return is written escaped (`\\`, `\n`, `\r`) on a line that starts with a backslash, as
 * `sha256sum` writes and reads it. An artifact given by digest alone has no file to check and no line. Empty for a
 * report that did not pass: nothing is to be shipped.
 */
export function passedChecksums(report: DeployReport): string {
  if (report.verdict !== 'pass') return '';
  return report.artifacts
    .flatMap(({ artifact: { name, digest } }) => {
      if (name === undefined) return [];
      const escaped = name.replace(/[\\\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : '\\r'));
      return [`${escaped === name ? '' : '\\'}${digest.slice('sha256:'.length)}  ${escaped}`];
    })
    .join('\n');
}
