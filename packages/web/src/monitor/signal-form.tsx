import { useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { useT } from '../i18n/i18n.js';
import { useSession } from '../session/session.js';
import { ConfirmDialog } from '../ui/confirm-dialog.js';
import { monitorMessages } from './messages.js';

const SEVERITIES = ['info', 'warning', 'critical'] as const;
type Severity = (typeof SEVERITIES)[number];

interface SignalBody {
  complaints?: number;
  critical?: boolean;
  severity?: Severity;
  note?: string;
}

/** What support and users report, for the next checkpoint to weigh (OPERATOR and up). */
export function SignalForm({ flagKey }: { flagKey: string }) {
  const t = useT(monitorMessages);
  const { request } = useSession();
  const client = useQueryClient();
  const ids = { complaints: useId(), critical: useId(), severity: useId(), note: useId(), hint: useId(), critHint: useId() };
  const [complaints, setComplaints] = useState('');
  const [critical, setCritical] = useState(false);
  const [severity, setSeverity] = useState<Severity>('info');
  const [note, setNote] = useState('');
  const [pending, setPending] = useState<SignalBody | null>(null);
  const [problem, setProblem] = useState(false);
  const [done, setDone] = useState(false);

  const count = complaints.trim() === '' ? undefined : Number(complaints);
  const validCount = count === undefined || (Number.isInteger(count) && count >= 0 && count <= 1_000_000);

  const submit = () => {
    setDone(false);
    const body: SignalBody = { severity };
    if (count !== undefined && count > 0) body.complaints = count;
    if (critical) body.critical = true;
    if (note.trim()) body.note = note.trim();
    if (!validCount || (body.complaints === undefined && !body.critical && body.note === undefined)) {
      setProblem(true);
      return;
    }
    setProblem(false);
    setPending(body);
  };

  return (
    <>
      <form
        className="form-grid signal-form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <p className="muted small">{t.signalFormLead}</p>
        <label className="field" htmlFor={ids.complaints}>
          <span>{t.complaints}</span>
          <input
            id={ids.complaints}
            type="number"
            inputMode="numeric"
            min={0}
            max={1_000_000}
            step={1}
            value={complaints}
            onChange={(e) => setComplaints(e.target.value)}
            aria-describedby={ids.hint}
            aria-invalid={!validCount || undefined}
          />
          <small id={ids.hint} className="muted">
            {t.complaintsHint}
          </small>
        </label>
        <div className="check">
          <input
            id={ids.critical}
            type="checkbox"
            checked={critical}
            aria-describedby={ids.critHint}
            onChange={(e) => {
              setCritical(e.target.checked);
              if (e.target.checked) setSeverity('critical');
            }}
          />
          <label htmlFor={ids.critical}>
            {t.critical} <small id={ids.critHint} className="muted">({t.criticalHint})</small>
          </label>
        </div>
        <label className="field" htmlFor={ids.severity}>
          <span>{t.severity}</span>
          <select id={ids.severity} value={severity} onChange={(e) => setSeverity(e.target.value as Severity)}>
            {SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {t.severities[s]}
              </option>
            ))}
          </select>
        </label>
        <label className="field" htmlFor={ids.note}>
          <span>{t.note}</span>
          <textarea id={ids.note} rows={3} maxLength={2000} value={note} onChange={(e) => setNote(e.target.value)} />
        </label>
        {problem ? (
          <p className="state state-error small" role="alert">
            {t.signalNeedsSomething}
          </p>
        ) : null}
        <div className="signal-actions">
          <button type="submit" className={`btn ${critical ? 'btn-danger' : 'btn-primary'}`}>
            {t.recordSignal}
          </button>
          <span role="status" className="small">
            {done ? t.signalRecorded : ''}
          </span>
        </div>
      </form>
      <ConfirmDialog
        open={pending !== null}
        title={t.confirmSignalTitle}
        confirmLabel={t.confirmSignalLabel}
        danger={pending?.critical === true}
        preview={
          pending ? (
            <ul className="preview-list">
              {pending.complaints !== undefined ? <li>{t.previewComplaints(pending.complaints)}</li> : null}
              {pending.critical ? <li>{t.previewCritical}</li> : null}
              {pending.severity ? <li>{t.previewSeverity(t.severities[pending.severity] ?? pending.severity)}</li> : null}
              {pending.note ? <li>{t.previewNote(pending.note)}</li> : null}
            </ul>
          ) : null
        }
        onConfirm={async () => {
          await request(`/api/admin/beta-monitor/${encodeURIComponent(flagKey)}/signals`, { method: 'POST', body: pending });
          setComplaints('');
          setCritical(false);
          setSeverity('info');
          setNote('');
          setDone(true);
          void client.invalidateQueries({ queryKey: ['signals', flagKey] });
        }}
        onClose={() => setPending(null)}
      />
    </>
  );
}
