import type { Cohort, Histogram } from '@rampart/core';
import type { Queryable } from '../db/database.js';
import type { MetricKind } from './names.js';
import type { Cell } from './validate.js';

const HOUR = 3_600_000;

export interface RollupRow {
  metric: string;
  cohort: Cohort;
  /** Start of the minute or hour, epoch ms. */
  at: number;
  count: number;
  sum: number;
  histogram: Histogram | null;
}

export type Resolution = 'minute' | 'hour';
const TABLE: Record<Resolution, { table: string; column: string }> = {
  minute: { table: 'metric_rollups_minute', column: 'minute' },
  hour: { table: 'metric_rollups_hour', column: 'hour' },
};

/**
 * Adds cells into a rollup table. Upserts add, so replicas and retries merge; rows are
 * written in key order so two concurrent batches cannot deadlock on each other.
 */
export async function upsertCells(tx: Queryable, cells: Cell[], resolution: Resolution): Promise<number> {
  if (cells.length === 0) return 0;
  const { table, column } = TABLE[resolution];
  const sorted = [...cells].sort((a, b) =>
    a.flag !== b.flag ? (a.flag < b.flag ? -1 : 1) : a.metric !== b.metric ? (a.metric < b.metric ? -1 : 1) : a.cohort !== b.cohort ? (a.cohort < b.cohort ? -1 : 1) : a.minute - b.minute,
  );
  await tx.query(
    `insert into ${table} as r (flag_key, metric, cohort, ${column}, count, sum, histogram)
     select f, m, c, t, n, s, h::jsonb
     from unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::bigint[], $6::float8[], $7::text[]) as u(f, m, c, t, n, s, h)
     on conflict (flag_key, metric, cohort, ${column}) do update
       set count = r.count + excluded.count,
           sum = r.sum + excluded.sum,
           histogram = rampart_hist_add(r.histogram, excluded.histogram)`,
    [
      sorted.map((c) => c.flag),
      sorted.map((c) => c.metric),
      sorted.map((c) => c.cohort),
      sorted.map((c) => new Date(c.minute).toISOString()),
      sorted.map((c) => c.count),
      sorted.map((c) => c.sum),
      sorted.map((c) => (c.histogram ? JSON.stringify(c.histogram) : null)),
    ],
  );
  return sorted.length;
}

/** Folds minute cells into hour cells (same flag, metric, cohort). */
export function toHours(cells: Iterable<Cell>): Cell[] {
  const hours = new Map<string, Cell>();
  for (const c of cells) {
    const hour = Math.floor(c.minute / HOUR) * HOUR;
    const key = `${c.flag}\u0000${c.metric}\u0000${c.cohort}\u0000${hour}`;
    const h = hours.get(key);
    if (!h) {
      hours.set(key, { ...c, minute: hour, histogram: c.histogram ? { ...c.histogram } : null });
      continue;
    }
    h.count += c.count;
    h.sum += c.sum;
    if (c.histogram) for (const k in c.histogram) h.histogram![k] = (h.histogram![k] ?? 0) + c.histogram[k]!;
  }
  return [...hours.values()];
}

export interface RangeQuery {
  flag: string;
  from: number;
  to: number;
  metrics?: readonly string[] | undefined;
  cohorts?: readonly Cohort[] | undefined;
}

function rangeFilter(resolution: Resolution, q: RangeQuery): { sql: string; params: unknown[] } {
  const { column } = TABLE[resolution];
  const params: unknown[] = [q.flag, new Date(q.from).toISOString(), new Date(q.to).toISOString()];
  let sql = `flag_key = $1 and ${column} >= $2 and ${column} < $3`;
  if (q.metrics?.length) {
    params.push(q.metrics);
    sql += ` and metric = any($${params.length}::text[])`;
  }
  if (q.cohorts?.length) {
    params.push(q.cohorts);
    sql += ` and cohort = any($${params.length}::text[])`;
  }
  return { sql, params };
}

type RawRow = { metric: string; cohort: Cohort; at: Date | null; count: string | number; sum: number; histogram: Histogram | null };
const toRow = (r: RawRow): RollupRow => ({ metric: r.metric, cohort: r.cohort, at: r.at?.getTime() ?? 0, count: Number(r.count), sum: r.sum, histogram: r.histogram });

/** Rows of one table with `from ≤ at < to`. */
export async function readRows(db: Queryable, resolution: Resolution, q: RangeQuery): Promise<RollupRow[]> {
  const { table, column } = TABLE[resolution];
  const f = rangeFilter(resolution, q);
  const rows = await db.query<RawRow>(`select metric, cohort, ${column} as at, count, sum, histogram from ${table} where ${f.sql}`, f.params);
  return rows.map(toRow);
}

/**
 * The same range, shaped for a summary: counts and sums added up per series by the database,
 * and only the rows that carry a histogram shipped to be merged here. Over 7 days of hours
 * that is a fifth of the rows, and most of a summary's time was turning rows into objects.
 */
export async function readForSummary(db: Queryable, resolution: Resolution, q: RangeQuery): Promise<RollupRow[]> {
  const { table } = TABLE[resolution];
  const f = rangeFilter(resolution, q);
  const [totals, histograms] = await Promise.all([
    db.query<RawRow>(`select metric, cohort, null::timestamptz as at, sum(count)::float8 as count, sum(sum) as sum, null::jsonb as histogram from ${table} where ${f.sql} group by metric, cohort`, f.params),
    db.query<RawRow>(`select metric, cohort, null::timestamptz as at, 0 as count, 0::float8 as sum, histogram from ${table} where ${f.sql} and histogram is not null`, f.params),
  ]);
  return [...totals.map(toRow), ...histograms.map(toRow)];
}

export async function knownFlags(tx: Queryable, keys: string[]): Promise<Set<string>> {
  const rows = await tx.query<{ key: string }>('select key from flags where key = any($1::text[])', [keys]);
  return new Set(rows.map((r) => r.key));
}

export interface MetricName {
  flag: string;
  metric: string;
  kind: MetricKind;
}

export async function metricNames(q: Queryable, flags: string[]): Promise<MetricName[]> {
  return q.query<MetricName>('select flag_key as flag, metric, kind from metric_names where flag_key = any($1::text[])', [flags]);
}

export async function registerNames(tx: Queryable, names: MetricName[]): Promise<void> {
  if (names.length === 0) return;
  await tx.query(
    `insert into metric_names (flag_key, metric, kind)
     select * from unnest($1::text[], $2::text[], $3::text[]) on conflict do nothing`,
    [names.map((n) => n.flag), names.map((n) => n.metric), names.map((n) => n.kind)],
  );
}

/** Records a batch's idempotency key; false when it was seen before. */
export async function claimBatch(tx: Queryable, key: string, events: number): Promise<boolean> {
  const rows = await tx.query('insert into ingest_batches (idempotency_key, events) values ($1, $2) on conflict do nothing returning 1', [key, events]);
  return rows.length === 1;
}
