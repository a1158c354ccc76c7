// Every `uses:` of a workflow with its line, and the rule it must follow: an immutable reference to the code it runs.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Scalar } from 'yaml';

export interface UsesEntry {
  /** The workflow file, as given (relative to the repository root in messages). */
  file: string;
  /** 1-based line of the `uses:` value. */
  line: number;
  uses: string;
  /** The text after the value on its line (where the `# vX.Y.Z` comment sits). */
  rest: string;
  level: 'job' | 'step';
}

/** Every job-level (reusable workflow) and step-level `uses:` of a workflow, with its line. */
export function usesEntries(file: string, source: string): UsesEntry[] {
  const lineCounter = new LineCounter();
  const document = parseDocument(source, { lineCounter });
  if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0]!.message}`);
  const jobs = document.get('jobs', true);
  if (!isMap(jobs)) throw new Error(`${file}: no jobs`);
  const entries: UsesEntry[] = [];
  const add = (node: unknown, level: UsesEntry['level']) => {
    if (node === undefined) return;
    if (!isScalar(node) || typeof node.value !== 'string' || !node.range) {
      throw new Error(`${file}: a uses: that is not a string`);
    }
    const scalar = node as Scalar<string>;
    const [start, valueEnd] = scalar.range!;
    const { line } = lineCounter.linePos(start);
    const lineEnd = source.indexOf('\n', valueEnd);
    entries.push({
      file,
      line,
      uses: scalar.value,
      rest: source.slice(valueEnd, lineEnd === -1 ? undefined : lineEnd),
      level,
    });
  };
  for (const pair of jobs.items) {
    const job = pair.value;
    if (!isMap(job)) continue;
    add(job.get('uses', true), 'job');
    const steps = job.get('steps', true);
    if (isSeq(steps)) for (const step of steps.items) if (isMap(step)) add(step.get('uses', true), 'step');
  }
  return entries;
}

const SHA = /^[0-9a-f]{40}$/;
const REMOTE = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)((?:\/[^@\s]+)?)@([^@\s]+)$/;
const VERSION_COMMENT = /^\s+#\s*v\d+\.\d+\.\d+(?:\s|$)/;
/** An exact release version: `v1.4.0`, never `v1` or `v1.4`. */
const RELEASE_TAG = /^v\d+\.\d+\.\d+$/;

export interface ReferenceRules {
  /** The repository root that `$/path` resolves in (the workflow's own repository). */
  root: string;
  /** Whether `$/…` may appear: only in the reusable workflows of .github/workflows, which run our own code. */
  allowSelf: boolean;
  /** Whether `./…` may appear: not in a reusable workflow, where it would be the caller's checkout. */
  allowLocal: boolean;
}

/**
 * Why this `uses:` is not an immutable reference, or undefined when it is. Allowed: `$/path` (this repository at the
 * running commit, naming a directory with an action.yml), `./path`, `docker://…@sha256:<64 hex>`,
 * `owner/repo[/path]@<40-hex SHA>` followed on its line by a `# vX.Y.Z` comment saying which release it is, and a
 * reusable workflow (job-level) at an exact release tag `vX.Y.Z`.
 */
export function referenceProblem(entry: UsesEntry, rules: ReferenceRules): string | undefined {
  const { uses } = entry;
  if (uses.startsWith('$/')) {
    if (!rules.allowSelf) return '`$/` runs this repository at the running commit: only the reusable workflows may';
    const path = uses.slice(2);
    if (!/^[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)*$/.test(path) || path.split('/').includes('..')) {
      return '`$/` takes a plain directory path, no ref';
    }
    if (!existsSync(join(rules.root, path, 'action.yml'))) return `no ${path}/action.yml in this repository`;
    return undefined;
  }
  if (uses.startsWith('./')) {
    return rules.allowLocal ? undefined : "`./` in a reusable workflow is the caller's checkout: its code, not ours";
  }
  if (uses.startsWith('docker://')) {
    return /@sha256:[0-9a-f]{64}$/.test(uses) ? undefined : 'a docker image must be pinned by @sha256:<64 hex>';
  }
  const remote = REMOTE.exec(uses);
  if (!remote) return 'not owner/repo[/path]@ref';
  // A reusable workflow a caller runs is pinned by its exact release tag (an immutable GitHub release), as
  // slsa-github-generator's builders are: the certificate's SAN names that ref, so the org policy — read at that very
  // commit, which cannot name its own hash — can list the version exactly. A floating tag (`v1`) never passes. Only
  // twokey's own reusable workflows (in twokey's repository or an organisation's copy of it): another project's tag is
  // that project's to move, unless its releases are immutable, which nothing here can check.
  if (
    entry.level === 'job' &&
    /^\/\.github\/workflows\/twokey-[a-z-]+\.ya?ml$/.test(remote[3]!) &&
    RELEASE_TAG.test(remote[4]!)
  ) {
    return undefined;
  }
  if (!SHA.test(remote[4]!))
    return `@${remote[4]} is mutable (a tag, a branch or a short SHA): pin the full commit SHA`;
  if (!VERSION_COMMENT.test(entry.rest)) return 'a pinned SHA needs a `# vX.Y.Z` comment on its line';
  return undefined;
}

/** Every violation of a workflow, as `file:line: uses: VALUE: reason`. */
export function mutableReferences(file: string, source: string, rules: ReferenceRules): string[] {
  return usesEntries(file, source).flatMap((entry) => {
    const problem = referenceProblem(entry, rules);
    return problem ? [`${file}:${entry.line}: uses: ${entry.uses}: ${problem}`] : [];
  });
}
