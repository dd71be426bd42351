import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    // Lab tests build network namespaces; two cores do not gain from running many at once.
    maxWorkers: 2,
    // In CI a test that fails once is run once more, and vitest lists it as retried: real devices, namespaces and
    // timing on a 2-core machine make rare flakes; a retried test is a bug to fix, not a pass to forget.
    retry: process.env.CI ? 1 : 0,
  },
});
