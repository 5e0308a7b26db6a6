import { useInfiniteQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useSearchParams } from 'wouter';
import { ApiError } from '../api/client.js';
import { useT } from '../i18n/i18n.js';
import { useCan, useSession } from '../session/session.js';
import { Section } from '../ui/section.js';
import { QueryState } from '../ui/states.js';
import { CreateSnapshot } from './create-snapshot.js';
import { snapshotMessages } from './messages.js';
import { SnapshotDetailPanel } from './snapshot-detail.js';
import { SnapshotList } from './snapshot-list.js';
import { snapshotKeys, type RestoreResult, type SnapshotPage } from './types.js';

const PAGE_SIZE = 25;

/**
 * `/admin/snapshots`: VIEWER lists, opens and diffs; OPERATOR takes snapshots; SUPER_ADMIN
 * restores. The opened snapshot and its diff live in the URL (`?id=…&diff=1`), so a link
 * shows the same thing and Back works.
 */
export function SnapshotsPage() {
  const t = useT(snapshotMessages);
  const { request, session } = useSession();
  const canCreate = useCan('OPERATOR');
  const canRestore = useCan('SUPER_ADMIN');
  const [params, setParams] = useSearchParams();
  const [focusOnOpen, setFocusOnOpen] = useState(false);
  const [restored, setRestored] = useState<RestoreResult | null>(null);
  const list = useInfiniteQuery({
    queryKey: snapshotKeys.list,
    queryFn: async ({ pageParam, signal }) =>
      (await request<SnapshotPage>(`/api/admin/snapshots?limit=${PAGE_SIZE}${pageParam ? `&before=${encodeURIComponent(pageParam)}` : ''}`, { signal })).data,
    initialPageParam: '',
    getNextPageParam: (last) => last.nextBefore ?? undefined,
  });

  const forbidden = (list.error instanceof ApiError && list.error.status === 403) || session?.role === 'SDK';
  if (forbidden) {
    return (
      <div className="page">
        <header className="page-header">
          <h1>{t.title}</h1>
        </header>
        <p className="state state-error" role="alert">
          {t.forbiddenView}
        </p>
      </div>
    );
  }

  // With nothing chosen, the newest snapshot is open: the usual question is "what changed since the last one?".
  const newest = list.data?.pages[0]?.snapshots[0]?.id;
  const selected = params.get('id') ?? newest;
  const showDiff = params.get('diff') === '1';
  const open = (id: string, diff = false) => {
    setFocusOnOpen(true);
    setParams(diff ? { id, diff: '1' } : { id });
  };

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>{t.title}</h1>
          <p className="muted">{t.lead}</p>
        </div>
        {canCreate ? <CreateSnapshot onCreated={(id) => open(id)} /> : null}
      </header>
      {!canRestore ? <p className="notice">{canCreate ? t.operatorNote : t.viewerNote}</p> : null}
      <div role="status" aria-live="polite">
        {restored ? (
        <div className="notice snap-restored">
          <p>{t.restored(restored.changed)}</p>
          {restored.flags.length || restored.plans.length ? (
            <ul className="small">
              {restored.flags.map((x) => (
                <li key={`f-${x.key}`}>
                  <span className="mono">{x.key}</span>: {t.restoredAction[x.action] ?? x.action} (v{x.version})
                </li>
              ))}
              {restored.plans.map((x) => (
                <li key={`p-${x.id}`}>
                  <span className="mono">{x.flagKey}</span> <span className="mono">{x.id}</span>: {t.restoredAction[x.action] ?? x.action}
                </li>
              ))}
            </ul>
          ) : null}
          <button type="button" className="btn btn-small" onClick={() => setRestored(null)}>
            {t.dismiss}
          </button>
        </div>
        ) : null}
      </div>
      <Section title={t.listTitle} id="snapshot-list">
        <QueryState query={list}>{() => <SnapshotList query={list} selected={selected} onOpen={(id) => open(id, showDiff)} />}</QueryState>
      </Section>
      {selected ? (
        <SnapshotDetailPanel
          key={selected}
          id={selected}
          showDiff={showDiff}
          focusOnOpen={focusOnOpen}
          onShowDiff={(show) => setParams(show ? { id: selected, diff: '1' } : { id: selected }, { replace: true })}
          onRestored={(r) => {
            setRestored(r);
            setParams({ id: selected, diff: '1' }, { replace: true });
          }}
        />
      ) : null}
    </div>
  );
}
