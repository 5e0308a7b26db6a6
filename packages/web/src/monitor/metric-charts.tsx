import { useMemo, useState } from 'react';
import { useFormat, useT } from '../i18n/i18n.js';
import { Section } from '../ui/section.js';
import { ErrorState, Loading } from '../ui/states.js';
import { CHART_COLORS } from './chart-colors.js';
import { MarkList } from './mark-list.js';
import { monitorMessages } from './messages.js';
import { marksFrom } from './stage-marks.js';
import { TimeChart, type ChartLine } from './time-chart.js';
import type { CohortSummary, MetricKind } from './types.js';
import { CHART_WINDOWS, useMetricBuckets, type BucketSeries, type ChartWindow } from './use-metric-buckets.js';
import { useMarkText } from './use-mark-text.js';
import { useBaseline, useFlagAudit, useMetricNames } from './use-monitor.js';

type Unit = 'percent' | 'ms' | 'value' | 'perMinute';

interface ChartSpec {
  id: string;
  title: string;
  unit: Unit;
  unitText: string;
  /** The figure charted, from one cohort's summary of one bucket (or of the baseline). */
  pick: (s: CohortSummary | undefined) => number | null;
}

const nn = (v: number | null | undefined) => (v === undefined || v === null || !Number.isFinite(v) ? null : v);

/** Exposed, control and the baseline over time: error rates, p95 latency and each business metric. */
export function MetricCharts({ flagKey }: { flagKey: string }) {
  const t = useT(monitorMessages);
  const f = useFormat();
  const [win, setWin] = useState<ChartWindow>('6h');
  const buckets = useMetricBuckets(flagKey, win);
  const names = useMetricNames(flagKey);
  const baseline = useBaseline(flagKey);
  const audit = useFlagAudit(flagKey);
  const allMarks = useMemo(() => marksFrom(audit.data ?? []), [audit.data]);
  const data = buckets.data;
  const marks = useMemo(() => (data ? allMarks.filter((m) => m.at >= data.from && m.at <= data.to) : []), [allMarks, data]);

  const specs = useMemo<ChartSpec[]>(() => {
    const list: ChartSpec[] = [
      { id: 'error-rate', title: t.chartErrorRate, unit: 'percent', unitText: t.unitPercent, pick: (s) => nn(s?.errorRate) },
      { id: '5xx-rate', title: t.chart5xx, unit: 'percent', unitText: t.unitPercent, pick: (s) => nn(s?.errorRate5xx) },
      { id: 'latency-p95', title: t.chartLatency, unit: 'ms', unitText: t.unitMs, pick: (s) => (s && s.requests > 0 ? nn(s.latencyMs.p95) : null) },
    ];
    const minutes = CHART_WINDOWS[win].bucketMs / 60_000;
    for (const [name, kind] of Object.entries(names.data ?? {}).sort(([a], [b]) => a.localeCompare(b)) as [string, MetricKind][]) {
      const m = (s: CohortSummary | undefined) => s?.metrics[name];
      if (kind === 'rate') list.push({ id: name, title: t.chartMetric(name, kind), unit: 'percent', unitText: t.unitRate, pick: (s) => nn(m(s)?.rate) });
      else if (kind === 'distribution')
        list.push({ id: name, title: t.chartMetric(name, kind), unit: name.endsWith('_ms') ? 'ms' : 'value', unitText: name.endsWith('_ms') ? t.unitMs : t.unitValue, pick: (s) => nn(m(s)?.p95) });
      else list.push({ id: name, title: t.chartMetric(name, kind), unit: 'perMinute', unitText: t.unitPerMinute, pick: (s) => (m(s) ? m(s)!.count / minutes : null) });
    }
    return list;
  }, [t, names.data, win]);

  const formats = useMemo<Record<Unit, (v: number) => string>>(
    () => ({
      percent: (v) => f.percent(v * 100),
      ms: (v) => `${f.number(Math.round(v))} ms`,
      value: (v) => f.number(v),
      perMinute: (v) => `${f.number(v)}/min`,
    }),
    [f],
  );

  return (
    <Section
      title={t.chartsTitle}
      id="monitor-charts"
      actions={
        <div className="segmented" role="group" aria-label={t.windowLabel}>
          {(Object.keys(CHART_WINDOWS) as ChartWindow[]).map((w) => (
            <button key={w} type="button" aria-pressed={win === w} onClick={() => setWin(w)}>
              {t.windows[w]}
            </button>
          ))}
        </div>
      }
    >
      <p className="muted small chart-lead">
        {t.chartsLead(CHART_WINDOWS[win].bucketMs / 60_000)}{' '}
        {baseline.data ? t.baselineNote(f.relative(baseline.data.capturedAt)) : baseline.isSuccess ? t.noBaseline : ''}
      </p>
      {buckets.isPending ? (
        <Loading />
      ) : buckets.error && !data ? (
        <ErrorState error={buckets.error} onRetry={() => void buckets.refetch()} />
      ) : data ? (
        <>
          {buckets.error ? <ErrorState error={buckets.error} onRetry={() => void buckets.refetch()} /> : null}
          <div className="chart-grid" aria-busy={buckets.isFetching && buckets.isPlaceholderData}>
            {specs.map((spec) => (
              <MetricChart key={spec.id} spec={spec} data={data} baseline={baseline.data?.summary.all} format={formats[spec.unit]} marks={marks} />
            ))}
          </div>
        </>
      ) : null}
      {audit.error ? <ErrorState error={audit.error} onRetry={() => void audit.refetch()} /> : <MarkList marks={marks} />}
    </Section>
  );
}

