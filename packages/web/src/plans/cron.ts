/**
 * The next run of a plain five-field cron expression (minute hour day-of-month month day-of-week,
 * in UTC as the server runs it): numbers, `*`, ranges `a-b`, steps `/n` and lists `a,b`. Anything
 * else (names, seconds, `L`, `#`…) answers null, and the UI shows the expression alone.
 */
export function nextCronRun(expr: string, from: Date): Date | null {
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 5) return null;
  const ranges: [number, number][] = [
    [0, 59],
    [0, 23],
    [1, 31],
    [1, 12],
    [0, 7],
  ];
  const sets = parts.map((p, i) => field(p, ranges[i]![0], ranges[i]![1]));
  if (sets.some((s) => s === null)) return null;
  const [min, hour, dom, mon, dowRaw] = sets as Set<number>[];
  const dow = new Set([...dowRaw!].map((d) => d % 7));
  // Cron's rule: when both day fields are restricted, a day matching either runs.
  const domAny = parts[2] === '*';
  const dowAny = parts[4] === '*';
  const dayOk = (d: Date) => {
    const a = dom!.has(d.getUTCDate());
    const b = dow.has(d.getUTCDay());
    return domAny && dowAny ? true : domAny ? b : dowAny ? a : a || b;
  };

  const t = new Date(from.getTime());
  t.setUTCSeconds(0, 0);
  t.setUTCMinutes(t.getUTCMinutes() + 1);
  const limit = from.getTime() + 366 * 86_400_000 * 5;
  while (t.getTime() <= limit) {
    if (!mon!.has(t.getUTCMonth() + 1)) {
      t.setUTCMonth(t.getUTCMonth() + 1, 1);
      t.setUTCHours(0, 0, 0, 0);
    } else if (!dayOk(t)) {
      t.setUTCDate(t.getUTCDate() + 1);
      t.setUTCHours(0, 0, 0, 0);
    } else if (!hour!.has(t.getUTCHours())) {
      t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
    } else if (!min!.has(t.getUTCMinutes())) {
      t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
    } else {
      return t;
    }
  }
  return null;
}

function field(text: string, lo: number, hi: number): Set<number> | null {
  const out = new Set<number>();
  for (const item of text.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(item);
    if (!m) return null;
    const step = m[4] ? Number(m[4]) : 1;
    const start = m[1] === '*' ? lo : Number(m[2]);
    const end = m[1] === '*' ? hi : m[3] !== undefined ? Number(m[3]) : m[4] ? hi : start;
    if (step < 1 || start < lo || end > hi || start > end) return null;
    for (let v = start; v <= end; v += step) out.add(v);
  }
  return out;
}
