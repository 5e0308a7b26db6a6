import { sendOutbound, type OutboundResponse } from '../outbound/request.js';
import { TargetRefusedError, type TargetPolicy } from '../outbound/target-policy.js';

/**
 * A minimal client for Prometheus's instant-query API. It never throws for a query that did
 * not produce a number: a failing, empty or non-numeric answer is MISSING data, reported with
 * its reason, and never zero — a watchdog that read "no data" as "no errors" would wave a bad
 * rollout through exactly when the metrics pipeline is broken.
 */

export type PrometheusResult =
  | { readonly status: 'ok'; readonly value: number; /** How many series were summed. */ readonly series: number }
  | { readonly status: 'missing'; readonly reason: string };

export interface PrometheusClient {
  readonly url: string;
  /** Runs an instant query at `at` (default: now). */
  query(promql: string, at?: Date): Promise<PrometheusResult>;
}

export interface PrometheusClientOptions {
  /** The Prometheus base URL, e.g. `http://prometheus:9090` or `https://example.com/prometheus`. */
  readonly url: string;
  readonly timeoutMs?: number;
  /**
   * Where the URL (and any redirect) may lead; undefined: anywhere. Unset only for the
   * deployer's RAMPART_PROMETHEUS_URL, never for a URL saved through the API.
   */
  readonly policy?: TargetPolicy | undefined;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
/** Prometheus error texts can echo the whole query; keep reasons readable in reports. */
const MAX_REASON = 500;

interface ApiResponse {
  status?: unknown;
  errorType?: unknown;
  error?: unknown;
  data?: { resultType?: unknown; result?: unknown };
}

type Sample = [number, string];

const missing = (reason: string): PrometheusResult => ({ status: 'missing', reason: reason.slice(0, MAX_REASON) });

export function createPrometheusClient(options: PrometheusClientOptions): PrometheusClient {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // Resolving against "<base>/" keeps a path prefix (a Prometheus behind /prometheus).
  const endpoint = new URL('api/v1/query', options.url.endsWith('/') ? options.url : `${options.url}/`);

  async function query(promql: string, at?: Date): Promise<PrometheusResult> {
    const url = new URL(endpoint);
    url.searchParams.set('query', promql);
    if (at) url.searchParams.set('time', String(at.getTime() / 1000));
    // Ask Prometheus to give up at the same time we do, so it does not keep working for nobody.
    url.searchParams.set('timeout', `${Math.max(1, Math.floor(timeoutMs / 1000))}s`);

    let res: OutboundResponse;
    try {
      // Redirects are followed as fetch would, each hop checked against the policy.
      res = await sendOutbound(url.toString(), {
        method: 'GET',
        headers: { accept: 'application/json' },
        timeoutMs,
        policy: options.policy,
        maxRedirects: 5,
      });
    } catch (err) {
      return missing(describeFailure(err, timeoutMs));
    }
    const { text } = res;

    let body: ApiResponse | undefined;
    try {
      body = JSON.parse(text) as ApiResponse;
    } catch {
      body = undefined;
    }
    // Prometheus answers a bad query with 400/422 and a JSON error: that error is the reason.
    if (body?.status === 'error') {
      return missing(`Prometheus rejected the query (${String(body.errorType ?? 'error')}): ${String(body.error ?? 'no message')}`);
    }
    if (res.status < 200 || res.status > 299) return missing(`Prometheus answered HTTP ${res.status} ${res.statusText}`.trim());
    if (body?.status !== 'success' || !body.data) return missing('The answer is not a Prometheus query API response.');
    return fromData(body.data);
  }

  return { url: options.url, query };
}

function fromData(data: NonNullable<ApiResponse['data']>): PrometheusResult {
  const { resultType, result } = data;
  if (resultType === 'scalar') return fromSamples([result as Sample]);
  if (resultType === 'vector' && Array.isArray(result)) {
    if (result.length === 0) return missing('No series matched: no data for this query in the window.');
    const samples = result.map((r: { value?: Sample }) => r.value);
    if (samples.some((s) => !Array.isArray(s))) {
      return missing('The query returns native histograms; reduce them to numbers, e.g. with histogram_quantile().');
    }
    return fromSamples(samples as Sample[]);
  }
  if (resultType === 'matrix') {
    return missing('The query returns a range vector; wrap it in a function such as rate() or max_over_time().');
  }
  return missing(`The query returns a ${String(resultType)}, not a number.`);
}

function fromSamples(samples: Sample[]): PrometheusResult {
  const values = samples.map((s) => Number(s?.[1]));
  const bad = values.filter((v) => !Number.isFinite(v)).length;
  // 0/0 gives NaN (e.g. an error rate without requests): no data, not a number to judge.
  if (bad > 0) return missing(`${bad} of ${values.length} series ${bad === 1 ? 'is' : 'are'} NaN or infinite (e.g. a division by zero requests).`);
  return { status: 'ok', value: values.reduce((a, b) => a + b, 0), series: values.length };
}

function describeFailure(err: unknown, timeoutMs: number): string {
  if (err instanceof TargetRefusedError) return `Prometheus target refused: ${err.message}.`;
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `Prometheus did not answer within ${timeoutMs} ms.`;
  const cause = e.cause?.code ?? e.cause?.message;
  return `Prometheus is unreachable: ${e.message}${cause ? ` (${cause})` : ''}.`;
}
