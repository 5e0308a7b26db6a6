import { useQuery } from '@tanstack/react-query';
import { Link } from 'wouter';
import type { FlagSummary } from '../api/types.js';
import { useFormat, useT } from '../i18n/i18n.js';
import { useSession } from '../session/session.js';
import { Badge, healthTone } from '../ui/badge.js';
import { Empty, QueryState } from '../ui/states.js';
import { monitorMessages } from './messages.js';

interface MonitorRow extends FlagSummary {
  plan: { state: string; stage: number; of: number; awaitingApproval: boolean } | null;
  health: string | null;
  lastCheckpointAt: string | null;
}

const WORST_FIRST: Record<string, number> = { RED: 0, YELLOW: 1, GREEN: 2 };

/** `/admin/beta-monitor`: every flag's health, the worst first, each linking to its monitor. */
export function MonitorIndex() {
  const t = useT(monitorMessages);
  const { request } = useSession();
  // The same query (and cache entry) as the flag list without a search.
  const query = useQuery({
    queryKey: ['flags', ''],
    queryFn: async ({ signal }) => (await request<{ flags: MonitorRow[]; total: number }>('/api/admin/feature-flags', { signal })).data,
  });

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>{t.indexTitle}</h1>
          <p className="muted">{t.indexLead}</p>
        </div>
        {query.data ? <span className="muted small">{t.flagCount(query.data.flags.length)}</span> : null}
      </header>
      <QueryState query={query}>
        {(data) =>
          data.flags.length ? (
            <MonitorTable rows={[...data.flags].sort((a, b) => (WORST_FIRST[a.health ?? ''] ?? 3) - (WORST_FIRST[b.health ?? ''] ?? 3) || a.key.localeCompare(b.key))} />
          ) : (
            <Empty>{t.noFlags}</Empty>
          )
        }
      </QueryState>
    </div>
  );
}

function MonitorTable({ rows }: { rows: MonitorRow[] }) {
  const t = useT(monitorMessages);
  const f = useFormat();
  return (
    <div className="card monitor-index">
      <table className="table">
        <caption className="visually-hidden">{t.indexTitle}</caption>
        <thead>
          <tr>
            <th scope="col">{t.colFlag}</th>
            <th scope="col">{t.colHealth}</th>
            <th scope="col">{t.colLastCheckpoint}</th>
            <th scope="col" className="hide-narrow">
              {t.colPlan}
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key}>
              <td>
                <div className="monitor-index-key">
                  <Link href={`/beta-monitor/${encodeURIComponent(r.key)}`} className="flag-key">
                    {r.key}
                  </Link>
                  <span className="small muted show-narrow">{r.plan ? t.planStage(r.plan.stage, r.plan.of, r.plan.state, r.plan.awaitingApproval) : t.noPlan}</span>
                </div>
              </td>
              <td>{r.health ? <Badge tone={healthTone(r.health)}>{r.health}</Badge> : <span className="muted small">—</span>}</td>
              <td className="small">
                {r.lastCheckpointAt ? (
                  <time dateTime={r.lastCheckpointAt} title={f.dateTime(r.lastCheckpointAt)}>
                    {f.relative(r.lastCheckpointAt)}
                  </time>
                ) : (
                  <span className="muted">{t.noCheckpoint}</span>
                )}
              </td>
              <td className="small hide-narrow">
                {r.plan ? t.planStage(r.plan.stage, r.plan.of, r.plan.state, r.plan.awaitingApproval) : <span className="muted">{t.noPlan}</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
