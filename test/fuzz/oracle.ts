// What a fuzz case's outcome was, and whether it is a finding. A case is accepted (exit 0, verified), refused (exit 1,
// a coded refusal), an input error (exit 2, coded), an internal error (exit 3, an uncaught exception, or a refusal or
// input error that only wraps a JavaScript engine error: a bug reported as a verdict), a crash (the process died, or
// `run` rejected) or a hang (over the case's time budget).

export type Outcome = 'accepted' | 'refused' | 'input-error' | 'internal-error' | 'crash' | 'hang';

export type FindingKind =
  | 'crash'
  | 'hang'
  | 'internal-error'
  | 'accepted-mutation'
  | 'inconsistent'
  /** The fuzzer's own code failed (a mutation that cannot be applied): fix the fuzzer. */
  | 'fuzzer-error';

export interface Classified {
  outcome: Outcome;
  /** The error code (`BUNDLE_MALFORMED`), or the exception's name for an internal error. */
  code?: string;
  /** The first line of the message. */
  message?: string;
}

/** Errors of the JavaScript engine and Node's argument checks: a bug, whatever code wraps them. */
const ENGINE_ERRORS = [TypeError, RangeError, ReferenceError, EvalError, URIError];

/**
 * Messages that only an engine error writes. A coded error whose message carries one of these (sigstore-js's causes
 * are flattened into messages) is an internal error wearing a code.
 */
export const ENGINE_MESSAGE =
  /Cannot read propert|Cannot set propert|is not a function|is not iterable|is not an object|is not defined|Maximum call stack|Invalid array length|Invalid string length|Cannot convert|Cannot destructure|Cannot create property|out of memory|Array buffer allocation failed|The value of "[^"]+" is out of range|ERR_OUT_OF_RANGE|ERR_INVALID_ARG|ERR_BUFFER_OUT_OF_BOUNDS|Invalid typed array length|Attempt to access memory outside buffer bounds|\bundefined is not|\bnull is not/;

/** Codes that say only that something failed: an engine error under one of them was not anticipated by any check. */
const GENERIC_CODES = new Set(['VERIFICATION_FAILED', 'INTERNAL_ERROR']);

/** Kinds of the project's coded errors: `kind` (`usage`/`refusal`/`internal`, or the older `input`/`verification`). */
function kindOf(error: Error): 'input' | 'verification' | 'internal' | undefined {
  const kind = (error as { kind?: unknown }).kind;
  if (kind === 'input' || kind === 'usage') return 'input';
  if (kind === 'verification' || kind === 'refusal') return 'verification';
  if (kind === 'internal') return 'internal';
  if (['PolicyError', 'EvaluationError', 'DeployInputError', 'UsageError'].includes(error.name)) return 'input';
  return undefined;
}

function engineCause(error: unknown): Error | undefined {
  const seen = new Set<unknown>();
  for (let e = error; e instanceof Error && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    if (ENGINE_ERRORS.some((type) => e instanceof type)) return e as Error;
  }
  return undefined;
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

/** An exception thrown by a package call (the in-process path that skips the CLI's exit codes). */
export function classifyError(error: unknown): Classified {
  if (!(error instanceof Error)) return { outcome: 'internal-error', code: typeof error, message: String(error) };
  const message = firstLine(error.message);
  const kind = kindOf(error);
  const code = (error as { code?: unknown }).code;
  if (kind === undefined || kind === 'internal' || typeof code !== 'string') {
    return { outcome: 'internal-error', code: typeof code === 'string' ? code : error.name, message };
  }
  // A TypeError that escaped a library and got the catch-all code is a bug reported as a verdict; a specific check
  // that names what it could not read (CERTIFICATE_NOT_DER: "@sigstore/core cannot read it: ...") is a verdict.
  const engine = engineCause(error) !== undefined || ENGINE_MESSAGE.test(error.message);
  if (engine && GENERIC_CODES.has(code)) {
    return {
      outcome: 'internal-error',
      code: `${code} wrapping ${engineCause(error)?.name ?? 'an engine error'}`,
      message,
    };
  }
  return {
    outcome: kind === 'verification' ? 'refused' : 'input-error',
    code: engine ? `${code}~engine` : code,
    message,
  };
}

/** A CLI run's exit code and stderr (in-process through `run`, or a subprocess). */
export function classifyExit(status: number | null, written: string, stdout = '', signal?: string | null): Classified {
  // What the CLI says before anything else — `note: no GH_TOKEN …` before it reads the attestation store — is no
  // part of the outcome: a verdict or an error is read from what follows.
  const stderr = written.slice(/^(?:note: [^\n]*\n)*/.exec(written)![0].length);
  const message = firstLine(stderr === '' ? written : stderr);
  // `twokey verify` refuses with its report on stdout and nothing else on stderr; a missing command prints the usage.
  if (status === 1 && stderr === '' && stdout !== '')
    return { outcome: 'refused', code: 'VERDICT', message: firstLine(stdout) };
  if (status === 2 && stderr === '' && stdout.startsWith('Usage:'))
    return { outcome: 'input-error', code: 'USAGE', message: firstLine(stdout) };
  const code = /^error ([A-Z][A-Z0-9_]*): /.exec(stderr)?.[1] ?? (stderr.startsWith('twokey: ') ? 'USAGE' : undefined);
  if (signal) return { outcome: 'crash', code: signal, message };
  if (/\n\s+at .*[(:]\d+/.test(stderr) || /^\s+at /m.test(stderr))
    return { outcome: 'internal-error', code: 'STACK_TRACE', message };
  switch (status) {
    case 0:
      return { outcome: 'accepted', code, message };
    case 1:
    case 2: {
      if (code === undefined) return { outcome: 'internal-error', code: 'UNCODED', message };
      // The CLI's old fallback for an exception it did not expect (`error VERIFICATION_FAILED: <TypeError>`), or an
      // internal error under exit 1 or 2: a verdict that is really a bug.
      const engine = ENGINE_MESSAGE.test(stderr);
      if ((engine && GENERIC_CODES.has(code)) || /twokey: internal error/.test(stderr)) {
        return { outcome: 'internal-error', code: `${code} (engine error)`, message };
      }
      return { outcome: status === 1 ? 'refused' : 'input-error', code: engine ? `${code}~engine` : code, message };
    }
    case 3:
      return { outcome: 'internal-error', code, message };
    default:
      return { outcome: 'crash', code: `exit ${status}`, message };
  }
}

/** The finding a case is, if any. `changed`: the input is not the seed (for a bundle: it must not verify). */
export function findingOf(result: Classified, expectation: { mustNotAccept: boolean }): FindingKind | undefined {
  switch (result.outcome) {
    case 'crash':
      return 'crash';
    case 'hang':
      return 'hang';
    case 'internal-error':
      return 'internal-error';
    case 'accepted':
      return expectation.mustNotAccept ? 'accepted-mutation' : undefined;
    default:
      return undefined;
  }
}
