import { describe, it } from 'vitest';
import { pgEnabled } from './support/pg-urls.js';
import { expectTargets, soak } from './support/soak.js';

// `npm run soak` in CI on PostgreSQL: see support/soak.ts.
describe.runIf(pgEnabled())('soak on PostgreSQL: 90 s warm-up, 60 s measured', () => {
  it('answers every request, loses nothing, and its RSS grows under 10 % after warm-up', { timeout: 300_000 }, async () => {
    expectTargets(await soak('postgres'));
  });
});
