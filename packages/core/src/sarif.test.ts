// SARIF for refusals: a refused deploy's report as a SARIF 2.1.0 log that GitHub code scanning accepts. Reports are
// made by the gate's evaluateDeploy, as a deploy makes them, and read back with readDeployReport; every log is checked
// against the OASIS SARIF 2.1.0 schema (__fixtures__/sarif-schema-2.1.0.json) and against what code scanning requires
// of an upload (docs: "SARIF support for code scanning"), which the schema leaves optional.
import { readFileSync } from 'node:fs';
import { type DeployArtifact, evaluateDeploy } from '@twokey/gate';
import { describe, expect, it } from 'vitest';
import {
  ARTIFACT,
  BINDING,
  NOW,
  OTHER_ARTIFACT,
  POLICY_TEXT,
  provenanceBundle,
  reviewBundle,
  sha256,
  signatureBundle,
  signSigner,
} from './__fixtures__/bundles';
import { sarifSchemaProblems } from './__fixtures__/sarif-validate';
import { sha256Digest } from './digest';
import { type Policy, parsePolicy, parseRepositoryPolicy } from './policy';
import { DEPLOY_CHECK_IDS, type DeployCheckId, type DeployReport, readDeployReport } from './report';
import { bindRepositories, type RepositoryBinding } from './repository-binding';
import {
  deployReportToSarif,
  REFUSAL_FINGERPRINT,
  SARIF_MAX_RESULTS,
  SARIF_SCHEMA_URI,
  type SarifError,
  type SarifLog,
  type SarifOptions,
  type SarifResult,
  sarifRules,
} from './sarif';

const schemaProblems = sarifSchemaProblems;

/**
 * What code scanning requires of an upload beyond the schema ("SARIF support for code scanning": required
 * properties, never empty; "SARIF results exceed hard limit"): each broken requirement would reject the file.
 */
function codeScanningProblems(log: SarifLog): string[] {
  const problems: string[] = [];
  const need = (ok: unknown, problem: string) => ok || problems.push(problem);
  need(log.$schema && log.version === '2.1.0' && log.runs.length >= 1 && log.runs.length <= 20, 'sarifLog');
  for (const run of log.runs) {
    need(run.tool.driver.name, 'tool.driver.name');
    need(run.results.length <= SARIF_MAX_RESULTS, `${run.results.length} results`);
    need(run.tool.driver.rules.length <= 25_000, 'rules');
    const ids = new Set(run.tool.driver.rules.map((r) => r.id));
    for (const rule of run.tool.driver.rules) {
      need(rule.id && rule.shortDescription.text && rule.fullDescription.text && rule.help.text, `rule ${rule.id}`);
      need(rule.name.length <= 255 && rule.shortDescription.text.length <= 1024, `rule ${rule.id}: too long`);
      need(rule.fullDescription.text.length <= 1024, `rule ${rule.id}: fullDescription too long`);
      need(rule.properties.tags.length <= 20, `rule ${rule.id}: tags`);
    }
    for (const [index, result] of run.results.entries()) {
      need(result.message.text, `result ${index}: message.text`);
      need(ids.has(result.ruleId) && run.tool.driver.rules[result.ruleIndex]?.id === result.ruleId, `rule ${index}`);
      need(result.partialFingerprints.primaryLocationLineHash, `result ${index}: primaryLocationLineHash`);
      need(result.locations.length >= 1 && result.locations.length <= 10, `result ${index}: locations`);
      const { artifactLocation, region } = result.locations[0]!.physicalLocation;
      need(/^(?![A-Za-z][A-Za-z0-9+.-]*:|\/)/.test(artifactLocation.uri), `result ${index}: uri not relative`);
      need(!artifactLocation.uri.split('/').includes('..'), `result ${index}: uri outside the repository`);
      const { startLine, startColumn, endLine, endColumn } = region;
      need(startLine >= 1 && startColumn >= 1 && endLine >= startLine, `result ${index}: region`);
      need(endLine > startLine || endColumn >= startColumn, `result ${index}: region`);
    }
  }
  return problems;
}

