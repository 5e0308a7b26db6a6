import { useFormat, useT } from '../i18n/i18n.js';
import { Badge, type Tone } from '../ui/badge.js';
import { snapshotMessages } from './messages.js';
import type { AllowlistDiff, FieldChange, FlagDiff, SnapshotDiff } from './types.js';
import { ScrollRegion } from '../ui/scroll-region.js';

const CHANGE_TONE: Record<string, Tone> = { added: 'yellow', removed: 'blue', changed: 'grey' };

/**
 * The diff read as what a restore does: every value goes from live now → the snapshot's.
 * The restore preview shows the same, one heading level lower.
 */
export function DiffView({ diff, headingLevel = 3 }: { diff: SnapshotDiff; headingLevel?: 3 | 4 }) {
  const t = useT(snapshotMessages);
  const f = useFormat();
  const H = `h${headingLevel}` as 'h3' | 'h4';
  if (diff.identical) return <p className="notice">{t.identical}</p>;
  return (
    <div className="snap-diff">
      <p className="small">
        <strong>{t.summary(diff.summary)}</strong> <span className="muted">· {t.comparedAt(f.dateTime(diff.comparedAt))}</span>
      </p>
      {diff.flags.length ? (
        <>
          <H>{t.flagChangesTitle}</H>
          <ScrollRegion label={t.flagChangesTitle} className="snap-wrap">
            <table className="table snap-table snap-stack">
              <thead>
                <tr>
                  <th scope="col">{t.colFlag}</th>
                  <th scope="col">{t.colChange}</th>
                  <th scope="col">{t.colWhat}</th>
                </tr>
              </thead>
              <tbody>
                {diff.flags.map((d) => (
                  <tr key={d.key}>
                    <th scope="row" className="mono snap-key">
                      {d.key}
                    </th>
                    <td data-label={t.colChange}>
                      <Badge tone={CHANGE_TONE[d.change] ?? 'grey'}>{t.flagChange[d.change] ?? d.change}</Badge>
                      <div className="muted small">{t.flagChangeEffect[d.change]}</div>
                    </td>
                    <td data-label={t.colWhat}>
                      <ul className="diff snap-changes">
                        {shownFields(d).map(([field, c]) => (
                          <FieldLine key={field} name={t.field[field] ?? field} field={field} change={c} />
                        ))}
                        {d.allowlist ? <AllowlistLine diff={d.allowlist} /> : null}
                      </ul>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
        </>
      ) : null}
      {diff.plans.length ? (
        <>
          <H>{t.planChangesTitle}</H>
          <ScrollRegion label={t.planChangesTitle} className="snap-wrap">
            <table className="table snap-table snap-stack">
              <thead>
                <tr>
                  <th scope="col">{t.colPlan}</th>
                  <th scope="col">{t.colChange}</th>
                  <th scope="col">{t.colWhat}</th>
                </tr>
              </thead>
              <tbody>
                {diff.plans.map((p) => (
                  <tr key={p.id}>
                    <th scope="row">
                      <span className="mono snap-key">{p.flagKey}</span>
                      <div className="muted small mono">{p.id}</div>
                    </th>
                    <td data-label={t.colChange}>
                      <Badge tone={CHANGE_TONE[p.change] ?? 'grey'}>{t.planChange[p.change] ?? p.change}</Badge>
                      <div className="muted small">{t.planChangeEffect[p.change]}</div>
                    </td>
                    <td data-label={t.colWhat}>
                      <ul className="diff snap-changes">
                        {Object.entries(p.fields).map(([field, c]) => (
                          <FieldLine key={field} name={field} field={field} change={c} />
                        ))}
                      </ul>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
        </>
      ) : null}
    </div>
  );
}

/** A flag created since has no snapshot row: what a restore does to it is archive it. */
function shownFields(d: FlagDiff): [string, FieldChange][] {
  return Object.entries(d.fields).flatMap(([field, c]): [string, FieldChange][] => {
    if (!c) return [];
    if (field === 'archived' && d.change === 'added' && c.snapshot === null) return [[field, { live: c.live, snapshot: true }]];
    return [[field, c]];
  });
}

function FieldLine({ name, field, change }: { name: string; field: string; change: FieldChange }) {
  const show = useValue();
  return (
    <li>
      <span className="snap-field">{name}:</span> <span className="diff-del">{show(field, change.live)}</span> → <span className="diff-add">{show(field, change.snapshot)}</span>
    </li>
  );
}

function AllowlistLine({ diff }: { diff: AllowlistDiff }) {
  const t = useT(snapshotMessages);
  if (diff.reordered) {
    return (
      <li>
        <span className="snap-field">{t.allowlist}:</span> {t.reordered}
      </li>
    );
  }
  return (
    <li>
      <span className="snap-field">{t.allowlist}:</span> {diff.added ? <span className="diff-del">{t.allowRemove(diff.added)}</span> : null}{' '}
      {diff.removed ? <span className="diff-add">{t.allowAdd(diff.removed)}</span> : null}
      <details className="snap-ids">
        <summary>{t.showIds}</summary>
        {diff.added ? <IdList title={t.idsRemoved} ids={diff.addedIds} total={diff.added} /> : null}
        {diff.removed ? <IdList title={t.idsAdded} ids={diff.removedIds} total={diff.removed} /> : null}
      </details>
    </li>
  );
}

function IdList({ title, ids, total }: { title: string; ids: string[]; total: number }) {
  const t = useT(snapshotMessages);
  return (
    <div>
      <span className="small">{title}</span> <span className="mono small">{ids.join(', ')}</span>
      {total > ids.length ? <span className="muted small"> {t.moreIds(total - ids.length)}</span> : null}
    </div>
  );
}

/** A field value as people read it: rollout in percent, yes/no, "none" for a missing row. */
function useValue() {
  const t = useT(snapshotMessages);
  const f = useFormat();
  return (field: string, v: unknown): string => {
    if (v === null || v === undefined) return t.nothing;
    if (field === 'rollout' && typeof v === 'number') return f.percent(v);
    if (typeof v === 'boolean') return v ? t.yes : t.no;
    if (typeof v === 'number') return f.number(v);
    if (typeof v === 'string') return v === '' ? '""' : /^\d{4}-\d{2}-\d{2}T/.test(v) ? f.dateTime(v) : v;
    const s = JSON.stringify(v);
    return s.length > 120 ? `${s.slice(0, 117)}…` : s;
  };
}
