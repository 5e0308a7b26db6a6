import { useDeferredValue, useId, useMemo, useState } from 'react';
import type { Flag } from '../api/types.js';
import { defineMessages, useT } from '../i18n/i18n.js';
import { useCan, useSession } from '../session/session.js';
import { ConfirmDialog } from '../ui/confirm-dialog.js';
import { Section } from '../ui/section.js';
import { Empty } from '../ui/states.js';
import { useInvalidateFlag } from './invalidate.js';
import { parseIds } from './parse-ids.js';

const m = defineMessages({
  en: {
    title: 'Allowlist',
    count: (n: number) => `${n.toLocaleString('en')} id${n === 1 ? '' : 's'}`,
    lead: 'These subjects get the flag whenever it is ON, whatever the rollout percentage.',
    none: 'No ids on the allowlist.',
    search: 'Search allowlisted ids',
    searchPlaceholder: 'Filter ids…',
    noMatch: 'No id matches.',
    matches: (n: number) => `${n.toLocaleString('en')} match${n === 1 ? '' : 'es'}`,
    shown: (shown: number, of: number) => `Showing ${shown.toLocaleString('en')} of ${of.toLocaleString('en')}; narrow the search to see the others.`,
    idList: 'Allowlisted ids',
    bulk: 'Ids to add or remove',
    bulkHint: 'Paste one id per line, or separated by commas, semicolons or spaces.',
    idempotent: 'Adding and removing are idempotent: ids already present (or already absent) are ignored.',
    parsed: (n: number, fresh: number, present: number) => `${n.toLocaleString('en')} id${n === 1 ? '' : 's'}: ${fresh.toLocaleString('en')} new, ${present.toLocaleString('en')} already on the allowlist`,
    tooMany: (max: number) => `At most ${max.toLocaleString('en')} ids per change.`,
    add: 'Add ids…',
    remove: 'Remove ids…',
    addTitle: 'Add to the allowlist',
    removeTitle: 'Remove from the allowlist',
    addConfirm: 'Add to allowlist',
    removeConfirm: 'Remove from allowlist',
    addPreview: (key: string, fresh: number, present: number) =>
      `add ${fresh.toLocaleString('en')} new id${fresh === 1 ? '' : 's'} to the allowlist of ${key}${present ? ` (${present.toLocaleString('en')} already present, ignored)` : ''}`,
    removePreview: (key: string, gone: number, absent: number) =>
      `remove ${gone.toLocaleString('en')} id${gone === 1 ? '' : 's'} from the allowlist of ${key}${absent ? ` (${absent.toLocaleString('en')} not on it, ignored)` : ''}`,
    nothingToDo: 'Nothing would change: the server will answer “unchanged”.',
    sample: 'Ids:',
    more: (n: number) => `and ${n.toLocaleString('en')} more`,
  },
  'pt-BR': {
    title: 'Allowlist',
    count: (n: number) => `${n.toLocaleString('pt-BR')} id${n === 1 ? '' : 's'}`,
    lead: 'Estes usuários recebem a flag sempre que ela está LIGADA, seja qual for o percentual de rollout.',
    none: 'Nenhum id na allowlist.',
    search: 'Buscar ids da allowlist',
    searchPlaceholder: 'Filtrar ids…',
    noMatch: 'Nenhum id corresponde.',
    matches: (n: number) => `${n.toLocaleString('pt-BR')} resultado${n === 1 ? '' : 's'}`,
    shown: (shown: number, of: number) => `Mostrando ${shown.toLocaleString('pt-BR')} de ${of.toLocaleString('pt-BR')}; refine a busca para ver os demais.`,
    idList: 'Ids na allowlist',
    bulk: 'Ids para adicionar ou remover',
    bulkHint: 'Cole um id por linha, ou separados por vírgulas, ponto e vírgula ou espaços.',
    idempotent: 'Adicionar e remover são idempotentes: ids que já estão (ou que já não estão) na lista são ignorados.',
    parsed: (n: number, fresh: number, present: number) =>
      `${n.toLocaleString('pt-BR')} id${n === 1 ? '' : 's'}: ${fresh.toLocaleString('pt-BR')} novo${fresh === 1 ? '' : 's'}, ${present.toLocaleString('pt-BR')} já na allowlist`,
    tooMany: (max: number) => `No máximo ${max.toLocaleString('pt-BR')} ids por alteração.`,
    add: 'Adicionar ids…',
    remove: 'Remover ids…',
    addTitle: 'Adicionar à allowlist',
    removeTitle: 'Remover da allowlist',
    addConfirm: 'Adicionar à allowlist',
    removeConfirm: 'Remover da allowlist',
    addPreview: (key: string, fresh: number, present: number) =>
      `adicionar ${fresh.toLocaleString('pt-BR')} id${fresh === 1 ? '' : 's'} novo${fresh === 1 ? '' : 's'} à allowlist de ${key}${present ? ` (${present.toLocaleString('pt-BR')} já presente${present === 1 ? '' : 's'}, ignorado${present === 1 ? '' : 's'})` : ''}`,
    removePreview: (key: string, gone: number, absent: number) =>
      `remover ${gone.toLocaleString('pt-BR')} id${gone === 1 ? '' : 's'} da allowlist de ${key}${absent ? ` (${absent.toLocaleString('pt-BR')} fora da lista, ignorado${absent === 1 ? '' : 's'})` : ''}`,
    nothingToDo: 'Nada mudaria: o servidor vai responder “sem alteração”.',
    sample: 'Ids:',
    more: (n: number) => `e mais ${n.toLocaleString('pt-BR')}`,
  },
});

