import { call } from './server-process.js';

/** What a flag is, as audit snapshots and the flag API both say it. */
export interface FlagState {
  description: string;
  enabled: boolean;
  rolloutBasisPoints: number;
  allowlist: string[];
  salt: string;
  stickiness: string;
  version: number;
  archived: boolean;
}

export interface AuditRow {
  id: number;
  action: string;
  flagKey: string | null;
  target: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

const pick = (s: FlagState): FlagState => {
  const { description, enabled, rolloutBasisPoints, allowlist, salt, stickiness, version, archived } = s;
  return { description, enabled, rolloutBasisPoints, allowlist, salt, stickiness, version, archived };
};

const isFlagSnapshot = (v: unknown): v is FlagState => typeof v === 'object' && v !== null && 'version' in v && 'allowlist' in v;

/** Every audit event, oldest first, through the paged API (works on either driver, server running). */
export async function fetchAudit(base: string): Promise<AuditRow[]> {
  const all: AuditRow[] = [];
  let before: number | null = null;
  do {
    const page = await call(base, 'GET', `/api/admin/audit?limit=500${before === null ? '' : `&before=${before}`}`);
    if (page.status !== 200) throw new Error(`GET /api/admin/audit: ${page.status} ${JSON.stringify(page.body)}`);
    all.push(...(page.body.events as AuditRow[]));
    before = page.body.nextBefore as number | null;
  } while (before !== null);
  return all.sort((a, b) => a.id - b.id);
}

/** Every flag, archived ones included, with its allowlist. */
export async function fetchFlags(base: string): Promise<Map<string, FlagState>> {
  const list = await call(base, 'GET', '/api/admin/feature-flags?includeArchived=true');
  if (list.status !== 200) throw new Error(`GET flags: ${list.status}`);
  const flags = list.body.flags as (FlagState & { key: string })[];
  const out = new Map<string, FlagState>();
  // A few at a time: a restarted server is checked in a fraction of the time one by one takes.
  for (let i = 0; i < flags.length; i += 8) {
    await Promise.all(
      flags.slice(i, i + 8).map(async (f) => {
        // The list leaves allowlists out; archived flags answer 404 on their own URL.
        const one = f.archived ? undefined : await call(base, 'GET', `/api/admin/feature-flags/${f.key}`);
        out.set(f.key, pick({ ...f, allowlist: (one?.body.allowlist as string[] | undefined) ?? [] }));
      }),
    );
  }
  return new Map([...out].sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * Rebuilds every flag from the audit trail alone — each event carrying a flag snapshot sets
 * the flag to its `after` — checking that versions form a gapless chain starting at 1 (each
 * event's `before` is the previous event's `after`). Returns the rebuilt flags and any break.
 */
export function replayAudit(events: readonly AuditRow[]): { flags: Map<string, FlagState>; breaks: string[] } {
  const flags = new Map<string, FlagState>();
  const breaks: string[] = [];
  for (const e of events) {
    if (!e.flagKey || !isFlagSnapshot(e.after)) continue;
    const previous = flags.get(e.flagKey);
    const before = isFlagSnapshot(e.before) ? e.before : null;
    if (!previous && e.after.version !== 1) breaks.push(`event ${e.id} (${e.action} ${e.flagKey}) is the first of the flag but at v${e.after.version}`);
    if (previous && before?.version !== previous.version) breaks.push(`event ${e.id} (${e.action} ${e.flagKey}) starts from v${before?.version}, the trail was at v${previous.version}`);
    if (previous && e.after.version !== previous.version + 1) breaks.push(`event ${e.id} (${e.action} ${e.flagKey}) jumps from v${previous.version} to v${e.after.version}`);
    flags.set(e.flagKey, pick(e.after));
  }
  return { flags, breaks };
}
