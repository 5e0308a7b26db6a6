import type { Identity } from '../auth/roles.js';
import type { Database } from '../db/database.js';
import { AppError } from '../errors.js';
import { BUILT_IN_KINDS, INGEST_LIMITS } from './names.js';
import { claimBatch, knownFlags, metricNames, registerNames, toHours, upsertCells, type MetricName } from './rollup-store.js';
import type { IngestBody } from './schemas.js';
import { aggregateBatch, type Cell } from './validate.js';

export interface IngestResult {
  accepted: number;
  rows: number;
  duplicate: boolean;
}

/**
 * Ingestion: check the whole batch, fold it into minute cells in memory, then in one
 * transaction claim its idempotency key, register new metric names and add the cells to the
 * minute and hour rollups. A rejected batch writes nothing; a retried batch adds nothing.
 * `onCommitted` sees the cells of every batch that was stored (for /metrics), after commit, so
 * a rejected or duplicate batch is never counted.
 */
export function createIngestService(db: Database, onCommitted?: (cells: readonly Cell[]) => void) {
  return {
    async ingest(identity: Identity, body: IngestBody, headerKey: string | undefined, now = Date.now()): Promise<IngestResult> {
      const batch = aggregateBatch(body, now);
      const cells = [...batch.cells.values()];
      const flags = [...new Set(cells.map((c) => c.flag))];
      const key = body.idempotencyKey ?? headerKey;
      const result = await db.transaction(async (tx): Promise<IngestResult> => {
        if (flags.length > 0) {
          const known = await knownFlags(tx, flags);
          const unknown = flags.filter((f) => !known.has(f));
          if (unknown.length) throw new AppError('UNKNOWN_FLAG', `No flag named ${unknown.slice(0, 5).join(', ')}.`, { flags: unknown.slice(0, 50) });
        }
        // Scoped to the token: two applications cannot collide on each other's keys.
        if (key !== undefined && !(await claimBatch(tx, `${identity.tokenId}:${key}`, batch.represented))) {
          return { accepted: 0, rows: 0, duplicate: true };
        }
        await checkAndRegisterNames(tx, cells, flags);
        const rows = (await upsertCells(tx, cells, 'minute')) + (await upsertCells(tx, toHours(cells), 'hour'));
        return { accepted: batch.represented, rows, duplicate: false };
      });
      if (!result.duplicate) onCommitted?.(cells);
      return result;
    },
  };
}

async function checkAndRegisterNames(tx: Parameters<Parameters<Database['transaction']>[0]>[0], cells: Cell[], flags: string[]) {
  const wanted = new Map<string, MetricName>();
  for (const c of cells) {
    if (BUILT_IN_KINDS[c.metric]) continue;
    wanted.set(`${c.flag}\u0000${c.metric}`, { flag: c.flag, metric: c.metric, kind: c.kind });
  }
  if (wanted.size === 0) return;
  const existing = new Map((await metricNames(tx, flags)).map((n) => [`${n.flag}\u0000${n.metric}`, n]));
  const fresh: MetricName[] = [];
  for (const [k, n] of wanted) {
    const known = existing.get(k);
    if (!known) fresh.push(n);
    else if (known.kind !== n.kind) {
      throw new AppError('METRIC_KIND_CONFLICT', `${n.flag}/${n.metric} is a ${known.kind}, not a ${n.kind}.`, { ...n, registered: known.kind });
    }
  }
  const perFlag = new Map<string, number>();
  for (const n of existing.values()) perFlag.set(n.flag, (perFlag.get(n.flag) ?? 0) + 1);
  for (const n of fresh) perFlag.set(n.flag, (perFlag.get(n.flag) ?? 0) + 1);
  for (const [flag, count] of perFlag) {
    if (count > INGEST_LIMITS.metricNamesPerFlag) {
      throw new AppError('TOO_MANY_METRICS', `${flag} would have ${count} metric names; the limit is ${INGEST_LIMITS.metricNamesPerFlag}.`, {
        flag,
        limit: INGEST_LIMITS.metricNamesPerFlag,
      });
    }
  }
  await registerNames(tx, fresh);
  // Another replica may have registered the same name with another kind meanwhile.
  const after = await metricNames(tx, flags);
  for (const n of after) {
    const w = wanted.get(`${n.flag}\u0000${n.metric}`);
    if (w && w.kind !== n.kind) throw new AppError('METRIC_KIND_CONFLICT', `${n.flag}/${n.metric} is a ${n.kind}.`, { ...w, registered: n.kind });
  }
}
export type IngestService = ReturnType<typeof createIngestService>;
