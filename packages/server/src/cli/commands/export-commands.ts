import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { grafanaDashboard } from '../../exports/grafana-dashboard.js';
import { prometheusRules, prometheusRulesYaml } from '../../exports/prometheus-rules.js';
import type { Io } from '../output.js';

/** Writes to FILE, or to stdout without --out (so it pipes into `promtool check rules /dev/stdin`). */
async function emit(io: Io, text: string, out: string | undefined, what: string): Promise<void> {
  if (!out) return io.out(text.trimEnd());
  await writeFile(out, text.endsWith('\n') ? text : `${text}\n`);
  io.out(`wrote ${what} to ${out}`);
}

/** Artifacts for the monitoring stack. Generated locally: no server, no token. */
export function registerExportCommands(program: Command, io: Io): void {
  const exp = program.command('export').description('monitoring artifacts: Prometheus alerting rules, a Grafana dashboard (no server needed)');

  exp
    .command('prometheus-rules')
    .description('Prometheus alerting rules (YAML) for Rampart and the watchdog’s verdicts; see docs/observability.md')
    .option('--out <file>', 'write to FILE instead of stdout')
    .option('--job <name>', 'the scrape job that collects Rampart’s /metrics', 'rampart')
    .action(async (o: { out?: string; job: string }) => {
      const rules = prometheusRules({ job: o.job });
      const count = rules.groups.reduce((n, g) => n + g.rules.length, 0);
      await emit(io, prometheusRulesYaml({ job: o.job }), o.out, `${count} alerting rules in ${rules.groups.length} groups`);
    });

  exp
    .command('grafana-dashboard')
    .description('a Grafana dashboard (JSON) with a Prometheus datasource variable; see docs/observability.md')
    .option('--out <file>', 'write to FILE instead of stdout')
    .action(async (o: { out?: string }) => {
      const dashboard = grafanaDashboard();
      const panels = dashboard.panels.filter((p) => p.type !== 'row').length;
      await emit(io, JSON.stringify(dashboard, null, 2), o.out, `the dashboard "${dashboard.title}" (${panels} panels)`);
    });
}
