import type { Cohort } from '@rampart/core';
import type { Baseline } from '../metrics/baselines.js';
import type { CohortSummary } from '../metrics/summary.js';
import type { Drift, Expected } from './config-check.js';
import type { Determinism } from './determinism.js';
import type { JudgeResult } from './judge/index.js';
import type { Signals } from './store.js';

/** A metric read from Prometheus for the checkpoint (reported, not tested: no sample size). */
export interface ExternalMetric {
  name: string;
  kind: string;
  exposed: number | null;
  control: number | null;
  error?: string;
}

export interface ReportInput {
  id: string;
  flag: string;
  at: Date;
  trigger: string;
  actor: string;
  phase: string | null;
  label: string | null;
  config: { enabled: boolean; rolloutBasisPoints: number; allowlistCount: number; version: number };
  expected: Expected;
  drift: Drift[];
  determinism: Determinism;
  stage: { from: string; cohorts: Record<Cohort, CohortSummary> };
  recent: { hours: number; cohorts: Record<Cohort, CohortSummary> };
  baseline: Baseline | null;
  signals: Signals;
  judgement: JudgeResult;
  external: ExternalMetric[];
}

const pct = (v: number | null | undefined, digits = 2) => (v === null || v === undefined ? 'no data' : `${(v * 100).toFixed(digits)}%`);
const num = (v: number | null | undefined) => (v === null || v === undefined ? '–' : Math.abs(v) >= 100 ? String(Math.round(v)) : v.toFixed(2));
const ICON = { PASS: '✅', WARN: '⚠️', FAIL: '❌' } as const;

/** e-value and always-valid p against the α the metric faced. */
function evidenceText(e: JudgeResult['metrics'][number]['evidence']): string {
  if (!e) return '–';
  const p = e.pValue < 1e-4 ? e.pValue.toExponential(1) : e.pValue.toPrecision(2);
  return `e=${e.eValue < 1000 ? e.eValue.toPrecision(3) : e.eValue.toExponential(1)}, p=${p} ${e.pValue <= e.alpha ? '≤' : '>'} α=${e.alpha.toPrecision(2)}`;
}

function cohortRow(name: string, c: CohortSummary): string {
  const s = c.status;
  return `| ${name} | ${c.requests} | ${s['2xx']} | ${s['3xx']} | ${s['4xx']} (${s['401']}/${s['403']}/${s['429']}) | ${s['5xx']} | ${pct(c.errorRate)} | ${pct(c.errorRate5xx)} | ${num(c.latencyMs.p50)} | ${num(c.latencyMs.p95)} | ${num(c.latencyMs.p99)} |`;
}

const TABLE_HEAD = [
  '| cohort | requests | 2xx | 3xx | 4xx (401/403/429) | 5xx | errors 4xx+5xx | 5xx only | p50 ms | p95 ms | p99 ms |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
];

/**
 * The checkpoint report, in the layout of the runbooks' "Checkpoint" sections, with every
 * figure measured: nothing is left to "manual review".
 */
