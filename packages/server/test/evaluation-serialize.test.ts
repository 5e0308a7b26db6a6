import { readFileSync } from 'node:fs';
import { createEvaluator, type EvaluationContext, type Flag } from '@rampart/core';
import { describe, expect, it } from 'vitest';
import { serializeMany, serializeOne } from '../src/evaluation/serialize.js';
import type { FlagEvaluation } from '../src/evaluation/service.js';

// The fast path writes its bodies with compiled serializers instead of JSON.stringify. They must
// write exactly what JSON.stringify wrote, for every kind of result the evaluator gives.
const cases = JSON.parse(readFileSync(new URL('../../core/test/cases.json', import.meta.url), 'utf8')) as {
  evaluations: { name: string; flag: Flag | null; context: EvaluationContext | null; env?: Record<string, string> }[];
};

/** Every conformance case's result, shaped as the evaluation service answers it. */
function answers(): FlagEvaluation[] {
  return cases.evaluations.map((c, i) => {
    const result = createEvaluator({ env: c.env ?? {} }).evaluate(c.flag, c.context);
    return { flag: c.flag?.key ?? `missing-${i}`, version: c.flag ? i + 1 : null, ...result };
  });
}

describe('evaluation answer serializers', () => {
  it('write the same JSON as JSON.stringify for every conformance case', () => {
    const all = answers();
    expect(new Set(all.map((a) => a.reason)).size).toBeGreaterThanOrEqual(6);
    for (const a of all) expect(serializeOne(a), JSON.stringify(a)).toBe(JSON.stringify(a));
    const flags = Object.fromEntries(all.map((a) => [a.flag, a]));
    expect(serializeMany({ flags })).toBe(JSON.stringify({ flags }));
  });

  it('escapes text and keeps a null version, an error code and a bucket', () => {
    const odd: FlagEvaluation = {
      flag: 'a.b-c_d',
      version: null,
      value: false,
      reason: 'ERROR',
      errorCode: 'GENERAL',
      errorMessage: 'bad "input"\n\\ é ✓ 🚦 \u0001',
      bucket: 0,
    };
    expect(serializeOne(odd)).toBe(JSON.stringify(odd));
    expect(JSON.parse(serializeOne(odd))).toEqual(odd);
  });
});
