import { useQuery } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { useInvalidateFlag } from '../flags/invalidate.js';
import { useFlag } from '../flags/use-flag.js';
import { defineMessages, useFormat, useT } from '../i18n/i18n.js';
import { useCan, useSession } from '../session/session.js';
import { Badge, type Tone } from '../ui/badge.js';
import { ConfirmDialog } from '../ui/confirm-dialog.js';
import { Section } from '../ui/section.js';
import { Empty, QueryState } from '../ui/states.js';
import { LIVE_PLAN_STATES, usePlan } from './use-plan.js';

const m = defineMessages({
  en: {
    title: 'Scheduled changes',
    lead: 'Changes applied once, by the server, at the time given.',
    none: 'Nothing scheduled.',
    showPast: (n: number) => `Show past changes (${n})`,
    state: (s: string) => ({ pending: 'pending', applied: 'applied', failed: 'failed', cancelled: 'cancelled' })[s] ?? s,
    describe: (enabled: boolean | undefined, pct: string | undefined) =>
      [enabled === undefined ? null : enabled ? 'turn ON' : 'turn OFF', pct === undefined ? null : `rollout → ${pct}`].filter(Boolean).join(' and '),
    by: (who: string) => `by ${who}`,
    failedBecause: (why: string) => `Failed: ${why}`,
    appliedVersion: (v: unknown, changed: unknown) => `Applied as version ${String(v)}${changed === false ? ' (already so, nothing written)' : ''}`,
    cancelledBy: (who: string) => `cancelled by ${who}`,
    schedule: 'Schedule a change…',
    cancel: 'Cancel change…',
    createTitle: 'Schedule a change',
    createConfirm: 'Schedule change',
    when: 'When (your local time)',
    whenHint: (tz: string) => `In the future, at most a year ahead. Your time zone: ${tz}.`,
    what: 'Change',
    kinds: { on: 'Turn ON', off: 'Turn OFF', pct: 'Set the rollout %', onPct: 'Turn ON and set the rollout %' } as Record<Kind, string>,
    pct: 'Rollout %',
    pctInvalid: 'Use 0 to 100, with at most two decimals.',
    whenMissing: 'Pick a date and time.',
    preview: (when: string, rel: string, key: string, what: string) => `on ${when} (${rel}): ${key}: ${what}`,
    planWarning: 'A rollout plan is live: if it still runs then, a percentage change fails instead of fighting it.',
    cancelTitle: 'Cancel a scheduled change',
    cancelConfirm: 'Cancel scheduled change',
    cancelPreview: (what: string, when: string) => `cancel “${what}” due ${when}; it will not be applied`,
  },
  'pt-BR': {
    title: 'Mudanças agendadas',
    lead: 'Mudanças aplicadas uma vez, pelo servidor, no horário indicado.',
    none: 'Nada agendado.',
    showPast: (n: number) => `Mostrar mudanças passadas (${n})`,
    state: (s: string) => ({ pending: 'pendente', applied: 'aplicada', failed: 'falhou', cancelled: 'cancelada' })[s] ?? s,
    describe: (enabled: boolean | undefined, pct: string | undefined) =>
      [enabled === undefined ? null : enabled ? 'LIGAR' : 'DESLIGAR', pct === undefined ? null : `rollout → ${pct}`].filter(Boolean).join(' e '),
    by: (who: string) => `por ${who}`,
    failedBecause: (why: string) => `Falhou: ${why}`,
    appliedVersion: (v: unknown, changed: unknown) => `Aplicada como versão ${String(v)}${changed === false ? ' (já estava assim, nada gravado)' : ''}`,
    cancelledBy: (who: string) => `cancelada por ${who}`,
    schedule: 'Agendar uma mudança…',
    cancel: 'Cancelar mudança…',
    createTitle: 'Agendar uma mudança',
    createConfirm: 'Agendar mudança',
    when: 'Quando (seu horário local)',
    whenHint: (tz: string) => `No futuro, no máximo um ano à frente. Seu fuso horário: ${tz}.`,
    what: 'Mudança',
    kinds: { on: 'LIGAR', off: 'DESLIGAR', pct: 'Definir o % de rollout', onPct: 'LIGAR e definir o % de rollout' } as Record<Kind, string>,
    pct: 'Rollout %',
    pctInvalid: 'Use de 0 a 100, com no máximo duas casas decimais.',
    whenMissing: 'Escolha uma data e um horário.',
    preview: (when: string, rel: string, key: string, what: string) => `em ${when} (${rel}): ${key}: ${what}`,
    planWarning: 'Há um plano de rollout em andamento: se ainda estiver rodando nesse horário, uma mudança de percentual falha em vez de brigar com ele.',
    cancelTitle: 'Cancelar uma mudança agendada',
    cancelConfirm: 'Cancelar mudança agendada',
    cancelPreview: (what: string, when: string) => `cancelar “${what}” marcada para ${when}; ela não será aplicada`,
  },
});

