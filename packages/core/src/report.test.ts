// How a deploy report reads (terminal and step summary) and how it is read back (readDeployReport, against
// report.schema.json). Reports are made by the gate's evaluateDeploy, as a deploy makes them.
import { type DeployArtifact, evaluateDeploy } from '@twokey/gate';
import { describe, expect, it } from 'vitest';
import {
  ARTIFACT,
  BINDING,
  BUILD_SAN,
  buildSigner,
  honestBundles,
  NOW,
  OTHER_ARTIFACT,
  policy,
  reviewBundle,
  reviewStatement,
  SIGN_SAN,
  signatureBundle,
} from './__fixtures__/bundles';
import { honestEvidence } from './__fixtures__/review-evidence';
import { escapeMarkdown } from './markdown';
import {
  type DeployReport,
  deployReportProblems,
  describeNotPassed,
  describeReport,
  markdownReport,
  readDeployReport,
} from './report';

function report(bundles = honestBundles(), artifacts: DeployArtifact[] = [ARTIFACT]): DeployReport {
  return evaluateDeploy({ policy, binding: BINDING, now: NOW, artifacts, bundles });
}

/** A pull request whose title tries to write into the terminal and the step summary. */
function hostileTitleBundles() {
  const evidence = honestEvidence();
  evidence.pullRequest = {
    ...evidence.pullRequest!,
    title:
      'Fix \u001b[2J\u001b[32mACCEPTED\u001b[0m\n| verdict | accepted | <img src=x onerror=alert(1)> [click](https://evil.example)',
  };
  const [signature, , provenance] = honestBundles();
  return [signature!, reviewBundle(reviewStatement([ARTIFACT], evidence)), provenance!];
}

