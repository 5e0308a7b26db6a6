import { useMemo } from 'react';
import { useLocale, useT } from '../i18n/i18n.js';
import { Badge, healthTone } from '../ui/badge.js';
import { monitorMessages } from './messages.js';
import type { MonitorAlert } from './types.js';

/** Each alert with what it measured (its numbers) and the rule that fired. */
export function AlertList({ alerts }: { alerts: MonitorAlert[] }) {
  const t = useT(monitorMessages);
  const { locale } = useLocale();
  const fmt = useMemo(() => {
    const sig = new Intl.NumberFormat(locale, { maximumSignificantDigits: 4 });
    return (v: number | string | null) => (v === null ? '—' : typeof v === 'string' ? v : v !== 0 && Math.abs(v) < 0.001 ? v.toExponential(2) : sig.format(v));
  }, [locale]);

  if (!alerts.length) return <p className="muted small">{t.noAlerts}</p>;
  return (
    <ul className="alert-list">
      {alerts.map((a, i) => (
        <li key={i} className={`alert-item tone-${healthTone(a.severity)}`}>
          <p className="alert-head">
            <Badge tone={healthTone(a.severity)}>{a.severity}</Badge> <code className="alert-code">{a.code}</code>
            {a.metric ? <span className="mono small muted">{a.metric}</span> : null}
          </p>
          <p className="alert-message">{a.message}</p>
          {a.numbers && Object.keys(a.numbers).length ? (
            <dl className="alert-numbers" aria-label={t.numbers}>
              {Object.entries(a.numbers).map(([k, v]) => (
                <div key={k}>
                  <dt>{k}</dt>
                  <dd>{fmt(v)}</dd>
                </div>
              ))}
            </dl>
          ) : null}
          {a.rule ? (
            <p className="small muted alert-rule">
              <strong>{t.rule}:</strong> {a.rule}
            </p>
          ) : null}
        </li>
      ))}
    </ul>
  );
}
