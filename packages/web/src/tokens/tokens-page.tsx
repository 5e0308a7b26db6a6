import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { common } from '../i18n/common.js';
import { useFormat, useT } from '../i18n/i18n.js';
import { useCan, useSession } from '../session/session.js';
import { Badge, type Tone } from '../ui/badge.js';
import { Section } from '../ui/section.js';
import { Empty, QueryState } from '../ui/states.js';
import { CreateToken } from './create-token.js';
import { tokenMessages } from './messages.js';
import { RevokeToken } from './revoke-token.js';
import { tokenKeys, type ApiToken } from './types.js';
import { ScrollRegion } from '../ui/scroll-region.js';

type Filter = 'all' | 'active' | 'revoked';

const ROLE_TONE: Record<string, Tone> = { SUPER_ADMIN: 'red', OPERATOR: 'yellow', VIEWER: 'blue', SDK: 'grey' };

/** `/admin/tokens` (SUPER_ADMIN): every token, create one (its secret shown once), revoke one. */
export function TokensPage() {
  const t = useT(tokenMessages);
  const allowed = useCan('SUPER_ADMIN');
  if (!allowed) {
    return (
      <div className="page">
        <header className="page-header">
          <h1>{t.title}</h1>
        </header>
        <p className="state state-error" role="alert">
          {t.forbidden}
        </p>
      </div>
    );
  }
  return <TokenManager />;
}

function TokenManager() {
  const t = useT(tokenMessages);
  const { request } = useSession();
  const [filter, setFilter] = useState<Filter>('all');
  const query = useQuery({
    queryKey: tokenKeys.list,
    queryFn: async ({ signal }) => (await request<{ tokens: ApiToken[] }>('/api/admin/tokens', { signal })).data.tokens,
  });
  const filters: [Filter, string][] = [
    ['all', t.filterAll],
    ['active', t.filterActive],
    ['revoked', t.filterRevoked],
  ];

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>{t.title}</h1>
          <p className="muted">{t.lead}</p>
        </div>
        <CreateToken />
      </header>
      <Section
        title={t.listTitle}
        id="token-list"
        actions={
          <div className="toolbar">
            <span className="small muted" id="token-filter-label">
              {t.filter}
            </span>
            <div className="segmented" role="group" aria-labelledby="token-filter-label">
              {filters.map(([value, label]) => (
                <button key={value} type="button" aria-pressed={filter === value} onClick={() => setFilter(value)}>
                  {label}
                </button>
              ))}
            </div>
          </div>
        }
      >
        <QueryState query={query}>
          {(tokens) => {
            const rows = tokens.filter((x) => (filter === 'all' ? true : filter === 'active' ? !x.revokedAt : !!x.revokedAt));
            return (
              <>
                <p className="muted small" aria-live="polite">
                  {t.count(rows.length, tokens.length)}
                </p>
                {rows.length ? <TokenTable rows={rows} /> : <Empty>{t.none}</Empty>}
              </>
            );
          }}
        </QueryState>
      </Section>
    </div>
  );
}

function TokenTable({ rows }: { rows: ApiToken[] }) {
  const t = useT(tokenMessages);
  const c = useT(common);
  const f = useFormat();
  const { session } = useSession();
  return (
    <ScrollRegion label={t.listTitle} className="token-wrap">
      <table className="table token-table">
        <thead>
          <tr>
            <th scope="col">{t.colName}</th>
            <th scope="col">{t.colRole}</th>
            <th scope="col">{t.colCreated}</th>
            <th scope="col">{t.colCreatedBy}</th>
            <th scope="col">{t.colLastUsed}</th>
            <th scope="col">{t.colStatus}</th>
            <th scope="col">
              <span className="visually-hidden">{t.colActions}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((x) => (
            <tr key={x.id} className={x.revokedAt ? 'token-revoked' : undefined}>
              <th scope="row">
                <span className="token-name">{x.name}</span>{' '}
                {x.id === session?.tokenId ? (
                  <Badge tone="green" title={t.youTitle}>
                    {t.you}
                  </Badge>
                ) : null}
                <div className="mono small muted">{x.id}</div>
              </th>
              <td data-label={t.colRole}>
                <Badge tone={x.revokedAt ? 'grey' : (ROLE_TONE[x.role] ?? 'grey')}>{x.role}</Badge>
              </td>
              <td className="small" data-label={t.colCreated}>
                {f.dateTime(x.createdAt)}
              </td>
              <td className="small" data-label={t.colCreatedBy}>
                {x.createdBy ?? <span className="muted">{t.system}</span>}</td>
              <td className="small" data-label={t.colLastUsed} title={x.lastUsedAt ? f.dateTime(x.lastUsedAt) : undefined}>
                {x.lastUsedAt ? f.relative(x.lastUsedAt) : <span className="muted">{c.never}</span>}
              </td>
              <td className="small" data-label={t.colStatus}>
                {x.revokedAt ? t.revokedAt(f.dateTime(x.revokedAt)) : <Badge tone="green">{t.active}</Badge>}</td>
              <td>{x.revokedAt ? null : <RevokeToken token={x} />}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollRegion>
  );
}
