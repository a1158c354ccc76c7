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
    group: /./,
    why: 'JSON the protobuf reader reads as the seed: unknown or misspelt keys, a key twice (the last wins), base64 without padding or in the URL alphabet, a value of the wrong type read as the default',
  },
  {
    code: /^CHANGED .*timestampVerificationData/,
    group: /./,
    why: 'an RFC 3161 timestamp damaged, dropped, added or replaced while the log entry still dates the signature (uncounted, as sigstore-python tsa/bundle)',
  },
  {
    code: /^CHANGED .*(certificate\.rawBytes|x509CertificateChain|inclusionPromise)/,
    group: /der high-s/,
    why: 'ECDSA malleability: (r, n - s) as a certificate’s or a signed entry timestamp’s signature verifies as well',
  },
  {
    code: /^CHANGED verificationMaterial\.tlogEntries\[\]\.(logIndex|integratedTime|inclusionPromise)$/,
    group: /./,
    why: 'log entry fields nothing signs or no check reads: a Rekor v2 entry’s logIndex and integratedTime, an inclusion promise next to a proof',
  },
  {
    code: /^CHANGED verificationMaterial\.tlogEntries\[\]\.inclusionProof$/,
    group: /checkpoint reorder-signatures|drop|rename-key|splice/,
    why: 'a cosigned checkpoint’s signatures in another order, or the same tree’s checkpoint with or without a cosignature; a v0.1 entry’s inclusion proof dropped (its promise is enough)',
  },
  {
    code: /^CHANGED (mediaType|verificationMaterial\.content\.publicKey\.hint)$/,
    group: /./,
    why: 'the two spellings of the v0.3 media type; the key hint of a bundle verified with --key',
  },
];

/** The open finding an accepted mutation is, if any. */
export function openFindingOf(report: CaseReport): OpenFinding | undefined {
  if (report.finding !== 'accepted-mutation') return undefined;
  return OPEN_FINDINGS.find((f) => f.code.test(report.result.code ?? '') && f.group.test(report.group));
}
