import { createEvaluator, evaluate, type EvaluationResult, type Flag } from '@rampart/core';
import type { FastifyInstance } from 'fastify';

export interface ProbeResult {
  id: string;
  allowlisted: boolean;
  first: string;
  second: string;
  http: string;
  ok: boolean;
  why?: string;
}

export interface Determinism {
  probes: number;
  failures: number;
  /** The allowlisted probes, shown in the report like the runbook's "IN ALLOWLIST" lines. */
  allowlistProbes: ProbeResult[];
  /** Up to 20 failing probes with why they failed. */
  failed: ProbeResult[];
}

/**
 * The decision as compared across paths. The bucket is part of it only where it decides
 * (ROLLOUT / NOT_IN_ROLLOUT): the HTTP answer also reports it for allowlisted subjects.
 */
const show = (r: EvaluationResult) =>
  `${r.value}/${r.reason}${(r.reason === 'ROLLOUT' || r.reason === 'NOT_IN_ROLLOUT') && r.bucket !== undefined ? `/${r.bucket}` : ''}`;

/** Default probes: two allowlist members (the runbook's probe ids) plus synthetic ids. */
export function probeIds(flag: Flag, configured: string[] | null, synthetic: number): string[] {
  if (configured && configured.length > 0) return configured;
  return [...flag.allowlist.slice(0, 2), ...Array.from({ length: synthetic }, (_, i) => `rampart-probe-${i}`)];
}

/**
 * Each probe is evaluated twice in-process (the plain evaluator and a caching one, as the SDK
 * uses) and once through the server's HTTP evaluation path; all three must agree, and an
 * allowlisted probe must come back ALLOWLIST while the flag is on.
 */
export async function checkDeterminism(
  app: FastifyInstance,
  internalAuth: Record<string, string>,
  flag: Flag,
  ids: string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<Determinism> {
  const cached = createEvaluator({ env });
  const allow = new Set(flag.allowlist);
  const stickiness = flag.stickiness ?? 'id';
  const results: ProbeResult[] = [];
  // The HTTP path: the live evaluation route, through routing, auth and serialisation,
  // in batches of up to 1 000 subjects.
  const http: string[] = [];
  for (let start = 0; start < ids.length; start += 1000) {
    const chunk = ids.slice(start, start + 1000);
    const res = await app.inject({
      method: 'POST',
      url: '/api/evaluate/batch',
      headers: { ...internalAuth, 'content-type': 'application/json' },
      payload: JSON.stringify({ contexts: chunk.map((id) => ({ [stickiness]: id })), flags: [flag.key] }),
    });
    const results = res.statusCode === 200 ? res.json<{ results: { flags: Record<string, EvaluationResult> }[] }>().results : undefined;
    chunk.forEach((_, i) => http.push(results ? show(results[i]!.flags[flag.key]!) : `HTTP ${res.statusCode}`));
  }
  let failures = 0;
  ids.forEach((id, i) => {
    const ctx = { [stickiness]: id };
    const first = show(evaluate(flag, ctx, { env }));
    const second = show(cached.evaluate(flag, ctx));
    const viaHttp = http[i]!;
    const allowlisted = allow.has(id);
    let why: string | undefined;
    if (first !== second || first !== viaHttp) why = 'the three evaluations disagree';
    else if (allowlisted && flag.enabled && !first.startsWith('true/OVERRIDE') && !first.startsWith('false/OVERRIDE') && !first.startsWith('true/ALLOWLIST')) {
      why = 'an allowlisted probe did not come back ALLOWLIST';
    }
    const r: ProbeResult = { id, allowlisted, first, second, http: viaHttp, ok: why === undefined, ...(why ? { why } : {}) };
    if (!r.ok) failures++;
    if (allowlisted || !r.ok) results.push(r);
  });
  return {
    probes: ids.length,
    failures,
    allowlistProbes: results.filter((r) => r.allowlisted),
    failed: results.filter((r) => !r.ok).slice(0, 20),
  };
}
