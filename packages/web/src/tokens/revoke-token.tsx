import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useFormat, useT } from '../i18n/i18n.js';
import { useSession } from '../session/session.js';
import { ConfirmDialog } from '../ui/confirm-dialog.js';
import { tokenMessages } from './messages.js';
import { tokenKeys, type ApiToken } from './types.js';

/** The "Revoke" button of one token; revoking the token you are signed in with signs you out. */
export function RevokeToken({ token }: { token: ApiToken }) {
  const t = useT(tokenMessages);
  const f = useFormat();
  const { request, session, signOut } = useSession();
  const client = useQueryClient();
  const [open, setOpen] = useState(false);
  const self = session?.tokenId === token.id;

  return (
    <>
      <button type="button" className="btn btn-small btn-danger" onClick={() => setOpen(true)}>
        {t.revoke}
      </button>
      <ConfirmDialog
        open={open}
        title={t.revokeTitle}
        confirmLabel={t.revokeConfirm}
        danger
        reason="required"
        onClose={() => setOpen(false)}
        onReload={() => void client.invalidateQueries({ queryKey: tokenKeys.list })}
        preview={
          <>
            <p className="preview-line">{t.revokePreview(token.name, token.role, token.id)}</p>
            <p className="small">{token.lastUsedAt ? t.revokeLastUsed(f.relative(token.lastUsedAt)) : t.revokeNeverUsed}</p>
            {self ? (
              <p className="token-warning" role="alert">
                <strong>{t.revokeSelf}</strong>
              </p>
            ) : null}
          </>
        }
        onConfirm={async (reason) => {
          await request<ApiToken>(`/api/admin/tokens/${encodeURIComponent(token.id)}`, { method: 'DELETE', body: reason ? { reason } : {} });
          if (self) {
            signOut();
            return;
          }
          await client.invalidateQueries({ queryKey: tokenKeys.list });
        }}
      />
    </>
  );
}