type Kind = 'on' | 'off' | 'pct' | 'onPct';

interface ScheduledChange {
  id: string;
  flagKey: string;
  at: string;
  change: { enabled?: boolean; rolloutPercentage?: number };
  reason: string | null;
  state: 'pending' | 'applied' | 'failed' | 'cancelled' | string;
  createdBy: string;
  createdAt: string;
  appliedAt: string | null;
  cancelledBy: string | null;
  cancelledAt: string | null;
  result: Record<string, unknown> | null;
}

const TONE: Record<string, Tone> = { pending: 'blue', applied: 'green', failed: 'red', cancelled: 'grey' };

/** A `datetime-local` value (local time) one hour from now, on the minute. */
function inAnHour(): string {
  const d = new Date(Date.now() + 3_600_000);
  d.setSeconds(0, 0);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function parsePct(text: string): number | undefined {
  const n = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(n) || n < 0 || n > 100) return undefined;
  return Math.abs(Math.round(n * 100) - n * 100) < 1e-6 ? Math.round(n * 100) / 100 : undefined;
}

/** The flag's scheduled changes: pending ones first, the past behind a toggle; create and cancel for operators. */
export function ScheduledChanges({ flagKey }: { flagKey: string }) {
  const t = useT(m);
  const { request } = useSession();
  const canWrite = useCan('OPERATOR');
  const [showPast, setShowPast] = useState(false);
  const query = useQuery({
    queryKey: ['schedules', flagKey],
    queryFn: async ({ signal }) =>
      (await request<{ scheduledChanges: ScheduledChange[] }>(`/api/admin/feature-flags/${encodeURIComponent(flagKey)}/scheduled-changes`, { signal })).data.scheduledChanges,
  });

  return (
    <Section title={t.title} id="schedules" actions={canWrite ? <CreateSchedule flagKey={flagKey} /> : undefined}>
      <p className="muted small">{t.lead}</p>
      <QueryState query={query}>
        {(all) => {
          const pending = all.filter((c) => c.state === 'pending');
          // The past, latest first.
          const past = all.filter((c) => c.state !== 'pending').sort((a, b) => b.at.localeCompare(a.at));
          return (
            <>
              {pending.length ? (
                <ul className="schedule-list">
                  {pending.map((c) => (
                    <ScheduleRow key={c.id} change={c} canWrite={canWrite} />
                  ))}
                </ul>
              ) : (
                <Empty>{t.none}</Empty>
              )}
              {past.length ? (
                <details className="schedule-past" open={showPast} onToggle={(e) => setShowPast(e.currentTarget.open)}>
                  <summary>{t.showPast(past.length)}</summary>
                  <ul className="schedule-list">
                    {past.map((c) => (
                      <ScheduleRow key={c.id} change={c} canWrite={false} />
                    ))}
                  </ul>
                </details>
              ) : null}
            </>
          );
        }}
      </QueryState>
    </Section>
  );
}

function useDescribe() {
  const t = useT(m);
  const f = useFormat();
  return (c: ScheduledChange['change']) => t.describe(c.enabled, c.rolloutPercentage === undefined ? undefined : f.percent(c.rolloutPercentage));
}

function ScheduleRow({ change: c, canWrite }: { change: ScheduledChange; canWrite: boolean }) {
  const t = useT(m);
  const f = useFormat();
  const describe = useDescribe();
  const { request } = useSession();
  const invalidate = useInvalidateFlag();
  const [open, setOpen] = useState(false);
  const what = describe(c.change);
  return (
    <li className="schedule-row">
      <div className="schedule-main">
        <p className="badges">
          <Badge tone={TONE[c.state] ?? 'grey'}>{t.state(c.state)}</Badge>
          <strong>{what}</strong>
        </p>
        <p className="small">
          <time dateTime={c.at}>{f.dateTime(c.at)}</time> <span className="muted">({f.relative(c.at)})</span> · <span className="muted">{t.by(c.createdBy)}</span>
        </p>
        {c.reason ? <p className="small muted">“{c.reason}”</p> : null}
        {c.state === 'failed' && c.result ? <p className="small field-error">{t.failedBecause(String(c.result.error ?? c.result.code ?? ''))}</p> : null}
        {c.state === 'applied' && c.result ? <p className="small muted">{t.appliedVersion(c.result.version, c.result.changed)}</p> : null}
        {c.state === 'cancelled' && c.cancelledBy ? <p className="small muted">{t.cancelledBy(c.cancelledBy)}</p> : null}
      </div>
      {canWrite && c.state === 'pending' ? (
        <>
          <button type="button" className="btn btn-small" onClick={() => setOpen(true)}>
            {t.cancel}
          </button>
          <ConfirmDialog
            open={open}
            title={t.cancelTitle}
            confirmLabel={t.cancelConfirm}
            danger
            reason="optional"
            onClose={() => setOpen(false)}
            onReload={() => void invalidate(c.flagKey)}
            preview={<p className="preview-line">{t.cancelPreview(what, f.dateTime(c.at))}</p>}
            onConfirm={async (reason) => {
              await request(`/api/admin/scheduled-changes/${encodeURIComponent(c.id)}`, { method: 'DELETE', body: reason ? { reason } : {} });
              await invalidate(c.flagKey);
            }}
          />
        </>
      ) : null}
    </li>
  );
}

