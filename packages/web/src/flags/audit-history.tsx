import { useInfiniteQuery } from '@tanstack/react-query';
import type { AuditEvent } from '../api/types.js';
import { defineMessages, useFormat, useT } from '../i18n/i18n.js';
import { useSession } from '../session/session.js';
import { Badge, type Tone } from '../ui/badge.js';
import { Section } from '../ui/section.js';
import { Empty, ErrorState, Loading } from '../ui/states.js';

const m = defineMessages({
  en: {
    title: 'History',
    lead: 'Every change to this flag and its plans, newest first.',
    none: 'No changes recorded yet.',
    loadMore: 'Load more',
    loadingMore: 'Loading…',
    end: 'That is the whole history.',
    by: (actor: string, role: string) => `${actor} (${role})`,
    noReason: 'no reason given',
    unchanged: 'no field changed',
    more: (n: number) => `… ${n} more`,
    added: 'added',
    removed: 'removed',
  },
  'pt-BR': {
    title: 'Histórico',
    lead: 'Todas as alterações desta flag e de seus planos, das mais novas às mais antigas.',
    none: 'Nenhuma alteração registrada ainda.',
    loadMore: 'Carregar mais',
    loadingMore: 'Carregando…',
    end: 'Este é o histórico completo.',
    by: (actor: string, role: string) => `${actor} (${role})`,
    noReason: 'sem motivo informado',
    unchanged: 'nenhum campo mudou',
    more: (n: number) => `… mais ${n}`,
    added: 'adicionados',
    removed: 'removidos',
  },
});

interface AuditPage {
  events: AuditEvent[];
  nextBefore: number | null;
}

const PAGE = 20;

/** The flag's audit trail: who did what, why, and a before/after diff per changed field. */
export function AuditHistory({ flagKey }: { flagKey: string }) {
  const t = useT(m);
  const { request } = useSession();
  const query = useInfiniteQuery({
    queryKey: ['audit', flagKey],
    initialPageParam: undefined as number | undefined,
    getNextPageParam: (last: AuditPage) => last.nextBefore ?? undefined,
    queryFn: async ({ pageParam, signal }) =>
      (await request<AuditPage>(`/api/admin/feature-flags/${encodeURIComponent(flagKey)}/audit?limit=${PAGE}${pageParam ? `&before=${pageParam}` : ''}`, { signal })).data,
  });
  const events = query.data?.pages.flatMap((p) => p.events) ?? [];

  return (
    <Section title={t.title} id="audit">
      <p className="muted small">{t.lead}</p>
      {query.isPending ? (
        <Loading />
      ) : query.error && !query.data ? (
        <ErrorState error={query.error} onRetry={() => void query.refetch()} />
      ) : events.length === 0 ? (
        <Empty>{t.none}</Empty>
      ) : (
        <>
          <ol className="timeline audit-list">
            {events.map((e) => (
              <AuditEntry key={e.id} event={e} />
            ))}
          </ol>
          {query.isFetchNextPageError ? <ErrorState error={query.error} onRetry={() => void query.fetchNextPage()} /> : null}
          {query.hasNextPage ? (
            <button type="button" className="btn" onClick={() => void query.fetchNextPage()} disabled={query.isFetchingNextPage} aria-busy={query.isFetchingNextPage}>
              {query.isFetchingNextPage ? t.loadingMore : t.loadMore}
            </button>
          ) : (
            <p className="muted small">{t.end}</p>
          )}
        </>
      )}
    </Section>
  );
}

function actionTone(action: string): Tone {
  if (/rollback|abort|delete|revoke|fail|archive/.test(action)) return 'red';
  if (/pause|await|cancel|extend/.test(action)) return 'yellow';
  if (/create|start|complete|approve|advance|resume|restore/.test(action)) return 'green';
  return 'blue';
}

