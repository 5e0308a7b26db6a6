import { describe, it } from 'vitest';
import { expectTargets, soak } from './support/soak.js';

// `npm run soak` in CI on PGlite: see support/soak.ts.
describe('soak on PGlite: 90 s warm-up, 60 s measured', () => {
  it('answers every request, loses nothing, and its RSS grows under 10 % after warm-up', { timeout: 300_000 }, async () => {
    expectTargets(await soak('pglite'));
  });
});
