// Screenshots of the admin UI's main pages for the README and docs/screenshots/.
//
// Starts a real server (embedded PGlite in a temp dir), replays the runbook's story through
// the API — the flag with its 10 beta ids, 1 %, a plan at 5 %, three hours of per-minute
// traffic in which the exposed cohort's 5xx rate climbs, checkpoints, an operator signal, a
// rollback — then photographs each page in Debian's Chromium at 1280 px (and two at 390 px).
//
// Usage: npm run build && node scripts/screenshots.mjs
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { addToHistogram } from '../packages/core/dist/index.js';
import { ADMIN, startServer, stop } from '../bench/lib/rollup-fixture.mjs';

const out = fileURLToPath(new URL('../docs/screenshots/', import.meta.url));
const KEY = 'passenger_favorites_matching';
const BETA = Array.from({ length: 10 }, (_, i) => `pass_beta_${String(i + 1).padStart(3, '0')}_2026`);
const dataDir = mkdtempSync(join(os.tmpdir(), 'rampart-shots-'));
const server = await startServer({ ...process.env, RAMPART_DATA_DIR: dataDir, RAMPART_WATCHDOG_SCHEDULE: 'false', RAMPART_RATE_LIMIT_ADMIN: '0', RAMPART_RATE_LIMIT_INGEST: '0' });
let browser;
try {
  const call = async (method, path, body, token = ADMIN) => {
    const res = await fetch(server.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? null : res.json();
  };

  // The runbook's flag and a few neighbours in other states.
  await call('POST', '/api/admin/feature-flags', { key: KEY, description: 'Match passengers with their favourite drivers first', enabled: true, rolloutPercentage: 0, allowlist: BETA, reason: 'Phase 1: internal beta' });
  const others = [
    { key: 'driver_heatmap_v2', description: 'New demand heat map in the driver app', enabled: true, rolloutPercentage: 100 },
    { key: 'surge_explainer', description: 'Explain surge pricing before booking', enabled: true, rolloutPercentage: 25 },
    { key: 'split_fare', description: 'Split the fare with friends', enabled: false, rolloutPercentage: 10 },
    { key: 'tip_suggestions', description: 'Suggested tips after the ride', enabled: true, rolloutPercentage: 50 },
    { key: 'pickup_pin_snap', description: 'Snap pickup pins to safe stopping points', enabled: true, rolloutPercentage: 5 },
    { key: 'checkout_wallet_v3', description: 'Wallet-first checkout', enabled: true, rolloutPercentage: 0, allowlist: ['pass_beta_001_2026'] },
  ];
  for (const f of others) await call('POST', '/api/admin/feature-flags', f);
  await call('PUT', `/api/admin/feature-flags/${KEY}`, { rolloutPercentage: 1, reason: 'Phase 2: 1 %' });
  const sdk = (await call('POST', '/api/admin/tokens', { name: 'matching-service', role: 'SDK', reason: 'matching service in production' })).token;
  await call('POST', '/api/admin/tokens', { name: 'on-call', role: 'OPERATOR', reason: 'on-call rotation' });
  await call('POST', '/api/admin/tokens', { name: 'product-dashboard', role: 'VIEWER' });

  // Three hours of per-minute traffic as the SDK reports it; exposed degrades in the last hour.
  const now = Date.now();
  for (let m = 180; m >= 1; m -= 20) {
    const aggregates = [];
    for (let k = m; k > Math.max(0, m - 20); k--) {
      const minute = new Date(Math.floor((now - k * 60_000) / 60_000) * 60_000).toISOString();
      const wave = 1 + 0.25 * Math.sin(k / 17);
      for (const [cohort, requests, rate5xx, tail] of [
        ['control', Math.round(1600 * wave), 0.004 + 0.001 * Math.sin(k / 7), 420],
        ['exposed', Math.round(90 * wave), k < 60 ? 0.03 + 0.01 * Math.sin(k / 5) : 0.005, k < 60 ? 640 : 430],
      ]) {
        const errors = Math.round(requests * rate5xx);
        const histogram = {};
        addToHistogram(histogram, 110 + (k % 13), Math.round(requests * 0.9));
        addToHistogram(histogram, tail, requests - Math.round(requests * 0.9));
        aggregates.push(
          { flag: KEY, cohort, metric: '_exposures', minute, count: requests },
          { flag: KEY, cohort, metric: '_http_latency_ms', minute, count: requests, sum: requests * 160, histogram },
          { flag: KEY, cohort, metric: '_http_status_2xx', minute, count: requests - errors },
          { flag: KEY, cohort, metric: '_http_status_5xx', minute, count: errors },
          { flag: KEY, cohort, metric: 'matching_success', kind: 'rate', minute, count: Math.round(requests * 0.3), sum: Math.round(requests * 0.3 * (cohort === 'exposed' ? 0.83 : 0.86)) },
        );
      }
    }
    await call('POST', '/api/metrics', { idempotencyKey: `shots-${m}`, aggregates }, sdk);
  }
  await call('POST', `/api/admin/beta-monitor/${KEY}/run`, { trigger: 'manual' });
  await call('POST', `/api/admin/rollouts/${KEY}`, { stages: [{ percentage: 5, minDwellMinutes: 120, minSample: 1000 }, { percentage: 25, minDwellMinutes: 240, minSample: 1000, gate: 'approval' }, { percentage: 100, minDwellMinutes: 0 }], rollbackPolicy: 'zero', reason: 'Phase 3: 5 % with the watchdog' });
  await call('POST', `/api/admin/beta-monitor/${KEY}/signals`, { complaints: 3, severity: 'warning', note: 'Three tickets: favourite driver shown as unavailable' });
  await call('POST', `/api/admin/beta-monitor/${KEY}/run`, { trigger: 'manual' });
  await call('POST', `/api/admin/rollouts/${KEY}/rollback`, { reason: 'exposed 5xx at 3 %: rolling back while we look' });
  await call('POST', `/api/admin/beta-monitor/${KEY}/run`, { trigger: 'manual' });
  await call('POST', `/api/admin/feature-flags/${KEY}/scheduled-changes`, { at: new Date(now + 26 * 3_600_000).toISOString(), rolloutPercentage: 1, reason: 'retry at 1 % after the fix ships' });
  await call('POST', '/api/admin/snapshots', { label: 'before Phase 3', reason: 'known good state' });
  await call('POST', '/api/admin/rollouts/pickup_pin_snap', { template: 'chat-canary', reason: 'canary' });
  await call('PUT', '/api/admin/feature-flags/surge_explainer', { rolloutPercentage: 30, reason: 'ramp' });

  const session = await call('GET', '/api/admin/session');
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const shoot = async (path, file, { width = 1280, locale = 'en-US', fullPage = true } = {}) => {
    const context = await browser.newContext({ viewport: { width, height: width < 600 ? 844 : 900 }, locale, deviceScaleFactor: 1 });
    await context.addInitScript((s) => sessionStorage.setItem('rampart.session', JSON.stringify(s)), { token: ADMIN, ...session });
    const page = await context.newPage();
    await page.goto(server.url + path);
    // The live event stream keeps the network busy forever: wait for the page, then its data.
    await page.locator('main h1').first().waitFor();
    // (Closed dialogs may hold a loading state of their own: only visible ones count.)
    await page.waitForFunction(() => ![...document.querySelectorAll('.state-loading')].some((e) => e.checkVisibility()), null, { timeout: 15_000 });
    await page.waitForTimeout(1000);
    await page.screenshot({ path: join(out, file), fullPage });
    await context.close();
    console.error(`docs/screenshots/${file}`);
  };
  await shoot('/admin/feature-flags', 'flags.png', { fullPage: false });
  await shoot(`/admin/feature-flags/${KEY}`, 'flag.png');
  await shoot(`/admin/beta-monitor/${KEY}`, 'beta-monitor.png');
  await shoot('/admin/snapshots', 'snapshots.png');
  await shoot('/admin/tokens', 'tokens.png');
  await shoot(`/admin/feature-flags/${KEY}`, 'flag-390-pt-BR.png', { width: 390, locale: 'pt-BR' });
  await shoot(`/admin/beta-monitor/${KEY}`, 'beta-monitor-390.png', { width: 390 });
} finally {
  await browser?.close();
  await stop(server.child);
  rmSync(dataDir, { recursive: true, force: true });
}
