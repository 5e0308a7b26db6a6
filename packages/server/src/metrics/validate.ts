import { COHORTS, HISTOGRAM_BUCKETS, addToHistogram, type Cohort, type Histogram } from '@rampart/core';
import { AppError, type ErrorCode } from '../errors.js';
import {
  BUILT_IN_KINDS,
  EXPOSURES,
  HTTP_LATENCY,
  INGEST_LIMITS,
  METRIC_NAME_PATTERN,
  statusMetric,
  statusSeriesOf,
  type MetricKind,
} from './names.js';
import type { Aggregate, IngestBody, RawEvent } from './schemas.js';

/** One rollup cell's contribution: what a batch adds to (flag, metric, cohort, minute). */
export interface Cell {
  flag: string;
  metric: string;
  cohort: Cohort;
  kind: MetricKind;
  minute: number;
  count: number;
  sum: number;
  histogram: Histogram | null;
}

export interface AggregatedBatch {
  cells: Map<string, Cell>;
  /** Events the batch represents (an aggregate counts as its count). */
  represented: number;
  rawEvents: number;
}

const MINUTE = 60_000;

function reject(code: ErrorCode, where: string, message: string): never {
  throw new AppError(code, `${where}: ${message}`, { at: where });
}

function finite(v: number, where: string, field: string): number {
  if (!Number.isFinite(v)) reject('NON_FINITE_VALUE', where, `${field} is ${v}`);
  return v;
}

function cohortOf(v: string, where: string): Cohort {
  if (!(COHORTS as readonly string[]).includes(v)) reject('UNKNOWN_COHORT', where, `unknown cohort "${v.slice(0, 32)}"`);
  return v as Cohort;
}

function timeOf(v: string | number | undefined, now: number, where: string): number {
  const t = v === undefined ? now : typeof v === 'number' ? v : Date.parse(v);
  if (!Number.isFinite(t)) reject('INVALID_TIMESTAMP', where, `unreadable time ${String(v).slice(0, 40)}`);
  if (t < now - INGEST_LIMITS.maxAgeMs || t > now + INGEST_LIMITS.maxFutureMs) {
    reject('INVALID_TIMESTAMP', where, 'time is more than 90 days old or in the future');
  }
  return t;
}

function appMetric(name: string, where: string): string {
  if (!METRIC_NAME_PATTERN.test(name)) reject('INVALID_METRIC_NAME', where, `invalid metric name "${name.slice(0, 64)}"`);
  return name;
}

/**
 * Checks a batch and folds it into rollup cells. Throws on the first problem with the code
 * that names it, before anything is written.
 */
