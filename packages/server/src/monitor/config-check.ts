import { envVarName, parseOverride } from '@rampart/core';
import type { Queryable } from '../db/database.js';
import type { FlagRecord } from '../flags/store.js';

/** What the flag should look like, and who says so. */
export interface Expected {
  source: 'plan' | 'explicit' | 'audit';
  enabled: boolean | null;
  rolloutBasisPoints: number | null;
  allowlist: string[] | null;
  salt: string | null;
  version: number | null;
  /** When the expectation was set (the audited change), for "stage start". */
  since: string | null;
}

export interface Drift {
  field: string;
  expected: unknown;
  actual: unknown;
  severity: 'WARN' | 'FAIL';
  why: string;
}

interface AuditAfter {
  enabled?: boolean;
  rolloutBasisPoints?: number;
  allowlist?: string[];
  salt?: string;
  version?: number;
}

/**
 * The expected config. A change made through Rampart's audited path updates the expectation
 * (its `after` snapshot), so an intentional ramp is never drift — unlike the runbooks' monitor,
 * which compared against a hard-coded phase config and cried CONFIG_DRIFT at every step.
 * An explicit `expectedRolloutBasisPoints` (the runbook's --expected-rollout) overrides it.
 */
export async function expectedConfig(
  db: Queryable,
  flag: string,
  explicitBasisPoints?: number,
  plan?: { rolloutBasisPoints: number; enabled: boolean | null },
): Promise<Expected> {
  // The flag's own audited changes, and snapshot restores that wrote it (one event, many flags).
  const rows = await db.query<{ action: string; after: (AuditAfter & { flags?: Record<string, AuditAfter> }) | null; at: Date }>(
    `select action, after, at from audit_events
     where (flag_key = $1 and after ? 'rolloutBasisPoints')
        or (action = 'snapshot.restore' and after->'flags' ? $1)
     order by id desc limit 1`,
    [flag],
  );
  const last = rows[0];
  const a = (last?.action === 'snapshot.restore' ? last.after?.flags?.[flag] : last?.after) ?? {};
  // Priority: the plan's stage, then --expected-rollout, then the last audited change.
  return {
    source: plan ? 'plan' : explicitBasisPoints !== undefined ? 'explicit' : 'audit',
    enabled: plan?.enabled ?? a.enabled ?? null,
    rolloutBasisPoints: plan?.rolloutBasisPoints ?? explicitBasisPoints ?? a.rolloutBasisPoints ?? null,
    allowlist: a.allowlist ?? null,
    salt: a.salt ?? null,
    version: a.version ?? null,
    since: last ? last.at.toISOString() : null,
  };
}

/**
 * Drift is what bypassed the audited path: a direct SQL edit, an env override in force in
 * this process, an allowlist that changed without an audit event. Severities follow the
 * runbook: enabled or rollout changed unexpectedly is RED; an allowlist off by one is YELLOW.
 */
export function findDrift(live: FlagRecord, expected: Expected, env: Readonly<Record<string, string | undefined>>): Drift[] {
  const drift: Drift[] = [];
  const add = (field: string, exp: unknown, actual: unknown, severity: Drift['severity'], why: string) =>
    drift.push({ field, expected: exp, actual, severity, why });
  if (expected.enabled !== null && expected.enabled !== live.enabled) {
    add('enabled', expected.enabled, live.enabled, 'FAIL', 'enabled changed outside the audited path');
  }
  if (expected.rolloutBasisPoints !== null && expected.rolloutBasisPoints !== live.rolloutBasisPoints) {
    const why =
      expected.source === 'explicit' ? 'rollout differs from --expected-rollout' : expected.source === 'plan' ? 'rollout differs from the plan’s current stage' : 'rollout changed outside the audited path';
    add('rolloutPercentage', expected.rolloutBasisPoints / 100, live.rolloutBasisPoints / 100, 'FAIL', why);
  }
  if (expected.salt !== null && expected.salt !== live.salt) add('salt', expected.salt, live.salt, 'FAIL', 'salt changed: every subject reshuffled');
  if (expected.allowlist !== null) {
    const was = new Set(expected.allowlist);
    const now = new Set(live.allowlist);
    const removed = [...was].filter((id) => !now.has(id)).length;
    const added = [...now].filter((id) => !was.has(id)).length;
    if (removed + added > 0) {
      const severity = removed + added <= 1 ? 'WARN' : 'FAIL';
      add('allowlistCount', expected.allowlist.length, live.allowlist.length, severity, `allowlist changed outside the audited path (+${added} −${removed})`);
    }
  }
  if (expected.version !== null && expected.source !== 'explicit' && live.version !== expected.version && drift.length === 0) {
    add('version', expected.version, live.version, 'WARN', 'version moved without an audit event');
  }
  const override = parseOverride(env[envVarName(live.key)]);
  if (override !== undefined) {
    add(envVarName(live.key), 'unset', String(override), 'WARN', 'the env master switch is in force on this server: it overrides the flag');
  }
  return drift;
}
