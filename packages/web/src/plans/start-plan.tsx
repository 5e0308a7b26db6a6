import { useQuery } from '@tanstack/react-query';
import { useId, useState } from 'react';
import type { Plan } from '../api/types.js';
import { useInvalidateFlag } from '../flags/invalidate.js';
import { useFlag } from '../flags/use-flag.js';
import { useFormat, useT } from '../i18n/i18n.js';
import { useSession } from '../session/session.js';
import { ConfirmDialog } from '../ui/confirm-dialog.js';
import { Empty, ErrorState, Loading } from '../ui/states.js';
import { planMessages as m } from './plan-messages.js';

interface Template {
  name: string;
  description: string;
  stages: Plan['stages'];
  cadence: string;
  rollbackPolicy: string;
  builtin: boolean;
}

/** Starting a plan from a template, with what it will do to the flag shown before it does it. */
export function StartPlan({ flagKey }: { flagKey: string }) {
  const t = useT(m);
  const f = useFormat();
  const { request } = useSession();
  const invalidate = useInvalidateFlag();
  const flag = useFlag(flagKey).data;
  const id = useId();
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const templates = useQuery({
    queryKey: ['plan-templates'],
    queryFn: async ({ signal }) => (await request<{ templates: Template[] }>('/api/admin/plan-templates', { signal })).data.templates,
    enabled: open,
  });
  const chosen = templates.data?.find((x) => x.name === name) ?? templates.data?.[0];
  const first = chosen?.stages[0];

  return (
    <>
      <button type="button" className="btn btn-primary" onClick={() => setOpen(true)}>
        {t.start}
      </button>
      <ConfirmDialog
        open={open}
        title={t.startTitle}
        confirmLabel={t.startConfirm}
        reason="optional"
        onClose={() => setOpen(false)}
        onReload={() => void invalidate(flagKey)}
        preview={
          templates.isPending ? (
            <Loading />
          ) : templates.error ? (
            <ErrorState error={templates.error} onRetry={() => void templates.refetch()} />
          ) : !chosen ? (
            <Empty>{t.noTemplates}</Empty>
          ) : (
            <>
              <label className="field" htmlFor={`${id}-template`}>
                <span>{t.templateField}</span>
                <select id={`${id}-template`} value={chosen.name} onChange={(e) => setName(e.target.value)}>
                  {templates.data.map((x) => (
                    <option key={x.name} value={x.name}>
                      {x.name}
                    </option>
                  ))}
                </select>
              </label>
              {chosen.description ? <p className="small muted">{chosen.description}</p> : null}
              <p className="preview-line">{t.pvStart(flagKey, chosen.stages.map((s) => `${f.number(s.percentage)}${s.gate === 'approval' ? '✓' : ''}`).join(' → '))}</p>
              {first ? (
                <p className="small">{t.pvStartNow(flag ? f.percent(flag.rolloutPercentage) : '?', f.percent(first.percentage), flag ? !flag.enabled : false)}</p>
              ) : null}
              <p className="small muted">
                {t.pvStartMeta(chosen.cadence, t.policyText(chosen.rollbackPolicy))} {t.approvalMark}
              </p>
            </>
          )
        }
        onConfirm={async (reason) => {
          if (!chosen) return;
          await request(`/api/admin/rollouts/${encodeURIComponent(flagKey)}`, { method: 'POST', body: { template: chosen.name, ...(reason ? { reason } : {}) } });
          await invalidate(flagKey);
        }}
      />
    </>
  );
}
