import { useMemo } from 'react';
import { useFormat, useT } from '../i18n/i18n.js';
import { monitorMessages } from './messages.js';
import type { Mark } from './stage-marks.js';

/** How a mark reads: "5 % → 10 %", "10 % → OFF"; and its short label on the canvas. */
export function useMarkText() {
  const t = useT(monitorMessages);
  const f = useFormat();
  return useMemo(() => {
    const level = (pct: number | null, enabled: boolean | null) => (enabled === false ? t.off : pct === null ? '?' : f.percent(pct));
    const move = (m: Mark) => (m.to === null && m.enabledAfter === null ? level(m.from, m.enabledBefore) : t.markMove(level(m.from, m.enabledBefore), level(m.to, m.enabledAfter)));
    const label = (m: Mark) => (m.kind === 'rollback' ? `↩ ${t.rollback} ${m.to === null && m.enabledAfter === null ? '' : level(m.to, m.enabledAfter)}`.trim() : level(m.to, m.enabledAfter));
    return { move, label };
  }, [t, f]);
}