function CreateSchedule({ flagKey }: { flagKey: string }) {
  const t = useT(m);
  const f = useFormat();
  const describe = useDescribe();
  const { request } = useSession();
  const invalidate = useInvalidateFlag();
  const flag = useFlag(flagKey).data;
  const plan = usePlan(flagKey).data?.plan;
  const id = useId();
  const [open, setOpen] = useState(false);
  const [when, setWhen] = useState(inAnHour);
  const [kind, setKind] = useState<Kind>('pct');
  const [pctText, setPctText] = useState('');
  const withPct = kind === 'pct' || kind === 'onPct';
  const pct = withPct ? parsePct(pctText) : undefined;
  const at = when ? new Date(when) : null;
  const atOk = at !== null && !Number.isNaN(at.getTime());
  const change = { ...(kind === 'pct' ? {} : { enabled: kind !== 'off' }), ...(withPct && pct !== undefined ? { rolloutPercentage: pct } : {}) };
  const ready = atOk && (!withPct || pct !== undefined);
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;

  return (
    <>
      <button
        type="button"
        className="btn"
        onClick={() => {
          setWhen(inAnHour());
          setPctText(flag ? String(flag.rolloutPercentage) : '');
          setOpen(true);
        }}
      >
        {t.schedule}
      </button>
      <ConfirmDialog
        open={open}
        title={t.createTitle}
        confirmLabel={t.createConfirm}
        reason="optional"
        onClose={() => setOpen(false)}
        onReload={() => void invalidate(flagKey)}
        preview={
          <div className="form-grid">
            <label className="field" htmlFor={`${id}-when`}>
              <span>{t.when}</span>
              <input id={`${id}-when`} type="datetime-local" value={when} onChange={(e) => setWhen(e.target.value)} required aria-describedby={`${id}-when-hint`} />
              <small id={`${id}-when-hint`} className="muted">
                {t.whenHint(tz)}
              </small>
            </label>
            <label className="field" htmlFor={`${id}-kind`}>
              <span>{t.what}</span>
              <select id={`${id}-kind`} value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
                {(['on', 'off', 'pct', 'onPct'] as const).map((k) => (
                  <option key={k} value={k}>
                    {t.kinds[k]}
                  </option>
                ))}
              </select>
            </label>
            {withPct ? (
              <label className="field" htmlFor={`${id}-pct`}>
                <span>{t.pct}</span>
                <input
                  id={`${id}-pct`}
                  type="number"
                  inputMode="decimal"
                  min={0}
                  max={100}
                  step={0.01}
                  value={pctText}
                  onChange={(e) => setPctText(e.target.value)}
                  required
                  aria-invalid={pct === undefined}
                />
                {pct === undefined ? <small className="field-error">{t.pctInvalid}</small> : null}
              </label>
            ) : null}
            <p className="preview-line">{ready && at ? t.preview(f.dateTime(at), f.relative(at), flagKey, describe(change)) : t.whenMissing}</p>
            {withPct && plan && LIVE_PLAN_STATES.includes(plan.state) ? <p className="small state state-conflict">{t.planWarning}</p> : null}
          </div>
        }
        onConfirm={async (reason) => {
          if (!ready || !at) throw new Error(withPct && pct === undefined ? t.pctInvalid : t.whenMissing);
          await request(`/api/admin/feature-flags/${encodeURIComponent(flagKey)}/scheduled-changes`, {
              method: 'POST',
              body: { at: at.toISOString(), ...change, ...(reason ? { reason } : {}) },
            });
          await invalidate(flagKey);
        }}
      />
    </>
  );
}
