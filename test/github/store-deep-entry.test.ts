// An inline store entry nested thousands of levels deep (found by the review of the attestation store as input): a
// writer of the repository stores a bundle with an unknown field of ~20,000 nested arrays (40 KB). readEntry wrote each
// inline entry back as text with JSON.stringify, which recurses: the stack overflowed, and every reader of the store —
// `twokey verify --repo`, the deploy gate, the sign stage's moving baseline — failed as an internal error (exit 3, no
// decision record) before the bundle reader could refuse that one entry. Now the entry is unreadable, said so, and the
// rest is read. (The GitHub fake cannot serialise such a value either — its JSON.stringify recurses too — so the entry
// is spliced into its answer as text by a proxy in front of it, as GitHub would send it.)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchAttestations } from '@twokey/github';
import { aGitHubState, aRepository, type FakeAttestation, startGitHubFake } from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Corpus, makeCorpus } from '../../bench/corpus';
import { run } from '../../packages/cli/src/cli';

let dir: string;
let corpus: Corpus;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twokey-deep-entry-'));
  corpus = await makeCorpus(join(dir, 'release'), 2);
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const DEPTH = 20_000; // 40 KB of brackets; JSON.parse reads it iteratively, JSON.stringify recurses
const DEEP_TEXT = '['.repeat(DEPTH) + ']'.repeat(DEPTH);

/**
 * GitHub's answer as the fake gives it, with one more inline entry whose bundle carries the deep field. (The fake
 * itself cannot serialise such a value: its own JSON.stringify recurses too, so the entry is spliced in as text.)
 */
