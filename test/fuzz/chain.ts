// The deploy chain the `chain` target mutates: one artifact with its build provenance, signature and review
// attestation, signed on the loopback stack by the benchmark's corpus maker (bench/corpus.ts), with its trusted root
// and policy. `twokey verify` accepts it; a changed bundle in it must make it refuse. Evidence goes stale (the policy's
// max-age), so the chain is made again when older than a week, and kept in the temporary directory meanwhile: a
// replay names the directory (`--chain DIR`) to run on the same bytes.
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCorpus } from '../../bench/corpus';
import type { ChainCorpus } from './cases';

const CHAIN_VERSION = 'fuzz-chain-v1';
const MAX_AGE_DAYS = 7;

export function defaultChainDir(): string {
  return join(tmpdir(), `twokey-${CHAIN_VERSION}`);
}

/** The chain in `dir`, made there first when missing or stale. */
export async function chainCorpus(
  dir = defaultChainDir(),
  log: (line: string) => void = () => {},
): Promise<ChainCorpus> {
  const manifest = join(dir, 'chain.json');
  if (existsSync(manifest)) {
    const chain = JSON.parse(readFileSync(manifest, 'utf8')) as ChainCorpus & { createdAt: string };
    const ageDays = (Date.now() - Date.parse(chain.createdAt)) / 86_400_000;
    if (ageDays < MAX_AGE_DAYS && chain.bundles.every(existsSync)) return chain;
  }
  log(`fuzz: signing a deploy chain on the loopback Sigstore stack in ${dir}`);
  const building = `${dir}.partial-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  // Two artifacts: the corpus maker forges the last one's signature; the first is the honest chain.
  const corpus = await makeCorpus(building, 2, dir);
  const honest = corpus.artifacts.find((a) => !a.forged)!;
  const valid = join(building, 'valid');
  mkdirSync(valid);
  const names = ['provenance', 'signature', 'review'];
  [honest.provenance, honest.signature, honest.review].forEach((path, i) => {
    copyFileSync(path.replace(dir, building), join(valid, `${names[i]}.sigstore.json`));
  });
  const chain: ChainCorpus & { createdAt: string } = {
    createdAt: new Date().toISOString(),
    dir: join(dir, 'valid'),
    policy: corpus.policy,
    trustedRoot: corpus.trustedRoot,
    artifact: honest.path,
    bundles: names.map((name) => join(dir, 'valid', `${name}.sigstore.json`)),
    repo: 'acme/app',
  };
  writeFileSync(join(building, 'chain.json'), `${JSON.stringify(chain, null, 2)}\n`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(building, dir);
  return chain;
}
