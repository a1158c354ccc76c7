import { EMBEDDED_TRUSTED_ROOTS, embeddedTrustedRootJSON } from '@twokey/sigstore';
import { parseCommandArgs } from '../args';
import { type CliIO, EXIT, UsageError } from '../io';

export const TRUSTED_ROOT_USAGE = `Usage: twokey trusted-root [--name public-good|github]

Prints the trusted roots embedded in twokey as JSON Lines, one trusted_root.json a line, as
gh attestation trusted-root does: public-good (the Sigstore public-good instance) and github (GitHub's instance, which
signs private repositories). --name prints one. Save a line to a file to pin it, or give the name itself to
--trusted-root.
`;

const OPTIONS = {
  name: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function trustedRootCommand(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs('trusted-root', args, OPTIONS);
  if (values.help) {
    io.stdout.write(TRUSTED_ROOT_USAGE);
    return EXIT.ok;
  }
  if (positionals.length > 0) throw new UsageError(`trusted-root takes no arguments, got ${positionals.join(' ')}`);
  const names = values.name === undefined ? [...EMBEDDED_TRUSTED_ROOTS] : [values.name];
  for (const name of names) {
    if (!isEmbedded(name)) {
      throw new UsageError(`trusted-root: --name: expected ${EMBEDDED_TRUSTED_ROOTS.join(' or ')}, found ${name}`);
    }
    io.stdout.write(`${JSON.stringify(embeddedTrustedRootJSON(name))}\n`);
  }
  return EXIT.ok;
}

function isEmbedded(name: string): name is (typeof EMBEDDED_TRUSTED_ROOTS)[number] {
  return (EMBEDDED_TRUSTED_ROOTS as readonly string[]).includes(name);
}
