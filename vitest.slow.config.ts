import { defineConfig } from 'vitest/config';

// `npm run test:slow`: the tests that cost minutes (test/slow/*.slow.ts), which `npm test` leaves out. CI runs both.
export default defineConfig({
  test: {
    include: ['test/slow/**/*.slow.ts'],
    globalSetup: ['test/fresh-dist.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
  },
});
