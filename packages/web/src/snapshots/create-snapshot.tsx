import { useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { useT } from '../i18n/i18n.js';
import { useSession } from '../session/session.js';
import { ConfirmDialog } from '../ui/confirm-dialog.js';
import { snapshotMessages } from './messages.js';
import { snapshotKeys, type SnapshotSummary } from './types.js';

/** The "New snapshot" button (OPERATOR) and its dialog: an optional label, a reason. */
export function CreateSnapshot({ onCreated }: { onCreated: (id: string) => void }) {
  const t = useT(snapshotMessages);
  const { request } = useSession();
  const client = useQueryClient();
  const [open, setOpen] = useState(false);
  const [label, setLabel] = useState('');
  const id = useId();

  return (
    <>
      <button
        type="button"
        className="btn btn-primary"
        onClick={() => {
          setLabel('');
          setOpen(true);
        }}
      >
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
            <label className="field" htmlFor={id}>
              <span>{t.labelField}</span>
              <input id={id} value={label} onChange={(e) => setLabel(e.target.value)} maxLength={200} aria-describedby={`${id}-hint`} />
              <small id={`${id}-hint`} className="muted">
                {t.labelHint}
              </small>
            </label>
            <p className="preview-line">{t.createPreview(label.trim())}</p>
          </div>
        }
        onConfirm={async (reason) => {
          const { data } = await request<SnapshotSummary>('/api/admin/snapshots', {
            method: 'POST',
            body: { ...(label.trim() ? { label: label.trim() } : {}), ...(reason ? { reason } : {}) },
          });
          await client.invalidateQueries({ queryKey: snapshotKeys.list });
          onCreated(data.id);
        }}
      />
    </>
  );
}
