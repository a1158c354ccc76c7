// Files in a release directory named like options (threat model row 189): `twokey verify *` run in a directory the
// developer can write to hands the shell's expansion to twokey, and a file named `--trusted-root=.root.json` (a root
// of her own Sigstore stack, kept as a dotfile `*` does not expand), `--policy=.p.yml` or `--help` was read as an
// option: PASS for evidence her own CA signed, another policy than the one written before the glob, or help and
// exit 0 for every artifact. An option that is also a file's name here is refused (exit 2), as a file named like a
// digest is (row 138), and so is a one-value option given twice; after `--`, such a file is an artifact like any other.
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Corpus, makeCorpus } from '../../bench/corpus';
import { requireBuiltCli } from '../conformance/paths';

let dir: string;
/** Evidence minted on a Sigstore stack the developer runs herself: her own CA, any SAN. */
let attacker: Corpus;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twokey-option-named-'));
  attacker = await makeCorpus(join(dir, 'attacker'), 2);
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const twokey = `"${process.execPath}" "${requireBuiltCli()}"`;
const sh = (command: string, cwd: string) => runProcess('/bin/sh', ['-c', command], { cwd });

describe('files named like options in a release directory', () => {
  it('refuses a file named --trusted-root=… (her own root) that `*` expands to, and reads it as an artifact after --', async () => {
    const artifact = attacker.artifacts.find((a) => !a.forged)!;
    // The org policy: the real identities, the org's trusted root (public-good: no deploy.trusted-root).
    const orgPolicy = join(dir, 'org-policy.yml');
    writeFileSync(orgPolicy, readFileSync(attacker.policy, 'utf8').replace(/deploy:\n {2}trusted-root: .*\n/, ''));
    const release = join(dir, 'release');
    mkdirSync(release);
    copyFileSync(artifact.path, join(release, artifact.name));
    cpSync(attacker.bundlesDir, join(release, '.t'), { recursive: true });
    copyFileSync(attacker.trustedRoot, join(release, '.root.json'));
    writeFileSync(join(release, '--trusted-root=.root.json'), '');
    writeFileSync(join(release, '--bundle=.t'), '');

    const result = await sh(`${twokey} verify * --policy ${orgPolicy} --repo acme/app`, release);
    expect(result.status, result.stdout + result.stderr).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('"--bundle=.t" is an option and the name of a file here');
    expect(result.stderr).toContain('put the artifacts after `--`');

    // After `--`, every name is an artifact: the planted files are artifacts nobody signed, and nothing passes.
    const asArtifacts = await sh(`${twokey} verify --policy ${orgPolicy} --repo acme/app --bundle .t -- *`, release);
    expect(asArtifacts.status, asArtifacts.stdout + asArtifacts.stderr).toBe(1);
    expect(asArtifacts.stdout).toContain('--trusted-root=.root.json');
    expect(asArtifacts.stdout).not.toContain('verdict: accepted');
  }, 120_000);

  it('refuses a second --policy, planted or typed', async () => {
    const release = join(dir, 'release2');
    mkdirSync(release);
    const artifact = attacker.artifacts.find((a) => !a.forged)!;
    copyFileSync(artifact.path, join(release, artifact.name));
    copyFileSync(attacker.policy, join(release, '.p.yml'));
    writeFileSync(join(release, '--policy=.p.yml'), '');
    const planted = await sh(`${twokey} verify --policy ${attacker.policy} --repo acme/app *`, release);
    expect(planted.status, planted.stdout + planted.stderr).toBe(2);
    expect(planted.stderr).toContain('"--policy=.p.yml" is an option and the name of a file here');
    const typed = await sh(
      `${twokey} verify --policy ${attacker.policy} --policy .p.yml --repo acme/app ${artifact.name}`,
      release,
    );
    expect(typed.status).toBe(2);
    expect(typed.stderr).toContain('--policy is given twice; it takes one value');
  }, 60_000);

  it('refuses a file named --help, which would have printed the usage and exited 0 for every artifact', async () => {
    const release = join(dir, 'release3');
    mkdirSync(release);
    writeFileSync(join(release, 'app.bin'), 'unsigned');
    writeFileSync(join(release, '--help'), '');
    const result = await sh(`${twokey} verify * --policy ${attacker.policy} --repo acme/app`, release);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('"--help" is an option and the name of a file here');
    // Where no file has that name, --help is help.
    const help = await sh(`${twokey} verify --help`, dir);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: twokey verify/);
  }, 60_000);

  it('refuses a file named -- that `*` expands to: the options typed after the glob would be read as artifacts', async () => {
    const release = join(dir, 'release4');
    mkdirSync(release);
    const artifact = attacker.artifacts.find((a) => !a.forged)!;
    copyFileSync(artifact.path, join(release, artifact.name));
    writeFileSync(join(release, '--'), '');
    // --at 2020-01-01 typed after the glob: after a planted `--`, "--at" and "2020-01-01" would be artifacts.
    const result = await sh(
      `${twokey} verify --policy ${attacker.policy} --repo acme/app --bundle ${attacker.bundlesDir} * --at 2020-01-01`,
      release,
    );
    expect(result.status, result.stdout + result.stderr).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('"--" ends the options and is the name of a file here');
  }, 60_000);
});
