import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The server's own Prometheus metrics. One registry per app instance: no global state. */
export function createMetrics() {
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
  };
  // The latency histogram observes directly, through children bound once per route.
  const durations = new Map<string, Histogram.Internal<'method' | 'route'>>();
  return {
    ...metrics,
    observeRequest(method: string, route: string, status: number, seconds: number): void {
      requestCounts.inc(`${method} ${route} ${status}`, () => ({ method, route, status: String(status) }));
      const key = `${method} ${route}`;
      let h = durations.get(key);
      if (!h) {
        h = metrics.httpDuration.labels(method, route);
        durations.set(key, h);
      }
      h.observe(seconds);
    },
    countEvaluation(flag: string, decision: string): void {
      // Bounded: flags × 3 decisions. Archived flags' entries stay until restart.
      evaluationCounts.inc(`${flag} ${decision}`, () => ({ flag, decision }));
    },
  };
}

/** Increments counted in memory, added to a prom-client counter when it is read. */
class LocalCounts<L extends string> {
  private readonly counts = new Map<string, { labels: Partial<Record<L, string>>; n: number; reported: number }>();

  flush(counter: Counter<L>): void {
    for (const c of this.counts.values()) {
      if (c.n === c.reported) continue;
      counter.inc(c.labels, c.n - c.reported);
      c.reported = c.n;
    }
  }

  inc(key: string, labels: () => Partial<Record<L, string>>): void {
    const c = this.counts.get(key);
    if (c) c.n++;
    else this.counts.set(key, { labels: labels(), n: 1, reported: 0 });
  }
}

export type Metrics = ReturnType<typeof createMetrics>;
