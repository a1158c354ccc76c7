import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SigstoreInputError } from './error';
import { trustedRootFromJSON } from './trust';

const PRODUCTION_ROOT = join(
  import.meta.dirname,
  '../../../../shared/conformance/production-trust-root/trusted_root.json',
);

interface RootJSON {
  tlogs: { publicKey: { validFor?: { start?: string; end?: string } } }[];
  ctlogs: { publicKey: { validFor?: { start?: string; end?: string } } }[];
  certificateAuthorities: { validFor?: { start?: string; end?: string } }[];
}

function productionRoot(): RootJSON {
  return JSON.parse(readFileSync(PRODUCTION_ROOT, 'utf8')) as RootJSON;
}

describe('trustedRootFromJSON: validity intervals', () => {
  it('refuses a log key whose interval has no start, naming it, instead of trusting it since forever', () => {
    const root = productionRoot();
    delete root.tlogs[0]!.publicKey.validFor!.start;
    delete root.ctlogs[1]!.publicKey.validFor!.start;
    let error: unknown;
    try {
      trustedRootFromJSON(root, 'root.json');
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(SigstoreInputError);
    expect((error as SigstoreInputError).code).toBe('TRUSTED_ROOT_INVALID');
    expect((error as SigstoreInputError).message).toBe(
      "root.json: tlogs[0].publicKey.validFor.start, ctlogs[1].publicKey.validFor.start: missing (a log key's validity interval needs a start)",
    );
  });

  it('reads a log key with no interval at all, and a CA interval without a start, as unbounded', () => {
    const root = productionRoot();
    delete root.tlogs[0]!.publicKey.validFor;
    root.certificateAuthorities[0]!.validFor = {};
    expect(trustedRootFromJSON(root, 'root.json').material.tlogs).toHaveLength(root.tlogs.length);
  });
});
