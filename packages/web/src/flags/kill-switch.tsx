import { useState } from 'react';
import type { Flag } from '../api/types.js';
import { defineMessages, useFormat, useT } from '../i18n/i18n.js';
import { usePlan } from '../plans/use-plan.js';
import { useCan, useSession } from '../session/session.js';
import { ConfirmDialog } from '../ui/confirm-dialog.js';
import { Section } from '../ui/section.js';
import { useInvalidateFlag } from './invalidate.js';

const m = defineMessages({
  en: {
    title: 'Kill switch',
    on: 'ON',
    off: 'OFF',
    stateOn: 'Serving',
    stateOff: 'Killed',
    onDetail: (pct: string, ids: number) => `Rollout ${pct} of subjects, plus ${ids} allowlisted id${ids === 1 ? '' : 's'}.`,
    offDetail: 'Off for everyone, allowlist included.',
    kill: 'Kill flag',
    enable: 'Re-enable flag',
    killTitle: 'Kill this flag',
    enableTitle: 'Re-enable this flag',
    killConfirm: 'Disable for everyone',
    enableConfirm: 'Enable',
    killPreview: (key: string) => `disable ${key} for everyone (allowlist included)`,
    killPlan: 'The live rollout plan will be paused, so it cannot turn the flag back on.',
    killNote: 'SDKs pick the change up within seconds. A reason is required.',
    enablePreview: (key: string, pct: string, ids: number) => `enable ${key}: rollout ${pct} plus ${ids} allowlisted id${ids === 1 ? '' : 's'} get it again`,
    enablePlan: 'The rollout plan stays paused; resume it from the plan panel when ready.',
    whatKillDoes: 'Killing turns the flag off for everyone within seconds — allowlist included — and pauses a running plan. The rollout percentage and allowlist are kept for when you re-enable it.',
    planPaused: 'The rollout plan is paused.',
    whatEnableDoes: 'Re-enabling serves the current rollout percentage and the allowlist again. A paused plan stays paused until resumed.',
  },
  'pt-BR': {
    title: 'Kill switch',
    on: 'LIGADA',
    off: 'DESLIGADA',
    stateOn: 'Servindo',
    stateOff: 'Desligada',
    onDetail: (pct: string, ids: number) => `Rollout de ${pct} dos usuários, mais ${ids} id${ids === 1 ? '' : 's'} na allowlist.`,
    offDetail: 'Desligada para todos, inclusive a allowlist.',
    kill: 'Desligar flag',
    enable: 'Religar flag',
    killTitle: 'Desligar esta flag',
    enableTitle: 'Religar esta flag',
    killConfirm: 'Desligar para todos',
    enableConfirm: 'Religar',
    killPreview: (key: string) => `desligar ${key} para todos (inclusive a allowlist)`,
    killPlan: 'O plano de rollout em andamento será pausado, para que não religue a flag.',
    killNote: 'Os SDKs recebem a mudança em segundos. O motivo é obrigatório.',
    enablePreview: (key: string, pct: string, ids: number) => `religar ${key}: rollout de ${pct} mais ${ids} id${ids === 1 ? '' : 's'} da allowlist voltam a recebê-la`,
    enablePlan: 'O plano de rollout continua pausado; retome-o no painel do plano quando quiser.',
    whatKillDoes: 'Desligar tira a flag de todos em segundos — inclusive da allowlist — e pausa um plano em andamento. O percentual de rollout e a allowlist são mantidos para quando você a religar.',
    planPaused: 'O plano de rollout está pausado.',
    whatEnableDoes: 'Religar volta a servir o percentual de rollout atual e a allowlist. Um plano pausado continua pausado até ser retomado.',
  },
});

/** The flag's ON / OFF state, big, and the one button that kills it (or turns it back on). */
export function KillSwitch({ flag, onReload }: { flag: Flag; onReload: () => void }) {
  const t = useT(m);
  const f = useFormat();
  const canWrite = useCan('OPERATOR');
  const { request } = useSession();
  const invalidate = useInvalidateFlag();
  const plan = usePlan(flag.key).data?.plan;
  // The flag as it was when the dialog opened: the preview and If-Match both come from it, so a
  // change made meanwhile (the page updates live) answers 409 instead of slipping in unseen.
  const [basis, setBasis] = useState<Flag | null>(null);
  const pct = f.percent(flag.rolloutPercentage);
  const killing = (basis ?? flag).enabled;

  return (
    <Section title={t.title} id="kill-switch">
      <div className={`switch-state ${flag.enabled ? 'switch-on' : 'switch-off'}`}>
        <span className="switch-word">{flag.enabled ? t.on : t.off}</span>
        <span>
          <strong>{flag.enabled ? t.stateOn : t.stateOff}</strong>
          <br />
          <span className="small">{flag.enabled ? t.onDetail(pct, flag.allowlistCount) : t.offDetail}</span>
          {plan?.state === 'paused' ? (
            <>
              <br />
              <span className="small">{t.planPaused}</span>
            </>
          ) : null}
        </span>
      </div>
      {canWrite ? (
        <>
          <button type="button" className={`btn btn-block switch-button ${flag.enabled ? 'btn-danger' : 'btn-primary'}`} onClick={() => setBasis(flag)}>
            {flag.enabled ? t.kill : t.enable}
          </button>
          <p className="muted small">{flag.enabled ? t.whatKillDoes : t.whatEnableDoes}</p>
          <ConfirmDialog
            open={basis !== null}
            title={killing ? t.killTitle : t.enableTitle}
            confirmLabel={killing ? t.killConfirm : t.enableConfirm}
            danger={killing}
            reason={killing ? 'required' : 'optional'}
            onClose={() => setBasis(null)}
            onReload={onReload}
            preview={
              basis ? (
                <>
                  <p className="preview-line">
                    {killing ? t.killPreview(basis.key) : t.enablePreview(basis.key, f.percent(basis.rolloutPercentage), basis.allowlistCount)}
                  </p>
                  {plan?.state === 'active' && killing ? <p className="small">{t.killPlan}</p> : null}
                  {plan?.state === 'paused' && !killing ? <p className="small">{t.enablePlan}</p> : null}
                  {killing ? <p className="small muted">{t.killNote}</p> : null}
                </>
              ) : null
            }
            onConfirm={async (reason) => {
              if (!basis) return;
              await request(`/api/admin/feature-flags/${encodeURIComponent(basis.key)}`, {
                  method: 'PUT',
                  body: { enabled: !basis.enabled, ...(reason ? { reason } : {}) },
                  ifMatch: basis.version,
                });
              await invalidate(basis.key);
            }}
          />
        </>
      ) : null}
    </Section>
  );
}
