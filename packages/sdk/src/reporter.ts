import { COHORTS, addToHistogram, type Cohort, type Histogram } from '@rampart/core';
import { MinuteClock, cohortSlot, minuteOf, newExposureCounts, type ExposureCounts } from './exposure-counts.js';

/** One row of `POST /api/metrics`'s `aggregates` (the server's shape). */
export interface Aggregate {
  flag: string;
  cohort: Cohort;
  metric: string;
  kind?: 'counter' | 'rate' | 'distribution';
  minute: number;
  count: number;
  sum?: number;
  histogram?: Histogram;
}

export interface ReporterOptions {
  readonly url: string;
  readonly token: string;
  readonly fetch: typeof fetch;
  readonly flushIntervalMs: number;
  /** Aggregates held while the server is unreachable; past it the oldest are dropped and counted. */
  readonly maxPendingAggregates: number;
  readonly now: () => number;
  readonly onError: (err: unknown) => void;
}

export interface ReporterStats {
  /** Aggregates waiting to be sent (current minutes and failed batches). */
  pending: number;
  /** Aggregates dropped because the buffer was full while the server was unreachable. */
  dropped: number;
  /** Batches the server accepted. */
  sent: number;
}

type Kind = NonNullable<Aggregate['kind']>;

/**
 * Aggregates exposures, HTTP outcomes and business metrics per minute, flag and cohort (design
 * §5), so traffic to Rampart grows with minutes × flags × cohorts, not with requests. Closed
 * minutes are sent in batches, each with an idempotency key that is kept across retries, so a
 * batch the server received but whose answer was lost is not counted twice.
 */