/** The log's problems of either kind: none for every log these tests make. */
function problemsOf(log: SarifLog): string[] {
  return [...schemaProblems(log), ...codeScanningProblems(log)];
}

// ── A refused deploy under a policy that names every key a rule reads ──────────────────────────────────────────────

const POLICY_PATH = '.twokey/policy.yml';

/** The fixtures' policy with review rules, the artifacts it ships and the repository it ships them from. */
const FULL_POLICY_TEXT = `# acme's deploy policy
${POLICY_TEXT.replace('deploy:\n', 'review:\n  min-approvals: 1\ndeploy:\n')}  artifacts:
    - dist/*.tar.gz
  repositories:
    - acme/app
`;

const FULL_POLICY = parsePolicy(FULL_POLICY_TEXT, POLICY_PATH);
const FULL_BINDING = bindRepositories(FULL_POLICY, {
  repository: 'acme/app',
  name: 'GITHUB_REPOSITORY',
  role: 'fallback',
});

/** A week and a day before NOW: older than max-age 7d. */
const STALE = [new Date('2026-11-13T11:00:00Z')];

/**
 * A deploy as a consumer reads its report: dist/app.tar.gz signed, reviewed and built, but its signature too old;
 * dist/other.tar.gz with no evidence at all; the same bytes given by digest alone, which deploy.artifacts cannot name.
 */
function refusedReport(policy: Policy = FULL_POLICY, binding: RepositoryBinding = FULL_BINDING, now = NOW) {
  const artifacts: DeployArtifact[] = [ARTIFACT, OTHER_ARTIFACT, { digest: OTHER_ARTIFACT.digest }];
  const bundles = [signatureBundle(ARTIFACT.digest.hex, signSigner, STALE), reviewBundle(), provenanceBundle()];
  return read(evaluateDeploy({ policy, binding, now, artifacts, bundles }));
}

/** The honest pipeline's report: every check passes. */
function acceptedReport(): DeployReport {
  const bundles = [signatureBundle(), reviewBundle(), provenanceBundle()];
  return read(evaluateDeploy({ policy: FULL_POLICY, binding: FULL_BINDING, now: NOW, artifacts: [ARTIFACT], bundles }));
}

function read(report: DeployReport): DeployReport {
  return readDeployReport(JSON.stringify(report), 'report.json');
}

function options(overrides: Partial<SarifOptions> = {}): SarifOptions {
  return { policy: { path: POLICY_PATH, text: FULL_POLICY_TEXT }, toolVersion: '1.4.0', ...overrides };
}

/** The checks of the report that refuse their artifact, as `id artifact` in report order. */
function refusals(report: DeployReport): { id: string; verdict: string; reason: string; artifact: string }[] {
  return report.artifacts.flatMap((a) =>
    a.checks
      .filter((c) => c.verdict === 'fail' || c.verdict === 'not-evaluated')
      .map((c) => ({ ...c, artifact: a.artifact.name ?? a.artifact.digest })),
  );
}

/** The text of a result's line, from its start column: what the alert points at. */
function pointedAt(result: SarifResult, files: Record<string, string>): string {
  const { artifactLocation, region } = result.locations[0]!.physicalLocation;
  const text = files[decodeURIComponent(artifactLocation.uri)];
  if (text === undefined) throw new Error(`no file ${artifactLocation.uri}`);
  const line = text.split('\n')[region.startLine - 1]!;
  expect(region.endColumn).toBe(line.trimEnd().length + 1);
  return line.slice(region.startColumn - 1).trimEnd();
}

/** Where each rule's results point in FULL_POLICY_TEXT: its key, else its nearest parent, else line 1. */
const FULL_POLICY_ANCHORS: Record<DeployCheckId, string> = {
  'covered-by-policy': 'artifacts:',
  'artifact-signature': 'sign:',
  'review-attestation': 'sign:',
  'review-rules': 'review:',
  'build-provenance': 'build:',
  'same-commit': "# acme's deploy policy",
  'same-repository': 'repositories:',
  'distinct-identities': 'identities:',
  fresh: 'max-age: 7d',
  'deploy-approval': 'deploy:',
  'break-glass': 'deploy:',
};

