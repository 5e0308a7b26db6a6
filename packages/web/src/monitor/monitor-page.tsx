import { useState } from 'react';
import { Link } from 'wouter';
import { ApiError } from '../api/client.js';
import { useFlag } from '../flags/use-flag.js';
import { common } from '../i18n/common.js';
import { useT } from '../i18n/i18n.js';
import { PlanPanel } from '../plans/plan-panel.js';
import { useCan } from '../session/session.js';
import { Section } from '../ui/section.js';
import { ErrorState } from '../ui/states.js';
import { CheckpointDetail } from './checkpoint-detail.js';
import { CheckpointTimeline } from './checkpoint-timeline.js';
import { monitorMessages } from './messages.js';
import { MetricCharts } from './metric-charts.js';
import { RunNowButton, RunResult } from './run-now.js';
import { SignalForm } from './signal-form.js';
import { SignalList } from './signal-list.js';
import { StatusCard } from './status-card.js';
import { useCheckpoints } from './use-monitor.js';
import { useRunNow } from './use-run-now.js';

export { MonitorIndex } from './monitor-index.js';

/**
 * `/admin/beta-monitor/:key`: the page an operator keeps open during a rollout. Health first,
 * then the plan, the cohorts' charts with the stage changes marked, the checkpoints with the
 * selected one's report, and the operators' signals. Change events keep it live; charts poll.
 */
export function MonitorPage({ flagKey }: { flagKey: string }) {
  const t = useT(monitorMessages);
  const c = useT(common);
  const canOperate = useCan('OPERATOR');
  const flag = useFlag(flagKey);
  const timeline = useCheckpoints(flagKey);
  // undefined: follow the newest checkpoint as new ones arrive.
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const run = useRunNow(flagKey, () => setSelected(undefined));
  const latest = timeline.data?.pages[0]?.[0];
  const selectedId = selected ?? latest?.id;
  const missing = flag.error instanceof ApiError && flag.error.status === 404;

  return (
    <div className="page monitor">
      <header className="page-header">
        <div className="monitor-title">
          <Link href="/beta-monitor" className="back">
            {t.back}
          </Link>
          <h1 className="flag-title">{flagKey}</h1>
          <p className="muted">{t.pageLead}</p>
          {!canOperate ? <p className="notice small">{c.readOnly}</p> : null}
        </div>
        {canOperate && !missing ? <RunNowButton run={run} /> : null}
      </header>
      {flag.error ? (
        <ErrorState error={flag.error} onRetry={() => void flag.refetch()} />
      ) : null}
      {missing ? null : (
        <>
          <StatusCard flag={flag.data} latest={latest} loading={timeline.isPending}>
            {canOperate ? (
              <RunResult
                run={run}
                onShow={(id) => {
                  setSelected(id);
                  document.getElementById('monitor-report')?.scrollIntoView({ block: 'start' });
                }}
              />
            ) : null}
          </StatusCard>
          <PlanPanel flagKey={flagKey} />
          <MetricCharts flagKey={flagKey} />
          <div className="monitor-split">
            <CheckpointTimeline query={timeline} selectedId={selectedId} onSelect={setSelected} />
            <CheckpointDetail flagKey={flagKey} id={selectedId} />
          </div>
          <div className={canOperate ? 'grid-2' : undefined}>
            {canOperate ? (
              <Section title={t.signalFormTitle} id="monitor-signal-form">
                <SignalForm flagKey={flagKey} />
              </Section>
            ) : null}
            <Section title={t.signalsTitle} id="monitor-signals">
              <SignalList flagKey={flagKey} />
            </Section>
          </div>
        </>
      )}
    </div>
  );
}
