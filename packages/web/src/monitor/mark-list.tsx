import { useFormat, useT } from '../i18n/i18n.js';
import { monitorMessages } from './messages.js';
import type { Mark } from './stage-marks.js';
import { useMarkText } from './use-mark-text.js';

/** The charts' vertical marks as text: a canvas says nothing to a screen reader. */
export function MarkList({ marks }: { marks: Mark[] }) {
  const t = useT(monitorMessages);
  const f = useFormat();
  const text = useMarkText();
  return (
    <div className="mark-list">
      <h3 id="monitor-marks-title">{t.marksTitle}</h3>
      {marks.length ? (
        <>
          <p className="muted small">{t.marksLead}</p>
          <ul aria-labelledby="monitor-marks-title">
            {[...marks].reverse().map((m) => (
              <li key={m.id} className={`mark mark-${m.kind}`} data-testid={m.kind === 'rollback' ? 'rollback-mark' : 'stage-mark'}>
                <span className="mark-swatch" aria-hidden="true" />
                <time dateTime={new Date(m.at).toISOString()}>{f.dateTime(m.at)}</time>{' '}
                <strong>{m.kind === 'rollback' ? t.rollback : t.stageChange}</strong> {text.move(m)}{' '}
                <span className="muted small">
                  ({t.causes[m.cause] ?? m.cause}, {t.byWhom(m.actor)})
                </span>
              </li>
            ))}
          </ul>
        </>
      ) : (
        <p className="muted small">{t.noMarks}</p>
      )}
    </div>
  );
}