function MetricChart({
  spec,
  data,
  baseline,
  format,
  marks,
}: {
  spec: ChartSpec;
  data: BucketSeries;
  baseline: CohortSummary | undefined;
  format: (v: number) => string;
  marks: ReturnType<typeof marksFrom>;
}) {
  const t = useT(monitorMessages);
  const f = useFormat();
  const text = useMarkText();
  const xs = useMemo(() => data.buckets.map((b) => b.mid), [data]);
  const base = spec.pick(baseline);
  const lines = useMemo<ChartLine[]>(() => {
    const l: ChartLine[] = [
      { label: t.exposed, color: CHART_COLORS.exposed, values: data.buckets.map((b) => spec.pick(b.summary.cohorts.exposed)) },
      { label: t.control, color: CHART_COLORS.control, values: data.buckets.map((b) => spec.pick(b.summary.cohorts.control)) },
    ];
    // The baseline is one figure: a dashed horizontal reference line.
    if (base !== null) l.push({ label: t.baseline, color: CHART_COLORS.baseline, values: data.buckets.map(() => base), dash: [6, 4] });
    return l;
  }, [data, spec, base, t]);
  const range = useMemo<[number, number]>(() => [data.from, data.to], [data]);
  const summary = useMemo(() => {
    const last = (values: (number | null)[]) => [...values].reverse().find((v) => v !== null) ?? null;
    const parts = lines.map((l) => `${l.label} ${last(l.values) === null ? '—' : format(last(l.values)!)}`);
    return lines.slice(0, 2).every((l) => last(l.values) === null) ? t.chartNoData : t.chartLatest(parts.join(', '));
  }, [lines, format, t]);
  if (lines.slice(0, 2).every((l) => l.values.every((v) => v === null))) {
    return (
      <figure className="chart chart-empty">
        <figcaption className="chart-caption">
          <h3>{spec.title}</h3>
          <span className="muted small">{spec.unitText}</span>
        </figcaption>
        <p className="muted small">{t.chartNoData}</p>
      </figure>
    );
  }
  return (
    <TimeChart title={spec.title} unit={spec.unitText} xs={xs} lines={lines} range={range} marks={marks} format={format} formatTime={f.time} timeLabel={t.time} markLabel={text.label} summary={summary} />
  );
}
