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

export const OPEN_FINDINGS: OpenFinding[] = [
  {
    code: /^RE-ENCODED$/,
    group: /add-key|dup-key|rename-key/,
    why: 'JSON keys the protobuf reader ignores (unknown, misspelt or the other oneof branch) or reads twice (last wins)',
  },
  {
    code: /^RE-ENCODED$/,
    group: /base64 (unpadded|url-safe|line-breaks|space|leading-whitespace)/,
    why: 'base64 spellings of the same bytes (no padding, the URL alphabet, whitespace)',
  },
  {
    code: /^RE-ENCODED$/,
    group: /array (reverse|swap)|checkpoint reorder-signatures/,
    why: 'elements reordered where the order is not read (one signature, the cosignatures of a checkpoint)',
  },
  {
    code: /^CHANGED .*timestampVerificationData/,
    group: /./,
    why: 'an RFC 3161 timestamp damaged, dropped or replaced while the log entry still dates the signature (uncounted, as sigstore-python tsa/bundle)',
  },
  {
    code: /^CHANGED .*(certificate\.rawBytes|inclusionPromise|signedEntryTimestamp|x509CertificateChain)/,
    group: /der high-s/,
    why: 'ECDSA malleability: (r, n - s) in a certificate signature or a signed entry timestamp verifies as well',
  },
  {
    code: /^CHANGED .*inclusionPromise/,
    group: /drop|rename-key|retype|array/,
    why: 'an inclusion promise dropped from an entry that also has an inclusion proof and a timestamp',
  },
  {
    code: /^CHANGED .*(logIndex|mediaType|publicKey\.hint|checkpoint)/,
    group: /int64 (plus-one|minus-one|zero)|splice|drop|rename-key|retype|checkpoint reorder|enum mediaType/,
    why: 'fields no check reads: a Rekor v2 entry’s top-level logIndex, the v0.3 media type’s two spellings, a key hint, cosignature order',
  },
];

/** The open finding an accepted mutation is, if any. */
export function openFindingOf(report: CaseReport): OpenFinding | undefined {
  if (report.finding !== 'accepted-mutation') return undefined;
  return OPEN_FINDINGS.find((f) => f.code.test(report.result.code ?? '') && f.group.test(report.group));
}
