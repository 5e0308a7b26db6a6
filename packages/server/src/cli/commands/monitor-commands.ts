import type { Command } from 'commander';
import { CliError, ExitWith } from '../client.js';
import { clientFor, parsePercentage, printJson, type Io } from '../output.js';

interface Alert {
  code: string;
  severity: string;
  message: string;
}
interface CheckpointJson {
  id: string;
  at: string;
  trigger: string;
  actor: string;
  phase: string | null;
  label: string | null;
  status: 'PASS' | 'WARN' | 'FAIL' | 'MISSED';
  health: string | null;
  decision: string | null;
  alerts: Alert[];
  report?: string | null;
}

/** The runbook's contract: 0 PASS, 1 WARN, 2 FAIL, 3 could not run. */
const EXIT: Record<string, number> = { PASS: 0, WARN: 1, FAIL: 2 };
const path = (key: string) => `/api/admin/beta-monitor/${encodeURIComponent(key)}`;

export function registerMonitorCommands(program: Command, io: Io): void {
  const monitor = program.command('monitor').description('the watchdog: checkpoints, reports, signals');

  monitor
    .command('run <key>')
    .description('run a checkpoint now; exits 0 PASS, 1 WARN, 2 FAIL, 3 could not run')
    .option('--phase <phase>', 'e.g. phase1_beta')
    .option('--label <label>', 'e.g. rollout-1pct-validation')
    .option('--expected-rollout <pct>', 'the rollout you expect, in percent (otherwise the last audited change)')
    .option('--report', 'print the whole markdown report')
    .action(async (key: string, o: { phase?: string; label?: string; expectedRollout?: string; report?: boolean }, cmd: Command) => {
      const { client, json } = clientFor(cmd, io);
      let cp: CheckpointJson;
      try {
        const body = {
          trigger: 'manual',
          phase: o.phase,
          label: o.label,
          expectedRollout: o.expectedRollout === undefined ? undefined : parsePercentage(o.expectedRollout),
        };
        cp = (await client.post<CheckpointJson>(`${path(key)}/run`, body)).body;
      } catch (err) {
        // Anything that kept the checkpoint from running is exit 3, not a FAIL.
        if (err instanceof CliError) throw new CliError(err.message, 3);
        throw err;
      }
      if (json) printJson(io, cp);
      else if (o.report && cp.report) io.out(cp.report);
      else {
        io.out(`[Watchdog] ${key}: ${cp.status} (${cp.health}, ${cp.decision}) — checkpoint ${cp.id}`);
        for (const a of cp.alerts) io.out(`[Watchdog] ${a.severity} ${a.code}: ${a.message}`);
        io.out(`[Watchdog] report: rampart monitor report ${cp.id}`);
      }
      throw new ExitWith(EXIT[cp.status] ?? 3);
    });

  monitor
    .command('list <key>')
    .description('a flag’s checkpoints, newest first')
    .option('--limit <n>', 'how many', '20')
    .action(async (key: string, o: { limit: string }, cmd: Command) => {
      const { client, json } = clientFor(cmd, io);
      const { body } = await client.get<{ checkpoints: CheckpointJson[] }>(`${path(key)}/checkpoints?limit=${encodeURIComponent(o.limit)}`);
      if (json) return printJson(io, body);
      if (body.checkpoints.length === 0) io.out(`no checkpoints yet: run one with \`rampart monitor run ${key}\``);
      for (const c of body.checkpoints) {
        const codes = c.alerts.map((a) => a.code).join(', ');
        io.out(`${c.at}  ${c.id}  ${c.status.padEnd(6)} ${(c.decision ?? '').padEnd(6)} ${c.trigger}${c.label ? ` ${c.label}` : ''}${codes ? `  [${codes}]` : ''}`);
      }
    });

  monitor
    .command('report <id>')
    .description('a checkpoint’s markdown report')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { client, json } = clientFor(cmd, io);
      const { body } = await client.get<CheckpointJson>(`/api/admin/beta-monitor/checkpoints/${encodeURIComponent(id)}`);
      if (json) return printJson(io, body);
      io.out(body.report ?? `${body.id}: ${body.status}`);
    });

  monitor
    .command('signal <key>')
    .description('enter operator signals: complaints, a critical complaint, a note')
    .option('--complaints <n>', 'number of complaints received')
    .option('--critical', 'a critical complaint: the next checkpoint FAILs')
    .option('--note <text>', 'a note for the report')
    .option('--severity <level>', 'info, warning or critical')
    .action(async (key: string, o: { complaints?: string; critical?: boolean; note?: string; severity?: string }, cmd: Command) => {
      const { client, json } = clientFor(cmd, io);
      const complaints = o.complaints === undefined ? undefined : Number(o.complaints);
      if (complaints !== undefined && (!Number.isInteger(complaints) || complaints < 0)) throw new CliError(`invalid --complaints "${o.complaints}": use a whole number ≥ 0`);
      const { body } = await client.post<Record<string, unknown>>(`${path(key)}/signals`, { complaints, critical: o.critical, note: o.note, severity: o.severity });
      if (json) return printJson(io, body);
      io.out(`recorded signal for ${key}${o.critical ? ' (critical)' : ''}`);
    });
}
