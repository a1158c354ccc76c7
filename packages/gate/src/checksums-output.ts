// The deploy action's `digests` output: the artifacts that passed, one `sha256sum` line each, so that a later job that
// downloads them again (the example's ship job) can check with `sha256sum --check --strict` that it ships what the gate
// judged — not a copy replaced after the gate by whatever kept the run's artifact token (threat model, row 237).
import type { ArtifactReport, DeployReport } from '@twokey/core';

/**
 * `<hex>  <name>` for each named artifact of a passing report, in GNU coreutils' format: a name holding a backslash, a
 * line feed or a carriage return is written escaped (`\\`, `\n`, `\r`) on a line that starts with a backslash, as
 * `sha256sum` writes and reads it. An artifact given by digest alone has no file to check and no line; a name given
 * as `./app` is the file `app`, and a file named twice is one line (the ship job counts the files against the lines).
 * Empty for a report that did not pass: nothing is to be shipped.
 */
export function passedChecksums(
  report: Pick<DeployReport, 'verdict'> & { artifacts: Pick<ArtifactReport, 'artifact'>[] },
): string {
  if (report.verdict !== 'pass') return '';
  const lines = report.artifacts.flatMap(({ artifact: { name: given, digest } }) => {
    if (given === undefined) return [];
    let name = given;
    while (name.startsWith('./')) name = name.slice(2);
    const escaped = name.replace(/[\\\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : '\\r'));
    return [`${escaped === name ? '' : '\\'}${digest.slice('sha256:'.length)}  ${escaped}`];
  });
  return [...new Set(lines)].join('\n');
}
