import type { ReactNode } from 'react';
import { ApiError } from '../api/client.js';
import { common } from '../i18n/common.js';
import { useT } from '../i18n/i18n.js';

export function Loading({ label }: { label?: string }) {
  const t = useT(common);
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {label ?? t.loading}
    </div>
  );
}

/** An error with what to do about it: a conflict offers a reload, anything else a retry. */
export function ErrorState({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const t = useT(common);
  const api = error instanceof ApiError ? error : undefined;
  if (api?.isConflict) return <ConflictNotice onReload={onRetry} />;
  const message = api?.status === 403 ? t.forbidden : api?.status === 404 ? t.notFound : (error as Error)?.message ?? String(error);
  return (
    <div className="state state-error" role="alert">
      <strong>{t.errorTitle}</strong>
      <p>
        {message}
        {api?.code ? <code className="error-code">{api.code}</code> : null}
      </p>
      {api?.requestId ? <p className="muted small">{t.requestId(api.requestId)}</p> : null}
      {onRetry ? (
        <button type="button" className="btn" onClick={onRetry}>
          {t.retry}
        </button>
      ) : null}
    </div>
  );
}

export function ConflictNotice({ onReload }: { onReload?: (() => void) | undefined }) {
  const t = useT(common);
  return (
    <div className="state state-conflict" role="alert">
      <strong>{t.conflictTitle}</strong>
      <p>{t.conflictBody}</p>
      {onReload ? (
        <button type="button" className="btn btn-primary" onClick={onReload}>
          {t.reload}
        </button>
      ) : null}
    </div>
  );
}

export function Empty({ children }: { children?: ReactNode }) {
  const t = useT(common);
  return <p className="state state-empty muted">{children ?? t.empty}</p>;
}

/** Renders a query's three states the same way everywhere. */
export function QueryState<T>({
  query,
  children,
}: {
  query: { data: T | undefined; error: unknown; isPending: boolean; refetch: () => unknown };
  children: (data: T) => ReactNode;
}) {
  if (query.isPending) return <Loading />;
  if (query.error) return <ErrorState error={query.error} onRetry={() => void query.refetch()} />;
  return <>{children(query.data as T)}</>;
}