export function aggregateBatch(body: IngestBody, now: number): AggregatedBatch {
  const events = body.events ?? [];
  const aggregates = body.aggregates ?? [];
  if (events.length > INGEST_LIMITS.eventsPerBatch || aggregates.length > INGEST_LIMITS.aggregatesPerBatch) {
    throw new AppError('BATCH_TOO_LARGE', undefined, { events: events.length, aggregates: aggregates.length, limits: INGEST_LIMITS });
  }
  const cells = new Map<string, Cell>();
  const cell = (flag: string, metric: string, cohort: Cohort, kind: MetricKind, at: number): Cell => {
    const minute = Math.floor(at / MINUTE) * MINUTE;
    const key = `${flag}\u0000${metric}\u0000${cohort}\u0000${minute}`;
    let c = cells.get(key);
    if (!c) {
      c = { flag, metric, cohort, kind, minute, count: 0, sum: 0, histogram: kind === 'distribution' ? {} : null };
      cells.set(key, c);
    } else if (c.kind !== kind) {
      reject('METRIC_KIND_CONFLICT', `${flag}/${metric}`, `used as both ${c.kind} and ${kind} in one batch`);
    }
    return c;
  };
  events.forEach((e, i) => addEvent(e, `events[${i}]`));
  let represented = events.length;
  aggregates.forEach((a, i) => (represented += addAggregate(a, `aggregates[${i}]`)));
  return { cells, represented, rawEvents: events.length };

  function addEvent(e: RawEvent, where: string): void {
    const cohort = cohortOf(e.cohort, where);
    const at = timeOf(e.at, now, where);
    if (e.type === 'exposure') {
      cell(e.flag, EXPOSURES, cohort, 'counter', at).count += 1;
    } else if (e.type === 'http') {
      const status = finite(e.status, where, 'status');
      const latency = finite(e.latencyMs, where, 'latencyMs');
      if (!Number.isInteger(status) || status < 100 || status > 599) reject('MALFORMED_BATCH', where, 'status must be an integer 100..599');
      if (latency < 0) reject('MALFORMED_BATCH', where, 'latencyMs must be ≥ 0');
      const c = cell(e.flag, HTTP_LATENCY, cohort, 'distribution', at);
      c.count += 1;
      c.sum += latency;
      addToHistogram(c.histogram!, latency);
      for (const s of statusSeriesOf(status)) cell(e.flag, statusMetric(s), cohort, 'counter', at).count += 1;
    } else if (e.type === 'rate') {
      const c = cell(e.flag, appMetric(e.metric, where), cohort, 'rate', at);
      c.count += 1;
      if (e.success) c.sum += 1;
    } else {
      const value = finite(e.value, where, 'value');
      const c = cell(e.flag, appMetric(e.metric, where), cohort, 'distribution', at);
      c.count += 1;
      c.sum += value;
      addToHistogram(c.histogram!, value);
    }
  }

  function addAggregate(a: Aggregate, where: string): number {
    const cohort = cohortOf(a.cohort, where);
    const builtIn = BUILT_IN_KINDS[a.metric];
    const metric = builtIn ? a.metric : appMetric(a.metric, where);
    const kind = builtIn ?? a.kind;
    if (!kind) reject('MALFORMED_BATCH', where, 'kind is required for an application metric');
    if (builtIn && a.kind && a.kind !== builtIn) reject('METRIC_KIND_CONFLICT', where, `${a.metric} is a ${builtIn}`);
    const minute = timeOf(a.minute, now, where);
    if (minute % MINUTE !== 0) reject('INVALID_TIMESTAMP', where, 'minute must be the start of a whole minute');
    const count = finite(a.count, where, 'count');
    const sum = finite(a.sum ?? 0, where, 'sum');
    if (count < 0) reject('NEGATIVE_COUNT', where, 'count is negative');
    if (!Number.isInteger(count)) reject('MALFORMED_BATCH', where, 'count must be a whole number');
    if (kind === 'rate' && (sum < 0 || sum > count)) reject('MALFORMED_BATCH', where, 'a rate’s successes (sum) must be 0..count');
    if (kind === 'counter' && a.histogram) reject('MALFORMED_BATCH', where, 'a counter has no histogram');
    const c = cell(a.flag, metric, cohort, kind, minute);
    c.count += count;
    c.sum += sum;
    if (a.histogram) {
      const entries = Object.entries(a.histogram);
      if (entries.length > HISTOGRAM_BUCKETS) reject('HISTOGRAM_TOO_LARGE', where, `${entries.length} buckets`);
      let total = 0;
      for (const [k, n] of entries) {
        const idx = Number(k);
        if (idx >= HISTOGRAM_BUCKETS) reject('HISTOGRAM_TOO_LARGE', where, `bucket ${idx} is past the layout's last (${HISTOGRAM_BUCKETS - 1})`);
        finite(n, where, `histogram[${k}]`);
        if (n < 0) reject('NEGATIVE_COUNT', where, `histogram[${k}] is negative`);
        if (!Number.isInteger(n)) reject('MALFORMED_BATCH', where, 'histogram counts must be whole numbers');
        total += n;
        c.histogram![idx] = (c.histogram![idx] ?? 0) + n;
      }
      if (total !== count) reject('MALFORMED_BATCH', where, `histogram holds ${total} observations but count is ${count}`);
    } else if (kind === 'distribution' && count > 0) {
      reject('MALFORMED_BATCH', where, 'a distribution aggregate needs its histogram');
    }
    return count;
  }
}