const WORKFLOW_PATH = '.github/workflows/release.yml';
const DEPLOY_USES = 'twokey-dev/twokey@8f2c1e5a9b7d4c3e6f1a0b2d9c8e7f6a5b4c3d2e';
const WORKFLOW_TEXT = `name: release
on:
  push:
    branches: [main]
jobs:
  deploy:
    runs-on: ubuntu-latest
    environment: production
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
      - uses: ${DEPLOY_USES} # v1.0.0
        with:
          subject-path: artifacts/*
`;

describe('deployReportToSarif', () => {
  it('writes one error result per check that refused an artifact, and none for a check that passed', () => {
    const report = refusedReport();
    const log = deployReportToSarif(report, options());
    expect(problemsOf(log)).toEqual([]);
    const expected = refusals(report);
    // Each artifact is refused for reasons of its own: the stale one by fresh alone, the others by many checks.
    expect(expected.filter((r) => r.artifact === 'dist/app.tar.gz').map((r) => r.id)).toEqual(['fresh']);
    expect(expected.some((r) => r.verdict === 'not-evaluated')).toBe(true);
    expect(expected.map((r) => r.id)).toContain('covered-by-policy');
    const { results } = log.runs[0];
    expect(results.map((r) => [r.ruleId, r.properties.verdict])).toEqual(expected.map((r) => [r.id, r.verdict]));
    for (const [index, result] of results.entries()) {
      const refusal = expected[index]!;
      expect(result.level).toBe('error');
      expect(result.message.text).toContain(refusal.artifact);
      expect(result.message.text).toContain(refusal.reason.replace(/[{}]/g, '$&$&'));
    }
    const stale = results.find((r) => r.ruleId === 'fresh' && r.properties.artifact.name === 'dist/app.tar.gz')!;
    expect(stale.message.text).toBe(
      `Refused dist/app.tar.gz (sha256:${ARTIFACT.digest.hex}): ${report.artifacts[0]!.checks.find((c) => c.id === 'fresh')!.reason}`,
    );
    expect(results.find((r) => r.properties.verdict === 'not-evaluated')!.message.text).toMatch(
      /^Refused .+: [a-z-]+ could not be evaluated: /,
    );
  });

  it('anchors every result to the line of the policy key its rule reads, else its nearest parent, else line 1', () => {
    const log = deployReportToSarif(refusedReport(), options());
    const { results } = log.runs[0];
    expect(new Set(results.map((r) => r.ruleId)).size).toBeGreaterThanOrEqual(8);
    for (const result of results) {
      expect(result.locations).toHaveLength(1);
      expect(result.locations[0].physicalLocation.artifactLocation).toEqual({
        uri: POLICY_PATH,
        uriBaseId: '%SRCROOT%',
      });
      expect(pointedAt(result, { [POLICY_PATH]: FULL_POLICY_TEXT }), result.ruleId).toBe(
        FULL_POLICY_ANCHORS[result.ruleId],
      );
    }
  });

  it("anchors a check the policy has no line for at the workflow's uses: line of the deploy", () => {
    const workflow = { path: WORKFLOW_PATH, text: WORKFLOW_TEXT, uses: DEPLOY_USES };
    const log = deployReportToSarif(refusedReport(), options({ workflow }));
    expect(problemsOf(log)).toEqual([]);
    const files = { [POLICY_PATH]: FULL_POLICY_TEXT, [WORKFLOW_PATH]: WORKFLOW_TEXT };
    const sameCommit = log.runs[0].results.find((r) => r.ruleId === 'same-commit')!;
    expect(sameCommit.locations[0].physicalLocation.artifactLocation.uri).toBe(WORKFLOW_PATH);
    expect(sameCommit.locations[0].physicalLocation.region.startLine).toBe(11);
    expect(pointedAt(sameCommit, files)).toBe(`uses: ${DEPLOY_USES} # v1.0.0`);
    // A key the policy has stays the anchor; one it lacks (deploy.repositories, under the fixtures' policy) does not.
    const fresh = log.runs[0].results.find((r) => r.ruleId === 'fresh')!;
    expect(pointedAt(fresh, files)).toBe('max-age: 7d');
    const plain = refusedReport(parsePolicy(POLICY_TEXT, POLICY_PATH), BINDING);
    const plainLog = deployReportToSarif(
      plain,
      options({ policy: { path: POLICY_PATH, text: POLICY_TEXT }, workflow }),
    );
    const sameRepository = plainLog.runs[0].results.find((r) => r.ruleId === 'same-repository')!;
    expect(pointedAt(sameRepository, { [WORKFLOW_PATH]: WORKFLOW_TEXT })).toBe(`uses: ${DEPLOY_USES} # v1.0.0`);
  });

  it('finds the deploy step by its action when its ref differs, and falls back to the policy when it is not there', () => {
    const files = { [POLICY_PATH]: FULL_POLICY_TEXT, [WORKFLOW_PATH]: WORKFLOW_TEXT };
    const sameCommit = (uses: string) =>
      deployReportToSarif(
        refusedReport(),
        options({ workflow: { path: WORKFLOW_PATH, text: WORKFLOW_TEXT, uses } }),
      ).runs[0].results.find((r) => r.ruleId === 'same-commit')!;
    expect(pointedAt(sameCommit('twokey-dev/twokey@v1.0.0'), files)).toBe(`uses: ${DEPLOY_USES} # v1.0.0`);
    expect(pointedAt(sameCommit('acme/other-action@v1'), files)).toBe("# acme's deploy policy");
  });

  it('anchors in the repository policy when it tightened the key, and never in an org policy outside the repository', () => {
    const org = parsePolicy(POLICY_TEXT, '.twokey/org-policy.yml');
    const repositoryText = 'version: 1\nreview:\n  min-approvals: 2\ndeploy:\n  max-age: 1d\n';
    const tightened = parseRepositoryPolicy(repositoryText, POLICY_PATH, org);
    const twoDaysOld = [new Date('2026-11-19T11:00:00Z')];
    const bundles = [signatureBundle(ARTIFACT.digest.hex, signSigner, twoDaysOld), reviewBundle(), provenanceBundle()];
    const report = read(
      evaluateDeploy({ policy: tightened, binding: BINDING, now: NOW, artifacts: [ARTIFACT], bundles }),
    );
    expect(refusals(report).map((r) => r.id)).toEqual(['review-rules', 'fresh']);
    const workflow = { path: WORKFLOW_PATH, text: WORKFLOW_TEXT, uses: DEPLOY_USES };
    const files = { [POLICY_PATH]: repositoryText, [WORKFLOW_PATH]: WORKFLOW_TEXT };
    const log = deployReportToSarif(report, {
      policy: { path: '.twokey/org-policy.yml', text: POLICY_TEXT, outsideRepository: true },
      repositoryPolicy: { path: POLICY_PATH, text: repositoryText },
      workflow,
      toolVersion: '1.4.0',
    });
    expect(problemsOf(log)).toEqual([]);
    expect(log.runs[0].results.map((r) => [r.ruleId, pointedAt(r, files)])).toEqual([
      ['review-rules', 'review:'],
      ['fresh', 'max-age: 1d'],
    ]);
    // Nothing points into the org policy, which code scanning would not find in the repository.
    const everyRule = deployReportToSarif(refusedReport(org, BINDING), {
      policy: { path: '.twokey/org-policy.yml', text: POLICY_TEXT, outsideRepository: true },
      workflow,
      toolVersion: '1.4.0',
    });
    const uris = new Set(everyRule.runs[0].results.map((r) => r.locations[0].physicalLocation.artifactLocation.uri));
    expect([...uris]).toEqual([WORKFLOW_PATH]);
  });

  it('refuses to write a result that points nowhere: an org policy outside the repository and nothing else', () => {
    const org = parsePolicy(POLICY_TEXT, '.twokey/org-policy.yml');
    const policy = { path: '.twokey/org-policy.yml', text: POLICY_TEXT, outsideRepository: true };
    expect(() => deployReportToSarif(refusedReport(org, BINDING), { policy, toolVersion: '1.4.0' })).toThrow(
      expect.objectContaining({ code: 'SARIF_NO_ANCHOR', kind: 'usage' }),
    );
  });

  it('refuses to anchor results in a policy other than the one the report was judged under (lines would lie)', () => {
    const report = refusedReport();
    const edited = FULL_POLICY_TEXT.replace('max-age: 7d', 'max-age: 30d');
    const mismatch = (given: Partial<SarifOptions>): SarifError | undefined => {
      try {
        deployReportToSarif(report, options(given));
      } catch (error) {
        return error as SarifError;
      }
      return undefined;
    };
    expect(mismatch({ policy: { path: POLICY_PATH, text: edited } })).toMatchObject({
      code: 'SARIF_POLICY_MISMATCH',
      message: expect.stringContaining(
        `expected the policy the report was judged under (sha256 ${sha256(FULL_POLICY_TEXT)})`,
      ),
    });
    expect(mismatch({ repositoryPolicy: { path: 'repo.yml', text: 'review:\n  min-approvals: 2\n' } })).toMatchObject({
      code: 'SARIF_POLICY_MISMATCH',
      message: expect.stringContaining('the report names none'),
    });
  });

  it('takes paths from the root of the repository only, written as URI references', () => {
    const at = (path: string) =>
      deployReportToSarif(refusedReport(), options({ policy: { path, text: FULL_POLICY_TEXT } }));
    const uri = (log: SarifLog) => log.runs[0].results[0]!.locations[0].physicalLocation.artifactLocation.uri;
    expect(uri(at('./.twokey/policy.yml'))).toBe(POLICY_PATH);
    expect(uri(at('deploy policies/policy #1.yml'))).toBe('deploy%20policies/policy%20%231.yml');
    expect(problemsOf(at('deploy policies/policy #1.yml'))).toEqual([]);
    for (const path of [
      '/home/runner/work/app/.twokey/policy.yml',
      '../platform/.twokey/org-policy.yml',
      'C:\\policy.yml',
      '',
    ]) {
      expect(() => at(path), path).toThrow(expect.objectContaining({ code: 'SARIF_PATH_INVALID' }));
    }
  });
});

