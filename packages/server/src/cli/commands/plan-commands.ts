import type { Command } from 'commander';
import { CliError } from '../client.js';
import { clientFor, printJson, type Io } from '../output.js';

interface PlanJson {
  id: string;
  state: string;
  template: string | null;
  rollbackPolicy: string;
  awaitingApproval: boolean;
  extensionsUsed: number;
  maxExtensions: number;
  rollbackReason: string | null;
  lastRollbackMs: number | null;
  stages: { percentage: number; minDwellMinutes: number; minSample: number; gate: string }[];
  currentStage: number;
  progress: { stage: number; of: number; percentage: number; gate: string; dwellElapsedMinutes: number; dwellRequiredMinutes: number; minSample: number } | null;
}

const path = (key: string) => `/api/admin/rollouts/${encodeURIComponent(key)}`;
const hours = (m: number) => (m >= 120 ? `${Math.round(m / 60)}h` : `${m}m`);

function describe(p: PlanJson): string[] {
  const lines = [`plan ${p.id}  ${p.state}${p.awaitingApproval ? ' (waiting for approval)' : ''}  rollback policy: ${p.rollbackPolicy}`];
  p.stages.forEach((s, i) => {
    const mark = i < p.currentStage ? '✓' : i === p.currentStage ? '▶' : ' ';
    lines.push(`  ${mark} ${String(i + 1).padStart(2)}. ${String(s.percentage).padStart(5)} %  dwell ${hours(s.minDwellMinutes)}  sample ≥ ${s.minSample}  gate ${s.gate}`);
  });
  if (p.progress && ['active', 'paused'].includes(p.state)) {
    lines.push(`  dwell ${hours(p.progress.dwellElapsedMinutes)} of ${hours(p.progress.dwellRequiredMinutes)}; extensions used ${p.extensionsUsed}/${p.maxExtensions}`);
  }
  if (p.rollbackReason) lines.push(`  rolled back: ${p.rollbackReason}${p.lastRollbackMs === null ? '' : ` (${p.lastRollbackMs} ms from checkpoint to target)`}`);
  return lines;
}

export function registerPlanCommands(program: Command, io: Io): void {
  const plan = program.command('plan').description('rollout plans: stages that advance on evidence and roll back by themselves');

  plan
    .command('start <key>')
    .description('start a plan from a template (runbook-5-phase, chat-canary, or a saved one)')
    .option('--template <name>', 'template', 'runbook-5-phase')
    .option('--policy <policy>', 'rollback policy: disable, zero, previous, halve (default: the template’s)')
    .option('--reason <text>', 'recorded in the audit trail')
    .action(async (key: string, o: { template: string; policy?: string; reason?: string }, cmd: Command) => {
      const { client, json } = clientFor(cmd, io);
      const { body } = await client.post<PlanJson>(path(key), { template: o.template, rollbackPolicy: o.policy, reason: o.reason });
      if (json) return printJson(io, body);
      for (const l of describe(body)) io.out(l);
    });

  plan
    .command('status <key>')
    .description('the live plan (or the latest) with its stages and progress')
    .action(async (key: string, _o: unknown, cmd: Command) => {
      const { client, json } = clientFor(cmd, io);
      const { body } = await client.get<{ plan: PlanJson | null; history: PlanJson[] }>(path(key));
      if (json) return printJson(io, body);
      const shown = body.plan ?? body.history[0];
      if (!shown) throw new CliError(`${key} has no rollout plan: start one with \`rampart plan start ${key}\``);
      for (const l of describe(shown)) io.out(l);
    });

  for (const action of ['advance', 'approve', 'pause', 'resume', 'rollback', 'complete', 'abort'] as const) {
    plan
      .command(`${action} <key>`)
      .description(
        {
          advance: 'move to the next stage now',
          approve: 'approve a stage that is waiting at an approval gate',
          pause: 'stop automatic advances and rollbacks',
          resume: 'resume a paused plan (re-applies the current stage)',
          rollback: 'roll back now under the plan’s policy',
          complete: 'end the plan as a success, leaving the flag at the current stage',
          abort: 'end the plan, leaving the flag as it is',
        }[action],
      )
      .option('--reason <text>', 'recorded in the audit trail')
      .action(async (key: string, o: { reason?: string }, cmd: Command) => {
        const { client, json } = clientFor(cmd, io);
        const { body } = await client.post<PlanJson>(`${path(key)}/${action}`, { reason: o.reason });
        if (json) return printJson(io, body);
        for (const l of describe(body)) io.out(l);
      });
  }
}
