import type { CheckpointSummary } from '../api/types.js';
import { useFormat, useT } from '../i18n/i18n.js';
import { Badge, healthTone } from '../ui/badge.js';
import { Section } from '../ui/section.js';
import { Empty, ErrorState, Loading } from '../ui/states.js';
import { monitorMessages } from './messages.js';
import type { useCheckpoints } from './use-monitor.js';

/** Every checkpoint, newest first: time, trigger, verdict, decision and alert codes; one is selected. */
export function CheckpointTimeline({
  query,
  selectedId,
  onSelect,
}: {
  query: ReturnType<typeof useCheckpoints>;
  selectedId: string | undefined;
  onSelect: (id: string) => void;
}) {
  const t = useT(monitorMessages);
  const all = query.data?.pages.flat() ?? [];
  return (
    <Section title={t.timelineTitle} id="monitor-timeline">
      {query.isPending ? (
        <Loading />
      ) : query.error && !all.length ? (
        <ErrorState error={query.error} onRetry={() => void query.refetch()} />
      ) : all.length === 0 ? (
        <Empty>{t.noCheckpoints}</Empty>
      ) : (
        <>
          <ol className="timeline cp-timeline" aria-label={t.timelineLabel}>
            {all.map((cp) => (
              <TimelineItem key={cp.id} cp={cp} selected={cp.id === selectedId} onSelect={onSelect} />
            ))}
          </ol>
          {query.isFetchNextPageError ? <ErrorState error={query.error} onRetry={() => void query.fetchNextPage()} /> : null}
          {query.hasNextPage ? (
            <button type="button" className="btn btn-small btn-block" onClick={() => void query.fetchNextPage()} disabled={query.isFetchingNextPage} aria-busy={query.isFetchingNextPage}>
              {t.loadOlder}
            </button>
          ) : all.length > 5 ? (
            <p className="muted small">{t.noMore}</p>
          ) : null}
        </>
      )}
    </Section>
  );
}

function TimelineItem({ cp, selected, onSelect }: { cp: CheckpointSummary; selected: boolean; onSelect: (id: string) => void }) {
  const t = useT(monitorMessages);
  const f = useFormat();
  const codes = [...new Set(cp.alerts.map((a) => a.code))];
  return (
    <li className={`cp-item tone-${healthTone(cp.status)}${selected ? ' is-selected' : ''}`}>
      <button type="button" className="cp-select" aria-pressed={selected} onClick={() => onSelect(cp.id)}>
        <span className="cp-line">
          <time dateTime={cp.at}>{f.dateTime(cp.at)}</time>
          <Badge tone={healthTone(cp.status)}>{cp.status}</Badge>
          {cp.decision ? <span className="mono small">{cp.decision}</span> : null}
        </span>
        <span className="small muted cp-meta">
          {t.byActor(t.triggers[cp.trigger] ?? cp.trigger, cp.actor)}
          {cp.phase ? ` · ${cp.phase}` : ''}
          {cp.label ? ` · ${cp.label}` : ''}
        </span>
        {codes.length ? (
          <span className="cp-codes">
            {codes.map((c) => (
              <code key={c}>{c}</code>
            ))}
          </span>
        ) : null}
      </button>
    </li>
  );
}
