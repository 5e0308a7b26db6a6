import type { Command } from 'commander';
import { CliError } from '../client.js';
import { clientFor, printJson, type Io } from '../output.js';

interface Percentiles {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}
interface MetricSummary extends Partial<Percentiles> {
  kind: string;
  count: number;
  sum: number;
  rate?: number | null;
}
interface CohortSummary {
  exposures: number;
  requests: number;
  status: Record<string, number>;
  errorRate: number | null;
  errorRate5xx: number | null;
  latencyMs: Percentiles;
  metrics: Record<string, MetricSummary>;
}
interface Baseline {
  id: string;
  mode: string;
  from: string;
  to: string;
  weeks: number | null;
  ageSeconds: number;
  capturedBy: string;
  summary: Record<string, CohortSummary>;
}

const COHORTS = ['exposed', 'control', 'allowlist', 'off'];
const pct = (v: number | null) => (v === null ? 'no data' : `${(v * 100).toFixed(2)}%`);
const ms = (v: number | null) => (v === null ? '-' : `${v < 10 ? v.toFixed(2) : Math.round(v)}`);
const age = (s: number) => (s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : s < 172_800 ? `${Math.round(s / 3600)}h` : `${Math.round(s / 86_400)}d`);

/** The runbook's checkpoint figures for one cohort, each with the sample it rests on. */
function cohortLines(name: string, c: CohortSummary): string[] {
  const s = c.status;
  const lines = [
    `${name}: ${c.requests} requests, ${c.exposures} exposures`,
    `  status      2xx ${s['2xx']}  3xx ${s['3xx']}  4xx ${s['4xx']} (401 ${s['401']}, 403 ${s['403']}, 429 ${s['429']})  5xx ${s['5xx']}`,
    `  errors      4xx+5xx ${pct(c.errorRate)}  5xx ${pct(c.errorRate5xx)}  (n=${c.requests})`,
    `  latency ms  p50 ${ms(c.latencyMs.p50)}  p95 ${ms(c.latencyMs.p95)}  p99 ${ms(c.latencyMs.p99)}  (n=${c.latencyMs.count})`,
  ];
  for (const [metric, m] of Object.entries(c.metrics).sort()) {
    if (m.kind === 'rate') lines.push(`  ${metric}  ${pct(m.rate ?? null)} (${m.sum}/${m.count})`);
    else if (m.kind === 'distribution') lines.push(`  ${metric}  p50 ${ms(m.p50 ?? null)}  p95 ${ms(m.p95 ?? null)}  p99 ${ms(m.p99 ?? null)}  (n=${m.count})`);
    else lines.push(`  ${metric}  ${m.count}`);
  }
  return lines;
}

export function registerMetricsCommands(program: Command, io: Io): void {
  program
    .command('metrics <key>')
    .description('per-cohort figures for a window: requests, status breakdown, error rates, latency, business metrics')
    .option('--window <duration>', 'window ending now, e.g. 30m, 6h, 7d', '6h')
    .option('--from <iso>', 'window start (instead of --window)')
    .option('--to <iso>', 'window end (default now)')
    .option('--cohort <name>', `only one cohort: ${COHORTS.join(', ')}`)
    .action(async (key: string, o: { window: string; from?: string; to?: string; cohort?: string }, cmd: Command) => {
      if (o.cohort && !COHORTS.includes(o.cohort)) throw new CliError(`invalid cohort "${o.cohort}": use one of ${COHORTS.join(', ')}`);
      const { client, json } = clientFor(cmd, io);
      const q = new URLSearchParams(o.from ? { from: o.from, ...(o.to ? { to: o.to } : {}) } : { window: o.window });
      const { body } = await client.get<{ from: string; to: string; cohorts: Record<string, CohortSummary> }>(
        `/api/admin/metrics/${encodeURIComponent(key)}/summary?${q}`,
      );
      if (json) return printJson(io, o.cohort ? { ...body, cohorts: { [o.cohort]: body.cohorts[o.cohort] } } : body);
      io.out(`${key}  ${body.from} → ${body.to}`);
      for (const c of o.cohort ? [o.cohort] : COHORTS) io.out(cohortLines(c, body.cohorts[c]!).join('\n'));
    });

  const baseline = program.command('baseline').description('baselines: what normal looked like before a rollout');

  baseline
    .command('capture <key>')
    .description('capture a baseline (OPERATOR)')
    .option('--mode <mode>', 'pre_rollout (before the first non-zero rollout), window, or weekly', 'pre_rollout')
    .option('--hours <n>', 'pre_rollout: hours before the rollout; weekly: hours per week', undefined)
    .option('--from <iso>', 'window: start')
    .option('--to <iso>', 'window: end')
    .option('--weeks <n>', 'weekly: how many past weeks', '4')
    .option('--reason <text>', 'recorded in the audit trail')
    .action(async (key: string, o: Record<string, string | undefined>, cmd: Command) => {
      const { client, json } = clientFor(cmd, io);
      const num = (v: string | undefined, name: string) => {
        if (v === undefined) return undefined;
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new CliError(`invalid --${name} "${v}": use a whole number ≥ 1`);
        return n;
      };
      let body: Record<string, unknown>;
      if (o.mode === 'window') {
        if (!o.from || !o.to) throw new CliError('--mode window needs --from and --to (ISO times)');
        body = { mode: 'window', from: o.from, to: o.to };
      } else if (o.mode === 'weekly') body = { mode: 'weekly', weeks: num(o.weeks, 'weeks'), hours: num(o.hours, 'hours') };
      else if (o.mode === 'pre_rollout') body = { mode: 'pre_rollout', hours: num(o.hours, 'hours') };
      else throw new CliError(`invalid --mode "${o.mode}": use pre_rollout, window or weekly`);
      const { body: b } = await client.post<Baseline>(`/api/admin/metrics/${encodeURIComponent(key)}/baselines`, { ...body, reason: o.reason });
      if (json) return printJson(io, b);
      io.out(`captured ${b.id} (${b.mode}) ${b.from} → ${b.to}: ${b.summary.all?.requests ?? 0} requests, 5xx ${pct(b.summary.all?.errorRate5xx ?? null)}`);
    });

  baseline
    .command('list <key>')
    .description('a flag’s baselines, newest first')
    .action(async (key: string, _o: unknown, cmd: Command) => {
      const { client, json } = clientFor(cmd, io);
      const { body } = await client.get<{ baselines: Baseline[] }>(`/api/admin/metrics/${encodeURIComponent(key)}/baselines`);
      if (json) return printJson(io, body);
      if (body.baselines.length === 0) io.out(`no baselines: capture one with \`rampart baseline capture ${key}\``);
      for (const b of body.baselines) io.out(`${b.id}  ${b.mode.padEnd(11)}  ${b.from} → ${b.to}  age ${age(b.ageSeconds)}  by ${b.capturedBy}`);
    });

  baseline
    .command('show <id>')
    .description('one baseline: window, age and per-cohort figures')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { client, json } = clientFor(cmd, io);
      const { body: b } = await client.get<Baseline>(`/api/admin/baselines/${encodeURIComponent(id)}`);
      if (json) return printJson(io, b);
      io.out(`${b.id} (${b.mode}${b.weeks ? `, ${b.weeks} weeks` : ''})  ${b.from} → ${b.to}  age ${age(b.ageSeconds)}  by ${b.capturedBy}`);
      io.out(cohortLines('all cohorts', b.summary.all!).join('\n'));
    });
}
