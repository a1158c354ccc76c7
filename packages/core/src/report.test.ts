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
import { type DeployReport, evaluateDeploy } from './evaluate';
import { describeReport, markdownReport } from './report';

function report(bundles = honestBundles(), artifacts = [ARTIFACT]): DeployReport {
  return evaluateDeploy(artifacts.map((artifact) => ({ artifact, bundles, policy, binding: BINDING, now: NOW })));
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
    expect(text).toContain(`  ✗ artifact-signature: expected a signature over sha256:${ARTIFACT.digest.hex}`);
    expect(text).toContain(`found a signature by ${BUILD_SAN}, expected the sign identity`);
    expect(text).toContain('  sign          https://github.com/acme/platform'); // from the review attestation
    expect(text).toContain('verdict: refused (2 of 2 artifacts refused)');
  });

  it('names the bundles that did not verify', () => {
    const rejected = [{ source: 'bundles/truncated.json', reason: 'signature invalid' }];
    const text = describeReport(
      evaluateDeploy([{ artifact: ARTIFACT, bundles: honestBundles(), policy, binding: BINDING, now: NOW, rejected }]),
    );
    expect(text).toContain(
      'bundles that did not verify (never used as evidence):\n  bundles/truncated.json: signature invalid',
    );
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
    expect(md).toContain('| pull request | [#42 Add the widget endpoint](https://github.com/acme/app/pull/42) |');
    expect(md).toContain('| approvers | bob |');
    expect(md).toContain('| verdict | accepted |');
    expect(md).not.toContain('Failed checks');
  });

  it('lists the failed checks of a refused artifact', () => {
    const md = markdownReport(report([reviewBundle(), ...honestBundles().slice(2)]));
    expect(md).toContain('## twokey deploy gate: refused');
    expect(md).toContain('- **artifact-signature**: expected a signature over');
  });

  it('neutralises HTML, links and table breaks in a hostile pull request title', () => {
    const md = markdownReport(report(hostileTitleBundles()));
    const row = md.split('\n').find((l) => l.startsWith('| pull request |'))!;
    expect(row).toBeDefined();
    expect(row).not.toMatch(/<img/);
    expect(row).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(row).toContain('\\[click\\](https://evil.example)');
    expect(row.split(/(?<!\\)\|/)).toHaveLength(4); // | label | value | → only the table's own pipes
    expect(md.split('\n').filter((l) => l.startsWith('| verdict |'))).toEqual(['| verdict | accepted |']);
  });
});
