import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'actions/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    // Every action bundled once for the whole run (runAction runs these), not once per test file.
    globalSetup: ['test/fresh-dist.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Tests start real servers on loopback and spawn processes, and wait on them: with two workers on this 2-core
    // machine the run kept ~1.6 cores busy (183 s); three keep ~1.8 busy (151 s); four gain nothing more (152 s).
    maxWorkers: 3,
    // A worker runs file after file in one module graph, rather than starting afresh and importing the packages again
    // for each (~25 s of a run). So a test leaves the process as it found it: environment variables through
    // vi.stubEnv (undone after each test), spies restored, servers closed — `--sequence.shuffle` runs the files in
    // another order to show that none depends on one before it.
    isolate: false,
  },
});