describe('describeReport', () => {
  it('draws the chain commit → pull request → author → approvers → build → sign → verdict', () => {
    const text = describeReport(report());
    const order = ['commit', 'pull request', 'author', 'approvers', 'build', 'sign', 'verdict'].map((label) =>
      text.indexOf(`  ${label.padEnd(13)} `),
    );
    expect(order.every((at) => at > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(text).toContain(`ACCEPTED dist/app.tar.gz sha256:${ARTIFACT.digest.hex}`);
    expect(text).toContain('  pull request  #42 Add the widget endpoint (https://github.com/acme/app/pull/42)');
    expect(text).toContain('  approvers     bob');
    expect(text).toContain(`  build         ${BUILD_SAN}`);
    expect(text).toContain(`  sign          ${SIGN_SAN}`);
    expect(text).toMatch(/verdict: accepted \(1 of 1 artifacts pass every check\)\n$/);
    expect(text).not.toContain('✗');
  });

  it('lists each failed check of a refused artifact in plain words', () => {
    const bundles = [signatureBundle(ARTIFACT.digest.hex, buildSigner), ...honestBundles().slice(1)];
    const text = describeReport(report(bundles, [ARTIFACT, OTHER_ARTIFACT]));
    expect(text).toContain('REFUSED  dist/app.tar.gz');
    expect(text).toContain(`  ✗ artifact-signature (fail): expected a signature over sha256:${ARTIFACT.digest.hex}`);
    expect(text).toContain(`found a signature by ${BUILD_SAN}, expected the sign identity`);
    expect(text).toContain('  sign          https://github.com/acme/platform'); // from the review attestation
    expect(text).toContain('verdict: refused (2 of 2 artifacts refused)');
  });

  it("says each check that did not pass in the report's own words: fail, or not-evaluated and what was missing", () => {
    const unreviewed = report([signatureBundle(), honestBundles()[2]!]);
    const text = describeReport(unreviewed);
    const json = unreviewed.artifacts[0]!.checks.filter((c) => c.verdict !== 'pass');
    expect(json.map((c) => [c.id, c.verdict])).toEqual([
      ['review-attestation', 'fail'],
      ['review-rules', 'not-evaluated'],
      ['same-commit', 'not-evaluated'],
      ['same-repository', 'not-evaluated'],
    ]);
    for (const check of json) expect(text).toContain(`  ✗ ${check.id} (${check.verdict}): ${check.reason}`);
    expect(text).toContain('  ✗ review-rules (not-evaluated): no review attestation by the sign identity');
    expect(markdownReport(unreviewed)).toContain('- <code>review-rules</code> (not-evaluated): no review attestation');
    expect(describeNotPassed(unreviewed.artifacts[0]!)).toEqual(json.map((c) => `${c.id} (${c.verdict}): ${c.reason}`));
  });

  it('shows an artifact given by digest alone by its digest', () => {
    const text = describeReport(report(honestBundles(), [{ digest: ARTIFACT.digest }]));
    expect(text).toMatch(new RegExp(`^ACCEPTED sha256:${ARTIFACT.digest.hex}$`, 'm'));
  });

  it('says loudly, first and last, that a report was judged as of another time than now (--at)', () => {
    const at = new Date(NOW.getTime() - 60_000);
    const asOf = evaluateDeploy({
      policy,
      binding: BINDING,
      now: NOW,
      at,
      artifacts: [ARTIFACT],
      bundles: honestBundles(),
    });
    const lines = describeReport(asOf).trimEnd().split('\n');
    expect(lines[1]).toBe(
      `AS OF ${at.toISOString()}: the evidence was judged as of this time (--at), not now; freshness was measured from it`,
    );
    expect(lines.at(-1)).toBe(`verdict: accepted AS OF ${at.toISOString()} (1 of 1 artifacts pass every check)`);
    const md = markdownReport(asOf);
    expect(md).toMatch(new RegExp(`^## twokey deploy gate: accepted AS OF ${at.toISOString()}\n`));
    expect(md).toContain(`⚠️ AS OF ${at.toISOString()}: the evidence was judged as of this time (--at), not now`);
    expect(describeReport(report())).not.toContain('AS OF');
  });

  it('names the bundles that did not verify, one line per cause', () => {
    const rejected = [
      { source: 'bundles/truncated.json', code: 'SIGNATURE_INVALID', reason: 'signature invalid' },
      ...['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((n) => ({
        source: `bundles/${n}.json`,
        code: 'CERTIFICATE_CHAIN_UNTRUSTED',
        reason: 'the signing certificate chains to no certificate authority of the public-good trusted root',
      })),
    ];
    const text = describeReport(
      evaluateDeploy({ policy, binding: BINDING, now: NOW, artifacts: [ARTIFACT], bundles: honestBundles(), rejected }),
    );
    expect(text).toContain(
      [
        'bundles that did not verify (never used as evidence), by cause:',
        '  SIGNATURE_INVALID, 1 bundle: signature invalid',
        '    bundles/truncated.json',
        '  CERTIFICATE_CHAIN_UNTRUSTED, 7 bundles: the signing certificate chains to no certificate authority of the public-good trusted root',
        '    bundles/a.json, bundles/b.json, bundles/c.json, bundles/d.json, bundles/e.json and 2 more',
        '    hint: these bundles come from another Sigstore instance',
      ].join('\n'),
    );
    expect(text.match(/hint: /g)).toHaveLength(1);
  });

  it('shows control characters from a pull request title as escapes, never as terminal commands', () => {
    const text = describeReport(report(hostileTitleBundles()));
    expect(text).not.toContain('\u001b');
    expect(text).toContain('Fix \\u001b[2J\\u001b[32mACCEPTED');
    expect(text.split('\n').filter((l) => l.includes('pull request'))).toHaveLength(1);
  });
});

