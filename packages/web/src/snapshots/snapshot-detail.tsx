import { useQuery } from '@tanstack/react-query';
import { useEffect, useId, useRef, useState } from 'react';
import { ApiError } from '../api/client.js';
import { useFormat, useT } from '../i18n/i18n.js';
import { useCan, useSession } from '../session/session.js';
import { ErrorState, QueryState } from '../ui/states.js';
import { DiffView } from './diff-view.js';
import { snapshotMessages } from './messages.js';
import { RestoreSnapshot } from './restore-snapshot.js';
import { SnapshotContents } from './snapshot-contents.js';
import { snapshotKeys, type RestoreResult, type SnapshotDetail, type SnapshotDiff } from './types.js';

/** One snapshot opened: who took it, the diff against live on demand, restore, its contents. */
export function SnapshotDetailPanel({
  id,
  showDiff,
  onShowDiff,
  onRestored,
  focusOnOpen,
}: {
  id: string;
  showDiff: boolean;
  onShowDiff: (show: boolean) => void;
  onRestored: (r: RestoreResult) => void;
  focusOnOpen: boolean;
}) {
  const t = useT(snapshotMessages);
  const f = useFormat();
  const { request } = useSession();
  const canRestore = useCan('SUPER_ADMIN');
  const headingRef = useRef<HTMLHeadingElement>(null);
  const diffId = useId();
  const detail = useQuery({
    queryKey: snapshotKeys.detail(id),
    queryFn: async ({ signal }) => (await request<SnapshotDetail>(`/api/admin/snapshots/${encodeURIComponent(id)}`, { signal })).data,
    staleTime: Infinity,
  });
  const diff = useQuery({
    queryKey: snapshotKeys.diff(id),
    queryFn: async ({ signal }) => (await request<SnapshotDiff>(`/api/admin/snapshots/${encodeURIComponent(id)}/diff`, { signal })).data,
    enabled: showDiff,
  });

  // Opening a snapshot from the list moves focus to it, so keyboard and screen reader users land on it.
  const loaded = detail.data !== undefined;
  useEffect(() => {
    if (focusOnOpen && loaded) headingRef.current?.focus();
  }, [id, focusOnOpen, loaded]);

  const name = detail.data ? (detail.data.label ?? detail.data.id) : id;
  return (
    <section className="card" aria-labelledby="snapshot-detail-title">
      <header className="card-header">
        <div>
          <h2 id="snapshot-detail-title" ref={headingRef} tabIndex={-1} className="snap-title">
            {t.detailTitle(name)}
          </h2>
          {detail.data ? (
            <p className="muted small snap-meta">
              <span className="mono">{detail.data.id}</span> · {t.takenBy(detail.data.createdBy, f.dateTime(detail.data.createdAt))} ·{' '}
              {t.serverVersion(detail.data.serverVersion)}
              {detail.data.reason ? (
                <>
                  <br />
                  {t.reasonLine(detail.data.reason)}
                </>
              ) : null}
            </p>
          ) : null}
        </div>
        {detail.data ? (
          <div className="card-actions">
            <button type="button" className="btn" aria-expanded={showDiff} aria-controls={diffId} onClick={() => onShowDiff(!showDiff)}>
              {t.diff}
            </button>
            <DownloadMarkdown id={id} />
            {canRestore ? <RestoreSnapshot snapshot={detail.data} onRestored={onRestored} /> : null}
          </div>
        ) : null}
      </header>
      <div id={diffId}>
        {showDiff && detail.data ? (
          <div className="snap-diff-box">
            <h3>{t.diffTitle}</h3>
            <p className="muted small">{t.diffLead}</p>
            <QueryState query={diff}>{(d) => <DiffView diff={d} headingLevel={4} />}</QueryState>
          </div>
        ) : null}
      </div>
      <QueryState query={detail}>{(d) => <SnapshotContents snapshot={d} />}</QueryState>
    </section>
  );
}

/** The OPS SNAPSHOT document (markdown) as a file; it needs the token, so a plain link cannot fetch it. */
function DownloadMarkdown({ id }: { id: string }) {
  const t = useT(snapshotMessages);
  const { session } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const download = async () => {
    if (!session) return;
    setBusy(true);
    setError(null);
    try {
      const res = await fetch(`/api/admin/snapshots/${encodeURIComponent(id)}?format=markdown`, {
        headers: { authorization: `Bearer ${session.token}`, accept: 'text/markdown' },
      });
      if (!res.ok) throw new ApiError(res.status, `HTTP_${res.status}`, res.statusText);
      const url = URL.createObjectURL(await res.blob());
      const a = document.createElement('a');
      a.href = url;
      a.download = `${id}.md`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" className="btn" onClick={() => void download()} disabled={busy} aria-busy={busy} title={t.downloadHint}>
        {t.download}
      </button>
      {error ? <ErrorState error={error} /> : null}
    </>
  );
}
