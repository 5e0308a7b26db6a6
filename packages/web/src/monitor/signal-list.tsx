import { useFormat, useT } from '../i18n/i18n.js';
import { Badge, type Tone } from '../ui/badge.js';
import { Empty, QueryState } from '../ui/states.js';
import { monitorMessages } from './messages.js';
import { useSignals } from './use-monitor.js';

const SEVERITY_TONE: Record<string, Tone> = { info: 'blue', warning: 'yellow', critical: 'red' };

/** The last 20 signals entered for the flag, newest first. */
export function SignalList({ flagKey }: { flagKey: string }) {
  const t = useT(monitorMessages);
  const f = useFormat();
  const query = useSignals(flagKey);
  return (
    <QueryState query={query}>
      {(signals) =>
        signals.length ? (
          <ul className="signal-list">
            {signals.map((s) => (
              <li key={s.id}>
                <p className="signal-head">
                  <time dateTime={s.at} title={f.dateTime(s.at)}>
                    {f.dateTime(s.at)}
                  </time>
                  <Badge tone={SEVERITY_TONE[s.severity] ?? 'grey'}>{t.severities[s.severity] ?? s.severity}</Badge>
                  {s.critical ? <Badge tone="red">{t.criticalBadge}</Badge> : null}
                  {s.complaints ? <span className="small">{t.complaintsN(s.complaints)}</span> : null}
                  <span className="small muted">{t.byWhom(s.actor)}</span>
                </p>
                {s.note ? <p className="signal-note">{s.note}</p> : null}
              </li>
            ))}
          </ul>
        ) : (
          <Empty>{t.noSignals}</Empty>
        )
      }
    </QueryState>
  );
}
