import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Per live flag: its latest checkpoint, and its latest rolled-back plan. */
export interface WatchdogState {
  health: { flag: string; health: 'GREEN' | 'YELLOW' | 'RED'; at: Date }[];
  rollbacks: { flag: string; by: 'watchdog' | 'operator'; policy: string; at: Date }[];
}

export interface MetricsOptions {
  /**
   * Reads the watchdog's state from the database at scrape time. Every replica then reports
   * the same health and last rollback, whichever of them acted, so `max by (flag)` is right, a
   * replica that ran an old RED checkpoint never keeps reporting it after a newer GREEN, and a
   * restart (of Rampart or of Prometheus) loses nothing an alert needs.
   */
  watchdogState?: () => Promise<WatchdogState>;
}

/** The health gauge's values: alert rules compare with these numbers (docs/observability.md). */
export const HEALTH_VALUE = { GREEN: 0, YELLOW: 1, RED: 2 } as const;

/** The per-cohort HTTP outcomes applications report, by status class (docs/metrics.md). */
const STATUS_CLASSES: Readonly<Record<string, string>> = {
  _http_status_2xx: '2xx',
  _http_status_3xx: '3xx',
  _http_status_4xx: '4xx',
  _http_status_5xx: '5xx',
};

/** The server's own Prometheus metrics. One registry per app instance: no global state. */
export function createMetrics(options: MetricsOptions = {}) {
  // prom-client hashes the label set on every call, even on a bound child: ~0.5 µs, paid three
  // times per evaluation request. Hot counters are therefore kept as plain numbers per label set
  // and folded into prom-client when it is read (`collect`, before every scrape), so the text
  // Prometheus gets is the same and the request path pays a Map lookup.
  const requestCounts = new LocalCounts<'method' | 'route' | 'status'>();
  const evaluationCounts = new LocalCounts<'flag' | 'decision'>();
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'rampart_process_' });
  const metrics = {
    registry,
    httpRequests: new Counter({
      name: 'rampart_http_requests_total',
      help: 'HTTP requests by route template, method and status code',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
      collect() {
        requestCounts.flush(this);
      },
    }),
    httpDuration: new Histogram({
      name: 'rampart_http_request_duration_seconds',
      help: 'HTTP request latency by route template',
      labelNames: ['method', 'route'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    // Labels are flag keys and decisions only: never subject ids.
    evaluations: new Counter({
      name: 'rampart_evaluations_total',
      help: 'Server-side flag evaluations by flag and decision (ALLOWLIST, ROLLOUT, OFF)',
      labelNames: ['flag', 'decision'] as const,
      registers: [registry],
      collect() {
        evaluationCounts.flush(this);
      },
    }),
    ingestBatches: new Counter({
      name: 'rampart_ingest_batches_total',
      help: 'Metric batches received on POST /api/metrics, by result (accepted, duplicate, rejected)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    ingestEvents: new Counter({
      name: 'rampart_ingest_events_total',
      help: 'Events represented by accepted metric batches (an aggregate counts as its count)',
      registers: [registry],
    }),
    ingestRejects: new Counter({
      name: 'rampart_ingest_rejects_total',
      help: 'Rejected metric batches by error code',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    // Counted when an ingested batch commits, so Prometheus can alert on a cohort's error rate
    // within minutes, between the watchdog's (hourly) checkpoints. Labels: flag and cohort only.
    cohortResponses: new Counter({
      name: 'rampart_cohort_http_responses_total',
      help: 'HTTP outcomes reported by applications (POST /api/metrics), by flag, cohort and status class',
      labelNames: ['flag', 'cohort', 'class'] as const,
      registers: [registry],
    }),
    checkpoints: new Counter({
      name: 'rampart_checkpoints_total',
      help: 'Watchdog checkpoints run by this replica, by flag and verdict (PASS, WARN, FAIL)',
      labelNames: ['flag', 'verdict'] as const,
      registers: [registry],
    }),
    rollbacks: new Counter({
      name: 'rampart_rollbacks_total',
      help: 'Rollout plans rolled back by this replica, by flag, who (watchdog, operator) and policy',
      labelNames: ['flag', 'by', 'policy'] as const,
      registers: [registry],
    }),
    watchdogHealth: new Gauge({
      name: 'rampart_watchdog_health',
      help: "Health of each live flag's latest checkpoint: 0 GREEN, 1 YELLOW, 2 RED (read from the database)",
      labelNames: ['flag'] as const,
      registers: [registry],
      async collect() {
        await readWatchdog();
      },
    }),
    watchdogLastCheckpoint: new Gauge({
      name: 'rampart_watchdog_last_checkpoint_timestamp_seconds',
      help: "Unix time of each live flag's latest checkpoint (read from the database)",
      labelNames: ['flag'] as const,
      registers: [registry],
      // prom-client collects metrics concurrently: the gauges wait for the same read.
      async collect() {
        await readWatchdog();
      },
    }),
    // The alert on rollbacks uses this, not the counter: increase() cannot see a counter's
    // first increment (its series starts at 1), and this survives restarts.
    lastRollback: new Gauge({
      name: 'rampart_plan_last_rollback_timestamp_seconds',
      help: "Unix time of each live flag's latest rollout-plan rollback, by who (watchdog, operator) and policy (read from the database)",
      labelNames: ['flag', 'by', 'policy'] as const,
      registers: [registry],
      async collect() {
        await readWatchdog();
      },
    }),
  };

  // Both watchdog gauges come from one read per scrape, started by whichever is collected first.
  let reading: Promise<void> | undefined;
  function readWatchdog(): Promise<void> {
    if (!options.watchdogState) return Promise.resolve();
    reading ??= options.watchdogState().then(
      (state) => {
        // Reset first, so an archived flag's series disappear instead of freezing.
        metrics.watchdogHealth.reset();
        metrics.watchdogLastCheckpoint.reset();
        metrics.lastRollback.reset();
        for (const r of state.health) {
          metrics.watchdogHealth.set({ flag: r.flag }, HEALTH_VALUE[r.health]);
          metrics.watchdogLastCheckpoint.set({ flag: r.flag }, seconds(r.at));
        }
        for (const r of state.rollbacks) metrics.lastRollback.set({ flag: r.flag, by: r.by, policy: r.policy }, seconds(r.at));
      },
      // The database is unreachable: keep the last values (a RED stays RED) and let /readyz say why.
      () => {},
    ).finally(() => {
      reading = undefined;
    });
    return reading;
  }
  // One recorder per method, route and status: the latency histogram observes directly, through
  // a child bound once per route.
  const recorders = new Map<string, (seconds: number) => void>();
  const evaluationCells = new Map<string, Map<string, { n: number }>>();
  function requestRecorder(method: string, route: string, status: number): (seconds: number) => void {
    const count = requestCounts.cell({ method, route, status: String(status) });
    const h = metrics.httpDuration.labels(method, route);
    return (seconds) => {
      count.n++;
      h.observe(seconds);
    };
  }
  return {
    ...metrics,
    observeRequest(method: string, route: string, status: number, seconds: number): void {
      const key = `${method} ${route} ${status}`;
      let record = recorders.get(key);
      if (!record) recorders.set(key, (record = requestRecorder(method, route, status)));
      record(seconds);
    },
    /**
     * `observeRequest` for one fixed method, route and status, with the label lookups done once:
     * for the evaluation fast path, where building the keys was a tenth of the request's own work.
     */
    requestRecorder,
    countEvaluation(flag: string, decision: string): void {
      // Bounded: flags × 3 decisions. Archived flags' entries stay until restart. Two lookups with
      // the strings as they come (already hashed), not one with a key built per evaluation.
      let byDecision = evaluationCells.get(flag);
      if (!byDecision) evaluationCells.set(flag, (byDecision = new Map()));
      let cell = byDecision.get(decision);
      if (!cell) byDecision.set(decision, (cell = evaluationCounts.cell({ flag, decision })));
      cell.n++;
    },
    /** Adds an accepted batch's HTTP outcomes per status class; other series are not counted. */
    countCohortResponses(cells: Iterable<{ flag: string; cohort: string; metric: string; count: number }>): void {
      for (const c of cells) {
        const cls = STATUS_CLASSES[c.metric];
        if (cls && c.count > 0) metrics.cohortResponses.inc({ flag: c.flag, cohort: c.cohort, class: cls }, c.count);
      }
    },
  };
}

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

/** Increments counted in memory, added to a prom-client counter when it is read. */
class LocalCounts<L extends string> {
  private readonly cells: { labels: Partial<Record<L, string>>; n: number; reported: number }[] = [];

  flush(counter: Counter<L>): void {
    for (const c of this.cells) {
      if (c.n === c.reported) continue;
      counter.inc(c.labels, c.n - c.reported);
      c.reported = c.n;
    }
  }

  /** A new counter for one label set; the caller keeps it (one per label set) and increments `n`. */
  cell(labels: Partial<Record<L, string>>): { n: number } {
    const c = { labels, n: 0, reported: 0 };
    this.cells.push(c);
    return c;
  }
}

export type Metrics = ReturnType<typeof createMetrics>;
