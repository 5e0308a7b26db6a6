import { useId, useState } from 'react';
import type { Flag } from '../api/types.js';
import { defineMessages, useFormat, useT } from '../i18n/i18n.js';
import { planMessages } from '../plans/plan-messages.js';
import { LIVE_PLAN_STATES, usePlan } from '../plans/use-plan.js';
import { useCan, useSession } from '../session/session.js';
import { ConfirmDialog } from '../ui/confirm-dialog.js';
import { Section } from '../ui/section.js';
import { useInvalidateFlag } from './invalidate.js';

const m = defineMessages({
  en: {
    title: 'Rollout',
    current: 'of subjects',
    plusAllowlist: (n: number) => `plus ${n} allowlisted`,
    offNote: 'The flag is OFF: nobody gets it until it is re-enabled, whatever the percentage.',
    planNote: (stage: number, of: number, state: string) =>
      `A rollout plan steers this percentage (stage ${stage} of ${of}, ${state}). The server refuses manual changes while it runs: use the plan’s controls below, or the kill switch.`,
    slider: 'Rollout percentage (slider)',
    number: 'Rollout percentage',
    quick: 'Quick picks',
    quickPick: (pct: string) => `Set ${pct}`,
    planMark: (stage: number) => `plan stage ${stage}`,
    marksLegend: 'Marks on the slider: the plan’s stages.',
    apply: 'Apply rollout…',
    reset: 'Reset',
    invalid: 'Use 0 to 100, with at most two decimals.',
    dialogTitle: 'Change the rollout',
    confirm: 'Change rollout',
    preview: (from: string, to: string) => `rollout ${from} → ${to}`,
    estimate: (to: string, buckets: number) =>
      `Estimate: about ${to} of subjects (${buckets.toLocaleString('en')} of 10 000 hash buckets) get the flag, plus the allowlist.`,
    raising: 'Raising keeps everyone who already has it: buckets are sticky per subject.',
    lowering: (lost: string) => `Lowering takes it away from about ${lost} of subjects; the allowlist keeps it.`,
    offPreview: 'The flag is OFF: this changes nothing for users until it is re-enabled.',
    planPreview: 'A rollout plan is live: the server will probably refuse this (PLAN_ACTIVE).',
  },
  'pt-BR': {
    title: 'Rollout',
    current: 'dos usuários',
    plusAllowlist: (n: number) => `mais ${n} na allowlist`,
    offNote: 'A flag está DESLIGADA: ninguém a recebe até ser religada, seja qual for o percentual.',
    planNote: (stage: number, of: number, state: string) =>
      `Um plano de rollout controla este percentual (etapa ${stage} de ${of}, ${state}). O servidor recusa mudanças manuais enquanto ele roda: use os controles do plano abaixo, ou o kill switch.`,
    slider: 'Percentual de rollout (controle deslizante)',
    number: 'Percentual de rollout',
    quick: 'Atalhos',
    quickPick: (pct: string) => `Definir ${pct}`,
    planMark: (stage: number) => `etapa ${stage} do plano`,
    marksLegend: 'Marcas no controle: as etapas do plano.',
    apply: 'Aplicar rollout…',
    reset: 'Desfazer',
    invalid: 'Use de 0 a 100, com no máximo duas casas decimais.',
    dialogTitle: 'Alterar o rollout',
    confirm: 'Alterar rollout',
    preview: (from: string, to: string) => `rollout ${from} → ${to}`,
    estimate: (to: string, buckets: number) =>
      `Estimativa: cerca de ${to} dos usuários (${buckets.toLocaleString('pt-BR')} de 10 000 buckets de hash) recebem a flag, além da allowlist.`,
    raising: 'Aumentar mantém todos que já a têm: os buckets são fixos por usuário.',
    lowering: (lost: string) => `Diminuir a retira de cerca de ${lost} dos usuários; a allowlist continua com ela.`,
    offPreview: 'A flag está DESLIGADA: isto não muda nada para os usuários até ela ser religada.',
    planPreview: 'Há um plano de rollout em andamento: o servidor provavelmente vai recusar (PLAN_ACTIVE).',
  },
});

const QUICK = [0, 1, 5, 10, 25, 50, 100];

/** A percentage with at most two decimals in 0..100, or undefined. */
function parsePct(text: string): number | undefined {
  const n = Number(text.trim().replace(',', '.'));
  if (text.trim() === '' || !Number.isFinite(n) || n < 0 || n > 100) return undefined;
  return Math.abs(Math.round(n * 100) - n * 100) < 1e-6 ? Math.round(n * 100) / 100 : undefined;
}

