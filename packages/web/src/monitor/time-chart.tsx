import { useEffect, useId, useLayoutEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { CHART_COLORS } from './chart-colors.js';
import type { Mark } from './stage-marks.js';

export interface ChartLine {
  label: string;
  color: string;
  /** One value per x; null is a gap (no data is never 0). */
  values: (number | null)[];
  dash?: number[];
}

export interface TimeChartProps {
  title: string;
  unit: string;
  /** Epoch ms, ascending. */
  xs: number[];
  lines: ChartLine[];
  /** The x range shown, epoch ms. */
  range: [number, number];
  marks: Mark[];
  format: (v: number) => string;
  formatTime: (ms: number) => string;
  /** The legend's name for the time row. */
  timeLabel: string;
  markLabel: (m: Mark) => string;
  /** Read by screen readers in place of the canvas. */
  summary: string;
  height?: number;
}

const DPR = () => window.devicePixelRatio || 1;

/** Vertical lines with labels where the exposure changed: stage changes, and rollbacks in red. */
function marksPlugin(get: () => Pick<TimeChartProps, 'marks' | 'markLabel'>): uPlot.Plugin {
  return {
    hooks: {
      draw: [
        (u) => {
          const { marks, markLabel } = get();
          const { ctx } = u;
          const { left, top, width, height } = u.bbox;
          const dpr = DPR();
          ctx.save();
          ctx.font = `600 ${11 * dpr}px system-ui, sans-serif`;
          ctx.textBaseline = 'top';
          ctx.textAlign = 'left';
          // Labels go to the first of four rows where they overlap no earlier label.
          const taken: [number, number][][] = [[], [], [], []];
          marks.forEach((m, i) => {
            const x = Math.round(u.valToPos(m.at / 1000, 'x', true));
            if (x < left - 1 || x > left + width + 1) return;
            const rollback = m.kind === 'rollback';
            const color = rollback ? CHART_COLORS.rollback : CHART_COLORS.stage;
            ctx.strokeStyle = color;
            ctx.lineWidth = (rollback ? 2 : 1.5) * dpr;
            ctx.setLineDash(rollback ? [6 * dpr, 3 * dpr] : [2 * dpr, 2 * dpr]);
            ctx.beginPath();
            ctx.moveTo(x, top);
            ctx.lineTo(x, top + height);
            ctx.stroke();
            // Labels step down so neighbouring marks do not overwrite each other.
            const text = markLabel(m);
            const w = ctx.measureText(text).width + 6 * dpr;
            const tx = x + w + 2 * dpr > left + width ? x - w - 2 * dpr : x + 2 * dpr;
            let row = taken.findIndex((r) => r.every(([a, b]) => tx + w < a || tx > b));
            if (row < 0) row = i % taken.length;
            taken[row]!.push([tx, tx + w]);
            const y = top + (2 + row * 15) * dpr;
            ctx.fillStyle = 'rgba(255,255,255,0.9)';
            ctx.fillRect(tx, y, w, 14 * dpr);
            ctx.fillStyle = color;
            ctx.fillText(text, tx + 3 * dpr, y + 1.5 * dpr);
          });
          ctx.restore();
        },
      ],
    },
  };
}

/** Away from the cursor, the legend shows the newest point instead of dashes. */
function lastIndex(u: uPlot, lines: readonly ChartLine[]): number | null {
  // Reference lines (dashed: the baseline) have a value everywhere: the newest measured point counts.
  const measured = u.data.slice(1).filter((_, k) => !lines[k]?.dash);
  for (let i = u.data[0].length - 1; i >= 0; i--) if (measured.some((s) => s[i] != null)) return i;
  return null;
}

function latestInLegend(get: () => readonly ChartLine[]): uPlot.Plugin {
  const show = (u: uPlot) => {
    if (u.cursor.idx != null) return;
    const idx = lastIndex(u, get());
    if (idx !== null) u.setLegend({ idx });
  };
  return { hooks: { ready: [show], setData: [show], setCursor: [show] } };
}

function toData(p: TimeChartProps): uPlot.AlignedData {
  return [p.xs.map((x) => x / 1000), ...p.lines.map((l) => l.values)];
}

/**
 * A uPlot time chart that follows its container's width (ResizeObserver), down to a phone's.
 * The canvas is invisible to screen readers: the caption, the legend and `summary` say what it shows.
 */
export function TimeChart(props: TimeChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef(props);
  const titleId = useId();
  const height = props.height ?? 200;
  useLayoutEffect(() => {
    latest.current = props;
  });

  // Rebuilt only when the lines themselves change; new data goes through setData.
  const structure = props.lines.map((l) => `${l.label}:${l.color}:${l.dash?.join(',') ?? ''}`).join('|');
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const p = latest.current;
    const axis = { stroke: CHART_COLORS.axis, grid: { stroke: CHART_COLORS.grid, width: 1 }, ticks: { stroke: CHART_COLORS.grid, width: 1 }, font: '12px system-ui, sans-serif' };
    const opts: uPlot.Options = {
      width: Math.max(160, Math.floor(el.clientWidth)),
      height,
      scales: {
        x: { time: true, range: () => [latest.current.range[0] / 1000, latest.current.range[1] / 1000] },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] },
      },
      series: [
        { label: p.timeLabel, value: (_u, v) => (v == null ? '—' : latest.current.formatTime(v * 1000)) },
        ...p.lines.map((l) => ({
          label: l.label,
          stroke: l.color,
          width: l.dash ? 1.5 : 2,
          ...(l.dash ? { dash: l.dash, points: { show: false } } : { points: { size: 5, fill: l.color } }),
          spanGaps: false,
          value: (_u: uPlot, v: number | null) => (v == null ? '—' : latest.current.format(v)),
        })),
      ],
      axes: [
        { ...axis, values: (_u, splits) => splits.map((s) => latest.current.formatTime(s * 1000)) },
        { ...axis, size: 70, values: (_u, splits) => splits.map((s) => latest.current.format(s)) },
      ],
      cursor: { drag: { x: false, y: false, setScale: false } },
      legend: { show: true, live: true },
      plugins: [marksPlugin(() => latest.current), latestInLegend(() => latest.current.lines)],
    };
    const u = new uPlot(opts, toData(p), el);
    plot.current = u;
    const ro = new ResizeObserver((entries) => {
      const w = Math.floor(entries[0]?.contentRect.width ?? 0);
      if (w > 0 && w !== u.width) u.setSize({ width: w, height });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [structure, height]);

  useEffect(() => {
    plot.current?.setData(toData(props));
  }, [props.xs, props.lines, props.range]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    plot.current?.redraw(false, true);
  }, [props.marks, props.format, props.formatTime, props.markLabel]);

  return (
    <figure className="chart" aria-labelledby={titleId}>
      <figcaption className="chart-caption">
        <h3 id={titleId}>{props.title}</h3>
        <span className="muted small">{props.unit}</span>
      </figcaption>
      <div ref={box} className="chart-plot" />
      <p className="visually-hidden">{props.summary}</p>
    </figure>
  );
}