async function storeWithDeepEntry(
  fakeUrl: string,
  template: object,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    void (async () => {
      const upstream = await fetch(new URL(req.url!, fakeUrl), {
        method: req.method,
        headers: { authorization: req.headers.authorization ?? '', accept: req.headers.accept ?? '' },
      });
      let text = await upstream.text();
      if (upstream.status === 200 && /\/attestations\/sha256/.test(req.url!)) {
        const page = JSON.parse(text) as { attestations: unknown[] };
        page.attestations.push({ bundle: { ...template, extra: '__DEEP__' }, repository_id: 1 });
        text = JSON.stringify(page).replace('"__DEEP__"', DEEP_TEXT);
      }
      const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
      const link = upstream.headers.get('link');
      if (link)
        headers.link = link.split(fakeUrl).join(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
      res.writeHead(upstream.status, headers);
      res.end(text);
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { url, close: () => new Promise<void>((r) => server.close(() => r())) };
}

function genuineEntries(viaUrl: boolean): FakeAttestation[] {
  const artifact = corpus.artifacts[0]!;
  return [artifact.provenance, artifact.signature, artifact.review].map((path) => ({
    subjects: [`sha256:${artifact.sha256}`],
    bundle: JSON.parse(readFileSync(path, 'utf8')),
    viaUrl,
  }));
}

describe('an inline store entry nested deeply', () => {
  it('is one unreadable entry of fetchAttestations, the genuine ones read', async () => {
    const app = aRepository('acme/app');
    const genuine = genuineEntries(false);
    app.attestations = genuine;
    const fake = await startGitHubFake(aGitHubState(app));
    const github = await storeWithDeepEntry(fake.url, genuine[1]!.bundle as object);
    try {
      const read = await fetchAttestations({
        apiUrl: github.url,
        token: 'ghp_x',
        repository: 'acme/app',
        digests: [`sha256:${corpus.artifacts[0]!.sha256}`],
      });
      const entries = read as unknown as { text?: string; unreadable?: { code: string; reason: string } }[];
      expect(entries.filter((e) => e.text !== undefined)).toHaveLength(3);
      expect(entries.filter((e) => e.unreadable !== undefined).map((e) => e.unreadable)).toEqual([
        { code: 'BUNDLE_MALFORMED', reason: 'nested deeper than 64 levels: no bundle' },
      ]);
    } finally {
      await github.close();
      await fake.close();
    }
  });

  it('leaves `twokey verify --repo` of a genuine release a pass (exit 0), the entry rejected', async () => {
    const app = aRepository('acme/app');
    const genuine = genuineEntries(false);
    app.attestations = genuine;
    const fake = await startGitHubFake(aGitHubState(app));
    const github = await storeWithDeepEntry(fake.url, genuine[1]!.bundle as object);
    vi.stubEnv('GITHUB_API_URL', github.url);
    vi.stubEnv('GH_TOKEN', 'ghp_release_manager');
    vi.stubEnv('GITHUB_TOKEN', '');
    const stdout: string[] = [];
    const stderr: string[] = [];
    const io = {
      stdout: { write: (t: string) => stdout.push(t) },
      stderr: { write: (t: string) => stderr.push(t) },
    };
    try {
      // Control: the fake's own answer (no deep entry) passes.
      vi.stubEnv('GITHUB_API_URL', fake.url);
      const ok = await run(
        ['verify', corpus.artifacts[0]!.path, '--policy', corpus.policy, '--json', '--repo', 'acme/app'],
        io,
      );
      expect(ok, stderr.join('')).toBe(0);
      vi.stubEnv('GITHUB_API_URL', github.url);
      stderr.length = 0;
      stdout.length = 0;
      const status = await run(
        ['verify', corpus.artifacts[0]!.path, '--policy', corpus.policy, '--json', '--repo', 'acme/app'],
        io,
      );
      expect(status, stderr.join('')).toBe(0);
      expect(stdout.join('')).toContain('nested deeper than 64 levels');
    } finally {
      vi.unstubAllEnvs();
      await github.close();
      await fake.close();
    }
  }, 120_000);
});

describe('the sign stage’s moving baseline (attestedBaselines), documented never to throw for what the store answers', () => {
  it('does not throw: the entry is not a baseline, the walk goes on', async () => {
    const { attestedBaselines } = await import('@twokey/github');
    const { reviewedCommitDigest } = await import('@twokey/core');
    const commit = 'c'.repeat(40);
    const hex = reviewedCommitDigest('https://github.com/acme/app', 'refs/heads/main', commit);
    const app = aRepository('acme/app');
    // Any entry under the reviewed-commit digest (a writer's), plus the deep one spliced in on the wire.
    app.attestations = [{ subjects: [`sha256:${hex}`], bundle: { mediaType: 'x', n: 1 } as never }];
    const fake = await startGitHubFake(aGitHubState(app));
    const github = await storeWithDeepEntry(fake.url, { mediaType: 'x' });
    try {
      const lookup = attestedBaselines({
        store: { apiUrl: github.url, token: 'ghp_x', repository: 'acme/app' },
        serverUrl: 'https://github.com',
        verifier: {
          verify: () => {
            throw new Error('not reached');
          },
        } as never,
        identities: { build: { san: 'w', issuer: 'y' }, sign: { san: 'x', issuer: 'y' } } as never,
        since: '2024-01-01T00:00:00Z',
        rules: {} as never,
      });
      const outcome = await lookup({ repository: 'acme/app', ref: 'refs/heads/main', commit }).then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );
      expect('value' in outcome, String((outcome as { error?: unknown }).error)).toBe(true);
    } finally {
      await github.close();
      await fake.close();
    }
  });
});

describe('the deploy gate (judgeDeploy with the job’s decisionStore, the policy allowing break-glass)', () => {
  it('decides (a report the gate signs as its record), the entry rejected', async () => {
    const { writeFileSync } = await import('node:fs');
    const { judgeDeploy } = await import('@twokey/gate');
    const policy = join(dir, 'break-glass-policy.yml');
    const base = readFileSync(corpus.policy, 'utf8').replace(
      /\ndeploy:\n/,
      `\n  break-glass:\n    issuer: ${corpus.identities.issuer}\n    san: https://github.com/acme/platform/.github/workflows/break-glass.yml@refs/heads/main\ndeploy:\n`,
    );
    writeFileSync(policy, base);
    const artifact = corpus.artifacts[0]!;
    const app = aRepository('acme/app');
    const genuine = genuineEntries(false);
    app.attestations = genuine;
    const fake = await startGitHubFake(aGitHubState(app));
    const github = await storeWithDeepEntry(fake.url, genuine[1]!.bundle as object);
    const judge = (apiUrl: string) =>
      judgeDeploy({
        policy,
        repository: { repository: 'acme/app', name: 'GITHUB_REPOSITORY', role: 'fallback' },
        artifacts: { arguments: [artifact.path] },
        bundles: [artifact.provenance, artifact.signature, artifact.review],
        untrustedBundles: true,
        decisionStore: { repository: 'acme/app', apiUrl, token: 'ghp_job' },
        environment: 'production',
        cwd: dir,
      } as never);
    try {
      // Control: the fake's own answer: a decision (a report the gate would sign as its record).
      const control = await judge(fake.url);
      expect(control.report.artifacts.length).toBe(1);
      // The writer's deep entry: no decision at all.
      const outcome = await judge(github.url).then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );
      expect('value' in outcome, String((outcome as { error?: unknown }).error)).toBe(true);
    } finally {
      await github.close();
      await fake.close();
    }
  });
});