/** The rollout percentage: a slider with the plan's stages marked, quick picks, and an exact number. */
export function RolloutControl({ flag, onReload }: { flag: Flag; onReload: () => void }) {
  const t = useT(m);
  const pm = useT(planMessages);
  const f = useFormat();
  const canWrite = useCan('OPERATOR');
  const { request } = useSession();
  const invalidate = useInvalidateFlag();
  const id = useId();
  const plan = usePlan(flag.key).data?.plan ?? null;
  const planLive = plan !== null && LIVE_PLAN_STATES.includes(plan.state);
  // null: follow the flag (a live change moves the control); a string: the operator's draft.
  const [draft, setDraft] = useState<string | null>(null);
  // What the dialog was opened on: the preview and If-Match come from it (a live change meanwhile answers 409).
  const [basis, setBasis] = useState<{ flag: Flag; target: number } | null>(null);
  const text = draft ?? String(flag.rolloutPercentage);
  const target = parsePct(text);
  const changed = target !== undefined && target !== flag.rolloutPercentage;
  const current = f.percent(flag.rolloutPercentage);

  const stages = planLive ? plan.stages.map((s, i) => ({ pct: s.percentage, stage: i + 1, current: i === plan.currentStage })) : [];
  const picks = [...new Set([...QUICK, ...stages.map((s) => s.pct)])].sort((a, b) => a - b);
  // Label a mark only when it has room (the low stages 0, 1, 5 crowd together).
  let lastLabelled = -100;
  const marks = stages.map((s) => {
    const labelled = s.pct - lastLabelled >= 8;
    if (labelled) lastLabelled = s.pct;
    return { ...s, labelled };
  });

  return (
    <Section title={t.title} id="rollout">
      <p className="big-number">
        <strong>{current}</strong> <span className="muted">{t.current}</span>
        {flag.allowlistCount ? <span className="muted small"> · {t.plusAllowlist(flag.allowlistCount)}</span> : null}
      </p>
      {flag.enabled ? null : <p className="state state-conflict small">{t.offNote}</p>}
      {planLive && plan.progress ? <p className="notice small">{t.planNote(plan.progress.stage, plan.progress.of, pm.state(plan.state))}</p> : null}
      {canWrite ? (
        <>
          <form
            className="rollout-form"
            onSubmit={(e) => {
              e.preventDefault();
              if (changed) setBasis({ flag, target });
            }}
          >
            <div className="slider">
              <label htmlFor={`${id}-range`} className="visually-hidden">
                {t.slider}
              </label>
              <input
                id={`${id}-range`}
                type="range"
                min={0}
                max={100}
                step={0.01}
                value={target ?? flag.rolloutPercentage}
                onChange={(e) => setDraft(e.target.value)}
                aria-valuetext={target === undefined ? undefined : f.percent(target)}
              />
              {marks.length ? (
                <div className="slider-marks" aria-hidden="true">
                  {marks.map((s) => (
                    <span key={s.stage} className={`slider-mark${s.current ? ' slider-mark-current' : ''}`} style={{ left: `${s.pct}%` }} title={t.planMark(s.stage)}>
                      {s.labelled ? <span className="slider-mark-label">{s.pct}</span> : null}
                    </span>
                  ))}
                </div>
              ) : null}
            </div>
            {marks.length ? <p className="muted small">{t.marksLegend}</p> : null}
            <div className="rollout-row">
              <label className="field rollout-number" htmlFor={`${id}-number`}>
                <span>{t.number}</span>
                <input
                  id={`${id}-number`}
                  type="number"
                  inputMode="decimal"
                  min={0}
                  max={100}
                  step={0.01}
                  value={text}
                  onChange={(e) => setDraft(e.target.value)}
                  aria-invalid={target === undefined}
                  aria-describedby={target === undefined ? `${id}-invalid` : undefined}
                />
              </label>
              <div className="rollout-actions">
                <button type="submit" className="btn btn-primary" disabled={!changed}>
                  {t.apply}
                </button>
                {draft !== null && target !== flag.rolloutPercentage ? (
                  <button type="button" className="btn" onClick={() => setDraft(null)}>
                    {t.reset}
                  </button>
                ) : null}
              </div>
            </div>
            {target === undefined ? (
              <p id={`${id}-invalid`} className="small field-error" role="alert">
                {t.invalid}
              </p>
            ) : null}
            <div className="quick-picks" role="group" aria-label={t.quick}>
              {picks.map((p) => {
                const stage = stages.find((s) => s.pct === p);
                return (
                  <button
                    key={p}
                    type="button"
                    className={`btn btn-small${stage ? ' quick-plan' : ''}`}
                    aria-pressed={target === p}
                    title={stage ? t.planMark(stage.stage) : undefined}
                    onClick={() => setDraft(String(p))}
                  >
                    {f.percent(p)}
                  </button>
                );
              })}
            </div>
          </form>
          <ConfirmDialog
            open={basis !== null}
            title={t.dialogTitle}
            confirmLabel={t.confirm}
            reason="optional"
            onClose={() => setBasis(null)}
            onReload={() => {
              setDraft(null);
              onReload();
            }}
            preview={basis ? <RolloutPreview from={basis.flag} to={basis.target} planLive={planLive} /> : null}
            onConfirm={async (reason) => {
              if (!basis) return;
              await request(`/api/admin/feature-flags/${encodeURIComponent(basis.flag.key)}`, {
                  method: 'PUT',
                  body: { rolloutPercentage: basis.target, ...(reason ? { reason } : {}) },
                  ifMatch: basis.flag.version,
                });
              setDraft(null);
              await invalidate(basis.flag.key);
            }}
          />
        </>
      ) : null}
    </Section>
  );
}

/** "rollout 1 % → 5 %", what that means for subjects, and what could stop it. */
function RolloutPreview({ from, to, planLive }: { from: Flag; to: number; planLive: boolean }) {
  const t = useT(m);
  const f = useFormat();
  const lost = Math.round((from.rolloutPercentage - to) * 100) / 100;
  return (
    <>
      <p className="preview-line">{t.preview(f.percent(from.rolloutPercentage), f.percent(to))}</p>
      <p className="small">
        {t.estimate(f.percent(to), Math.round(to * 100))} {to > from.rolloutPercentage ? t.raising : t.lowering(f.percent(lost))}
      </p>
      {from.enabled ? null : <p className="small">{t.offPreview}</p>}
      {planLive ? <p className="small state state-conflict">{t.planPreview}</p> : null}
    </>
  );
}
