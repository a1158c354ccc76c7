// Findings of the fuzzer that are known and not fixed yet: accepted mutations of a kind someone has been told about.
// `npm run fuzz` reports them like any other finding (it fails on them); only `npm test`'s fixed-seed slice lets them
// pass, so that it stays green on main while catching every other kind. When a fix lands, its entry goes, and a
// replay of the finding goes to test/fuzz/regressions.
import type { CaseReport } from './cases';

export interface OpenFinding {
  /** The accepted mutation's code: RE-ENCODED, or CHANGED and the protobuf fields that differ. */
  code: RegExp;
  /** The mutation's kind (CaseReport.group). */
  group: RegExp;
  why: string;
}

// None open: the strict bundle reader (no unknown, misspelt or repeated key; base64 and enums as protobuf JSON writes
// them) and the rule on log fields no promise signs closed the last ones; what remains accepted is the formats'
// latitude, named in latitude.ts.
export const OPEN_FINDINGS: OpenFinding[] = [];

/** The open finding an accepted mutation is, if any. */
export function openFindingOf(report: CaseReport): OpenFinding | undefined {
  if (report.finding !== 'accepted-mutation') return undefined;
  return OPEN_FINDINGS.find((f) => f.code.test(report.result.code ?? '') && f.group.test(report.group));
}
