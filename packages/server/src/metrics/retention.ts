import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../db/database.js';

const IDEMPOTENCY_KEEP_MS = 48 * 3_600_000;

/**
 * Downsampling: hour rollups are written at ingest, so dropping minute rows older than the
 * retention leaves every total unchanged; only minute resolution goes. Idempotency keys are
 * kept 48 h (a client retrying for longer than that has bigger problems).
 */
export async function applyRetention(db: Database, minuteRetentionMs: number, now = Date.now()): Promise<{ minutesDropped: number }> {
  const cutoff = new Date(Math.floor((now - minuteRetentionMs) / 3_600_000) * 3_600_000).toISOString();
  const dropped = await db.query('delete from metric_rollups_minute where minute < $1 returning 1', [cutoff]);
  await db.query('delete from ingest_batches where received_at < $1', [new Date(now - IDEMPOTENCY_KEEP_MS).toISOString()]);
  return { minutesDropped: dropped.length };
}

/** Runs the retention every 10 minutes; returns the stopper. */
export function scheduleRetention(db: Database, minuteRetentionMs: number, log: FastifyBaseLogger): () => void {
  const timer = setInterval(() => {
    applyRetention(db, minuteRetentionMs).catch((err: unknown) => log.warn({ err }, 'metric retention failed; will retry'));
  }, 10 * 60_000);
  timer.unref();
  return () => clearInterval(timer);
}
