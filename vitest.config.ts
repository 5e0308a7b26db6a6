import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const SOAK = 'packages/server/test/reliability-soak-*.test.ts';

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
    // A guard against hangs, not a speed check (bench/ measures speed): three workers on 2 cores
    // make CPU-bound tests 4–7× slower than alone, and tests of ~4 s alone reached 30 s.
    testTimeout: 60_000,
    // Browser and multi-process tests wait for what a user would see; on a loaded 2-core CI
    // machine that can take seconds, not the default 1 s.
    expect: { poll: { timeout: 10_000, interval: 50 } },
    hookTimeout: 60_000,
    pool: 'forks',
    // Most files wait on browsers, server processes and databases rather than compute: one more
    // worker than cores keeps the CPU busy (a clean CI run used ~1.1 of 2 cores with 2 workers).
    maxWorkers: 3,
    // The soaks keep both cores busy for 2.5 minutes each; run alongside the rest they starve
    // the tests that wait on browsers and server processes, and their own figures mean less.
    // They run after everything else, by themselves.
    projects: [
      {
        extends: true,
        // The migrated PostgreSQL template the store suites copy; the soaks make their own databases.
        test: { name: 'suite', include: ['packages/*/test/**/*.test.ts'], exclude: [SOAK], globalSetup: ['packages/server/test/support/global-setup.ts'], sequence: { groupOrder: 0 } },
      },
      { extends: true, test: { name: 'soak', include: [SOAK], sequence: { groupOrder: 1 } } },
    ],
  },
});
