import { COHORTS } from '@rampart/core';
import { z } from 'zod';
import { Reason, Text } from '../http/schemas.js';
import type { MetricQueryResult } from './service.js';
import { METRIC_KINDS, type MetricDefinition } from './store.js';

export const METRIC_NAME_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;

export const MetricName = z
  .string()
  .regex(METRIC_NAME_PATTERN, 'metric names match ^[a-z][a-z0-9_]{0,62}$')
  .describe('Stable metric id, e.g. error_rate_5xx');

export const NameParams = z.object({ name: MetricName });

/** The longest window or offset a query may span: a year, far beyond any rollout stage. */
const MAX_SECONDS = 366 * 86_400;
const Seconds = z.number().int().min(1).max(MAX_SECONDS);

/**
 * Credentials in the URL would be shown to every VIEWER reading the definition, and a query
 * string or fragment would be dropped when the API path is appended: both are refused.
 */
const PrometheusUrl = z
  .string()
  .max(2048)
  .refine((s) => {
    if (!URL.canParse(s)) return false;
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && !u.username && !u.password && !u.search && !u.hash;
  }, 'an http(s) URL without credentials, query or fragment, e.g. http://prometheus:9090')
  .describe('Base URL of the Prometheus API; omitted or null: the server default, RAMPART_PROMETHEUS_URL');

export const PutDefinitionBody = z
  .object({
    kind: z.enum(METRIC_KINDS),
    source: z.literal('prometheus'),
    query: Text(10_000)
      .min(1)
      .describe('PromQL template with {{flag}}, {{cohort}}, {{window}} and optionally {{baseline_offset}}; put {{flag}} and {{cohort}} in double quotes'),
    prometheusUrl: PrometheusUrl.nullish(),
    description: Text(1000).optional(),
    reason: Reason.optional(),
  })
  .strict();

export const DeleteDefinitionBody = z.object({ reason: Reason.optional() }).strict().nullish();

export const QueryBody = z
  .object({
    flag: Text(256).min(1).describe('value for {{flag}}: usually a flag key; escaped as a PromQL label value'),
    cohort: z.enum(COHORTS),
    windowSeconds: Seconds.describe('rendered as {{window}}, e.g. 3600 → 1h'),
    baselineOffsetSeconds: Seconds.optional().describe('rendered as {{baseline_offset}}; required when the query uses it'),
    at: z.iso.datetime({ offset: true }).optional().describe('evaluation time; default now'),
  })
  .strict();

export const DefinitionResponse = z.object({
  name: z.string(),
  kind: z.enum(METRIC_KINDS),
  source: z.literal('prometheus'),
  query: z.string(),
  prometheusUrl: z.string().nullable(),
  description: z.string(),
  version: z.number(),
  createdAt: z.string(),
  updatedAt: z.string(),
  updatedBy: z.string().nullable(),
});

export const DefinitionListResponse = z.object({ definitions: z.array(DefinitionResponse), total: z.number() });

export const PutResponse = DefinitionResponse.extend({
  changed: z.boolean().describe('false when the definition already was exactly this: nothing written'),
});

export const QueryResponse = z.object({
  status: z.enum(['ok', 'missing']).describe('missing: no number (Prometheus down, query refused, no series, NaN); never read it as 0'),
  value: z.number().optional(),
  series: z.number().optional().describe('how many series were summed into value'),
  reason: z.string().optional(),
  promql: z.string().nullable().describe('the query as sent to Prometheus'),
});

export function definitionJson(d: MetricDefinition): z.infer<typeof DefinitionResponse> {
  return {
    name: d.name,
    kind: d.kind,
    source: d.source,
    query: d.queryTemplate,
    prometheusUrl: d.prometheusUrl,
    description: d.description,
    version: d.version,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
    updatedBy: d.updatedBy,
  };
}

export function queryJson(r: MetricQueryResult): z.infer<typeof QueryResponse> {
  return r.status === 'ok'
    ? { status: 'ok', value: r.value, series: r.series, promql: r.promql }
    : { status: 'missing', reason: r.reason, promql: r.promql };
}
