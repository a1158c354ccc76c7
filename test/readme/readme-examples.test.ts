// The README's `npx twokey verify-bundle …` examples, run the way a user runs them: through npx, from the repository
// root. Its `twokey verify` examples run on the demo's output, in test/slow/demo.slow.ts (one demo run for both).
import { describe, expect, it } from 'vitest';
import { shell, verifyBundleExamples as verifyBundle } from './readme-examples';

describe('README: twokey verify-bundle', () => {
  it('has examples', () => {
    expect(verifyBundle.length).toBeGreaterThan(0);
  });

  it.each(verifyBundle.map((e) => [e.command, e] as const))('%s', async (_name, example) => {
    const result = await shell(example.command);
    expect(result.status, result.stderr).toBe(example.exit);
    expect(result.stdout).toMatch(/^Verified OK: /);
  });

  it('refuses the sigstore@2.1.0 provenance for a lookalike fork identity, as the README says', async () => {
    const honest = verifyBundle.find((e) => e.command.includes('sigstore-js-2.1.0-bundle.json'))!;
    const forged = honest.command.replace('/sigstore/sigstore-js/', '/sigstore/sigstore-js-fork/');
    const result = await shell(forged);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^error IDENTITY_MISMATCH: .*expected identity/m);
  });
});