describe('fingerprints', () => {
  it('are the same for the same refusal across runs, wherever its line moved', () => {
    const first = deployReportToSarif(refusedReport(), options());
    const shiftedText = `# reviewed by the platform team\n\n${FULL_POLICY_TEXT}`;
    const shifted = parsePolicy(shiftedText, POLICY_PATH);
    const later = new Date(NOW.getTime() + 3_600_000);
    const second = deployReportToSarif(
      refusedReport(shifted, FULL_BINDING, later),
      options({ policy: { path: POLICY_PATH, text: shiftedText } }),
    );
    const key = (r: SarifResult) => `${r.ruleId} ${r.properties.artifact.name} ${r.properties.artifact.digest}`;
    const byRefusal = new Map(second.runs[0].results.map((r) => [key(r), r]));
    expect(byRefusal.size).toBe(first.runs[0].results.length);
    for (const result of first.runs[0].results) {
      const again = byRefusal.get(key(result))!;
      expect(again.partialFingerprints).toEqual(result.partialFingerprints);
      if (result.ruleId === 'same-commit') continue; // line 1 of either policy
      expect(again.locations[0].physicalLocation.region.startLine).toBe(
        result.locations[0].physicalLocation.region.startLine + 2,
      );
      expect(pointedAt(again, { [POLICY_PATH]: shiftedText })).toBe(
        pointedAt(result, { [POLICY_PATH]: FULL_POLICY_TEXT }),
      );
    }
  });

  it('are distinct for each check and artifact, on one line too (code scanning keeps them apart)', () => {
    const { results } = deployReportToSarif(refusedReport(), options()).runs[0];
    const onSignLine = results.filter((r) => FULL_POLICY_ANCHORS[r.ruleId] === 'sign:');
    expect(onSignLine.length).toBeGreaterThanOrEqual(3);
    for (const name of [REFUSAL_FINGERPRINT, 'primaryLocationLineHash'] as const) {
      const values = results.map((r) => r.partialFingerprints[name]);
      expect(new Set(values).size, name).toBe(results.length);
    }
    for (const result of results) {
      const full = result.partialFingerprints[REFUSAL_FINGERPRINT];
      expect(full).toMatch(/^[0-9a-f]{64}$/);
      expect(result.partialFingerprints.primaryLocationLineHash).toBe(`${full.slice(0, 16)}:1`);
    }
  });

  it('differ for the same refusal under a policy at another path', () => {
    const here = deployReportToSarif(refusedReport(), options()).runs[0].results[0]!;
    const there = deployReportToSarif(
      refusedReport(),
      options({ policy: { path: 'deploy/policy.yml', text: FULL_POLICY_TEXT } }),
    ).runs[0].results[0]!;
    expect(there.ruleId).toBe(here.ruleId);
    expect(there.partialFingerprints[REFUSAL_FINGERPRINT]).not.toBe(here.partialFingerprints[REFUSAL_FINGERPRINT]);
  });
});

