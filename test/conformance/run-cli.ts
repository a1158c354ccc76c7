import { type ProcessResult, runProcess } from '@twokey/testkit';
import { requireBuiltCli } from './paths';

export type CliResult = ProcessResult;

/** Runs the built `twokey` CLI as a subprocess, as the conformance harness runs a client. */
export function runCli(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  return runProcess(process.execPath, [requireBuiltCli(), ...args], { cwd, env });
}

/** What `twokey verify-bundle` is asked to check a bundle against: the signer's identity and the trusted root. */
export interface ExpectedSigner {
  san: string;
  issuer: string;
  trustedRoot: string;
}

/** `twokey verify-bundle --bundle B --certificate-identity SAN --certificate-oidc-issuer I --trusted-root T ARTIFACT`. */
export function verifyBundleCli(
  bundle: string,
  artifact: string,
  signer: ExpectedSigner,
  cwd: string,
): Promise<CliResult> {
  return runCli(
    [
      'verify-bundle',
      '--bundle',
      bundle,
      '--certificate-identity',
      signer.san,
      '--certificate-oidc-issuer',
      signer.issuer,
      '--trusted-root',
      signer.trustedRoot,
      artifact,
    ],
    cwd,
  );
}
