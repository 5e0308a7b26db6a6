import { useId, useState } from 'react';
import { ApiError } from '../api/client.js';
import { defineMessages, useT } from '../i18n/i18n.js';
import { LanguageSwitch } from '../ui/language-switch.js';
import { useSession } from './session.js';

const m = defineMessages({
  en: {
    title: 'Sign in to Rampart',
    lead: 'Paste an API token. Its role decides what you can do here: VIEWER reads, OPERATOR changes flags and runs checkpoints, SUPER_ADMIN also manages tokens and snapshots.',
    token: 'API token',
    submit: 'Sign in',
    busy: 'Signing in…',
    invalid: 'This token is not valid (unknown or revoked).',
    sdk: 'This is an SDK token: it can evaluate flags, not sign in. Use a VIEWER, OPERATOR or SUPER_ADMIN token.',
    hint: 'The first start of the server prints an admin token; `rampart token create NAME --role VIEWER` makes more.',
  },
  'pt-BR': {
    title: 'Entrar no Rampart',
    lead: 'Cole um token de API. O papel dele decide o que você pode fazer aqui: VIEWER lê, OPERATOR altera flags e executa checkpoints, SUPER_ADMIN também gerencia tokens e snapshots.',
    token: 'Token de API',
    submit: 'Entrar',
    busy: 'Entrando…',
    invalid: 'Este token não é válido (desconhecido ou revogado).',
    sdk: 'Este é um token de SDK: ele avalia flags, mas não entra no painel. Use um token VIEWER, OPERATOR ou SUPER_ADMIN.',
    hint: 'A primeira execução do servidor imprime um token de admin; `rampart token create NOME --role VIEWER` cria outros.',
  },
});

export function SignIn() {
  const t = useT(m);
  const { signIn } = useSession();
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const id = useId();

  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      await signIn(token.trim());
    } catch (err) {
      const e = err instanceof ApiError ? err : undefined;
      setError(e?.status === 403 ? t.sdk : e?.status === 401 ? t.invalid : (e?.message ?? String(err)));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="sign-in">
      <form
        className="card sign-in-card"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <div className="sign-in-top">
          <span className="logo" aria-hidden="true">
            ▲
          </span>
          <LanguageSwitch />
        </div>
        <h1>{t.title}</h1>
        <p className="muted">{t.lead}</p>
        <label className="field" htmlFor={id}>
          <span>{t.token}</span>
          <input id={id} type="password" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)} required spellCheck={false} />
        </label>
        {error ? (
          <p className="state state-error" role="alert">
            {error}
          </p>
        ) : null}
        <button className="btn btn-primary btn-block" type="submit" disabled={busy || !token.trim()}>
          {busy ? t.busy : t.submit}
        </button>
        <p className="muted small">{t.hint}</p>
      </form>
    </main>
  );
}
