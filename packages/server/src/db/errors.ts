/**
 * Recognises errors that mean "the database is not reachable" (as opposed to a bad query),
 * so the API can answer 503 with a code instead of a 500.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH'].includes(code)) return true;
    // 57P01..57P03: admin shutdown, crash shutdown, cannot connect now; 08xxx: connection exceptions.
    if (code.startsWith('57P') || code.startsWith('08')) return true;
  }
  return /Connection terminated|connection timeout|Client has encountered a connection error|PGlite is closed/i.test(
    err.message,
  );
}

/**
 * Every pooled connection stayed busy for the pool's whole wait (pg-pool's own message, raised
 * only while the pool is full): usually the database answers and this replica asks too much of
 * it at once, so a retry, not an alarm about the database being down. (If every connection hangs
 * on an unreachable database, the requests queued behind them get it too: a 503 either way.)
 */
export function isDatabaseBusy(err: unknown): boolean {
  return err instanceof Error && /timeout exceeded when trying to connect/i.test(err.message);
}