function AuditEntry({ event: e }: { event: AuditEvent }) {
  const t = useT(m);
  const f = useFormat();
  const rows = diffRows(e.before, e.after);
  return (
    <li className="audit-entry">
      <div className="audit-head">
        <Badge tone={actionTone(e.action)}>{e.action}</Badge>
        <span className="audit-actor">{t.by(e.actor, e.actorRole)}</span>
        <time className="muted small" dateTime={e.at} title={f.dateTime(e.at)}>
          {f.dateTime(e.at)} · {f.relative(e.at)}
        </time>
      </div>
      <p className={`audit-reason small${e.reason ? '' : ' muted'}`}>{e.reason ? `“${e.reason}”` : t.noReason}</p>
      {rows.length ? (
        <ul className="diff">
          {rows.map((r) => (
            <DiffRow key={r.field} row={r} />
          ))}
        </ul>
      ) : e.before !== null || e.after !== null ? (
        <p className="muted small">{t.unchanged}</p>
      ) : null}
    </li>
  );
}

interface Row {
  field: string;
  before: unknown;
  after: unknown;
  hasBefore: boolean;
  hasAfter: boolean;
}

/** Fields that change with every write and say nothing on their own. */
const NOISE = new Set(['version', 'updatedAt', 'updatedBy', 'createdAt']);

function diffRows(before: unknown, after: unknown): Row[] {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObj(before) && !isObj(after)) {
    if (JSON.stringify(before) === JSON.stringify(after)) return [];
    return [{ field: 'value', before, after, hasBefore: before !== null && before !== undefined, hasAfter: after !== null && after !== undefined }];
  }
  const b = isObj(before) ? before : {};
  const a = isObj(after) ? after : {};
  const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])].filter((k) => !NOISE.has(k));
  return keys
    .filter((k) => JSON.stringify(b[k]) !== JSON.stringify(a[k]))
    .map((k) => ({ field: k, before: b[k], after: a[k], hasBefore: k in b, hasAfter: k in a }));
}

const MAX_IDS = 6;

function DiffRow({ row }: { row: Row }) {
  const t = useT(m);
  // Lists of ids (the allowlist): say what entered and what left, not the whole list twice.
  if (isStrings(row.before) || isStrings(row.after)) {
    const b = isStrings(row.before) ? row.before : [];
    const a = isStrings(row.after) ? row.after : [];
    const bs = new Set(b);
    const as = new Set(a);
    const gone = b.filter((x) => !as.has(x));
    const came = a.filter((x) => !bs.has(x));
    return (
      <>
        {gone.length ? (
          <li className="diff-del">
            − {row.field} {t.removed} ({gone.length}): {ids(gone, t.more)}
          </li>
        ) : null}
        {came.length ? (
          <li className="diff-add">
            + {row.field} {t.added} ({came.length}): {ids(came, t.more)}
          </li>
        ) : null}
      </>
    );
  }
  return (
    <>
      {row.hasBefore ? (
        <li className="diff-del">
          − {row.field}: {show(row.field, row.before)}
        </li>
      ) : null}
      {row.hasAfter ? (
        <li className="diff-add">
          + {row.field}: {show(row.field, row.after)}
        </li>
      ) : null}
    </>
  );
}

function isStrings(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

function ids(list: string[], more: (n: number) => string): string {
  return list.slice(0, MAX_IDS).join(', ') + (list.length > MAX_IDS ? ` ${more(list.length - MAX_IDS)}` : '');
}

/** A value as operators read it: basis points with their percentage, plan stages as a ramp. */
function show(field: string, v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (field === 'rolloutBasisPoints' && typeof v === 'number') return `${v} (${v / 100} %)`;
  if (field === 'stages' && Array.isArray(v)) {
    return (v as { percentage?: number; gate?: string }[]).map((s) => `${s.percentage ?? '?'} %${s.gate === 'approval' ? ' (approval)' : ''}`).join(' → ');
  }
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  return text.length > 240 ? `${text.slice(0, 240)}…` : text;
}
