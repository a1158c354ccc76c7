import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'actions/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    // Every action bundled once for the whole run (runAction runs these), not once per test file.
    globalSetup: ['test/fresh-dist.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Tests start real servers on loopback and spawn processes; two cores is the machine.
    maxWorkers: 2,
  },
});
