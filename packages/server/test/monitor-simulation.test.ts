// Statistical acceptance of the judge: seeded simulations of hourly checkpoints (the runs are
// fixed by their seeds, so these tests are repeatable, not flaky). A/A false alarms are in
// monitor-simulation-aa.test.ts, so the two files can run side by side.
// bench/watchdog-sim.mjs runs the same scenarios with more stages each.
import { describe, expect, it } from 'vitest';
import { ACCEPTANCE, type Acceptance } from '../src/monitor/judge/sim-scenarios.js';
import { simulateStage } from '../src/monitor/judge/simulation.js';

function run(id: string, runs: number, seed: number) {
  const a: Acceptance = ACCEPTANCE.find((x) => x.scenario.id === id)!;
  const traces = Array.from({ length: runs }, (_, i) => simulateStage(a.scenario, seed + i));
  return a.check(traces);
}

describe('judge under simulated traffic: detection and thin data', () => {
  it('fails a 5xx regression (0.5 % → 1 %, 10 000 exposed req/h at 1 %) within 3 checkpoints in ≥ 90 % of 300 stages', () => {
    const c = run('5xx-regression', 300, 20_000);
    expect(c.pass, c.observedText).toBe(true);
    expect(c.observed).toBeGreaterThanOrEqual(0.9);
  });

  it('detects a 30 % latency regression within 3 checkpoints in ≥ 90 % of 300 stages', () => {
    const c = run('latency-regression', 300, 30_000);
    expect(c.pass, c.observedText).toBe(true);
    expect(c.observed).toBeGreaterThanOrEqual(0.9);
  });

  it('with 100 exposed requests an hour: INSUFFICIENT_DATA / EXTEND at every checkpoint of 100 stages × 24 h, never PASS, never FAIL', () => {
    const c = run('low-traffic', 100, 40_000);
    expect(c.pass, c.observedText).toBe(true);
    expect(c.observed).toBe(1);
  });
});
