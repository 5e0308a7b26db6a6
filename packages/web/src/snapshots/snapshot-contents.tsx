import { useFormat, useT } from '../i18n/i18n.js';
import { Badge, healthTone } from '../ui/badge.js';
import { Empty } from '../ui/states.js';
import { snapshotMessages } from './messages.js';
import type { SnapshotDetail } from './types.js';
import { ScrollRegion } from '../ui/scroll-region.js';

/** What a snapshot holds, as a table of flags and one of plans (the markdown document has the rest). */
export function SnapshotContents({ snapshot }: { snapshot: SnapshotDetail }) {
  const t = useT(snapshotMessages);
  const f = useFormat();
  const { flags, plans, checkpoints } = snapshot.content;
  return (
    <>
      <h3>{t.flagsTitle}</h3>
      {flags.length ? (
        <ScrollRegion label={t.flagsTitle} className="snap-wrap">
          <table className="table snap-table">
            <thead>
              <tr>
                <th scope="col">{t.colFlag}</th>
                <th scope="col">{t.colState}</th>
                <th scope="col">{t.colAllowlist}</th>
                <th scope="col">{t.colVersion}</th>
                <th scope="col">{t.colUpdated}</th>
                <th scope="col">{t.colLastCheck}</th>
              </tr>
            </thead>
            <tbody>
              {flags.map((flag) => {
                const last = checkpoints[flag.key]?.[0];
                return (
                  <tr key={flag.key} className={flag.archived ? 'snap-archived' : undefined}>
                    <th scope="row" className="mono snap-key">
                      {flag.key}
                    </th>
                    <td>
                      <span className="badges">
                        {flag.archived ? <Badge tone="grey">{t.archived}</Badge> : null}
                        <Badge tone={flag.enabled ? 'green' : 'red'}>{flag.enabled ? t.on : t.off}</Badge>
                        <Badge tone={flag.rolloutBasisPoints >= 10_000 ? 'green' : 'blue'}>{f.percent(flag.rolloutBasisPoints / 100)}</Badge>
                      </span>
                    </td>
                    <td>{f.number(flag.allowlist.length)}</td>
                    <td>{flag.version}</td>
                    <td className="small">
                      {f.dateTime(flag.updatedAt)}
                      {flag.updatedBy ? <div className="muted">{flag.updatedBy}</div> : null}
                    </td>
                    <td className="small">
                      {last ? (
                        <>
                          <Badge tone={healthTone(last.status)}>{last.status}</Badge> <span className="muted">{f.dateTime(last.at)}</span>
                        </>
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </ScrollRegion>
      ) : (
        <Empty>{t.noFlags}</Empty>
      )}
      <h3>{t.plansTitle}</h3>
      {plans.length ? (
        <ScrollRegion label={t.plansTitle} className="snap-wrap">
          <table className="table snap-table">
            <thead>
              <tr>
                <th scope="col">{t.colFlag}</th>
                <th scope="col">{t.colPlan}</th>
                <th scope="col">{t.colState}</th>
                <th scope="col">{t.colStage}</th>
              </tr>
            </thead>
            <tbody>
              {plans.map((p) => {
                const stages = Array.isArray(p.stages) ? (p.stages as { percentage?: number }[]) : [];
                // current_stage counts from 0; people count stages from 1.
                const stage = typeof p.current_stage === 'number' ? p.current_stage : null;
                const pct = stage === null ? undefined : stages[stage]?.percentage;
                return (
                  <tr key={p.id}>
                    <th scope="row" className="mono snap-key">
                      {p.flag_key}
                    </th>
                    <td className="mono small">{p.id}</td>
                    <td>
                      <Badge tone={p.state === 'active' ? 'green' : p.state === 'rolling_back' ? 'red' : 'yellow'}>{p.state}</Badge>
                    </td>
                    <td>
                      {stage === null ? '—' : t.stageOf(stage + 1, stages.length)}
                      {typeof pct === 'number' ? <span className="muted"> · {f.percent(pct)}</span> : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </ScrollRegion>
      ) : (
        <Empty>{t.noPlans}</Empty>
      )}
    </>
  );
}
