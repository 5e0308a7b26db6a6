import { useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import type { Role } from '../api/types.js';
import { useT } from '../i18n/i18n.js';
import { useSession } from '../session/session.js';
import { ConfirmDialog } from '../ui/confirm-dialog.js';
import { tokenMessages } from './messages.js';
import { SecretDialog } from './secret-dialog.js';
import { ROLES, tokenKeys, type CreatedToken } from './types.js';

/** The "New token" button: name and role, a reason; then the secret, once. */
export function CreateToken() {
  const t = useT(tokenMessages);
  const { request } = useSession();
  const client = useQueryClient();
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('VIEWER');
  const [created, setCreated] = useState<CreatedToken | null>(null);
  const id = useId();

  return (
    <>
      <button
        type="button"
        className="btn btn-primary"
        onClick={() => {
          setName('');
          setRole('VIEWER');
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
            <label className="field" htmlFor={`${id}-name`}>
              <span>{t.name}</span>
              <input
                id={`${id}-name`}
                value={name}
                onChange={(e) => setName(e.target.value)}
                required
                maxLength={100}
                autoComplete="off"
                aria-describedby={`${id}-name-hint`}
              />
              <small id={`${id}-name-hint`} className="muted">
                {t.nameHint}
              </small>
            </label>
            <label className="field" htmlFor={`${id}-role`}>
              <span>{t.role}</span>
              <select id={`${id}-role`} value={role} onChange={(e) => setRole(e.target.value as Role)} aria-describedby={`${id}-role-hint`}>
                {ROLES.map((r) => (
                  <option key={r} value={r}>
                    {r}
                  </option>
                ))}
              </select>
              <small id={`${id}-role-hint`} className="muted">
                {t.roleHelp[role]}
              </small>
            </label>
            {role === 'SUPER_ADMIN' ? <p className="token-warning">{t.superAdminWarning}</p> : null}
            <p className="preview-line">{t.createPreview(name.trim(), role)}</p>
          </div>
        }
        onConfirm={async (reason) => {
          const { data } = await request<CreatedToken>('/api/admin/tokens', {
            method: 'POST',
            body: { name: name.trim(), role, ...(reason ? { reason } : {}) },
          });
          setCreated(data);
          await client.invalidateQueries({ queryKey: tokenKeys.list });
        }}
      />
      <SecretDialog created={created} onClose={() => setCreated(null)} />
    </>
  );
}
