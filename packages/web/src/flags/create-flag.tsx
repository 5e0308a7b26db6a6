import { useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { useLocation } from 'wouter';
import type { Flag } from '../api/types.js';
import { useT } from '../i18n/i18n.js';
import { useSession } from '../session/session.js';
import { ConfirmDialog } from '../ui/confirm-dialog.js';
import { flagMessages } from './messages.js';
import { parseIds } from './parse-ids.js';

/** The "New flag" button and its form; the preview says exactly what will be created. */
export function CreateFlag() {
  const t = useT(flagMessages);
  const { request } = useSession();
  const client = useQueryClient();
  const [, navigate] = useLocation();
  const [open, setOpen] = useState(false);
  const [key, setKey] = useState('');
  const [description, setDescription] = useState('');
  const [enabled, setEnabled] = useState(true);
  const [rollout, setRollout] = useState('0');
  const [allow, setAllow] = useState('');
  const ids = parseIds(allow);
  const pct = Number(rollout);
  const id = useId();

  return (
    <>
      <button type="button" className="btn btn-primary" onClick={() => setOpen(true)}>
        {t.create}
      </button>
      <ConfirmDialog
        open={open}
        title={t.createTitle}
        confirmLabel={t.createConfirm}
        reason="optional"
        onClose={() => setOpen(false)}
        preview={
          <div className="form-grid">
            <label className="field" htmlFor={`${id}-key`}>
              <span>{t.key}</span>
              <input id={`${id}-key`} value={key} onChange={(e) => setKey(e.target.value)} required pattern="[a-z0-9][a-z0-9_.\-]*" maxLength={128} spellCheck={false} />
              <small className="muted">{t.keyHint}</small>
            </label>
            <label className="field" htmlFor={`${id}-desc`}>
              <span>{t.description}</span>
              <input id={`${id}-desc`} value={description} onChange={(e) => setDescription(e.target.value)} maxLength={1000} />
            </label>
            <label className="check" htmlFor={`${id}-enabled`}>
              <input id={`${id}-enabled`} type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} /> {t.enabledField}
            </label>
            <label className="field" htmlFor={`${id}-rollout`}>
              <span>{t.rolloutField}</span>
              <input id={`${id}-rollout`} type="number" min={0} max={100} step={0.01} value={rollout} onChange={(e) => setRollout(e.target.value)} />
            </label>
            <label className="field" htmlFor={`${id}-allow`}>
              <span>{t.allowlistField}</span>
              <textarea id={`${id}-allow`} rows={4} value={allow} onChange={(e) => setAllow(e.target.value)} spellCheck={false} />
            </label>
            <p className="preview-line">{t.createPreview(key.trim(), enabled, Number.isFinite(pct) ? pct : 0, ids.length)}</p>
          </div>
        }
        onConfirm={async (reason) => {
          const { data } = await request<Flag>('/api/admin/feature-flags', {
            method: 'POST',
            body: { key: key.trim(), description, enabled, rolloutPercentage: pct, allowlist: ids, ...(reason ? { reason } : {}) },
          });
          await client.invalidateQueries({ queryKey: ['flags'] });
          navigate(`/feature-flags/${encodeURIComponent(data.key)}`);
        }}
      />
    </>
  );
}
