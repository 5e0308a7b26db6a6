// A/A: no real difference between the cohorts, 48 hourly checkpoints per stage (48 looks at
// cumulative data plus the recent window). The judge's stated bound is α = 0.05 family-wise for
// any number of looks; the requirement here is stricter: at most 1 % of stages ever see a FAIL.
// Seeded, so repeatable. bench/watchdog-sim.mjs runs more stages of the same scenarios.
import { describe, expect, it } from 'vitest';
import { ACCEPTANCE } from '../src/monitor/judge/sim-scenarios.js';
import { simulateStage } from '../src/monitor/judge/simulation.js';

const RUNS = 150;

describe('judge under simulated traffic: A/A false alarms over a 48-hour stage', () => {
  for (const [id, seed] of [
    ['aa-1', 50_000],
    ['aa-5', 60_000],
    ['aa-50', 70_000],
  ] as const) {
    it(`${id}: at most 1 % of ${RUNS} stages ever FAIL`, () => {
      const a = ACCEPTANCE.find((x) => x.scenario.id === id)!;
      const traces = Array.from({ length: RUNS }, (_, i) => simulateStage(a.scenario, seed + i));
      const c = a.check(traces);
      expect(c.pass, c.observedText).toBe(true);
      expect(c.observed).toBeLessThanOrEqual(0.01);
    }, 60_000);
  }
});
