import { useFormat, useT } from '../i18n/i18n.js';
import { Badge, healthTone } from '../ui/badge.js';
import { ErrorState } from '../ui/states.js';
import { monitorMessages } from './messages.js';
import type { RunNow } from './use-run-now.js';

/** The runbook's "Executar agora": OPERATOR and up (the page does not render it for a VIEWER). */
export function RunNowButton({ run }: { run: RunNow }) {
  const t = useT(monitorMessages);
  return (
    <button type="button" className="btn btn-primary run-now" onClick={() => run.mutate()} disabled={run.isPending} aria-busy={run.isPending}>
      {run.isPending ? <span className="spinner spinner-on-primary" aria-hidden="true" /> : <span aria-hidden="true">▶</span>}
      {t.runNow}
    </button>
  );
}

/** Progress, then the answer: verdict, health, decision and alerts of the checkpoint just taken. */
export function RunResult({ run, onShow }: { run: RunNow; onShow: (id: string) => void }) {
  const t = useT(monitorMessages);
  const f = useFormat();
  const cp = run.data;
  return (
    <div className="run-result-slot" role="status" aria-live="polite">
      {run.isPending ? (
        <p className="run-result run-pending">
          <span className="spinner" aria-hidden="true" /> {t.running}
        </p>
      ) : run.error ? (
        <ErrorState error={run.error} />
      ) : cp ? (
        <div className={`run-result tone-${healthTone(cp.health ?? cp.status)}`}>
          <p className="run-result-head">
            <strong>{t.runResultTitle}</strong>{' '}
            <span className="muted small">
              <time dateTime={cp.at}>{f.time(cp.at)}</time>
              {cp.durationMs !== null ? ` · ${t.runTook(f.number(cp.durationMs / 1000))}` : ''}
            </span>
          </p>
          <p className="badges">
            <Badge tone={healthTone(cp.status)}>{cp.status}</Badge>
            {cp.health ? <Badge tone={healthTone(cp.health)}>{cp.health}</Badge> : null}
            {cp.decision ? <Badge tone="grey">{cp.decision}</Badge> : null}
            <span className="visually-hidden">{t.runResult(cp.status, cp.health ?? '—', cp.decision ?? '—')}</span>
          </p>
          {cp.alerts.length ? (
            <ul className="code-list" aria-label={t.alertCount(cp.alerts.length)}>
              {cp.alerts.map((a, i) => (
                <li key={i}>
                  <code>{a.code}</code> <span className="small">{a.message}</span>
                </li>
              ))}
            </ul>
          ) : (
            <p className="small">{t.noAlerts}</p>
          )}
          <button type="button" className="btn btn-small" onClick={() => onShow(cp.id)}>
            {t.showRunResult}
          </button>
        </div>
      ) : null}
    </div>
  );
}
