import { describe, expect, it } from 'vitest';
import { DRIVERS } from './support/databases.js';
import { BETA_IDS, startTestApp } from './support/app.js';
import { trafficBatch } from './support/traffic.js';

const HOUR = 3_600_000;

/**
 * buildApp's `clock` is the one time source of the watchdog's whole loop (the accelerated demo
 * relies on it): scheduled slots come due on it, ingestion dates and age-checks on it, and
 * windows that end "now" end at its now. Here it runs three days ahead of the wall clock, where
 * the wall clock would refuse every aggregate as "in the future" and schedule nothing new.
 */
describe.each(DRIVERS)('an injected clock on %s', (driver) => {
  it('drives ingestion, windows ending now and the checkpoint scheduler', async () => {
    let now = Math.floor((Date.now() + 72 * HOUR) / HOUR) * HOUR + 30 * 60_000; // hh:30, three days ahead
    const t = await startTestApp(driver, { rateLimitIngest: 0 }, undefined, { clock: () => now });
    try {
      const key = 'clocked';
      await t.call('POST', '/api/admin/feature-flags', { body: { key, enabled: true, rolloutPercentage: 10, allowlist: BETA_IDS } });
      await t.call('PUT', `/api/admin/beta-monitor/${key}/settings`, { as: 'OPERATOR', body: { syntheticProbes: 0 } });

      const batch = trafficBatch(key, now - 5 * 60_000, { exposed: { requests: 100, rate5xx: 0.02 }, control: { requests: 900, rate5xx: 0.01 } });
      const ingested = await t.call('POST', '/api/metrics', { as: 'SDK', body: batch });
      expect(ingested.statusCode, ingested.body).toBe(200);

      const summary = (await t.call('GET', `/api/admin/metrics/${key}/summary?window=1h`, { as: 'VIEWER' })).json();
      expect(summary.cohorts.exposed.requests).toBe(100);
      expect(summary.cohorts.control.status['5xx']).toBe(9);
      expect(Date.parse(summary.to)).toBeGreaterThan(Date.now() + 71 * HOUR);

      // tick() without an argument asks the clock: the hh:00 slot of the clock's hour is due.
      const first = await t.app.watchdog.scheduler.tick();
      expect(first.ran).toHaveLength(1);
      const list = (await t.call('GET', `/api/admin/beta-monitor/${key}/checkpoints`, { as: 'VIEWER' })).json();
      expect(list.checkpoints[0].scheduledFor).toBe(new Date(now - 30 * 60_000).toISOString());
      expect((await t.app.watchdog.scheduler.tick()).ran).toHaveLength(0);
      now += HOUR;
      expect((await t.app.watchdog.scheduler.tick()).ran).toHaveLength(1);
    } finally {
      await t.close();
    }
  });
});
