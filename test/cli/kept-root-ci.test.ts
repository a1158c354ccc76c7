// A trusted root kept by `twokey trusted-root --refresh` is read only where a job cannot have planted it: refreshed
// roots were ignored on GitHub Actions and wherever CI is set, but Jenkins, Azure Pipelines, TeamCity and AWS CodeBuild
// set no CI, and there an earlier job on the same agent (same user, same HOME) wrote its own Sigstore stack's root as
// public-good.json and a later release job's `twokey verify` accepted a chain that stack signed, saying nothing. Those
// systems are known by their own variables now, and on a machine twokey takes for a person's, the kept root a verdict
// rests on is named on stderr. Found by the review of the trust anchors.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCorpus } from '../../bench/corpus';
import { runCli } from '../conformance/run-cli';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'twokey-scratch-ci-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The environment of a job on a shared agent: no CI, no GITHUB_ACTIONS, the agent user's HOME, the system's env. */
function agentEnv(home: string, marker: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (
      [
        'CI',
        'GITHUB_ACTIONS',
        'TWOKEY_CACHE_DIR',
        'XDG_CACHE_HOME',
        'HOME',
        'JENKINS_URL',
        'JENKINS_HOME',
        'TF_BUILD',
        'TEAMCITY_VERSION',
        'CODEBUILD_BUILD_ID',
        'bamboo_buildKey',
        'BUILDER_OUTPUT',
        'JB_SPACE_EXECUTION_NUMBER',
        'BUILD_ID',
      ].includes(k)
    )
      continue;
    if (k.startsWith('GITHUB_') || k.startsWith('RUNNER_')) continue;
    env[k] = v;
  }
  return { ...env, HOME: home, ...marker };
}

describe('a trusted root kept on a CI agent', () => {
  it('planted by an earlier job on a Jenkins / Azure Pipelines / TeamCity / CodeBuild agent: not read; on a person’s machine: read and named', async () => {
    // The attacker's own Sigstore stack, and a full chain (provenance, signature, review) it signed under the org's
    // identities.
    const corpus = await makeCorpus(join(dir, 'corpus'), 2);
    const artifact = corpus.artifacts.find((a) => !a.forged)!;
    // The org policy names no trusted root: public-good, the embedded one, is meant to decide.
    const policy = readFileSync(corpus.policy, 'utf8')
      .replace(/^\s+source-repository: .*\n/gm, '')
      .replace(/^\s+trusted-root: .*\n/gm, '  max-age: 30d\n');
    expect(policy).not.toContain('trusted-root');
    writeFileSync(join(dir, 'org-policy.yml'), policy);
    const evidence = ['--bundle', artifact.provenance, '--bundle', artifact.signature, '--bundle', artifact.review];
    const verify = (env: NodeJS.ProcessEnv) =>
      runCli(['verify', artifact.path, '--policy', 'org-policy.yml', '--repo', 'acme/app', ...evidence], dir, env);

    for (const marker of [
      { JENKINS_URL: 'https://jenkins.example/', BUILD_ID: '42' },
      { TF_BUILD: 'True', AGENT_ID: '1' },
      { TEAMCITY_VERSION: '2024.1' },
      { CODEBUILD_BUILD_ID: 'proj:1' },
    ]) {
      const home = mkdtempSync(join(dir, 'agent-home-'));
      // Before: the embedded public-good root refuses the attacker's chain.
      const before = await verify(agentEnv(home, marker));
      expect(before.status, before.stdout + before.stderr).toBe(1);

      // An earlier job on the same agent (same user): no twokey needed, it writes the file as --refresh would.
      const kept = join(home, '.cache', 'twokey', 'trusted-roots');
      mkdirSync(kept, { recursive: true, mode: 0o700 });
      chmodSync(join(home, '.cache'), 0o700);
      chmodSync(join(home, '.cache', 'twokey'), 0o700);
      writeFileSync(join(kept, 'public-good.json'), readFileSync(corpus.trustedRoot), { mode: 0o600 });

      // The release job's gate: the embedded root decides, and refuses the chain.
      const after = await verify(agentEnv(home, marker));
      expect(after.status, `${JSON.stringify(marker)}: ${after.stdout}${after.stderr}`).toBe(1);
      expect(after.stderr).not.toContain('trusted-roots');
    }
    // A machine with none of those variables is taken for a person's: the root they refreshed is used, and named.
    const home = mkdtempSync(join(dir, 'laptop-home-'));
    const kept = join(home, '.cache', 'twokey', 'trusted-roots');
    mkdirSync(kept, { recursive: true, mode: 0o700 });
    chmodSync(join(home, '.cache'), 0o700);
    chmodSync(join(home, '.cache', 'twokey'), 0o700);
    writeFileSync(join(kept, 'public-good.json'), readFileSync(corpus.trustedRoot), { mode: 0o600 });
    const laptop = await verify(agentEnv(home, {}));
    expect(laptop.status, laptop.stdout + laptop.stderr).toBe(0);
    expect(laptop.stderr).toContain(
      `note: the trusted root kept in ${join(kept, 'public-good.json')} by \`twokey trusted-root --refresh\` is used`,
    );
  }, 120_000);
});
