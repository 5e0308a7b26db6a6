import { useEffect, useId, useRef, useState } from 'react';
import { useT } from '../i18n/i18n.js';
import { tokenMessages } from './messages.js';
import type { CreatedToken } from './types.js';

/**
 * The new token's secret, shown this once: Copy uses the clipboard, and where the browser
 * refuses (no permission, plain http), the secret is selected for Ctrl+C instead.
 */
export function SecretDialog({ created, onClose }: { created: CreatedToken | null; onClose: () => void }) {
  const t = useT(tokenMessages);
  const ref = useRef<HTMLDialogElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const [copy, setCopy] = useState<'idle' | 'copied' | 'fallback'>('idle');
  const titleId = useId();
  const secretId = useId();
  const warnId = useId();

  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (created && !d.open) {
      setCopy('idle');
      d.showModal();
      input.current?.select();
    } else if (!created && d.open) d.close();
  }, [created]);

  const doCopy = async () => {
    if (!created) return;
    try {
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(created.token);
      setCopy('copied');
    } catch {
      input.current?.focus();
      input.current?.select();
      setCopy('fallback');
    }
  };

  return (
    <dialog ref={ref} className="dialog" aria-labelledby={titleId} aria-describedby={warnId} onClose={onClose}>
      <h2 id={titleId}>{t.secretTitle}</h2>
      {created ? (
        <>
          <p>{t.secretLead(created.name, created.role)}</p>
          <label className="field" htmlFor={secretId}>
            <span>{t.secretLabel}</span>
            <span className="token-secret-row">
              <input
                id={secretId}
                ref={input}
                className="mono token-secret"
                value={created.token}
                readOnly
                spellCheck={false}
                autoComplete="off"
                onFocus={(e) => e.currentTarget.select()}
              />
              <button type="button" className="btn btn-primary" onClick={() => void doCopy()}>
                {t.copy}
              </button>
            </span>
          </label>
          <p className="token-warning" id={warnId}>
            <strong>{t.secretWarning}</strong>
          </p>
          <p className="small" role="status" aria-live="polite">
            {copy === 'copied' ? t.copied : copy === 'fallback' ? t.copyFallback : ''}
          </p>
        </>
      ) : null}
      <div className="dialog-actions">
        <button type="button" className="btn" onClick={onClose}>
          {t.secretDone}
        </button>
      </div>
    </dialog>
  );
}
