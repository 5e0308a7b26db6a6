import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The server's own Prometheus metrics. One registry per app instance: no global state. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'rampart_process_' });
  const metrics = {
    registry,
    httpRequests: new Counter({
      name: 'rampart_http_requests_total',
      help: 'HTTP requests by route template, method and status code',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
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
  // Resolving labels hashes them on every call; the label sets are few (routes × statuses),
  // so each child is looked up once and kept.
  const requestChildren = new Map<string, { count: Counter.Internal; duration: Histogram.Internal<'method' | 'route'> }>();
  const evaluationChildren = new Map<string, Counter.Internal>();
  return {
    ...metrics,
    observeRequest(method: string, route: string, status: number, seconds: number): void {
      const key = `${method} ${route} ${status}`;
      let c = requestChildren.get(key);
      if (!c) {
        c = { count: metrics.httpRequests.labels(method, route, String(status)), duration: metrics.httpDuration.labels(method, route) };
        requestChildren.set(key, c);
      }
      c.count.inc();
      c.duration.observe(seconds);
    },
    countEvaluation(flag: string, decision: string): void {
      const key = `${flag} ${decision}`;
      let c = evaluationChildren.get(key);
      if (!c) {
        // Bounded: flags × 3 decisions. Archived flags' children stay until restart.
        c = metrics.evaluations.labels(flag, decision);
        evaluationChildren.set(key, c);
      }
      c.inc();
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
