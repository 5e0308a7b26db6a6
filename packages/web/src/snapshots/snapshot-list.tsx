import type { InfiniteData, UseInfiniteQueryResult } from '@tanstack/react-query';
import { useFormat, useT } from '../i18n/i18n.js';
import { Empty, ErrorState } from '../ui/states.js';
import { snapshotMessages } from './messages.js';
import type { SnapshotPage, SnapshotSummary } from './types.js';
import { ScrollRegion } from '../ui/scroll-region.js';

/** The snapshots taken, newest first, a page at a time; "Open" shows one below. */
export function SnapshotList({
  query,
  selected,
  onOpen,
}: {
  query: UseInfiniteQueryResult<InfiniteData<SnapshotPage>>;
  selected: string | undefined;
  onOpen: (id: string) => void;
}) {
  const t = useT(snapshotMessages);
  const rows: SnapshotSummary[] = query.data?.pages.flatMap((p) => p.snapshots) ?? [];
  if (!rows.length) return <Empty>{t.none}</Empty>;
  return (
    <>
      <ScrollRegion label={t.listTitle} className="snap-wrap">
        <table className="table snap-table snap-stack">
          <thead>
            <tr>
              <th scope="col">{t.colLabel}</th>
              <th scope="col">{t.colTaken}</th>
              <th scope="col">{t.colBy}</th>
              <th scope="col">{t.colContents}</th>
              <th scope="col">
                <span className="visually-hidden">{t.colActions}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((s) => (
              <Row key={s.id} snapshot={s} selected={s.id === selected} onOpen={onOpen} />
            ))}
          </tbody>
        </table>
      </ScrollRegion>
      <div className="toolbar snap-more">
        <span className="muted small" aria-live="polite">
          {t.shown(rows.length)}
        </span>
        {query.hasNextPage ? (
          <button type="button" className="btn btn-small" onClick={() => void query.fetchNextPage()} disabled={query.isFetchingNextPage} aria-busy={query.isFetchingNextPage}>
            {t.loadMore}
          </button>
        ) : null}
      </div>
      {query.isFetchNextPageError ? <ErrorState error={query.error} onRetry={() => void query.fetchNextPage()} /> : null}
    </>
  );
}

function Row({ snapshot: s, selected, onOpen }: { snapshot: SnapshotSummary; selected: boolean; onOpen: (id: string) => void }) {
  const t = useT(snapshotMessages);
  const f = useFormat();
  const name = s.label ?? s.id;
  return (
    <tr className={selected ? 'snap-selected' : undefined} aria-current={selected ? 'true' : undefined}>
      <th scope="row">
        {s.label ? <span className="snap-label">{s.label}</span> : <span className="muted">{t.noLabel}</span>}
        <div className="mono small muted">{s.id}</div>
      </th>
      <td className="small" data-label={t.colTaken}>
        {f.dateTime(s.createdAt)}
        <div className="muted">{f.relative(s.createdAt)}</div>
      </td>
      <td className="small" data-label={t.colBy}>
        {s.createdBy}
      </td>
      <td className="small" data-label={t.colContents}>
        {t.contents(s.flagCount, s.planCount)}
      </td>
      <td>
        <button type="button" className="btn btn-small" aria-pressed={selected} onClick={() => onOpen(s.id)}>
          {t.open}
          <span className="visually-hidden">{t.openFor(name)}</span>
        </button>
      </td>
    </tr>
  );
}
