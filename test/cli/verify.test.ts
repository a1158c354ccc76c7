// `twokey verify` as a release manager runs it (the built CLI, a subprocess): bad input is exit 2 with the error
// code and the file or key, never a stack trace; missing evidence is a refusal (exit 1) with the check that failed.
// The verdicts on real evidence, agreeing with the deploy action, are in test/e2e/pipeline.test.ts.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEPLOY_CHECK_IDS, readDeployReport } from '@twokey/core';
import { MAX_TRUST_FILE_BYTES } from '@twokey/sigstore';
import { ACME_POLICY } from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCorpus } from '../../bench/corpus';
import { realdataRoot } from '../conformance/paths';
import { type CliResult, runCli } from '../conformance/run-cli';

/** ACME's policy pins no source-repository: a run names the repository whose chain it accepts. */
const POLICY = ACME_POLICY;
const REPO = ['--repo', 'acme/app'];
const ARTIFACT_BYTES = 'app 1.0\n';
const ARTIFACT_DIGEST = `sha256:${createHash('sha256').update(ARTIFACT_BYTES).digest('hex')}`;

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'twokey-verify-cli-'));
  writeFileSync(join(dir, 'policy.yml'), POLICY);
  writeFileSync(join(dir, 'app.tar.gz'), ARTIFACT_BYTES);
  mkdirSync(join(dir, 'empty'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function twokey(...args: string[]): Promise<CliResult> {
  return runCli(['verify', ...args], dir);
}

/** An input error: exit 2, nothing on stdout, `error CODE: …` lines naming what is wrong, no stack trace. */
function expectInputError(result: CliResult, code: string, ...named: string[]): void {
  const context = `${result.stdout}${result.stderr}`;
  expect(result.status, context).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr).not.toMatch(/\n\s+at |Error:/);
  for (const line of result.stderr.trimEnd().split('\n')) expect(line, context).toMatch(new RegExp(`^error ${code}: `));
  for (const name of named) expect(result.stderr, context).toContain(name);
}

/** A usage error: exit 2, one `twokey:` line naming the flag or what is missing. */
function expectUsageError(result: CliResult, ...named: string[]): void {
  expect(result.status, result.stderr).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(/^twokey: verify: /);
  expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  for (const name of named) expect(result.stderr).toContain(name);
}

describe('twokey verify: usage', () => {
  it('--help prints the usage and exits 0', async () => {
    const result = await twokey('--help');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Usage: twokey verify ARTIFACT|sha256:HEX|NAME=sha256:HEX... --policy FILE');
  });

  it('refuses to run without an artifact', async () => {
    expectUsageError(await twokey('--policy', 'policy.yml'), 'at least one artifact');
  });

  it('refuses to run without --policy', async () => {
    expectUsageError(await twokey('app.tar.gz', '--bundle', 'empty'), '--policy FILE is required');
  });

  it('refuses an --at that is not a time, or is not in the past, naming it', async () => {
    expectUsageError(await twokey('app.tar.gz', '--policy', 'policy.yml', '--at', 'yesterday'), '--at', 'ISO 8601');
    expectUsageError(await twokey('app.tar.gz', '--policy', 'policy.yml', '--at', '2026-11-21T12:00:00'), '--at');
    // A day February does not have: Date.parse read it as 2026-03-02, and the audit ran as of that day.
    expectUsageError(await twokey('app.tar.gz', '--policy', 'policy.yml', '--at', '2026-02-30'), '--at', 'ISO 8601');
    const future = new Date(Date.now() + 86_400_000).toISOString();
    expectUsageError(await twokey('app.tar.gz', '--policy', 'policy.yml', '--at', future), '--at', 'in the past');
  });

  it('refuses a --name that does not name exactly one artifact given as sha256:HEX', async () => {
    expectUsageError(await twokey('app.tar.gz', '--policy', 'policy.yml', '--name', 'app.tar.gz'), '--name', 'found 0');
    const two = await twokey(ARTIFACT_DIGEST, ARTIFACT_DIGEST, '--policy', 'policy.yml', '--name', 'app.tar.gz');
    expectUsageError(two, '--name', 'found 2', 'NAME=sha256:HEX');
  });

  it('refuses an unknown option, naming it', async () => {
    expectUsageError(await twokey('app.tar.gz', '--policy', 'policy.yml', '--now', '2020-01-01'), '--now');
  });
});

describe('twokey verify: configuration errors are exit 2, naming the file and the key', () => {
  it('a policy file that does not exist', async () => {
    expectInputError(await twokey('app.tar.gz', '--policy', 'missing.yml'), 'POLICY_UNREADABLE', 'missing.yml');
  });

  it('a policy with an unknown key', async () => {
    writeFileSync(join(dir, 'unknown-key.yml'), `${POLICY}deploy:\n  maxage: 7d\n`);
    const result = await twokey('app.tar.gz', '--policy', 'unknown-key.yml');
    expectInputError(result, 'POLICY_INVALID', 'unknown-key.yml', 'deploy.maxage', 'unknown key');
  });

  it('a policy over the size limit, refused before it is parsed', async () => {
    writeFileSync(join(dir, 'huge.yml'), `${POLICY}# ${'x'.repeat(MAX_TRUST_FILE_BYTES)}\n`);
    const result = await twokey('app.tar.gz', '--policy', 'huge.yml');
    expectInputError(result, 'POLICY_UNREADABLE', 'huge.yml', 'over the limit');
  });

  it('a policy that is not YAML', async () => {
    writeFileSync(join(dir, 'broken.yml'), 'version: 1\nidentities: [\n');
    expectInputError(await twokey('app.tar.gz', '--policy', 'broken.yml'), 'POLICY_SYNTAX', 'broken.yml');
  });

  it('a policy whose build and sign identities are the same', async () => {
    const same = POLICY.replace('acme/platform/.github/workflows/sign.yml', 'acme/app/.github/workflows/build.yml');
    writeFileSync(join(dir, 'same.yml'), same);
    expectInputError(await twokey('app.tar.gz', '--policy', 'same.yml'), 'POLICY_INVALID', 'identities.sign.san');
  });

  it('a trusted root named by the policy that is missing, resolved next to the policy file', async () => {
    mkdirSync(join(dir, 'config'), { recursive: true });
    writeFileSync(join(dir, 'config', 'policy.yml'), `${POLICY}deploy:\n  trusted-root: roots/trusted_root.json\n`);
    const result = await twokey('app.tar.gz', '--policy', 'config/policy.yml', ...REPO, '--bundle', 'empty');
    expectInputError(result, 'TRUSTED_ROOT_UNREADABLE', join(dir, 'config', 'roots', 'trusted_root.json'));
  });

  it('a --trusted-root that is not a trusted root', async () => {
    writeFileSync(join(dir, 'not-a-root.json'), '{"mediaType": "application/json"}');
    const result = await twokey('app.tar.gz', '--policy', 'policy.yml', ...REPO, '--trusted-root', 'not-a-root.json');
    expectInputError(result, 'TRUSTED_ROOT_INVALID', 'not-a-root.json', 'mediaType');
  });

  it('an artifact that cannot be read', async () => {
    expectInputError(
      await twokey('gone.tar.gz', '--policy', 'policy.yml', ...REPO),
      'ARTIFACT_UNREADABLE',
      'gone.tar.gz',
    );
  });

  it('a digest that is not sha256, or not a digest', async () => {
    const sha512 = `sha512:${'ab'.repeat(64)}`;
    expectInputError(await twokey(sha512, '--policy', 'policy.yml', ...REPO), 'ARTIFACT_DIGEST_UNSUPPORTED', 'sha512');
    expectInputError(await twokey('sha256:1234', '--policy', 'policy.yml', ...REPO), 'DIGEST_MALFORMED', 'sha256:1234');
    const named512 = `app.tar.gz=${sha512}`;
    expectInputError(
      await twokey(named512, '--policy', 'policy.yml', ...REPO),
      'ARTIFACT_DIGEST_UNSUPPORTED',
      named512,
    );
    expectInputError(
      await twokey(`=${ARTIFACT_DIGEST}`, '--policy', 'policy.yml', ...REPO),
      'ARTIFACT_NAME_EMPTY',
      'NAME=sha256:HEX',
    );
  });

  it('a truncated bundle in the bundle directory, named, never skipped', async () => {
    const bundles = join(dir, 'bundles-truncated');
    mkdirSync(bundles, { recursive: true });
    writeFileSync(
      join(bundles, 'review.sigstore.json'),
      '{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verificationMat',
    );
    const result = await twokey('app.tar.gz', '--policy', 'policy.yml', ...REPO, '--bundle', 'bundles-truncated');
    expectInputError(result, 'BUNDLE_NOT_JSON', join(bundles, 'review.sigstore.json'));
  });

  it('a bundle path that does not exist, or a glob that matches nothing', async () => {
    const missing = await twokey('app.tar.gz', '--policy', 'policy.yml', ...REPO, '--bundle', 'nowhere.json');
    expectInputError(missing, 'BUNDLE_UNREADABLE', 'nowhere.json');
    const glob = await twokey('app.tar.gz', '--policy', 'policy.yml', ...REPO, '--bundle', 'empty/*.sigstore.json');
    expectInputError(glob, 'BUNDLE_UNREADABLE', 'empty/*.sigstore.json');
  });
});

describe('twokey verify: without the evidence, a refusal (exit 1), not an error', () => {
  it('no bundles at all: every check that needs evidence fails, in the report model', async () => {
    const result = await twokey(
      'app.tar.gz',
      ARTIFACT_DIGEST,
      '--policy',
      'policy.yml',
      ...REPO,
      '--bundle',
      'empty',
      '--json',
    );
    expect(result.status, result.stderr).toBe(1);
    const report = readDeployReport(result.stdout, 'twokey verify --json');
    expect(report.verdict).toBe('fail');
    expect(report.policy.source).toBe('policy.yml');
    expect(report.artifacts.map((a) => [a.artifact.name, a.artifact.digest])).toEqual([
      ['app.tar.gz', ARTIFACT_DIGEST],
      [undefined, ARTIFACT_DIGEST],
    ]);
    for (const artifact of report.artifacts) {
      expect(artifact.checks.map((c) => c.id)).toEqual([...DEPLOY_CHECK_IDS]);
      expect(artifact.checks.filter((c) => c.verdict === 'pass').map((c) => c.id)).toEqual([
        'covered-by-policy',
        'deploy-approval',
        'break-glass',
      ]);
      // The evidence is what fails; the checks that compare pieces of it could not be evaluated, and say so.
      expect(artifact.checks.map((c) => c.verdict)).toEqual([
        'pass',
        'fail',
        'fail',
        'not-evaluated',
        'fail',
        'not-evaluated',
        'not-evaluated',
        'not-evaluated',
        'not-evaluated',
        'pass',
        'pass',
      ]);
    }
  });

  it('evidence that is about something else: the real sigstore@2.1.0 npm provenance', async () => {
    const bundle = join(realdataRoot, 'sigstore-js-2.1.0-bundle.json');
    const result = await twokey('app.tar.gz', '--policy', 'policy.yml', ...REPO, '--bundle', bundle);
    expect(result.status, result.stderr).toBe(1);
    expect(result.stdout).toContain('REFUSED  app.tar.gz');
    expect(result.stdout).toContain('✗ artifact-signature (fail): expected a signature over');
    expect(result.stdout).toContain('✗ build-provenance (fail):');
    expect(result.stdout).toContain('✗ same-commit (not-evaluated): no review attestation and no build provenance');
    expect(result.stdout).toContain('verdict: refused (1 of 1 artifacts refused)');
  });
});

describe('twokey verify: one repository, named by --repo or by the policy', () => {
  it('without --repo, under a policy that names no repository: a usage error saying --repo is required (exit 2)', async () => {
    const result = await twokey('app.tar.gz', '--policy', 'policy.yml', '--bundle', 'empty');
    expectInputError(
      result,
      'REPOSITORY_UNBOUND',
      '--repo OWNER/NAME is required: policy.yml pins no source-repository and names no deploy.repositories',
    );
  });

  it('a --repo the policy does not name, or that is not OWNER/NAME (exit 2)', async () => {
    writeFileSync(join(dir, 'deploys.yml'), `${POLICY}deploy:\n  repositories: [acme/app, acme/lib]\n`);
    const other = await twokey('app.tar.gz', '--policy', 'deploys.yml', '--repo', 'acme/other', '--bundle', 'empty');
    expectInputError(other, 'REPOSITORY_NOT_IN_POLICY', '--repo acme/other', 'acme/app, acme/lib');
    const url = await twokey('app.tar.gz', '--policy', 'policy.yml', '--repo', 'https://github.com/acme/app');
    expectInputError(url, 'REPOSITORY_MALFORMED', 'expected OWNER/NAME');
  });

  it('without --repo, under a policy that pins source-repository or names deploy.repositories: judged', async () => {
    const pinned = POLICY.replace(
      /(\n {4}san: [^\n]+sign[^\n]+)/,
      '$1\n    source-repository: https://github.com/acme/app',
    );
    writeFileSync(join(dir, 'pinned.yml'), pinned);
    writeFileSync(join(dir, 'deploys-app.yml'), `${POLICY}deploy:\n  repositories: [acme/app]\n`);
    for (const policy of ['pinned.yml', 'deploys-app.yml']) {
      const result = await twokey('app.tar.gz', '--policy', policy, '--bundle', 'empty');
      expect(result.status, `${policy}: ${result.stderr}`).toBe(1);
      expect(result.stdout).toContain('✗ artifact-signature (fail)');
    }
  });

  it("refuses (exit 1) acme/app's valid chain when asked to verify acme/other's release, naming both", async () => {
    const corpus = await makeCorpus(join(dir, 'corpus'), 2);
    const artifact = corpus.artifacts.find((a) => !a.forged)!;
    // The corpus policy, with no repository pinned: the release manager's --repo is what binds one.
    const unpinned = readFileSync(corpus.policy, 'utf8').replace(/^\s+source-repository: .*\n/gm, '');
    writeFileSync(join(dir, 'corpus-policy.yml'), unpinned);
    const evidence = ['--bundle', artifact.provenance, '--bundle', artifact.signature, '--bundle', artifact.review];
    const verify = (repo: string) =>
      twokey(artifact.path, '--policy', 'corpus-policy.yml', '--repo', repo, ...evidence, '--json');

    const refused = await verify('acme/other');
    expect(refused.status, refused.stderr).toBe(1);
    const report = readDeployReport(refused.stdout, 'twokey verify --json');
    const checks = report.artifacts[0]!.checks;
    expect(checks.filter((c) => c.verdict === 'fail').map((c) => c.id)).toEqual(['same-repository']);
    expect(checks.find((c) => c.id === 'same-repository')?.reason).toBe(
      'expected a chain of acme/other (bound by --repo), found a chain of acme/app: its provenance, review attestation and signature name https://github.com/acme/app',
    );
    const accepted = await verify('acme/app');
    expect(accepted.status, accepted.stdout).toBe(0);
  }, 60_000);
});

describe('twokey verify: a digest judged under deploy.artifacts by a name (NAME=sha256:HEX, --name)', () => {
  /** covered-by-policy's verdict for each artifact of a run under a policy that deploys app.tar.gz alone. */
  async function covered(...artifacts: string[]): Promise<[string | undefined, string][]> {
    writeFileSync(join(dir, 'deploys-app-tar.yml'), `${POLICY}deploy:\n  artifacts: [app.tar.gz]\n`);
    const result = await twokey(
      ...artifacts,
      '--policy',
      'deploys-app-tar.yml',
      ...REPO,
      '--bundle',
      'empty',
      '--json',
    );
    expect(result.status, result.stderr).toBe(1);
    const report = readDeployReport(result.stdout, 'twokey verify --json');
    return report.artifacts.map((a) => [a.artifact.name, a.checks.find((c) => c.id === 'covered-by-policy')!.verdict]);
  }

  it('judges NAME=sha256:HEX and --name under their name, and a digest alone not at all (not-evaluated)', async () => {
    expect(await covered(`app.tar.gz=${ARTIFACT_DIGEST}`, `evil.tar.gz=${ARTIFACT_DIGEST}`)).toEqual([
      ['app.tar.gz', 'pass'],
      ['evil.tar.gz', 'fail'],
    ]);
    expect(await covered(ARTIFACT_DIGEST, '--name', 'app.tar.gz')).toEqual([['app.tar.gz', 'pass']]);
    expect(await covered(ARTIFACT_DIGEST)).toEqual([[undefined, 'not-evaluated']]);
    const text = await twokey(ARTIFACT_DIGEST, '--policy', 'deploys-app-tar.yml', ...REPO, '--bundle', 'empty');
    expect(text.stdout).toContain(
      `✗ covered-by-policy (not-evaluated): ${ARTIFACT_DIGEST} was given by digest alone: no name to match against deploy.artifacts (app.tar.gz)`,
    );
  });
});

describe('twokey verify --at: evidence judged as of a past time (an audit, a rollback), said loudly', () => {
  it('refuses evidence older than max-age now, and accepts it as of when it was signed', async () => {
    const corpus = await makeCorpus(join(dir, 'audit-corpus'), 2);
    const artifact = corpus.artifacts.find((a) => !a.forged)!;
    // A max-age of five seconds: stale by the time this test looks at it again (the pieces are signed one after
    // another, a second or more apart on a busy machine: all of them within it).
    const policyText = readFileSync(corpus.policy, 'utf8').replace(/^\s+source-repository: .*\n/gm, '');
    writeFileSync(join(dir, 'audit-policy.yml'), `${policyText}  max-age: 5s\n`);
    const evidence = ['--bundle', artifact.provenance, '--bundle', artifact.signature, '--bundle', artifact.review];
    const verify = (...more: string[]) =>
      twokey(artifact.path, '--policy', 'audit-policy.yml', ...REPO, ...evidence, ...more);

    const first = readDeployReport((await verify('--json')).stdout, 'twokey verify --json');
    const times = first.artifacts[0]!.evidence.flatMap((e) => e.signedAt.map(Date.parse));
    // The stack stamps times up to 2 s ahead: wait until even the newest piece is over five seconds old.
    await new Promise((done) => setTimeout(done, Math.max(0, Math.max(...times) + 5_500 - Date.now())));

    const now = await verify('--json');
    expect(now.status, now.stderr).toBe(1);
    const stale = readDeployReport(now.stdout, 'twokey verify --json');
    expect(stale.asOf).toBeUndefined();
    expect(stale.artifacts[0]!.checks.filter((c) => c.verdict !== 'pass').map((c) => c.id)).toEqual(['fresh']);

    // As of the last signing time every piece was signed, and at most five seconds before (evidence signed after the
    // time judged is refused as from the future: no clock skew is allowed as of --at, row 193).
    expect(Math.max(...times) - Math.min(...times)).toBeLessThan(5_000);
    const signed = new Date(Math.max(...times)).toISOString();
    const audit = await verify('--at', signed, '--json');
    expect(audit.status, audit.stdout).toBe(0);
    const report = readDeployReport(audit.stdout, 'twokey verify --json');
    expect(report.verdict).toBe('pass');
    expect(report.asOf).toBe(signed);
    expect(Date.parse(report.evaluatedAt)).toBeGreaterThan(Date.parse(signed));
    const text = await verify('--at', signed);
    expect(text.status).toBe(0);
    expect(text.stdout.split('\n')[1]).toBe(
      `AS OF ${signed}: the evidence was judged as of this time (--at), not now; freshness was measured from it`,
    );
    expect(text.stdout).toContain(`verdict: accepted AS OF ${signed} (1 of 1 artifacts pass every check)`);
  }, 60_000);
});