export function renderReport(r: ReportInput): string {
  const j = r.judgement;
  const title = r.label ?? r.phase ?? r.trigger;
  const lines: string[] = [
    `## Checkpoint: ${title} (${r.at.toISOString()})`,
    '',
    `Flag \`${r.flag}\` · checkpoint \`${r.id}\` · ${r.trigger} by ${r.actor}${r.phase ? ` · phase \`${r.phase}\`` : ''}`,
    '',
    '### Feature Flag State',
    `- **enabled:** ${r.config.enabled}`,
    `- **rollout_percentage:** ${r.config.rolloutBasisPoints / 100}%`,
    `- **allowlist_count:** ${r.config.allowlistCount}`,
    `- **version:** ${r.config.version}`,
    `- **expected:** from ${r.expected.source === 'explicit' ? '--expected-rollout' : r.expected.source === 'plan' ? 'the rollout plan stage' : `the last audited change${r.expected.since ? ` (${r.expected.since})` : ''}`}` +
      (r.expected.rolloutBasisPoints === null ? '' : `: rollout ${r.expected.rolloutBasisPoints / 100}%`),
    r.drift.length === 0
      ? '- **config drift:** none'
      : `- **config drift:** ${r.drift.map((d) => `${d.severity === 'FAIL' ? '❌' : '⚠️'} ${d.field} ${JSON.stringify(d.actual)}, expected ${JSON.stringify(d.expected)} (${d.why})`).join('; ')}`,
    '',
    `### Metrics (stage since ${r.stage.from}; last ${r.recent.hours}h)`,
    '',
    '**Requests and status breakdown**',
    '',
    ...TABLE_HEAD,
    ...(['exposed', 'control', 'allowlist'] as const).map((c) => cohortRow(`${c} (stage)`, r.stage.cohorts[c])),
    ...(['exposed', 'control'] as const).map((c) => cohortRow(`${c} (last ${r.recent.hours}h)`, r.recent.cohorts[c])),
    ...(r.baseline?.summary.all ? [cohortRow(`baseline \`${r.baseline.id}\``, r.baseline.summary.all)] : []),
    '',
    `**Exposures (stage):** exposed ${r.stage.cohorts.exposed.exposures}, control ${r.stage.cohorts.control.exposures}, allowlist ${r.stage.cohorts.allowlist.exposures}` +
      (j.srm ? ` · sample ratio: observed exposed share ${pct(j.srm.observedExposedShare, 3)}, χ²=${num(j.srm.chi2)}, p=${j.srm.pValue.toPrecision(2)}${j.srm.mismatch ? ' ❌ mismatch' : ' ✅'}` : ''),
    '',
    r.baseline
      ? `**Baseline comparison:** baseline \`${r.baseline.id}\` (${r.baseline.mode}, ${r.baseline.from} → ${r.baseline.to}, age ${Math.round(r.baseline.ageSeconds / 3600)}h): 5xx ${pct(r.baseline.summary.all?.errorRate5xx)} vs exposed ${pct(r.stage.cohorts.exposed.errorRate5xx)}; p95 ${num(r.baseline.summary.all?.latencyMs.p95)} ms vs exposed ${num(r.stage.cohorts.exposed.latencyMs.p95)} ms`
      : '**Baseline comparison:** no baseline captured for this flag; exposed is compared with control.',
    '',
    '**Per-metric judgement**',
    '',
    '| metric | n exposed | n control | exposed | control | Δ | ratio | interval | evidence | threshold | outcome | rule |',
    '|---|---:|---:|---:|---:|---:|---:|---|---|---|---|---|',
    ...j.metrics.map(
      (m) =>
        `| ${m.name} | ${m.nExposed ?? '–'} | ${m.nControl ?? '–'} | ${num(m.estimateExposed)} | ${num(m.estimateControl)} | ${num(m.delta)} | ${num(m.ratio)} | ${m.interval ? `[${num(m.interval[0])}, ${num(m.interval[1])}]` : '–'} | ${evidenceText(m.evidence)} | ${m.threshold ?? '–'} | ${m.outcome} | ${m.rule} |`,
    ),
    ...(r.external.length
      ? [
          '',
          `**Metrics from Prometheus** (last ${r.recent.hours}h; reported, not tested: a PromQL value has no sample size)`,
          '',
          '| metric | kind | exposed | control | ratio |',
          '|---|---|---:|---:|---:|',
          ...r.external.map((x) =>
            x.error
              ? `| ${x.name} | ${x.kind} | – | – | ⚠️ query failed: ${x.error.replace(/\|/g, '\\|').slice(0, 160)} |`
              : `| ${x.name} | ${x.kind} | ${num(x.exposed)} | ${num(x.control)} | ${x.exposed !== null && x.control ? num(x.exposed / x.control) : '–'} |`,
          ),
        ]
      : []),
    '',
    '### Determinism Validation',
    ...r.determinism.allowlistProbes.map((p) => `- **${p.id}:** ${p.ok ? '✅' : '❌'} ${p.first.includes('ALLOWLIST') ? 'IN ALLOWLIST' : p.first} (${p.ok ? 'same answer 3×' : p.why})`),
    `- **Resolver consistency:** ${r.determinism.failures === 0 ? '✅' : '❌'} ${r.determinism.probes} probes × 3 evaluations (2 in-process, 1 through HTTP): ${r.determinism.failures} disagreement(s)`,
    ...r.determinism.failed.slice(0, 5).map((p) => `  - ❌ ${p.id}: ${p.first} / ${p.second} / ${p.http} — ${p.why}`),
    '',
    '### Operational Signals',
    `- **Complaints (last ${r.recent.hours}h):** ${r.signals.complaints}`,
    `- **Critical complaint:** ${r.signals.criticalComplaint ? '❌ yes' : 'no'}`,
    ...r.signals.notes.map((n) => `- **Note (${n.severity}, ${n.actor}, ${n.at}):** ${n.text}`),
    '',
    '### Decision',
    `${ICON[j.verdict]} **${j.verdict}** — ${j.decision} (health ${j.health})`,
    '',
    ...(j.alerts.length === 0 ? ['No alerts.'] : ['**Alerts:**', ...j.alerts.map((a) => `- ${a.severity === 'FAIL' ? '❌' : '⚠️'} \`${a.code}\`${a.metric ? ` (${a.metric})` : ''}: ${a.message} — rule: ${a.rule}`)]),
    '',
  ];
  return lines.join('\n');
}
