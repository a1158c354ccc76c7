import { spawn } from 'node:child_process';
import { requireBuiltCli } from './paths';

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `twokey` CLI as a subprocess, as the conformance harness runs a client. */
export function runCli(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  const entry = requireBuiltCli();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [entry, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (status) => resolvePromise({ status, stdout, stderr }));
  });
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
