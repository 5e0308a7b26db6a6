// Hard gates and human signals: no statistics, the facts decide (design §6.1, §6.2; runbook §2).
import { int } from './format.js';
import type { Alert, JudgeInput } from './types.js';

/** Any determinism failure is a FAIL: a flag that answers differently for the same id is broken. */
export function gateAlerts(gates: JudgeInput['gates']): Alert[] {
  const alerts: Alert[] = [];
  if (gates.determinismFailures > 0) {
    alerts.push({
      code: 'DETERMINISM_FAIL',
      severity: 'FAIL',
      message: `${int(gates.determinismFailures)} probe evaluation(s) disagreed between repeated or live-path evaluations`,
      numbers: { failures: gates.determinismFailures },
      rule: 'determinism: every probe id gets the same answer twice and through the live path (any failure → FAIL)',
    });
  }
  for (const d of gates.drift) {
    alerts.push({
      code: 'CONFIG_DRIFT',
      severity: d.severity,
      message: `${d.field}: expected ${show(d.expected)}, live ${show(d.actual)}`,
      numbers: {},
      rule: 'config drift: live flag vs the plan stage / last audited change (severity from the drift check)',
    });
  }
  return alerts;
}

/** Runbook §2: a critical complaint is RED; any complaint or a warning note is YELLOW. */
export function signalAlerts(signals: JudgeInput['signals']): Alert[] {
  const alerts: Alert[] = [];
  if (signals.criticalComplaint) {
    alerts.push({
      code: 'CRITICAL_COMPLAINT',
      severity: 'FAIL',
      message: `a critical complaint was recorded (${int(signals.complaints)} complaint(s) in all)`,
      numbers: { complaints: signals.complaints },
      rule: 'signals: any critical complaint → FAIL (runbook §2 RED)',
    });
  } else if (signals.complaints > 0) {
    alerts.push({
      code: 'COMPLAINTS',
      severity: 'WARN',
      message: `${int(signals.complaints)} complaint(s) recorded, none critical`,
      numbers: { complaints: signals.complaints },
      rule: 'signals: complaints > 0 → WARN (runbook §5: zero complaints for GO)',
    });
  }
  for (const note of signals.notes) {
    if (note.severity === 'info') continue;
    alerts.push({
      code: 'SIGNAL_NOTE',
      severity: note.severity === 'critical' ? 'FAIL' : 'WARN',
      message: `${note.severity} note: ${note.text}`,
      numbers: {},
      rule: 'signals: an operator note at warning → WARN, at critical → FAIL',
    });
  }
  return alerts;
}

/** A failed metric query is an error count, never a FAIL (design §6.4): the watchdog's own trouble must not roll back a healthy flag. */
export function queryErrorAlerts(errors: JudgeInput['metricErrors']): Alert[] {
  return errors.map((e) => ({
    code: 'METRIC_QUERY_ERROR' as const,
    severity: 'WARN' as const,
    metric: e.metric,
    message: `query for ${e.metric} failed: ${e.reason}`,
    numbers: {},
    rule: 'a failed metric query → WARN, never FAIL (no data is never PASS)',
  }));
}

function show(v: unknown): string {
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
