import type { SnapshotCheckpoint, SnapshotPlan } from './content.js';
import type { FieldChange, SnapshotDiff } from './diff.js';
import type { SnapshotRecord } from './store.js';

const STATUS_ICON: Record<string, string> = { PASS: '✅', WARN: '⚠️', FAIL: '❌', MISSED: '⏭️' };

/** "2026-02-03 19:12 UTC": the runbook's timestamps, in UTC. */
function when(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

const pct = (bp: number) => `${bp / 100}%`;
const shellArg = (s: string) => (/^[A-Za-z0-9_.:\/-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

function stages(p: SnapshotPlan): { percentage?: number }[] {
  return Array.isArray(p.stages) ? (p.stages as { percentage?: number }[]) : [];
}

function planLine(p: SnapshotPlan): string {
  const all = stages(p);
  const i = typeof p.current_stage === 'number' ? p.current_stage : 0;
  const at = all[i]?.percentage;
  const stage = all.length ? `stage ${i + 1}/${all.length}${at === undefined ? '' : ` (${at}%)`}` : 'no stages';
  const extra = [
    p.template ? `template \`${String(p.template)}\`` : undefined,
    p.rollback_policy ? `rollback policy \`${String(p.rollback_policy)}\`` : undefined,
    p.awaiting_approval ? 'awaiting approval' : undefined,
  ].filter(Boolean);
  return `- \`${p.id}\`: **${p.state}**, ${stage}${extra.length ? `, ${extra.join(', ')}` : ''}`;
}

function checkpointLines(n: number, c: SnapshotCheckpoint): string[] {
  const lines = [`#### ${n}. ${when(c.at)}`, `- Status: **${c.status}** ${STATUS_ICON[c.status] ?? ''}`.trimEnd()];
  if (c.phase) lines.push(`- Phase: \`${c.phase}\``);
  if (c.label) lines.push(`- Label: \`${c.label}\``);
  lines.push(`- Checkpoint: \`${c.id}\` (${c.trigger}${c.decision ? `, ${c.decision}` : ''}${c.health ? `, ${c.health}` : ''})`);
  const why = c.alerts.filter((a) => a.severity !== 'info');
  if (why.length) lines.push(`- Reason: ${why.map((a) => `${a.code} — ${a.message}`).join('; ')}`);
  return lines;
}

/** The runbook's OPS SNAPSHOT document, for a snapshot Rampart captured. */
export function snapshotMarkdown(s: SnapshotRecord): string {
  const c = s.content;
  const live = c.flags.filter((f) => !f.archived);
  const archived = c.flags.filter((f) => f.archived);
  const out: string[] = [];
  out.push(`# OPS SNAPSHOT - ${when(c.capturedAt)}`, '');
  out.push('## 🎯 Purpose');
  out.push(s.label ? `${s.label}` : 'Operational snapshot before a risky change.');
  if (s.reason) out.push('', `Reason: ${s.reason}`);
  out.push(
    '',
    `Snapshot \`${s.id}\`, taken by ${s.createdBy} on Rampart server ${s.serverVersion}. ` +
      'It allows a complete rollback of the flags, their allowlists and the rollout plans.',
  );
  out.push('', '---', '', '## 🚀 Feature Flags', '');
  if (c.flags.length === 0) out.push('No flags.', '');
  for (const f of [...live, ...archived]) {
    out.push(`### ${f.key}${f.archived ? ' (archived)' : ''}`);
    out.push('```json');
    out.push(
      JSON.stringify(
        {
          key: f.key,
          enabled: f.enabled,
          rollout_percentage: f.rolloutBasisPoints / 100,
          salt: f.salt,
          stickiness: f.stickiness,
          description: f.description,
          archived: f.archived,
          version: f.version,
          updated_at: f.updatedAt,
          updated_by: f.updatedBy,
          created_at: f.createdAt,
        },
        null,
        2,
      ),
    );
    out.push('```', '', `**Allowlist:** ${f.allowlist.length} id(s)`, '');
    const plans = c.plans.filter((p) => p.flag_key === f.key);
    if (plans.length) out.push('**Rollout plan:**', ...plans.map(planLine), '');
  }
  out.push('---', '', `## 📊 Checkpoints (last 3 per flag)`, '');
  const withCheckpoints = c.flags.filter((f) => (c.checkpoints[f.key] ?? []).length > 0);
  if (withCheckpoints.length === 0) out.push('No checkpoints yet.', '');
  for (const f of withCheckpoints) {
    out.push(`### ${f.key}`, '');
    c.checkpoints[f.key]!.forEach((cp, i) => out.push(...checkpointLines(i + 1, cp), ''));
  }

  out.push('---', '', '## 🔍 Analysis', '');
  const ramping = live.filter((f) => f.enabled && f.rolloutBasisPoints > 0);
  const off = live.filter((f) => !f.enabled);
  out.push(
    `- Flags: **${live.length}** live (${live.length - off.length} enabled, ${off.length} disabled), ${archived.length} archived.`,
    `- Rolled out to a percentage: ${ramping.length ? ramping.map((f) => `\`${f.key}\` ${pct(f.rolloutBasisPoints)}`).join(', ') : 'none'}.`,
    `- Allowlisted ids: ${live.reduce((n, f) => n + f.allowlist.length, 0)} across ${live.filter((f) => f.allowlist.length > 0).length} flag(s).`,
    `- Live rollout plans: ${c.plans.length ? c.plans.map((p) => `\`${p.flag_key}\` ${p.state}`).join(', ') : 'none'}.`,
  );
  const attention = withCheckpoints
    .map((f) => ({ key: f.key, last: c.checkpoints[f.key]![0]! }))
    .filter((x) => x.last.status !== 'PASS');
  const rollingBack = c.plans.filter((p) => p.state === 'rolling_back');
  out.push('');
  if (attention.length === 0 && rollingBack.length === 0) {
    out.push('**Conclusion:** every latest checkpoint passed and no plan is rolling back: a consistent state to return to.');
  } else {
    const parts = [
      ...attention.map((x) => `\`${x.key}\` last checkpoint ${x.last.status}`),
      ...rollingBack.map((p) => `plan \`${p.id}\` (\`${p.flag_key}\`) was rolling back`),
    ];
    out.push(`**Conclusion:** needs attention before relying on it: ${parts.join('; ')}.`);
  }

  const id = shellArg(s.id);
  out.push('', '---', '', '## 🔄 Rollback Instructions', '');
  out.push('### Restore this snapshot (SUPER_ADMIN)', '```bash');
  out.push('# 1. See what a restore would change', `rampart snapshot diff ${id}`, '');
  out.push('# 2. Restore flags, allowlists and plans in one transaction (one audit event)', `rampart snapshot restore ${id} --yes`);
  out.push('```', '', 'A restore is refused while a rollout plan is rolling back; let the rollback finish first.', '');
  out.push('### Kill switch for one flag (OPERATOR)', '```bash');
  for (const f of live) out.push(`rampart flags disable ${shellArg(f.key)}`);
  if (live.length === 0) out.push('rampart flags disable KEY');
  out.push('```', '');

  out.push('---', '', '## ✅ Validation after rollback', '', '```bash');
  out.push('# 1. Nothing left to restore', `rampart snapshot diff ${id}`, '# Should show: no differences', '');
  let n = 2;
  for (const f of live) {
    out.push(`# ${n++}. Check ${f.key}`, `rampart status ${shellArg(f.key)}`);
    out.push(`# Should show: enabled=${f.enabled}, rollout=${pct(f.rolloutBasisPoints)}, allowlist=${f.allowlist.length}`, '');
  }
  for (const f of ramping) {
    const last = c.checkpoints[f.key]?.[0];
    const args = [last?.phase ? ` --phase ${shellArg(last.phase)}` : '', ` --expected-rollout ${f.rolloutBasisPoints / 100}`].join('');
    out.push(`# ${n++}. Run a checkpoint for ${f.key}`, `rampart monitor run ${shellArg(f.key)}${args}`, '# Should return: PASS (exit code 0)', '');
  }
  if (out[out.length - 1] === '') out.pop();
  out.push('```', '');
  return out.join('\n');
}

