import type { ReactNode } from 'react';
import type { CheckpointSummary, Flag } from '../api/types.js';
import { useFormat, useT } from '../i18n/i18n.js';
import { Badge, healthTone } from '../ui/badge.js';
import { monitorMessages } from './messages.js';

/** The first thing an operator reads: health in big letters, the latest verdict and decision, the flag's exposure. */
export function StatusCard({ flag, latest, loading, children }: { flag: Flag | undefined; latest: CheckpointSummary | undefined; loading: boolean; children?: ReactNode }) {
  const t = useT(monitorMessages);
  const f = useFormat();
  const health = latest?.health ?? null;
  const tone = healthTone(health);
  return (
    <section className="card monitor-status" aria-labelledby="monitor-status-title">
      <h2 id="monitor-status-title" className="visually-hidden">
        {t.statusTitle}
      </h2>
      <div className="monitor-status-row">
        <div className={`health-block tone-${tone}`} data-testid="health">
          <span className="health-label">{t.health}</span>
          <strong className="health-value">{health ?? '—'}</strong>
          <span className="health-word">{health ? t.healthWords[health] : loading ? '' : t.healthUnknown}</span>
        </div>
        <dl className="status-facts">
          <div>
            <dt>{t.verdict}</dt>
            <dd>{latest ? <Badge tone={healthTone(latest.status)}>{latest.status}</Badge> : '—'}</dd>
          </div>
          <div>
            <dt>{t.decision}</dt>
            <dd>
              {latest?.decision ? (
                <>
                  <strong className="mono">{latest.decision}</strong> <span className="small muted">{t.decisionWords[latest.decision] ?? ''}</span>
                </>
              ) : (
                '—'
              )}
            </dd>
          </div>
          <div>
            <dt>{t.latestCheckpoint}</dt>
            <dd>
              {latest ? (
                <>
                  <time dateTime={latest.at} title={f.dateTime(latest.at)}>
                    {f.relative(latest.at)}
                  </time>{' '}
                  <span className="small muted block">
                    {t.byActor(t.triggers[latest.trigger] ?? latest.trigger, latest.actor)} · {t.alertCount(latest.alerts.length)}
                  </span>
                </>
              ) : loading ? (
                '…'
              ) : (
                <span className="muted">{t.noCheckpoints}</span>
              )}
            </dd>
          </div>
          <div>
            <dt>{t.flagState}</dt>
            <dd className="badges">
              {flag ? (
                flag.enabled ? (
                  <>
                    <Badge tone="green">{t.on}</Badge> <span>{t.exposure(f.percent(flag.rolloutPercentage))}</span>
                  </>
                ) : (
                  <Badge tone="red">{t.off}</Badge>
                )
              ) : (
                '…'
              )}
            </dd>
          </div>
        </dl>
      </div>
      {children}
    </section>
  );
}
