import { resolve } from 'node:path';
import { describeReport, isDigestReference, isoTime, terminalJSON } from '@twokey/core';
import { judgeDeploy, writeSarif } from '@twokey/gate';
import cliPackage from '../../package.json' with { type: 'json' };
import { parseCommandArgs } from '../args';
import { type CliIO, EXIT, onRunner, UsageError } from '../io';

export const VERIFY_USAGE = `Usage: twokey verify ARTIFACT|sha256:HEX|NAME=sha256:HEX... --policy FILE [--repository-policy FILE]
         [--bundle FILE|DIR|GLOB]... [--repo OWNER/NAME] [--trusted-root FILE|public-good|github] [--name NAME]
         [--environment NAME] [--at TIME] [--json] [--sarif FILE]

Gives the deploy gate's verdict offline: for each artifact, a signature and a review attestation by the policy's
sign identity, SLSA provenance by its build identity for the same commit and repository, an independent review that
passes the policy's rules, distinct identities and fresh evidence. Every bundle given is verified once against the
trusted root: --trusted-root, else the policy's deploy.trusted-root (relative to the policy file), else the Sigstore
public-good root embedded in twokey. A directory means every *.json and *.jsonl file below it; a .jsonl file
(as gh attestation download writes it) holds a bundle a line, named FILE.jsonl#Ln.

An artifact is a file (named by its base name), sha256:HEX (a digest alone), or NAME=sha256:HEX (a digest judged
under NAME). A policy with deploy.artifacts judges each artifact by its name: a digest alone cannot be, so it is
refused (covered-by-policy: not-evaluated) until it is named, with NAME=sha256:HEX or --name.

The chain must come from one repository the deploy is bound to: --repo, else the policy's deploy.repositories, else
the source-repository its identities pin. When the policy names none, --repo is required (the deploy action binds
its own GITHUB_REPOSITORY); when it names some, --repo must be one of them.

  --policy FILE         the org policy (the platform repository's .twokey/org-policy.yml)
  --repository-policy FILE
                        the repository's own policy (its .twokey/policy.yml), which may only tighten the org
                        policy: the pair the deploy action judged by
  --bundle FILE|DIR     evidence bundles; repeat for more. Without any, and with --repo: every attestation
                        GitHub's attestation store holds for each artifact in that repository (GH_TOKEN or
                        GITHUB_TOKEN for a private one, none needed for a public one; GITHUB_API_URL for GitHub
                        Enterprise)
  --repo OWNER/NAME     the repository whose build → sign chain to accept
  --owner OWNER         without --bundle: fetch from all of OWNER's attestations, many digests a request (the
                        chain's repository then comes from --repo or the policy's deploy.repositories)
  --trusted-root FILE|public-good|github
                        a trusted_root.json, or an instance by name, to verify bundles against (default: the
                        policy's deploy.trusted-root)
  --name NAME           the name the one artifact given as sha256:HEX is judged under (as NAME=sha256:HEX)
  --environment NAME    judge a deploy to this environment, as the deploy job of that environment would: a
                        break-glass or an attested deploy approval counts only when made for it (without: any
                        environment's counts, and the report names which)
  --at TIME             judge the evidence as of this past time (an audit, a rollback), not now: freshness is
                        measured from it, and the report says AS OF. TIME is ISO 8601 with a zone
                        (2026-11-21T12:00:00Z) or a date (2026-11-21, midnight UTC)
  --json                print the report (the deploy action's report-path) as JSON: report.schema.json, docs/report.md
  --format json|text    the same, as gh attestation verify spells it
  --sarif FILE          also write the refusals as SARIF 2.1.0 (GitHub code scanning's upload format): one result
                        per check that refused an artifact, on the line of the policy key it reads (docs/sarif.md);
                        paths are taken from the working directory as the repository's root

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
    throw new UsageError('verify: give at least one artifact (a path, sha256:HEX or NAME=sha256:HEX)');
  }
  if (!values.policy) throw new UsageError('verify: --policy FILE is required');
  if (values.name !== undefined) checkName(values.name, positionals);
  const at = values.at === undefined ? undefined : parseTime(values.at);
  if (values.format !== undefined && values.format !== 'json' && values.format !== 'text') {
    throw new UsageError(`verify: --format: expected json or text, found ${values.format}`);
  }
  const json = values.json === true || values.format === 'json';

  const token = process.env.GH_TOKEN || process.env.GITHUB_TOKEN || '';
  const fromStore = values.bundle === undefined && (values.repo !== undefined || values.owner !== undefined);
  const { report } = await judgeDeploy({
    policy: values.policy,
    ...(values['repository-policy'] !== undefined && { repositoryPolicy: { path: values['repository-policy'] } }),
    repository: { repository: values.repo, name: '--repo', role: 'narrow' },
    ...(values['trusted-root'] && { trustedRoot: values['trusted-root'] }),
    artifacts: { arguments: positionals, ...(values.name !== undefined && { name: values.name }) },
    bundles: values.bundle ?? [],
    // No bundle given: the evidence is what GitHub's attestation store holds for the repository, as gh fetches it.
    ...(fromStore && {
      attestationStore: {
        repository: values.owner ?? values.repo!,
        apiUrl: process.env.GITHUB_API_URL || 'https://api.github.com',
        token,
        // Said when the store is read, after every input was checked.
        ...(!token && {
          beforeAnonymousRead: () =>
            io.stderr.write(
              `note: no GH_TOKEN or GITHUB_TOKEN: reading ${values.owner ?? values.repo}'s attestations anonymously, which GitHub allows for public repositories only\n`,
            ),
        }),
      },
    }),
    cwd: process.cwd(),
    ...(at && { at }),
    ...(values.environment !== undefined && { environment: values.environment }),
  });

  if (values.sarif !== undefined) {
    const path = resolve(values.sarif);
    try {
      writeSarif(path, { report, root: process.cwd(), policyPath: values.policy, toolVersion: cliPackage.version });
    } catch (error) {
      // A path that cannot be written (no such directory, a directory) is the command line's, as report --html's.
      // Only the SARIF file's own write: a policy or workflow it reads again that cannot be read is no such error.
      const { code, path: failed } = error as NodeJS.ErrnoException;
      if (code === undefined || failed !== path) throw error;
      throw new UsageError(`verify: --sarif: cannot write ${path}: ${code}`);
    }
  }
  io.stdout.write(json ? `${terminalJSON(report)}\n` : onRunner(describeReport(report)));
  return report.verdict === 'pass' ? EXIT.ok : EXIT.refused;
}

