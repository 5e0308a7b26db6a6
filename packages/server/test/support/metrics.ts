import type { Database } from '../../src/db/database.js';

/** Everything ingestion can write, for "a rejected batch changes nothing". */
export async function dumpMetrics(db: Database): Promise<unknown> {
  const [minute, hour, names, batches] = await Promise.all([
    db.query('select * from metric_rollups_minute order by flag_key, metric, cohort, minute'),
    db.query('select * from metric_rollups_hour order by flag_key, metric, cohort, hour'),
    db.query('select flag_key, metric, kind from metric_names order by flag_key, metric'),
    db.query('select idempotency_key, events from ingest_batches order by idempotency_key'),
  ]);
  return { minute, hour, names, batches };
}

export const minuteStart = (t: number) => new Date(Math.floor(t / 60_000) * 60_000).toISOString();
