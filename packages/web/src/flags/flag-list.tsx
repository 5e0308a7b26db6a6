import { useQuery } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useDeferredValue, useId, useRef, useState } from 'react';
import { Link } from 'wouter';
import type { FlagSummary } from '../api/types.js';
import { useFormat, useT } from '../i18n/i18n.js';
import { useCan, useSession } from '../session/session.js';
import { Badge, healthTone } from '../ui/badge.js';
import { Empty, QueryState } from '../ui/states.js';
import { CreateFlag } from './create-flag.js';
import { flagMessages } from './messages.js';

export interface FlagRow extends FlagSummary {
  plan: { state: string; stage: number; of: number; awaitingApproval: boolean } | null;
  health: string | null;
  lastCheckpointAt: string | null;
}

const ROW_HEIGHT = 56;

/** `/admin/feature-flags`: every flag with its state at a glance; 1 000 flags scroll smoothly (virtualized). */
export function FlagList() {
  const t = useT(flagMessages);
  const { request } = useSession();
  const canWrite = useCan('OPERATOR');
  const [search, setSearch] = useState('');
  const q = useDeferredValue(search.trim());
  const searchId = useId();
  const query = useQuery({
    queryKey: ['flags', q],
    queryFn: async ({ signal }) => (await request<{ flags: FlagRow[]; total: number }>(`/api/admin/feature-flags${q ? `?q=${encodeURIComponent(q)}` : ''}`, { signal })).data,
    placeholderData: (prev) => prev,
  });

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>{t.listTitle}</h1>
          <p className="muted">{t.listLead}</p>
        </div>
        {canWrite ? <CreateFlag /> : null}
      </header>
      <div className="toolbar">
        <label htmlFor={searchId} className="visually-hidden">
          {t.search}
        </label>
        <input id={searchId} type="search" className="search" placeholder={t.searchPlaceholder} value={search} onChange={(e) => setSearch(e.target.value)} />
        {query.data ? <span className="muted small" aria-live="polite">{t.count(query.data.total)}</span> : null}
      </div>
      <QueryState query={query}>{(data) => (data.flags.length ? <VirtualTable rows={data.flags} /> : <Empty>{q ? t.noMatch : t.noFlags}</Empty>)}</QueryState>
    </div>
  );
}

function VirtualTable({ rows }: { rows: FlagRow[] }) {
  const t = useT(flagMessages);
  const parent = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({ count: rows.length, getScrollElement: () => parent.current, estimateSize: () => ROW_HEIGHT, overscan: 8 });
  return (
    <div className="flag-table" role="table" aria-label={t.listTitle} aria-rowcount={rows.length + 1}>
      <div className="flag-row flag-head" role="row" aria-rowindex={1}>
        <span role="columnheader">{t.colFlag}</span>
        <span role="columnheader">{t.colStatus}</span>
        <span role="columnheader" className="hide-narrow">
          {t.colPlan}
        </span>
        <span role="columnheader" className="hide-narrow">
          {t.colUpdated}
        </span>
      </div>
      <div ref={parent} className="flag-scroll" role="rowgroup">
        <div style={{ height: virtual.getTotalSize(), position: 'relative' }}>
          {virtual.getVirtualItems().map((item) => (
            <FlagRowView key={rows[item.index]!.key} row={rows[item.index]!} index={item.index} top={item.start} />
          ))}
        </div>
      </div>
    </div>
  );
}

function FlagRowView({ row, index, top }: { row: FlagRow; index: number; top: number }) {
  const t = useT(flagMessages);
  const f = useFormat();
  return (
    <div className="flag-row" role="row" aria-rowindex={index + 2} style={{ position: 'absolute', top, left: 0, right: 0, height: ROW_HEIGHT }}>
      <span role="cell" className="flag-key-cell">
        <Link href={`/feature-flags/${encodeURIComponent(row.key)}`} className="flag-key">
          {row.key}
        </Link>
        {row.description ? <span className="muted small ellipsis">{row.description}</span> : null}
      </span>
      <span role="cell" className="badges">
        <StatusBadges flag={row} />
        {row.health ? (
          <Badge tone={healthTone(row.health)} title={t.healthTitle}>
            {row.health}
          </Badge>
        ) : null}
      </span>
      <span role="cell" className="hide-narrow small">
        {row.plan ? t.planStage(row.plan.stage, row.plan.of, row.plan.state, row.plan.awaitingApproval) : <span className="muted">—</span>}
      </span>
      <span role="cell" className="hide-narrow small muted" title={f.dateTime(row.updatedAt)}>
        {f.relative(row.updatedAt)}
      </span>
    </div>
  );
}

/** ON / OFF and the rollout share, as operators say them. */
export function StatusBadges({ flag }: { flag: Pick<FlagSummary, 'enabled' | 'rolloutPercentage' | 'allowlistCount'> }) {
  const t = useT(flagMessages);
  const f = useFormat();
  if (!flag.enabled) return <Badge tone="red">{t.off}</Badge>;
  return (
    <>
      <Badge tone="green">{t.on}</Badge>
      <Badge tone={flag.rolloutPercentage >= 100 ? 'green' : 'blue'}>{f.percent(flag.rolloutPercentage)}</Badge>
      {flag.allowlistCount ? <Badge tone="grey">{t.allowCount(flag.allowlistCount)}</Badge> : null}
    </>
  );
}