/** How many ids the list renders at once; the search narrows the rest. */
const SHOWN = 500;
/** The server takes at most this many ids per request. */
const MAX_IDS = 10_000;
const SEARCH_FROM = 10;

/** The allowlist: its ids (searchable), and a bulk paste to add or remove, with a preview of what moves. */
export function AllowlistEditor({ flag }: { flag: Flag }) {
  const t = useT(m);
  const canWrite = useCan('OPERATOR');
  const { request } = useSession();
  const invalidate = useInvalidateFlag();
  const id = useId();
  const [search, setSearch] = useState('');
  const q = useDeferredValue(search.trim().toLowerCase());
  const [bulk, setBulk] = useState('');
  const [mode, setMode] = useState<'add' | 'remove' | null>(null);

  const present = useMemo(() => new Set(flag.allowlist), [flag.allowlist]);
  const filtered = useMemo(() => (q ? flag.allowlist.filter((x) => x.toLowerCase().includes(q)) : flag.allowlist), [flag.allowlist, q]);
  const ids = useMemo(() => parseIds(bulk), [bulk]);
  const fresh = ids.filter((x) => !present.has(x));
  const already = ids.length - fresh.length;
  const tooMany = ids.length > MAX_IDS;
  const moving = mode === 'add' ? fresh : ids.filter((x) => present.has(x));

  return (
    <Section title={t.title} id="allowlist" actions={<span className="badge badge-grey">{t.count(flag.allowlist.length)}</span>}>
      <p className="muted small">{t.lead}</p>
      {flag.allowlist.length === 0 ? (
        <Empty>{t.none}</Empty>
      ) : (
        <>
          {flag.allowlist.length >= SEARCH_FROM ? (
            <div className="field">
              <label htmlFor={`${id}-search`} className="visually-hidden">
                {t.search}
              </label>
              <input id={`${id}-search`} type="search" placeholder={t.searchPlaceholder} value={search} onChange={(e) => setSearch(e.target.value)} spellCheck={false} />
              {q ? (
                <small className="muted" aria-live="polite">
                  {t.matches(filtered.length)}
                </small>
              ) : null}
            </div>
          ) : null}
          {filtered.length === 0 ? (
            <Empty>{t.noMatch}</Empty>
          ) : (
            // Scrollable, so it is focusable and named: keyboard users can scroll it too.
            <ul className="id-list mono" aria-label={t.idList} tabIndex={0}>
              {filtered.slice(0, SHOWN).map((x) => (
                <li key={x}>{x}</li>
              ))}
            </ul>
          )}
          {filtered.length > SHOWN ? <p className="muted small">{t.shown(SHOWN, filtered.length)}</p> : null}
        </>
      )}
      {canWrite ? (
        <>
          <label className="field" htmlFor={`${id}-bulk`}>
            <span>{t.bulk}</span>
            <textarea id={`${id}-bulk`} rows={3} value={bulk} onChange={(e) => setBulk(e.target.value)} spellCheck={false} aria-describedby={`${id}-hint`} />
            <small id={`${id}-hint`} className="muted">
              {t.bulkHint} {t.idempotent}
            </small>
          </label>
          {ids.length ? (
            <p className={`small${tooMany ? ' field-error' : ''}`} aria-live="polite">
              {tooMany ? t.tooMany(MAX_IDS) : t.parsed(ids.length, fresh.length, already)}
            </p>
          ) : null}
          <div className="toolbar">
            <button type="button" className="btn btn-primary" disabled={!ids.length || tooMany} onClick={() => setMode('add')}>
              {t.add}
            </button>
            <button type="button" className="btn" disabled={!ids.length || tooMany} onClick={() => setMode('remove')}>
              {t.remove}
            </button>
          </div>
          <ConfirmDialog
            open={mode !== null}
            title={mode === 'remove' ? t.removeTitle : t.addTitle}
            confirmLabel={mode === 'remove' ? t.removeConfirm : t.addConfirm}
            danger={mode === 'remove'}
            reason="optional"
            onClose={() => setMode(null)}
            onReload={() => void invalidate(flag.key)}
            preview={
              <>
                <p className="preview-line">{mode === 'remove' ? t.removePreview(flag.key, moving.length, ids.length - moving.length) : t.addPreview(flag.key, fresh.length, already)}</p>
                {moving.length ? (
                  <p className="small mono id-sample">
                    {t.sample} {moving.slice(0, 8).join(', ')}
                    {moving.length > 8 ? ` ${t.more(moving.length - 8)}` : ''}
                  </p>
                ) : (
                  <p className="small">{t.nothingToDo}</p>
                )}
                <p className="small muted">{t.idempotent}</p>
              </>
            }
            onConfirm={async (reason) => {
              await request(`/api/admin/feature-flags/${encodeURIComponent(flag.key)}/allowlist`, {
                  method: mode === 'remove' ? 'DELETE' : 'POST',
                  body: { ids, ...(reason ? { reason } : {}) },
                });
              setBulk('');
              await invalidate(flag.key);
            }}
          />
        </>
      ) : null}
    </Section>
  );
}
