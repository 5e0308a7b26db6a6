import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { ApiError } from '../api/client.js';
import { common } from '../i18n/common.js';
import { useT } from '../i18n/i18n.js';
import { ConflictNotice, ErrorState } from './states.js';

export interface ConfirmDialogProps {
  readonly open: boolean;
  readonly title: string;
  /** What the change will do, shown before it is made. */
  readonly preview: ReactNode;
  readonly confirmLabel: string;
  readonly danger?: boolean;
  /** Ask for a reason (recorded in the audit trail); `required` refuses to confirm without one. */
  readonly reason?: 'optional' | 'required';
  readonly onConfirm: (reason: string | undefined) => Promise<unknown>;
  readonly onClose: () => void;
  /** After a 409: reload the data the change was based on. */
  readonly onReload?: () => void;
}

/**
 * Every change goes through one of these: it states what will happen, takes a reason, shows
 * the server's answer (a 409 conflict with a reload), and closes only when the change landed.
 * A native <dialog> gives focus trapping and Escape for free.
 */
export function ConfirmDialog(props: ConfirmDialogProps) {
  const t = useT(common);
  const ref = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const reasonId = useId();
  const titleId = useId();

  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) {
      setReason('');
      setError(null);
      d.showModal();
    } else if (!props.open && d.open) d.close();
  }, [props.open]);

  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      await props.onConfirm(reason.trim() || undefined);
      props.onClose();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const conflict = error instanceof ApiError && error.isConflict;
  const blocked = busy || (props.reason === 'required' && !reason.trim());

  return (
    <dialog ref={ref} className="dialog" aria-labelledby={titleId} onClose={props.onClose}>
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          if (!blocked) void submit();
        }}
      >
        <h2 id={titleId}>{props.title}</h2>
        <div className="dialog-preview">
          <p className="muted small">{t.willDo}</p>
          {props.preview}
        </div>
        {props.reason ? (
          <label className="field" htmlFor={reasonId}>
            <span>
              {t.reason}
              {props.reason === 'required' ? ' *' : ''}
            </span>
            <textarea id={reasonId} value={reason} onChange={(e) => setReason(e.target.value)} rows={2} maxLength={1000} required={props.reason === 'required'} />
            <small className="muted">{t.reasonHint}</small>
          </label>
        ) : null}
        {conflict ? (
          <ConflictNotice
            onReload={() => {
              props.onReload?.();
              props.onClose();
            }}
          />
        ) : error ? (
          <ErrorState error={error} />
        ) : null}
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={props.onClose}>
            {t.cancel}
          </button>
          <button type="submit" className={`btn ${props.danger ? 'btn-danger' : 'btn-primary'}`} disabled={blocked || conflict} aria-busy={busy}>
            {props.confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
