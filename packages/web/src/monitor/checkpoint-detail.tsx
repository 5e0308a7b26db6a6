import { useFormat, useT } from '../i18n/i18n.js';
import { Badge, healthTone } from '../ui/badge.js';
import { Section } from '../ui/section.js';
import { Empty, QueryState } from '../ui/states.js';
import { AlertList } from './alert-list.js';
import { monitorMessages } from './messages.js';
import { ReportView } from './report-view.js';
import { useCheckpoint } from './use-monitor.js';

/** The selected checkpoint: its verdict, its alerts with their numbers, and its markdown report. */
export function CheckpointDetail({ flagKey, id }: { flagKey: string; id: string | undefined }) {
  const t = useT(monitorMessages);
  const f = useFormat();
  const query = useCheckpoint(flagKey, id);
  return (
    <Section title={t.detailTitle} id="monitor-report">
      {id === undefined ? (
        <Empty>{t.selectHint}</Empty>
      ) : (
        <QueryState query={query}>
          {(cp) => (
            <div className="cp-detail">
              <p className="cp-detail-head">
                <span className="badges">
                  <Badge tone={healthTone(cp.status)}>{cp.status}</Badge>
                  {cp.health ? <Badge tone={healthTone(cp.health)}>{cp.health}</Badge> : null}
                  {cp.decision ? <Badge tone="grey">{cp.decision}</Badge> : null}
                </span>
                <span className="small muted">
                  <time dateTime={cp.at}>{t.detailOf(f.dateTime(cp.at), cp.id)}</time> · {t.byActor(t.triggers[cp.trigger] ?? cp.trigger, cp.actor)}
                </span>
              </p>
              <h3>{t.alertsTitle(cp.alerts.length)}</h3>
              <AlertList alerts={cp.alerts} />
              <h3>{t.reportHeading}</h3>
              {cp.report ? <ReportView source={cp.report} /> : <Empty>{t.noReport}</Empty>}
            </div>
          )}
        </QueryState>
      )}
    </Section>
  );
}