const VERIFY_OPTIONS = {
  policy: { type: 'string' },
  'repository-policy': { type: 'string' },
  bundle: { type: 'string', multiple: true },
  repo: { type: 'string' },
  owner: { type: 'string' },
  'trusted-root': { type: 'string' },
  name: { type: 'string' },
  environment: { type: 'string' },
  at: { type: 'string' },
  json: { type: 'boolean' },
  // gh attestation verify's spelling of --json.
  format: { type: 'string' },
  sarif: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The flags, read as every command reads them: a mistake in twokey's words, with "did you mean" (../args). */
function parseVerifyArgs(args: string[]) {
  return parseCommandArgs('verify', args, VERIFY_OPTIONS);
}

/** --name names one artifact: the only one given as a bare sha256:HEX (a file has its own name, NAME= its own). */
function checkName(name: string, positionals: readonly string[]): void {
  if (name.trim() === '') throw new UsageError('verify: --name needs a name');
  const bare = positionals.filter((p) => isDigestReference(p));
  if (bare.length !== 1) {
    throw new UsageError(
      `verify: --name names the one artifact given as sha256:HEX, found ${bare.length} (name each as NAME=sha256:HEX instead)`,
    );
  }
}

/** `--at`: a date (midnight UTC) or an ISO 8601 time with its zone, in the past. */
function parseTime(value: string): Date {
  const time = isoTime(value);
  if (!time) {
    throw new UsageError(
      `verify: --at: expected an ISO 8601 time with its zone (2026-11-21T12:00:00Z) or a date (2026-11-21), found ${JSON.stringify(value)}`,
    );
  }
  if (time.getTime() > Date.now()) {
    throw new UsageError(`verify: --at: expected a time in the past, found ${time.toISOString()}, which is after now`);
  }
  return time;
}
