// The fuzzer's oracle, on its own: what counts as the same command line, and how an exit or an exception is read.
// A wrong oracle either hides findings or reports accepts that are not ones.
import { BundleVerificationError, SigstoreInputError } from '@twokey/sigstore';
import { describe, expect, it } from 'vitest';
import { argvMeaning } from './argv-mutations';
import { classifyError, classifyExit } from './oracle';

const BASE = [
  'verify-bundle',
  '--bundle',
  '/b.json',
  '--certificate-identity',
  'https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main',
  '--certificate-oidc-issuer',
  'https://token.actions.githubusercontent.com',
  'sha256:abc',
];
const SAN = BASE[4]!;
const replacing = (from: string, to: string[]) => {
  const i = BASE.indexOf(from);
  return [...BASE.slice(0, i), ...to, ...BASE.slice(i + 2)];
};

describe('fuzz oracle: the meaning of a mutated command line', () => {
  it('keeps the meaning of a repeated flag, a --flag=value spelling and a reordering', () => {
    expect(argvMeaning(BASE, [...BASE.slice(0, 3), '--bundle', '/b.json', ...BASE.slice(3)])).toBe('same');
    expect(argvMeaning(BASE, replacing('--bundle', ['--bundle=/b.json']))).toBe('same');
    expect(argvMeaning(BASE, [BASE[0]!, ...BASE.slice(3, 7), ...BASE.slice(1, 3), BASE[7]!])).toBe('same');
    expect(
      argvMeaning(
        BASE,
        replacing('--certificate-identity', ['--certificate-identity-regexp', SAN.replace(/[./-]/g, '\\$&')]),
      ),
    ).toBe('same');
  });

  it('reads a near-miss identity, issuer or digest as different, whatever came before it on the line', () => {
    expect(argvMeaning(BASE, replacing('--certificate-identity', ['--certificate-identity', `${SAN}-evil`]))).toBe(
      'different',
    );
    // parseArgs keeps the last: a near miss after the right value is the one the CLI reads.
    expect(argvMeaning(BASE, [...BASE.slice(0, 7), '--certificate-identity', `${SAN}/`, 'sha256:abc'])).toBe(
      'different',
    );
    expect(
      argvMeaning(BASE, replacing('--certificate-oidc-issuer', ['--certificate-oidc-issuer', 'https://evil'])),
    ).toBe('different');
    expect(argvMeaning(BASE, [...BASE.slice(0, 7), 'sha256:'])).toBe('different');
    expect(
      argvMeaning(
        BASE,
        replacing('--certificate-identity', ['--certificate-identity-regexp', 'https://github\\.com/acme/app']),
      ),
    ).toBe('different');
  });

  it('does not judge what may go either way: a broader or catastrophic pattern, --help, another command', () => {
    expect(argvMeaning(BASE, replacing('--certificate-identity', ['--certificate-identity-regexp', '.*']))).toBe(
      'unknown',
    );
    expect(argvMeaning(BASE, replacing('--certificate-identity', ['--certificate-identity-regexp', '(a+)+$']))).toBe(
      'unknown',
    );
    expect(argvMeaning(BASE, [...BASE, '--help'])).toBe('unknown');
    expect(argvMeaning(BASE, ['verify', ...BASE.slice(1)])).toBe('unknown');
  });

  it('names a repository case-insensitively and resolves artifact paths, as twokey does', () => {
    const verify = ['verify', '/a/app.tar.gz', '--policy', '/p.yml', '--bundle', '/d', '--repo', 'acme/app'];
    expect(argvMeaning(verify, [...verify.slice(0, 7), 'ACME/app'])).toBe('same');
    expect(argvMeaning(verify, [...verify.slice(0, 7), 'acme/app-fork'])).toBe('different');
    expect(argvMeaning(verify, ['verify', '/a/app.tar.gz/', ...verify.slice(2)])).toBe('same');
  });
});

describe('fuzz oracle: outcomes', () => {
  it('reads exit codes: 0 accepted, 1 refused, 2 input error, 3 and stack traces internal, a signal a crash', () => {
    expect(classifyExit(0, '', 'Verified OK').outcome).toBe('accepted');
    expect(classifyExit(1, 'error SIGNATURE_INVALID: b.json: bad\n').outcome).toBe('refused');
    expect(classifyExit(1, '', '{"verdict":"fail"}').outcome).toBe('refused');
    expect(classifyExit(2, 'error BUNDLE_MALFORMED: b.json: bad\n').outcome).toBe('input-error');
    expect(classifyExit(2, '', 'Usage: twokey <command>').outcome).toBe('input-error');
    expect(classifyExit(3, 'twokey: internal error (this is a bug): x\n').outcome).toBe('internal-error');
    expect(classifyExit(1, 'TypeError: x\n    at f (/a.js:1:2)\n').outcome).toBe('internal-error');
    expect(classifyExit(1, 'error VERIFICATION_FAILED: Cannot read properties of undefined\n').outcome).toBe(
      'internal-error',
    );
    expect(classifyExit(null, '', '', 'SIGSEGV').outcome).toBe('crash');
  });

  // Fuzzer run of seed 12, case 409757: `verify ARTIFACT --policy P --repo R` with its --bundle dropped reads the
  // attestation store, and says first that it reads it without a token; the refusal (an empty store) after that note
  // was taken for an uncoded error (an internal error).
  it('reads the verdict or the coded error after the notes the CLI writes first; anything uncoded is still a bug', () => {
    const note = "note: no GH_TOKEN or GITHUB_TOKEN: reading acme/app's attestations anonymously\n";
    expect(classifyExit(1, note, '{"verdict":"fail"}')).toEqual({
      outcome: 'refused',
      code: 'VERDICT',
      message: '{"verdict":"fail"}',
    });
    expect(classifyExit(2, `${note}error ATTESTATIONS_UNREADABLE: acme/app: the store did not answer\n`)).toEqual({
      outcome: 'input-error',
      code: 'ATTESTATIONS_UNREADABLE',
      message: 'error ATTESTATIONS_UNREADABLE: acme/app: the store did not answer',
    });
    expect(classifyExit(1, note).outcome).toBe('internal-error');
    expect(classifyExit(2, `${note}something went wrong\n`).outcome).toBe('internal-error');
    expect(classifyExit(1, `${note}TypeError: x\n    at f (/a.js:1:2)\n`, '{"verdict":"fail"}').outcome).toBe(
      'internal-error',
    );
    expect(classifyExit(1, `error X: y\n${note}`, '').outcome).toBe('refused');
  });

  it('reads exceptions: coded refusals and input errors as such, an engine error under a catch-all code as a bug', () => {
    expect(classifyError(new BundleVerificationError('SIGNATURE_INVALID', 'b.json: bad')).outcome).toBe('refused');
    expect(classifyError(new SigstoreInputError('BUNDLE_MALFORMED', 'b.json: bad')).outcome).toBe('input-error');
    expect(classifyError(new TypeError('x is not a function')).outcome).toBe('internal-error');
    const masked = new BundleVerificationError('VERIFICATION_FAILED', 'b.json: x', { cause: new RangeError('deep') });
    expect(classifyError(masked).outcome).toBe('internal-error');
  });
});
