import { createHmac, randomBytes } from 'node:crypto';
import type { Database } from '../db/database.js';

export type SubjectHasher = (subjectId: string) => string;

/**
 * Subject ids never reach logs in clear text: they are replaced by an HMAC keyed with a
 * per-installation secret (kept in the database so every replica and restart agrees, which
 * lets an operator correlate log lines without being able to reverse them).
 */
export async function loadSubjectHasher(db: Database): Promise<SubjectHasher> {
  const fresh = randomBytes(32).toString('hex');
  await db.query(`insert into settings (key, value) values ('log_hmac_key', $1) on conflict (key) do nothing`, [fresh]);
  const rows = await db.query<{ value: string }>(`select value from settings where key = 'log_hmac_key'`);
  const key = Buffer.from(rows[0]!.value, 'hex');
  return (id) => createHmac('sha256', key).update(id, 'utf8').digest('hex').slice(0, 16);
}
