import fastJson, { type ObjectSchema } from 'fast-json-stringify';
import type { FlagEvaluation } from './service.js';

/**
 * The evaluation answers' JSON, written by serializers compiled from a schema: on the fast path
 * `JSON.stringify` of a result was the largest cost after the socket write (≈ 0.4 µs of a
 * ≈ 15 µs request, docs/benchmarks.md, HTTP section); these take about half of that.
 *
 * The fields are those of `Result` in routes.ts (the route's response schema, which the Fastify
 * route validates against and documents), in the order `one()` builds them. Written out rather
 * than derived with `z.toJSONSchema`, which would give the nullable version as an `anyOf` (a
 * slower path of the compiled serializer) and the schema's field order. The fast-path test
 * compares both ways' answers for every kind of result; evaluation-serialize.test.ts compares
 * these strings with `JSON.stringify`'s.
 */
const result: ObjectSchema = {
  type: 'object',
  properties: {
    flag: { type: 'string' },
    version: { type: 'integer', nullable: true },
    value: { type: 'boolean' },
    reason: { type: 'string' },
    errorCode: { type: 'string' },
    errorMessage: { type: 'string' },
    bucket: { type: 'integer' },
  },
  required: ['flag', 'version', 'value', 'reason'],
};

/** `GET /api/evaluate/:key`'s body. */
export const serializeOne: (r: FlagEvaluation) => string = fastJson(result);

/** `GET /api/flags`'s body. */
export const serializeMany: (r: { flags: Record<string, FlagEvaluation> }) => string = fastJson({
  type: 'object',
  properties: { flags: { type: 'object', additionalProperties: result } },
  required: ['flags'],
});
