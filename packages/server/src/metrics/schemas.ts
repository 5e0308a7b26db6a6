import { z } from 'zod';
import { FlagKey, Text } from '../http/schemas.js';

/**
 * The batch's *shape* only. Numbers are any JSON number here (1e999 parses as Infinity) so
 * that the service can name what is wrong with a value: NEGATIVE_COUNT, NON_FINITE_VALUE, …
 */
const AnyNumber = z.custom<number>((v) => typeof v === 'number', 'expected a number');
const Timestamp = z.union([z.string().max(40), AnyNumber]).describe('ISO 8601 or epoch milliseconds; default now');
const Cohort = z.string().max(32).describe('exposed | control | allowlist | off');
const MetricName = z.string().max(64);

const ExposureEvent = z.object({ type: z.literal('exposure'), flag: FlagKey, cohort: Cohort, at: Timestamp.optional() }).strict();
const HttpEvent = z
  .object({
    type: z.literal('http'),
    flag: FlagKey,
    cohort: Cohort,
    status: AnyNumber.describe('HTTP status code 100..599'),
    latencyMs: AnyNumber,
    at: Timestamp.optional(),
  })
  .strict();
const RateEvent = z
  .object({ type: z.literal('rate'), flag: FlagKey, cohort: Cohort, metric: MetricName, success: z.boolean(), at: Timestamp.optional() })
  .strict()
  .describe('one trial of a rate metric, e.g. matching_success');
const ValueEvent = z
  .object({ type: z.literal('value'), flag: FlagKey, cohort: Cohort, metric: MetricName, value: AnyNumber, at: Timestamp.optional() })
  .strict()
  .describe('one observation of a distribution, e.g. time_to_match_ms');

export const RawEvent = z.discriminatedUnion('type', [ExposureEvent, HttpEvent, RateEvent, ValueEvent]);
export type RawEvent = z.infer<typeof RawEvent>;

export const Aggregate = z
  .object({
    flag: FlagKey,
    cohort: Cohort,
    metric: MetricName.describe('an application metric, or a built-in: _exposures, _http_latency_ms, _http_status_5xx, …'),
    kind: z.enum(['counter', 'rate', 'distribution']).optional().describe('required for application metrics'),
    minute: Timestamp.describe('the start of a whole minute'),
    count: AnyNumber.describe('events (counter), trials (rate) or observations (distribution)'),
    sum: AnyNumber.optional().describe('successes (rate) or the sum of values (distribution)'),
    histogram: z.record(z.string().regex(/^\d{1,4}$/), AnyNumber).optional().describe('sparse {bucket index: count} in the shared layout'),
  })
  .strict();
export type Aggregate = z.infer<typeof Aggregate>;

export const IngestBody = z
  .object({
    idempotencyKey: Text(128).min(8).optional().describe('a retry with the same key is counted once (or send Idempotency-Key)'),
    events: z.array(RawEvent).optional(),
    aggregates: z.array(Aggregate).optional(),
  })
  .strict();
export type IngestBody = z.infer<typeof IngestBody>;

export const IngestResponse = z.object({
  accepted: z.number().describe('events represented by the batch (an aggregate counts as its count)'),
  rows: z.number().describe('rollup rows touched'),
  duplicate: z.boolean().describe('true when this idempotency key was already ingested: nothing was added'),
});
