import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Tests run against the TypeScript sources, not a stale build.
    alias: {
      '@rampart/core': fileURLToPath(new URL('./packages/core/src/index.ts', import.meta.url)),
      // The SDK's subpath import points into dist/ (packages/sdk/package.json "imports"); tests run in Node.
      '#stream-transport': fileURLToPath(new URL('./packages/sdk/src/transport/node.ts', import.meta.url)),
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    globalSetup: ['packages/server/test/support/global-setup.ts'],
    testTimeout: 30_000,
    // Browser and multi-process tests wait for what a user would see; on a loaded 2-core CI
    // machine that can take seconds, not the default 1 s.
    expect: { poll: { timeout: 10_000, interval: 50 } },
    hookTimeout: 60_000,
    pool: 'forks',
    // Most files wait on browsers, server processes and databases rather than compute: one more
    // worker than cores keeps the CPU busy (a clean CI run used ~1.1 of 2 cores with 2 workers).
    maxWorkers: 3,
  },
});