describe('the log', () => {
  it('validates against the SARIF 2.1.0 schema, and the validation is real', () => {
    const log = deployReportToSarif(refusedReport(), options());
    expect(log.$schema).toBe(SARIF_SCHEMA_URI);
    expect(log.version).toBe('2.1.0');
    expect(schemaProblems(log)).toEqual([]);
    const broken = structuredClone(log);
    broken.runs[0].results[0]!.locations[0].physicalLocation.region.startLine = 0;
    expect(schemaProblems(broken)).toContain(
      '/runs/0/results/0/locations/0/physicalLocation/region/startLine: must be >= 1',
    );
    const badUri = structuredClone(log);
    badUri.runs[0].tool.driver.informationUri = 'not a uri';
    expect(schemaProblems(badUri).join()).toContain('informationUri: must match format "uri"');
  });

  it('gives a passing deploy no result, and every rule: an upload that closes the alerts of earlier refusals', () => {
    const report = acceptedReport();
    expect(report.verdict).toBe('pass');
    const log = deployReportToSarif(report, options());
    expect(problemsOf(log)).toEqual([]);
    expect(log.runs[0].results).toEqual([]);
    expect(log.runs[0].tool.driver.rules.map((r) => r.id)).toEqual([...DEPLOY_CHECK_IDS]);
    expect(log.runs[0].properties.verdict).toBe('pass');
  });

  it('names twokey, its version, and a rule with help for every deploy check', () => {
    const { driver } = deployReportToSarif(refusedReport(), options()).runs[0].tool;
    expect(driver).toMatchObject({
      name: 'twokey',
      informationUri: 'https://github.com/twokey-dev/twokey',
      version: '1.4.0',
      semanticVersion: '1.4.0',
    });
    expect(driver.rules).toEqual(sarifRules());
    for (const [index, rule] of driver.rules.entries()) {
      expect(rule.id).toBe(DEPLOY_CHECK_IDS[index]);
      expect(rule.helpUri).toBe(`https://github.com/twokey-dev/twokey/blob/main/docs/sarif.md#${rule.id}`);
      expect(rule.help.text).not.toContain('`');
      expect(rule.defaultConfiguration.level).toBe('error');
      // Rule texts are SARIF message strings: a brace would be a placeholder.
      for (const text of [rule.shortDescription.text, rule.fullDescription.text, rule.help.markdown]) {
        expect(text).not.toMatch(/[{}]/);
      }
    }
    const unreleased = deployReportToSarif(refusedReport(), options({ toolVersion: '0.1.0-dev+abc1234' })).runs[0];
    expect(unreleased.tool.driver.semanticVersion).toBe('0.1.0-dev+abc1234');
    const described = deployReportToSarif(refusedReport(), options({ toolVersion: 'v1.4.0-3-gabc1234' })).runs[0];
    expect(described.tool.driver).not.toHaveProperty('semanticVersion');
    expect(described.tool.driver.version).toBe('v1.4.0-3-gabc1234');
  });

  it('writes a category only when given one, so that upload-sarif may choose it otherwise', () => {
    expect(deployReportToSarif(refusedReport(), options()).runs[0]).not.toHaveProperty('automationDetails');
    const production = deployReportToSarif(refusedReport(), options({ category: 'twokey/deploy-production' }));
    expect(production.runs[0].automationDetails).toEqual({ id: 'twokey/deploy-production/' });
    expect(problemsOf(production)).toEqual([]);
  });

  it("does not let an artifact's name plant a link or a placeholder in the alert", () => {
    const hostile: DeployArtifact = {
      name: 'dist/[approved](https://evil.example/){0}.tar.gz',
      digest: OTHER_ARTIFACT.digest,
    };
    const report = read(
      evaluateDeploy({
        policy: parsePolicy(POLICY_TEXT, POLICY_PATH),
        binding: BINDING,
        now: NOW,
        artifacts: [hostile],
        bundles: [],
      }),
    );
    const log = deployReportToSarif(report, options({ policy: { path: POLICY_PATH, text: POLICY_TEXT } }));
    expect(problemsOf(log)).toEqual([]);
    for (const result of log.runs[0].results) {
      expect(result.message.text).not.toContain('](');
      expect(result.message.text).toContain('dist/[approved] (https://evil.example/){{0}}.tar.gz');
      expect(result.properties.artifact.name).toBe(hostile.name);
    }
  });

  it('writes no result for a verdict that does not refuse (waived), and refuses a check it has no rule for', () => {
    const report = refusedReport();
    const before = deployReportToSarif(report, options()).runs[0].results.length;
    const waived = structuredClone(report);
    const stale = waived.artifacts[0]!.checks.find((c) => c.id === 'fresh')!;
    Object.assign(stale, { verdict: 'waived' });
    const results = deployReportToSarif(waived, options()).runs[0].results;
    expect(results).toHaveLength(before - 1);
    expect(results.some((r) => r.properties.artifact.name === 'dist/app.tar.gz')).toBe(false);
    const unknown = structuredClone(report);
    Object.assign(unknown.artifacts[0]!.checks.find((c) => c.id === 'fresh')!, { id: 'no-such-check' });
    expect(() => deployReportToSarif(unknown, options())).toThrow(
      expect.objectContaining({ code: 'SARIF_UNKNOWN_CHECK' }),
    );
  });

  it(`keeps to code scanning's ${SARIF_MAX_RESULTS} results a run, and says how many it left out`, () => {
    const artifacts: DeployArtifact[] = Array.from({ length: 3200 }, (_, i) => ({
      name: `dist/part-${i}.tar.gz`,
      digest: sha256Digest(sha256(`part ${i}`)),
    }));
    const report = read(
      evaluateDeploy({ policy: FULL_POLICY, binding: FULL_BINDING, now: NOW, artifacts, bundles: [signatureBundle()] }),
    );
    const total = refusals(report).length;
    expect(total).toBeGreaterThan(SARIF_MAX_RESULTS);
    const log = deployReportToSarif(report, options());
    expect(log.runs[0].results).toHaveLength(SARIF_MAX_RESULTS);
    expect(log.runs[0].invocations[0].toolExecutionNotifications).toEqual([
      {
        level: 'warning',
        message: {
          text: `${total - SARIF_MAX_RESULTS} more refusals left out: code scanning takes at most ${SARIF_MAX_RESULTS} results a run; the deploy report lists them all`,
        },
      },
    ]);
    expect(problemsOf(log)).toEqual([]);
  });
});

describe('docs/sarif.md', () => {
  const doc = () => readFileSync(new URL('../../../docs/sarif.md', import.meta.url), 'utf8');
  const words = (text: string) => text.replace(/\s+/g, ' ').trim();

  it("has the section each rule's helpUri points at, saying what the log says, and the rules table", () => {
    const text = doc();
    for (const rule of sarifRules()) {
      const row = `^\\| \\[\`${rule.id}\`\\]\\(#${rule.id}\\) +\\| ${rule.name} +\\| ${escapeRegExp(rule.shortDescription.text)} +\\|`;
      expect(text, rule.id).toMatch(new RegExp(row, 'm'));
      const heading = `\n### \`${rule.id}\`\n`;
      expect(text, rule.id).toContain(heading);
      const section = words(text.slice(text.indexOf(heading) + heading.length).split('\n### ')[0]!);
      expect(section, rule.id).toBe(words(`${rule.fullDescription.text} ${rule.help.markdown}`));
    }
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