describe('markdownReport', () => {
  it('renders a table per artifact with the chain and a link to the pull request', () => {
    const md = markdownReport(report());
    expect(md).toMatch(/^## twokey deploy gate: accepted\n/);
    expect(md).toContain('### ✅ dist/app.tar.gz');
    expect(md).toContain('| pull request | [\\#42 Add the widget endpoint](https://github.com/acme/app/pull/42) |');
    expect(md).toContain(`| artifact | <code>sha256:${ARTIFACT.digest.hex}</code> |`);
    expect(md).toContain('| approvers | bob |');
    expect(md).toContain('| verdict | accepted |');
    expect(md).not.toContain('Checks that did not pass');
  });

  it('lists the failed checks of a refused artifact', () => {
    const md = markdownReport(report([reviewBundle(), ...honestBundles().slice(2)]));
    expect(md).toContain('## twokey deploy gate: refused');
    expect(md).toContain('Checks that did not pass:');
    expect(md).toContain('- <code>artifact-signature</code> (fail): expected a signature over');
  });

  it('neutralises HTML, links and table breaks in a hostile pull request title', () => {
    const md = markdownReport(report(hostileTitleBundles()));
    const row = md.split('\n').find((l) => l.startsWith('| pull request |'))!;
    expect(row).toBeDefined();
    expect(row).not.toMatch(/<img/);
    expect(row).toContain(escapeMarkdown('<img src=x onerror=alert(1)> [click](https://evil.example)'));
    expect(row.split(/(?<!\\)\|/)).toHaveLength(4); // | label | value | → only the table's own pipes
    expect(md.split('\n').filter((l) => l.startsWith('| verdict |'))).toEqual(['| verdict | accepted |']);
  });
});

describe('readDeployReport: the report contract (report.schema.json)', () => {
  it('reads a report as written to report-path or printed by twokey verify --json', () => {
    const written = report([signatureBundle(ARTIFACT.digest.hex, buildSigner), ...honestBundles().slice(1)]);
    const read = readDeployReport(`${JSON.stringify(written, null, 2)}\n`, 'report.json');
    expect(read).toEqual(JSON.parse(JSON.stringify(written)));
    expect(read.schemaVersion).toBe(1);
  });

  it('refuses text that is not JSON, or JSON that is not a report of this version, naming each problem', () => {
    expect(() => readDeployReport('{"verdict": "pass"', 'out.txt')).toThrow(
      expect.objectContaining({ code: 'REPORT_NOT_JSON', message: expect.stringMatching(/^out\.txt: not JSON: /) }),
    );
    const honest = readDeployReport(JSON.stringify(report()), 'report()');
    const off = (edit: (r: DeployReport) => void): unknown => {
      const copy = structuredClone(honest);
      edit(copy);
      return copy;
    };
    const first = (r: DeployReport) => r.artifacts[0]!;
    const cases: [string, unknown, string][] = [
      [
        'another version',
        off((r) => Object.assign(r, { schemaVersion: 2 })),
        '/schemaVersion: must be equal to constant',
      ],
      [
        'a verdict in other words',
        off((r) => Object.assign(first(r).checks[1]!, { verdict: 'skipped' })),
        '/artifacts/0/checks/1/verdict',
      ],
      [
        'an absolute path',
        off((r) => Object.assign(first(r).evidence[0]!, { source: '/home/runner/work/x.json' })),
        '/artifacts/0/evidence/0/source',
      ],
      ['a check missing', off((r) => first(r).checks.pop()), '/artifacts/0/checks'],
      ['checks out of order', off((r) => first(r).checks.reverse()), '/artifacts/0/checks/0/id'],
      ['an unknown field', off((r) => Object.assign(r, { extra: true })), 'must NOT have additional properties'],
      [
        'a digest in upper case',
        off((r) => Object.assign(first(r).artifact, { digest: first(r).artifact.digest.toUpperCase() })),
        '/artifacts/0/artifact/digest',
      ],
    ];
    for (const [what, value, problem] of cases) {
      expect(deployReportProblems(value).join('\n'), what).toContain(problem);
      expect(() => readDeployReport(JSON.stringify(value), 'report.json'), what).toThrow(
        expect.objectContaining({ code: 'REPORT_INVALID' }),
      );
    }
    expect(deployReportProblems(honest)).toEqual([]);
  });
});
