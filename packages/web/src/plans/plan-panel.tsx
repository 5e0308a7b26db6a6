import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import type { Flag, Plan } from '../api/types.js';
import { useInvalidateFlag } from '../flags/invalidate.js';
import { useFlag } from '../flags/use-flag.js';
import { useFormat, useT } from '../i18n/i18n.js';
import { useCan, useSession } from '../session/session.js';
import { Badge, type Tone } from '../ui/badge.js';
import { ConfirmDialog } from '../ui/confirm-dialog.js';
import { Section } from '../ui/section.js';
import { Empty, Loading, QueryState } from '../ui/states.js';
import { nextCronRun } from './cron.js';
import { StartPlan } from './start-plan.js';
import { planMessages as m, type PlanAction } from './plan-messages.js';
import { LIVE_PLAN_STATES, usePlan } from './use-plan.js';

/** A clock that moves every 30 s, so dwell time and the next checkpoint stay current without refetching. */
function useNow(everyMs = 30_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/** 2 d 4 h, 3 h 20 min, 12 min. */
export function duration(minutes: number): string {
  const mins = Math.max(0, Math.round(minutes));
  const d = Math.floor(mins / 1440);
  const h = Math.floor((mins % 1440) / 60);
  const mm = mins % 60;
  if (d) return h ? `${d} d ${h} h` : `${d} d`;
  if (h) return mm ? `${h} h ${mm} min` : `${h} h`;
  return `${mm} min`;
}

export function stateTone(state: string): Tone {
  return state === 'active' || state === 'completed' ? 'green' : state === 'paused' ? 'yellow' : state === 'rolling_back' || state === 'rolled_back' ? 'red' : 'grey';
}

/** The flag's rollout plan: stages, where it stands, what comes next, and its lifecycle buttons. */
export function PlanPanel({ flagKey }: { flagKey: string }) {
  const t = useT(m);
  const query = usePlan(flagKey);
  const canWrite = useCan('OPERATOR');
  return (
    <Section title={t.title} id="plan">
      <QueryState query={query}>
        {({ plan, history }) => (
          <>
            {plan ? <LivePlan plan={plan} flagKey={flagKey} onReload={() => void query.refetch()} /> : <NoPlan flagKey={flagKey} canWrite={canWrite} />}
            <PlanHistory plans={history.filter((p) => p.id !== plan?.id)} />
          </>
        )}
      </QueryState>
    </Section>
  );
}

function NoPlan({ flagKey, canWrite }: { flagKey: string; canWrite: boolean }) {
  const t = useT(m);
  return (
    <div className="plan-empty">
      <Empty>{t.none}</Empty>
      {canWrite ? <StartPlan flagKey={flagKey} /> : null}
    </div>
  );
}

function LivePlan({ plan, flagKey, onReload }: { plan: Plan; flagKey: string; onReload: () => void }) {
  const t = useT(m);
  const f = useFormat();
  const now = useNow();
  const canWrite = useCan('OPERATOR');
  const stage = plan.stages[plan.currentStage];
  const progress = plan.progress;
  const elapsed = (now - new Date(plan.stageStartedAt).getTime()) / 60_000;
  const required = progress?.dwellRequiredMinutes ?? 0;
  const next = nextCronRun(plan.cadence, new Date(now));

  return (
    <div className="plan">
      <div className="plan-summary">
        <p className="badges">
          <Badge tone={stateTone(plan.state)}>{t.state(plan.state)}</Badge>
          {plan.awaitingApproval ? <Badge tone="yellow">{t.awaitingApproval}</Badge> : null}
          {progress ? (
            <strong>
              {t.stageOf(progress.stage, progress.of)} · {f.percent(progress.percentage)}
            </strong>
          ) : null}
        </p>
        <p className="muted small">
          {plan.template ? `${t.template}: ${plan.template} · ` : ''}
          {t.policy}: {t.policyText(plan.rollbackPolicy)} · {t.startedAt(f.dateTime(plan.createdAt))}
        </p>
      </div>
      {plan.awaitingApproval ? <p className="notice">{t.approvalNotice}</p> : null}
      {plan.rollbackReason ? (
        <div className="state state-error" role="status">
          <strong>{t.rollbackReason}</strong>
          <p>{plan.rollbackReason}</p>
        </div>
      ) : null}

      <Stepper plan={plan} />

      <div className="plan-facts">
        <div className="plan-fact">
          <h3>{t.dwell}</h3>
          {required > 0 ? (
            <>
              <Meter value={Math.min(elapsed, required)} max={required} label={t.dwell} />
              <p className="small">
                {t.dwellText(duration(elapsed), duration(required))}
                {plan.extensionsUsed ? ` · ${t.extensions(plan.extensionsUsed)}` : ''}
              </p>
            </>
          ) : (
            <p className="small muted">{t.noDwell}</p>
          )}
        </div>
        <div className="plan-fact">
          <h3>{t.sample}</h3>
          {stage && stage.minSample > 0 ? <Sample flagKey={flagKey} from={plan.stageStartedAt} min={stage.minSample} /> : <p className="small muted">{t.noSample}</p>}
        </div>
        <div className="plan-fact">
          <h3>{t.nextCheckpoint}</h3>
          {plan.state === 'active' || plan.state === 'paused' ? (
            next ? (
              <p className="small">
                <strong>{f.time(next)}</strong> <span className="muted">({f.relative(next, now)})</span>
              </p>
            ) : null
          ) : (
            <p className="small muted">{t.noCheckpoint}</p>
          )}
          <p className="small muted">
            {t.cadence} <code>{plan.cadence}</code> UTC
          </p>
        </div>
      </div>

      {canWrite ? <PlanActions plan={plan} flagKey={flagKey} onReload={onReload} /> : null}
    </div>
  );
}

/** A labelled bar (a native <progress>, which screen readers announce). */
function Meter({ value, max, label }: { value: number; max: number; label: string }) {
  return <progress className="meter" value={value} max={max} aria-label={label} />;
}

function Stepper({ plan }: { plan: Plan }) {
  const t = useT(m);
  const f = useFormat();
  const ended = !LIVE_PLAN_STATES.includes(plan.state);
  return (
    <ol className="stepper" aria-label={t.stages}>
      {plan.stages.map((s, i) => {
        const status = i < plan.currentStage || (ended && plan.state === 'completed') ? 'done' : i === plan.currentStage ? 'current' : 'todo';
        return (
          <li key={i} className={`step step-${status}`} aria-current={status === 'current' ? 'step' : undefined}>
            <span className="step-num">
              {t.stageN(i + 1)}
              <span className="visually-hidden"> ({t.stepStatus(status)})</span>
            </span>
            <span className="step-pct">{f.percent(s.percentage)}</span>
            <span className="step-meta">{s.gate === 'approval' ? t.gateApproval : t.gateAuto}</span>
            <span className="step-meta">{s.minDwellMinutes ? t.minDwell(duration(s.minDwellMinutes)) : t.noMinDwell}</span>
            {s.minSample ? <span className="step-meta">{t.minSample(f.number(s.minSample))}</span> : null}
          </li>
        );
      })}
    </ol>
  );
}

interface CohortCounts {
  requests: number;
  exposures: number;
}

/** Requests each cohort has seen since the stage began, against the stage's minimum. */
function Sample({ flagKey, from, min }: { flagKey: string; from: string; min: number }) {
  const t = useT(m);
  const f = useFormat();
  const { request } = useSession();
  // Metrics arrive without change events, so this one refreshes itself once a minute.
  const query = useQuery({
    queryKey: ['metrics', flagKey, 'summary', from],
    queryFn: async ({ signal }) =>
      (await request<{ cohorts: Record<string, CohortCounts> }>(`/api/admin/metrics/${encodeURIComponent(flagKey)}/summary?from=${encodeURIComponent(from)}`, { signal })).data,
    refetchInterval: 60_000,
  });
  if (query.isPending) return <Loading />;
  if (query.error) return <p className="small muted">{t.sampleUnknown}</p>;
  return (
    <>
      {(['exposed', 'control'] as const).map((c) => {
        const n = query.data.cohorts[c]?.requests ?? 0;
        return (
          <div key={c} className="sample-row">
            <span className="small">
              {t.cohort(c)}: {t.sampleText(f.number(n), f.number(min))}
            </span>
            <Meter value={Math.min(n, min)} max={min} label={`${t.sample} ${t.cohort(c)}`} />
          </div>
        );
      })}
    </>
  );
}

/** Where each lifecycle action takes the flag, in the words of the preview. */
function actionPreview(action: PlanAction, plan: Plan, flag: Flag | undefined, t: (typeof m)['en'], pct: (n: number) => string): string[] {
  const cur = plan.stages[plan.currentStage];
  const now = flag ? pct(flag.rolloutPercentage) : cur ? pct(cur.percentage) : '?';
  const nextIdx = plan.currentStage + 1;
  const next = plan.stages[nextIdx];
  switch (action) {
    case 'approve':
    case 'advance':
      return next
        ? [t.pvAdvance(plan.currentStage + 1, nextIdx + 1, now, pct(next.percentage)), ...(flag && !flag.enabled ? [t.pvEnables] : [])]
        : [t.pvLast(plan.currentStage + 1)];
    case 'pause':
      return [t.pvPause(now)];
    case 'resume':
      return [t.pvResume(plan.currentStage + 1, now, cur ? pct(cur.percentage) : '?'), ...(flag && !flag.enabled ? [t.pvEnables] : [])];
    case 'rollback': {
      const bp = flag?.rolloutBasisPoints ?? Math.round((cur?.percentage ?? 0) * 100);
      switch (plan.rollbackPolicy) {
        case 'disable':
          return [t.pvRollbackDisable(flag?.key ?? plan.flag)];
        case 'zero':
          return [t.pvRollbackTo(now, pct(0)), t.pvAllowlistKept];
        case 'previous':
          return [t.pvRollbackTo(now, pct(plan.lastPassedStage === null ? 0 : plan.stages[plan.lastPassedStage]!.percentage)), t.pvAllowlistKept];
        case 'halve':
          return [t.pvRollbackTo(now, pct(Math.floor(bp / 2) / 100)), t.pvAllowlistKept];
        default:
          return [t.pvRollbackPolicy(plan.rollbackPolicy)];
      }
    }
    case 'complete':
      return [t.pvComplete(plan.currentStage + 1, now)];
    case 'abort':
      return [t.pvAbort(now)];
  }
}

function PlanActions({ plan, flagKey, onReload }: { plan: Plan; flagKey: string; onReload: () => void }) {
  const t = useT(m);
  const f = useFormat();
  const { request } = useSession();
  const invalidate = useInvalidateFlag();
  const flag = useFlag(flagKey).data;
  const [action, setAction] = useState<PlanAction | null>(null);
  const active = plan.state === 'active';
  const paused = plan.state === 'paused';
  const live = active || paused;
  const available: PlanAction[] = [
    ...(active && plan.awaitingApproval ? (['approve'] as const) : []),
    ...(active ? (['advance', 'pause'] as const) : []),
    ...(paused ? (['resume'] as const) : []),
    ...(live ? (['rollback', 'complete', 'abort'] as const) : []),
  ];
  if (!available.length) return null;
  const danger = (a: PlanAction) => a === 'rollback' || a === 'abort';

  return (
    <div className="plan-actions">
      <div className="toolbar">
        {available.map((a) => (
          <button key={a} type="button" className={`btn ${a === 'approve' || a === 'resume' ? 'btn-primary' : danger(a) ? 'btn-danger-outline' : ''}`} onClick={() => setAction(a)}>
            {t.button(a)}
          </button>
        ))}
      </div>
      <ConfirmDialog
        open={action !== null}
        title={action ? t.dialogTitle(action) : ''}
        confirmLabel={action ? t.confirmLabel(action) : ''}
        danger={action !== null && danger(action)}
        reason={action === 'rollback' || action === 'abort' ? 'required' : 'optional'}
        onClose={() => setAction(null)}
        onReload={() => {
          onReload();
          void invalidate(flagKey);
        }}
        preview={
          action ? (
            <>
              {actionPreview(action, plan, flag, t, f.percent).map((line, i) => (
                <p key={i} className={i === 0 ? 'preview-line' : 'small'}>
                  {line}
                </p>
              ))}
              <p className="small muted">{t.explain(action)}</p>
            </>
          ) : null
        }
        onConfirm={async (reason) => {
          if (!action) return;
          await request(`/api/admin/rollouts/${encodeURIComponent(flagKey)}/${action}`, { method: 'POST', body: reason ? { reason } : {} });
          await invalidate(flagKey);
        }}
      />
    </div>
  );
}

function PlanHistory({ plans }: { plans: Plan[] }) {
  const t = useT(m);
  const f = useFormat();
  if (!plans.length) return null;
  return (
    <details className="plan-history">
      <summary>{t.history(plans.length)}</summary>
      <ul className="plan-history-list">
        {plans.map((p) => {
          const reached = p.stages[p.currentStage];
          return (
            <li key={p.id}>
              <p className="badges">
                <Badge tone={stateTone(p.state)}>{t.state(p.state)}</Badge>
                <span className="mono small">{p.template ?? p.id}</span>
              </p>
              <p className="small">
                {t.historyLine(f.dateTime(p.createdAt), p.endedAt ? f.dateTime(p.endedAt) : null, p.currentStage + 1, p.stages.length, reached ? f.percent(reached.percentage) : '—')}
              </p>
              {p.rollbackReason ? <p className="small">{t.rollbackReason}: {p.rollbackReason}</p> : null}
            </li>
          );
        })}
      </ul>
    </details>
  );
}
