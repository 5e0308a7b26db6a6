import { Link } from 'wouter';
import { useFormat, useT } from '../i18n/i18n.js';
import { common } from '../i18n/common.js';
import { PlanPanel } from '../plans/plan-panel.js';
import { ScheduledChanges } from '../plans/scheduled-changes.js';
import { useCan } from '../session/session.js';
import { QueryState } from '../ui/states.js';
import { AllowlistEditor } from './allowlist-editor.js';
import { AuditHistory } from './audit-history.js';
import { EvalTester } from './eval-tester.js';
import { StatusBadges } from './flag-list.js';
import { KillSwitch } from './kill-switch.js';
import { flagMessages } from './messages.js';
import { RolloutControl } from './rollout-control.js';
import { useFlag } from './use-flag.js';

/** `/admin/feature-flags/:key`: everything an operator needs for one flag during a rollout. */
export function FlagPage({ flagKey }: { flagKey: string }) {
  const t = useT(flagMessages);
  const c = useT(common);
  const f = useFormat();
  const canWrite = useCan('OPERATOR');
  const query = useFlag(flagKey);
  return (
    <div className="page">
      <Link href="/feature-flags" className="back">
        {t.back}
      </Link>
      <QueryState query={query}>
        {(flag) => (
          <>
            <header className="page-header">
              <div>
                <h1 className="flag-title">{flag.key}</h1>
                {flag.description ? <p>{flag.description}</p> : null}
                <p className="badges">
                  <StatusBadges flag={flag} />
                  <span className="muted small">
                    {t.version(flag.version)} · {t.updatedBy(flag.updatedBy, f.relative(flag.updatedAt))}
                  </span>
                </p>
              </div>
              <Link href={`/beta-monitor/${encodeURIComponent(flag.key)}`} className="btn">
                {t.monitorLink}
              </Link>
            </header>
            {canWrite ? null : (
              <p className="notice" role="note">
                {c.readOnly}
              </p>
            )}
            <div className="grid-2">
              <KillSwitch flag={flag} onReload={() => void query.refetch()} />
              <RolloutControl flag={flag} onReload={() => void query.refetch()} />
            </div>
            <PlanPanel flagKey={flag.key} />
            <div className="grid-2">
              <AllowlistEditor flag={flag} />
              <EvalTester flagKey={flag.key} />
            </div>
            <ScheduledChanges flagKey={flag.key} />
            <AuditHistory flagKey={flag.key} />
          </>
        )}
      </QueryState>
    </div>
  );
}