export function createReporter(opts: ReporterOptions) {
  const open = new Map<string, Aggregate>();
  /** Batches that failed to send, oldest first, with their idempotency keys. */
  const queue: { key: string; aggregates: Aggregate[] }[] = [];
  const stats: ReporterStats = { pending: 0, dropped: 0, sent: 0 };
  const runId = Math.random().toString(36).slice(2, 10) + Date.now().toString(36);
  let batchNo = 0;
  let flushing: Promise<void> | undefined;
  const timer = setInterval(() => void flush(false), opts.flushIntervalMs);
  (timer as { unref?: () => void }).unref?.();

  // Exposures are counted on every evaluation, so they must not read the clock (Date.now() is
  // 50–130 ns on a VM, as much as the rest of the SDK's work): with the real clock, the current
  // minute is advanced by a timer at each minute boundary (and by every flush, so a late timer
  // never lets a flushed minute receive counts). An exposure is dated by the minute this process
  // last saw begin, i.e. one that happens while the event loop is blocked across a boundary
  // counts in the minute before it. Any other clock (a test's) is read per exposure.
  const ticking = opts.now === Date.now;
  const clock = new MinuteClock(opts.now, ticking, () => advance());
  /**
   * With the real clock: the current minute's exposures per flag, counted in place by the
   * client (see ExposureCounts). Only the flags of the config in use (`retainExposureCounts`).
   */
  const counters = new Map<string, ExposureCounts>();

  function exposureCountsOf(flag: string): ExposureCounts {
    let counts = counters.get(flag);
    if (counts === undefined) {
      counts = newExposureCounts();
      counters.set(flag, counts);
    }
    return counts;
  }

  /**
   * Moves the counted exposures into the current minute's aggregates, opening those not open
   * yet (so they count as pending, and the bound on pending aggregates applies to them as to
   * any other). Called before the minute changes, so every count lands in the minute it was
   * made in; and on every flush and stats read, so `pending` is exact when anyone looks.
   */
  function fold(): void {
    for (const [flag, counts] of counters) foldCounts(flag, counts);
  }

  function foldCounts(flag: string, counts: ExposureCounts): void {
    for (let slot = 0; slot < counts.length; slot++) {
      const n = counts[slot]!;
      if (n === 0) continue;
      counts[slot] = 0;
      cell(flag, COHORTS[slot]!, '_exposures', 'counter', clock.minute).count += n;
    }
  }

  /** Moves to the clock's minute, the old minute's exposures counted in it. */
  function advance(): void {
    const now = minuteOf(opts.now());
    if (now === clock.minute) return;
    fold();
    clock.minute = now;
  }

  function cell(flag: string, cohort: Cohort, metric: string, kind: Kind, at: number): Aggregate {
    const minute = minuteOf(at);
    const key = cellKey(minute, flag, cohort, metric);
    let a = open.get(key);
    if (!a) {
      a = { flag, cohort, metric, minute, count: 0, ...(metric.startsWith('_') ? {} : { kind }) };
      if (kind !== 'counter') a.sum = 0;
      if (kind === 'distribution') a.histogram = {};
      open.set(key, a);
      stats.pending++;
      trim();
    }
    return a;
  }

  /** Bounded memory: drop the oldest queued batches' aggregates first, then the oldest open ones. */
  function trim(): void {
    while (stats.pending > opts.maxPendingAggregates) {
      const oldest = queue[0];
      if (oldest) {
        const a = oldest.aggregates.shift();
        if (oldest.aggregates.length === 0) queue.shift();
        if (a) {
          stats.pending--;
          stats.dropped++;
        }
        continue;
      }
      const first = open.keys().next();
      if (first.done) return;
      open.delete(first.value);
      stats.pending--;
      stats.dropped++;
    }
  }

  async function send(batch: { key: string; aggregates: Aggregate[] }): Promise<void> {
    const res = await opts.fetch(`${opts.url.replace(/\/+$/, '')}/api/metrics`, {
      method: 'POST',
      headers: { authorization: `Bearer ${opts.token}`, 'content-type': 'application/json', 'idempotency-key': batch.key },
      body: JSON.stringify({ aggregates: batch.aggregates }),
    });
    // A 4xx other than 429 will not get better by retrying: drop the batch, count it, say why.
    if (res.status >= 400 && res.status < 500 && res.status !== 429) {
      stats.dropped += batch.aggregates.length;
      throw new Error(`Rampart refused a metrics batch: HTTP ${res.status} ${await res.text()}`);
    }
    if (!res.ok) throw Object.assign(new Error(`Rampart metrics: HTTP ${res.status}`), { retry: true });
  }

  /** Moves closed minutes (or all, when closing) into the queue and sends the queue in order. */
  function flush(all: boolean): Promise<void> {
    advance();
    // Counted exposures of the current minute join its aggregates too: they are sent on
    // close, and `pending` counts them.
    fold();
    const current = clock.minute; // advance() just set it from the clock
    const ready: Aggregate[] = [];
    for (const [key, a] of open) {
      if (all || a.minute < current) {
        ready.push(a);
        open.delete(key);
      }
    }
    for (let i = 0; i < ready.length; i += 1000) queue.push({ key: `sdk-${runId}-${++batchNo}`, aggregates: ready.slice(i, i + 1000) });
    if (flushing) return flushing.then(() => (queue.length ? flush(false) : undefined));
    flushing = (async () => {
      while (queue.length) {
        const batch = queue[0]!;
        try {
          await send(batch);
          stats.sent++;
        } catch (err) {
          opts.onError(err);
          if (!(err as { retry?: boolean }).retry && (err as Error).message.startsWith('Rampart refused')) {
            // Not retryable: already counted as dropped.
          } else {
            return; // the server is unreachable: keep the batch (and its key) for the next flush
          }
        }
        if (queue[0] === batch) queue.shift();
        stats.pending -= batch.aggregates.length;
      }
    })().finally(() => {
      flushing = undefined;
    });
    return flushing;
  }

  return {
    /** Counts one exposure in the current minute. */
    exposure(flag: string, cohort: Cohort): void {
      if (ticking) exposureCountsOf(flag)[cohortSlot(cohort)]!++;
      else cell(flag, cohort, '_exposures', 'counter', opts.now()).count++;
    },
    /**
     * The exposure counts of `flag`, for a caller that counts on every evaluation: it adds one
     * to the slot of the subject's cohort (its index in `COHORTS`), and may keep the counts for
     * as long as the flag is in the config (see `retainExposureCounts`). Undefined with a clock
     * other than Date.now, which has to be read per exposure (use `exposure()` then).
     */
    exposureCounts: (flag: string): ExposureCounts | undefined => (ticking ? exposureCountsOf(flag) : undefined),
    /** After a config change: the counts of flags no longer in it are folded, then forgotten. */
    retainExposureCounts(flags: { has(flag: string): boolean }): void {
      for (const [flag, counts] of counters) {
        if (flags.has(flag)) continue;
        foldCounts(flag, counts);
        counters.delete(flag);
      }
    },
    http(flag: string, cohort: Cohort, status: number, latencyMs: number, at = opts.now()): void {
      const lat = cell(flag, cohort, '_http_latency_ms', 'distribution', at);
      lat.count++;
      lat.sum! += latencyMs;
      addToHistogram(lat.histogram!, latencyMs);
      // The server's status series: the class (2xx..5xx) plus the codes the runbooks watch.
      if (status >= 200 && status < 600) cell(flag, cohort, `_http_status_${Math.floor(status / 100)}xx`, 'counter', at).count++;
      if (status === 401 || status === 403 || status === 429) cell(flag, cohort, `_http_status_${status}`, 'counter', at).count++;
    },
    rate(flag: string, cohort: Cohort, metric: string, success: boolean, at = opts.now()): void {
      const c = cell(flag, cohort, metric, 'rate', at);
      c.count++;
      if (success) c.sum! += 1;
    },
    value(flag: string, cohort: Cohort, metric: string, value: number, at = opts.now()): void {
      const c = cell(flag, cohort, metric, 'distribution', at);
      c.count++;
      c.sum! += value;
      addToHistogram(c.histogram!, value);
    },
    stats(): Readonly<ReporterStats> {
      fold();
      return { ...stats };
    },
    flush: () => flush(false),
    /** Sends everything, the current minute included, and stops the timer. */
    async close(): Promise<void> {
      clearInterval(timer);
      clock.stop();
      await flush(true);
    },
  };
}

export type Reporter = ReturnType<typeof createReporter>;

function cellKey(minute: number, flag: string, cohort: Cohort, metric: string): string {
  return `${minute}|${flag}|${cohort}|${metric}`;
}