function show(v: unknown): string {
  return v === null || v === undefined ? '—' : `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``;
}

function fieldRows(fields: Record<string, FieldChange | undefined>): string[] {
  const rows = Object.entries(fields).filter((e): e is [string, FieldChange] => e[1] !== undefined);
  if (rows.length === 0) return [];
  return ['| field | snapshot | live |', '|---|---|---|', ...rows.map(([k, v]) => `| ${k} | ${show(v.snapshot)} | ${show(v.live)} |`), ''];
}

const FLAG_CHANGE: Record<string, string> = {
  added: 'not in the snapshot (a restore archives it)',
  removed: 'gone since the snapshot (a restore brings it back)',
  changed: 'changed',
};
const PLAN_CHANGE: Record<string, string> = {
  added: 'not in the snapshot (a restore aborts it)',
  removed: 'no longer exists (a restore re-creates it)',
  changed: 'changed',
};

/** A diff as a markdown document: what changed since the snapshot, what a restore would undo. */
export function diffMarkdown(d: SnapshotDiff): string {
  const out = [`# SNAPSHOT DIFF - ${d.snapshotId}${d.label ? ` (${d.label})` : ''}`, ''];
  out.push(`Snapshot taken ${when(d.capturedAt)}, compared with the live state at ${when(d.comparedAt)}.`, '');
  if (d.identical) {
    out.push('**No differences:** the live state equals the snapshot.', '');
    return out.join('\n');
  }
  const s = d.summary;
  out.push(
    `Flags: ${s.flagsChanged} changed, ${s.flagsAdded} added, ${s.flagsRemoved} removed. ` +
      `Plans: ${s.plansChanged} changed, ${s.plansAdded} added, ${s.plansRemoved} removed.`,
    '',
  );
  if (d.flags.length) out.push('## 🚀 Feature Flags', '');
  for (const f of d.flags) {
    out.push(`### ${f.key}: ${FLAG_CHANGE[f.change]}`, '');
    out.push(...fieldRows(f.fields));
    const a = f.allowlist;
    if (a) {
      if (a.reordered) out.push('- Allowlist: same ids, another order', '');
      else {
        out.push(`- Allowlist: +${a.added} −${a.removed} since the snapshot`);
        const more = (n: number, ids: string[]) => (n > ids.length ? ` (and ${n - ids.length} more)` : '');
        if (a.added) out.push(`  - added: ${a.addedIds.map((i) => `\`${i}\``).join(', ')}${more(a.added, a.addedIds)}`);
        if (a.removed) out.push(`  - removed: ${a.removedIds.map((i) => `\`${i}\``).join(', ')}${more(a.removed, a.removedIds)}`);
        out.push('');
      }
    }
  }
  if (d.plans.length) out.push('## 🗺️ Rollout Plans', '');
  for (const p of d.plans) {
    out.push(`### ${p.id} (${p.flagKey}): ${PLAN_CHANGE[p.change]}`, '', ...fieldRows(p.fields));
  }
  out.push(`Restore with \`rampart snapshot restore ${shellArg(d.snapshotId)} --yes\` (SUPER_ADMIN).`, '');
  return out.join('\n');
}
