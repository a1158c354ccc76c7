import { parseArgs } from 'node:util';
import { bindRepositories, describeReport } from '@twokey/core';
import { artifactsFromArguments, deployTrustedRoot, judgeDeploy, readPolicyFile } from '@twokey/sigstore';
import { type CliIO, EXIT, UsageError } from '../io';

export const VERIFY_USAGE = `Usage: twokey verify ARTIFACT|sha256:HEX... --policy FILE [--bundle FILE|DIR|GLOB]...
         [--repo OWNER/NAME] [--trusted-root FILE] [--json]

Gives the deploy gate's verdict offline: for each artifact, a signature and a review attestation by the policy's
sign identity, SLSA provenance by its build identity for the same commit and repository, an independent review that
passes the policy's rules, distinct identities and fresh evidence. Every bundle given is verified once against the
trusted root: --trusted-root, else the policy's deploy.trusted-root (relative to the policy file), else the Sigstore
public-good root embedded in twokey. A directory means every *.json file below it.

The chain must come from one repository the deploy is bound to: --repo, else the policy's deploy.repositories, else
the source-repository its identities pin. When the policy names none, --repo is required (the deploy action binds
its own GITHUB_REPOSITORY); when it names some, --repo must be one of them.

  --policy FILE         the policy file (.twokey/policy.yml)
  --bundle FILE|DIR     evidence bundles; repeat for more
  --repo OWNER/NAME     the repository whose build → sign chain to accept
  --trusted-root FILE   a trusted_root.json to verify bundles against
  --json                print the report (the deploy action's report-path) as JSON

Exit status: 0 every artifact accepted; 1 refused; 2 usage error, unreadable file, invalid policy or malformed bundle;
3 internal error (a bug in twokey, never a verdict).
`;

export async function verifyCommand(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseVerifyArgs(args);
  if (values.help) {
    io.stdout.write(VERIFY_USAGE);
    return EXIT.ok;
  }
  if (positionals.length === 0) {
    throw new UsageError('verify: give at least one artifact (a path or sha256:HEX)');
  }
  if (!values.policy) throw new UsageError('verify: --policy FILE is required');

  const policy = readPolicyFile(values.policy);
  const binding = bindRepositories(policy, { repository: values.repo, name: '--repo', role: 'narrow' });
  const trust = deployTrustedRoot(policy, values['trusted-root']);
  const artifacts = artifactsFromArguments(positionals);
  const { report } = await judgeDeploy({ policy, binding, trust, artifacts, bundles: values.bundle ?? [] });

  io.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : describeReport(report));
  return report.verdict === 'pass' ? EXIT.ok : EXIT.refused;
}

function parseVerifyArgs(args: string[]) {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        policy: { type: 'string' },
        bundle: { type: 'string', multiple: true },
        repo: { type: 'string' },
        'trusted-root': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError(`verify: ${(error as Error).message}`);
  }
}
