import { terminalText, type VerifiedBundle } from '@twokey/core';

// How the signer is shown, in the order `gh attestation verify` and cosign users read it.
const SHOWN_EXTENSIONS: [string, string][] = [
  ['sourceRepositoryURI', 'Source repository'],
  ['sourceRepositoryDigest', 'Source digest'],
  ['sourceRepositoryRef', 'Source ref'],
  ['buildSignerURI', 'Build signer URI'],
  ['runInvocationURI', 'Run invocation URI'],
];

/** The signer, each value as the certificate (or the command line) gave it, its control and bidi characters escaped. */
export function describeSigner(verified: VerifiedBundle, keyFile?: string): string {
  const lines: string[] = [];
  if (keyFile) {
    lines.push(`  Signed by key:      ${terminalText(keyFile)}`);
  } else {
    lines.push(`  Identity (SAN):     ${terminalText(verified.signer.san)}`);
    lines.push(`  OIDC issuer:        ${terminalText(verified.signer.issuer)}`);
    for (const [name, label] of SHOWN_EXTENSIONS) {
      const value = verified.signer.extensions[name];
      if (value) lines.push(`  ${`${label}:`.padEnd(20)}${terminalText(value)}`);
    }
  }
  for (const time of verified.signedAt) lines.push(`  Signed at:          ${time.toISOString()}`);
  return `${lines.join('\n')}\n`;
}
