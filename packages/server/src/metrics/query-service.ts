import { COHORTS, type Cohort } from '@rampart/core';
import type { Database } from '../db/database.js';
import { AppError } from '../errors.js';
import { BUILT_IN_KINDS, type MetricKind } from './names.js';
import { metricNames, readForSummary, readRows, type RollupRow } from './rollup-store.js';
import { summarize, type CohortSummary } from './summary.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;
export const MAX_WINDOW_MS = 90 * 24 * HOUR;

export interface Window {
  from: number;
  to: number;
}

export interface WindowSummary {
  flag: string;
  /** The window actually covered: widened to whole hours where minutes are past retention. */
  from: string;
  to: string;
  cohorts: Record<Cohort, CohortSummary>;
}

export interface SeriesPoint {
  t: string;
  count: number;
  sum: number;
  /** rate: successes/trials; distribution: mean; counter: the count. Null with no samples. */
  value: number | null;
}

const floorTo = (t: number, unit: number) => Math.floor(t / unit) * unit;
const ceilTo = (t: number, unit: number) => Math.ceil(t / unit) * unit;

export function checkWindow(w: Window): Window {
  if (!(w.to > w.from) || w.to - w.from > MAX_WINDOW_MS) {
    throw new AppError('INVALID_WINDOW', undefined, { from: new Date(w.from).toISOString(), to: new Date(w.to).toISOString(), maxDays: 90 });
  }
  return w;
}

/**
 * Window queries read whole hours from the hour table and the ragged edges from the minute
 * table. Minutes older than the retention are gone (downsampled): edges there widen to whole
 * hours, and the answer says which window it covers.
 */
export function createMetricsQueryService(db: Database, minuteRetentionMs: number) {
  /**
   * `kinds` (the flag's registered application metrics) names, with the built-ins, every series
   * the flag can have: ingestion registers a name in the transaction that writes its first
   * rollups. Naming the series and the cohorts lets the primary key (flag_key, metric, cohort,
   * minute|hour) bound each scan to the window instead of reading every row of the flag and
   * filtering on time (7 days of minutes of one flag: a 400 k-row sequential scan, ~60 ms).
   */
  async function rowsFor(
    flag: string,
    w: Window,
    now: number,
    kinds: Record<string, MetricKind>,
    read: typeof readForSummary = readForSummary,
  ): Promise<{ rows: RollupRow[]; from: number; to: number }> {
    const metrics = [...Object.keys(BUILT_IN_KINDS), ...Object.keys(kinds)];
    const cohorts = COHORTS;
    const boundary = now - minuteRetentionMs;
    const from = w.from < boundary ? floorTo(w.from, HOUR) : floorTo(w.from, MINUTE);
    const to = w.to <= boundary ? ceilTo(w.to, HOUR) : ceilTo(w.to, MINUTE);
    const hourFrom = ceilTo(from, HOUR);
    const hourTo = floorTo(to, HOUR);
    if (hourFrom >= hourTo) return { rows: await read(db, 'minute', { flag, from, to, metrics, cohorts }), from, to };
    const [mid, head, tail] = await Promise.all([
      read(db, 'hour', { flag, from: hourFrom, to: hourTo, metrics, cohorts }),
      from < hourFrom ? read(db, 'minute', { flag, from, to: hourFrom, metrics, cohorts }) : [],
      hourTo < to ? read(db, 'minute', { flag, from: hourTo, to, metrics, cohorts }) : [],
    ]);
    return { rows: [...head, ...mid, ...tail], from, to };
  }

  async function kindsOf(flag: string): Promise<Record<string, MetricKind>> {
    return Object.fromEntries((await metricNames(db, [flag])).map((n) => [n.metric, n.kind]));
  }

  return {
    kindsOf,

    async summary(flag: string, window: Window, now = Date.now()): Promise<WindowSummary> {
      const w = checkWindow(window);
      const kinds = await kindsOf(flag);
      const { rows, from, to } = await rowsFor(flag, w, now, kinds);
      return { flag, from: new Date(from).toISOString(), to: new Date(to).toISOString(), cohorts: summarize(rows, kinds) };
    },

    /**
     * The window cut into `buckets` equal slices, each summarised like a window of its own: what
     * the UI's charts draw (error rates, p95 from merged histograms) in one request and one read.
     * Rows are read one by one (with their minute) and partitioned here. Past minute retention
     * only hours remain, and an hour lands in the slice where it starts.
     */
    async timeline(flag: string, window: Window, buckets: number, now = Date.now()) {
      const w = checkWindow(window);
      const kinds = await kindsOf(flag);
      // Within minute retention, minutes only: rowsFor would read whole hours from the hour
      // table (same totals, but every hour would land in one slice).
      const { rows, from, to } =
        w.from >= now - minuteRetentionMs
          ? await (async () => {
              const from = floorTo(w.from, MINUTE);
              const to = ceilTo(w.to, MINUTE);
              const metrics = [...Object.keys(BUILT_IN_KINDS), ...Object.keys(kinds)];
              return { rows: await readRows(db, 'minute', { flag, from, to, metrics, cohorts: COHORTS }), from, to };
            })()
          : await rowsFor(flag, w, now, kinds, readRows);
      const width = Math.max(1, Math.ceil((to - from) / buckets));
      const parts: RollupRow[][] = Array.from({ length: buckets }, () => []);
      for (const r of rows) parts[Math.min(buckets - 1, Math.max(0, Math.floor((r.at - from) / width)))]!.push(r);
      return {
        flag,
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        bucketMs: width,
        buckets: parts.map((p, i) => ({
          from: new Date(from + i * width).toISOString(),
          to: new Date(Math.min(to, from + (i + 1) * width)).toISOString(),
          cohorts: summarize(p, kinds),
        })),
      };
    },

    /**
     * Several windows pooled (e.g. the same hour on each of the last N weeks), per cohort and
     * with every cohort together as `all`.
     */
    async pooledSummary(flag: string, windows: Window[], now = Date.now()): Promise<Record<Cohort | 'all', CohortSummary>> {
      const checked = windows.map(checkWindow);
      const kinds = await kindsOf(flag);
      const parts = await Promise.all(checked.map((w) => rowsFor(flag, w, now, kinds)));
      const rows = parts.flatMap((p) => p.rows);
      // Pooling is summarizing the same rows as if they all belonged to one cohort.
      const all = summarize(rows.map((r) => ({ ...r, cohort: 'off' as const })), kinds).off;
      return { ...summarize(rows, kinds), all };
    },

    async series(flag: string, metric: string, cohort: Cohort, window: Window, step: 'minute' | 'hour') {
      const w = checkWindow(window);
      const kind = BUILT_IN_KINDS[metric] ?? (await kindsOf(flag))[metric];
      const unit = step === 'minute' ? MINUTE : HOUR;
      const rows = await readRows(db, step, { flag, from: floorTo(w.from, unit), to: ceilTo(w.to, unit), metrics: [metric], cohorts: [cohort] });
      rows.sort((a, b) => a.at - b.at);
      const points: SeriesPoint[] = rows.map((r) => ({
        t: new Date(r.at).toISOString(),
        count: r.count,
        sum: r.sum,
        value: kind === 'counter' ? r.count : r.count > 0 ? r.sum / r.count : null,
      }));
      return { flag, metric, cohort, step, kind: kind ?? null, points };
    },
  };
}

export type MetricsQueryService = ReturnType<typeof createMetricsQueryService>;
