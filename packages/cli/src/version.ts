import { embeddedTrustedRoots } from '@twokey/sigstore';
import cliPackage from '../package.json' with { type: 'json' };

/** `twokey --version`: the package's version, the runtime, and the trusted roots this build verifies against. */
export function describeVersion(): string {
  const lines = [
    `twokey ${cliPackage.version} (@twokey/cli, Node ${process.version}, ${process.platform}-${process.arch})`,
  ];
  for (const root of embeddedTrustedRoots()) {
    lines.push(
      `trusted root embedded: ${root.name} (${root.tufRoot ? `TUF root v${root.tufRoot.version}, expires ${root.tufRoot.expires.slice(0, 10)}` : 'as published'}): ` +
        `${count(root.certificateAuthorities, 'certificate authority', 'certificate authorities')}, ` +
        `${count(root.transparencyLogs, 'transparency log')}, ${count(root.ctLogs, 'CT log')}, ` +
        `${count(root.timestampAuthorities, 'timestamp authority', 'timestamp authorities')}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
