// Admin UI: the initial JavaScript a browser downloads (gzip), and how fast the flags page
// becomes usable with 1 000 flags, in Debian's Chromium driven by playwright-core.
//
// Bundle: the scripts, module preloads and stylesheets that packages/web/dist/index.html loads,
// each gzip-compressed (zlib level 9, as a server or CDN would serve them); lazily loaded
// chunks are listed apart. Target: ≤ 250 kB gzip of initial JS.
//
// Flags page: a real server (`rampart serve`, embedded PGlite in a temp dir) with 1 000 flags,
// a fresh browser context per round with the session already in sessionStorage. Per round:
//   - interactive: from navigation start until the 1 000-flag list has rendered its first rows
//     and the search box accepts input (a time-to-interactive proxy measured in the page);
//   - long tasks: main-thread tasks over 50 ms during that load (PerformanceObserver);
//   - DOM rows: rows in the document (virtualized: a screenful, not 1 000);
//   - scroll to end: from setting scrollTop to the bottom until the last flag's row is in the DOM;
//   - search: from typing a query until the list shows only the matching flag.
// Median of 5 rounds after one discarded warm-up round.
//
// Usage: node bench/web-ui.mjs [--quick]   (needs `npm run build` and /usr/bin/chromium)
// stdout: the markdown report; stderr: progress.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { ADMIN, startServer, stop } from './lib/rollup-fixture.mjs';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 2 : 5;
const FLAGS = 1000;
const dist = fileURLToPath(new URL('../packages/web/dist/', import.meta.url));
const log = (...a) => console.error(...a);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kB = (b) => (b / 1000).toFixed(1);

// ---------------------------------------------------------------- bundle
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const initial = [...html.matchAll(/(?:src|href)="\/admin\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]);
const gz = (file) => gzipSync(readFileSync(join(dist, file)), { level: 9 }).length;
const initialJs = initial.filter((f) => f.endsWith('.js')).map((f) => ({ f, raw: readFileSync(join(dist, f)).length, gz: gz(f) }));
const initialCss = initial.filter((f) => f.endsWith('.css')).map((f) => ({ f, raw: readFileSync(join(dist, f)).length, gz: gz(f) }));
const jsGz = initialJs.reduce((s, x) => s + x.gz, 0);
const jsRaw = initialJs.reduce((s, x) => s + x.raw, 0);
const cssGz = initialCss.reduce((s, x) => s + x.gz, 0);

// ---------------------------------------------------------------- flags page
const dataDir = mkdtempSync(join(os.tmpdir(), 'rampart-bench-ui-'));
let server;
let browser;
const rounds = [];
try {
  server = await startServer({ ...process.env, RAMPART_DATA_DIR: dataDir, RAMPART_WATCHDOG_SCHEDULE: 'false', RAMPART_RATE_LIMIT_ADMIN: '0' });
  const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
  log(`creating ${FLAGS} flags…`);
  for (let i = 0; i < FLAGS; i += 50) {
    await Promise.all(
      Array.from({ length: 50 }, (_, j) => {
        const n = i + j;
        const body = { key: `flag_${String(n).padStart(4, '0')}`, description: `Benchmark flag ${n}`, enabled: n % 7 !== 0, rolloutPercentage: n % 101, allowlist: n % 10 === 0 ? ['pass_beta_001_2026'] : [] };
        return fetch(`${server.url}/api/admin/feature-flags`, { method: 'POST', headers, body: JSON.stringify(body) }).then((r) => {
          if (!r.ok) throw new Error(`create: ${r.status}`);
        });
      }),
    );
  }
  const session = (await (await fetch(`${server.url}/api/admin/session`, { headers })).json());
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const last = `flag_${String(FLAGS - 1).padStart(4, '0')}`;
  for (let round = 0; round <= ROUNDS; round++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addInitScript((s) => {
      sessionStorage.setItem('rampart.session', JSON.stringify(s));
      window.__longTasks = 0;
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) window.__longTasks += e.duration;
      }).observe({ type: 'longtask', buffered: true });
    }, { token: ADMIN, ...session });
    const page = await context.newPage();
    await page.goto(`${server.url}/admin/feature-flags`);
    await page.locator('.flag-row a.flag-key').first().waitFor();
    await page.getByLabel('Search flags').waitFor({ state: 'visible' });
    const interactive = await page.evaluate(() => performance.now());
    const longTasks = await page.evaluate(() => window.__longTasks);
    const domRows = await page.locator('.flag-scroll .flag-row').count();
    const scroll = await page.evaluate(async (lastKey) => {
      const el = document.querySelector('.flag-scroll');
      const t0 = performance.now();
      el.scrollTop = el.scrollHeight;
      for (;;) {
        await new Promise((r) => requestAnimationFrame(r));
        if ([...document.querySelectorAll('.flag-key')].some((a) => a.textContent === lastKey)) return performance.now() - t0;
        if (performance.now() - t0 > 5000) return NaN;
      }
    }, last);
    const t0 = Date.now();
    await page.getByLabel('Search flags').fill('flag_0777');
    await page.waitForFunction(() => document.querySelectorAll('.flag-scroll .flag-row').length === 1);
    const search = Date.now() - t0;
    await context.close();
    if (round === 0) continue; // warm-up: the server's and the browser's caches
    rounds.push({ interactive, longTasks, domRows, scroll, search });
    log(`round ${round}: interactive ${interactive.toFixed(0)} ms, long tasks ${longTasks.toFixed(0)} ms, ${domRows} rows in the DOM, scroll ${scroll.toFixed(0)} ms, search ${search} ms`);
  }
} finally {
  await browser?.close();
  if (server) await stop(server.child);
  rmSync(dataDir, { recursive: true, force: true });
}

const chromiumVersion = (() => {
  try {
    return readFileSync('/usr/lib/chromium/chromium', { encoding: 'latin1' }).match(/Chrome\/(\d+\.\d+\.\d+\.\d+)/)?.[1] ?? 'Debian package';
  } catch {
    return 'Debian package';
  }
})();
const m = (k) => median(rounds.map((r) => r[k]));
console.log(`Machine: ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, Chromium ${chromiumVersion} (headless). Command: \`node bench/web-ui.mjs\` after \`npm run build\`.

| initial asset | raw | gzip |
|---|---:|---:|
${[...initialJs, ...initialCss].map((x) => `| \`${x.f}\` | ${kB(x.raw)} kB | ${kB(x.gz)} kB |`).join('\n')}
| **initial JavaScript** | ${kB(jsRaw)} kB | **${kB(jsGz)} kB** (target ≤ 250 kB: ${jsGz <= 250_000 ? 'met' : 'NOT met'}) |

Stylesheet ${kB(cssGz)} kB gzip.

Flags page with ${FLAGS} flags, median of ${rounds.length} rounds:

| measure | median |
|---|---:|
| interactive (navigation → rows rendered, search ready) | ${m('interactive').toFixed(0)} ms |
| long main-thread tasks during load | ${m('longTasks').toFixed(0)} ms |
| rows in the DOM (of ${FLAGS}) | ${m('domRows')} |
| scroll to the last flag | ${m('scroll').toFixed(0)} ms |
| search to a single match (typing → list updated) | ${m('search')} ms |`);
