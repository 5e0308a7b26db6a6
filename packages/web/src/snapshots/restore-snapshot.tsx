import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiError } from '../api/client.js';
import { useFormat, useT } from '../i18n/i18n.js';
import { useSession } from '../session/session.js';
import { ConfirmDialog } from '../ui/confirm-dialog.js';
import { ErrorState, Loading } from '../ui/states.js';
import { DiffView } from './diff-view.js';
import { snapshotMessages } from './messages.js';
import { snapshotKeys, type RestoreResult, type SnapshotDiff, type SnapshotSummary } from './types.js';

/**
 * The "Restore" button (SUPER_ADMIN). It loads the diff first, so the dialog opens on exactly
 * what the restore will write; live changes keep that preview current while it is open.
 */
export function RestoreSnapshot({ snapshot, onRestored }: { snapshot: SnapshotSummary; onRestored: (r: RestoreResult) => void }) {
  const t = useT(snapshotMessages);
  const f = useFormat();
  const { request } = useSession();
  const client = useQueryClient();
  const [open, setOpen] = useState(false);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const key = snapshotKeys.diff(snapshot.id);
  const diff = useQuery({
    queryKey: key,
    queryFn: async ({ signal }) => (await request<SnapshotDiff>(`/api/admin/snapshots/${encodeURIComponent(snapshot.id)}/diff`, { signal })).data,
    enabled: open,
  });
  const name = snapshot.label ?? snapshot.id;

  const start = async () => {
    setLoading(true);
    setError(null);
    try {
      await client.fetchQuery({
        queryKey: key,
        queryFn: async ({ signal }) => (await request<SnapshotDiff>(`/api/admin/snapshots/${encodeURIComponent(snapshot.id)}/diff`, { signal })).data,
        staleTime: 0,
      });
      setOpen(true);
    } catch (err) {
      setError(err);
    } finally {
      setLoading(false);
    }
  };

  return (
    <>
      <button type="button" className="btn btn-danger" onClick={() => void start()} disabled={loading} aria-busy={loading}>
        {t.restore}
      </button>
      {loading ? <Loading label={t.restoreLoading} /> : null}
      {error ? <ErrorState error={error} onRetry={() => void start()} /> : null}
      <ConfirmDialog
        open={open}
        title={t.restoreTitle}
        confirmLabel={t.restoreConfirm}
        danger
        reason="required"
        onClose={() => setOpen(false)}
        onReload={() => void diff.refetch()}
        preview={
          <div className="snap-restore-preview">
            <p>{t.restoreLead(name, f.dateTime(snapshot.createdAt))}</p>
            {diff.data ? (
              diff.data.identical ? (
                <p className="notice">{t.restoreNothing}</p>
              ) : (
                <DiffView diff={diff.data} headingLevel={3} />
              )
            ) : diff.error ? (
              <ErrorState error={diff.error} onRetry={() => void diff.refetch()} />
            ) : (
              <Loading label={t.restoreLoading} />
            )}
            <p className="muted small">{t.restoreNote}</p>
          </div>
        }
        onConfirm={async (reason) => {
          try {
            const { data } = await request<RestoreResult>(`/api/admin/snapshots/${encodeURIComponent(snapshot.id)}/restore`, {
              method: 'POST',
              body: reason ? { reason } : {},
            });
            // A restore may touch any flag and plan: everything shown may be stale.
            await client.invalidateQueries();
            onRestored(data);
          } catch (err) {
            throw refusal(err, t.restoreRefused);
          }
        }}
      />
    </>
  );
}

/**
 * A 409 RESTORE_REFUSED is no edit conflict (a reload would not help): it becomes a plain
 * error naming the plans that are rolling back.
 */
function refusal(err: unknown, message: (plans: string) => string): unknown {
  if (!(err instanceof ApiError) || err.code !== 'RESTORE_REFUSED') return err;
  const plans = (err.details as { plans?: { id: string; flagKey: string }[] } | undefined)?.plans ?? [];
  return new ApiError(422, err.code, message(plans.map((p) => `${p.flagKey}: ${p.id}`).join(', ')), err.requestId, err.details);
}
