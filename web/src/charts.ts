// Metric charts (uPlot). Histories are fetched down-sampled on the server (maxPoints, min/max buckets),
// so a 1,000,000-step series arrives as ~2,000 points and draws in milliseconds.
//
// Every chart takes the same view options (issue 16): x by step, wall-clock time or time since the run
// started; a linear or log y-axis; exponential-moving-average smoothing. Drag zooms the x-axis,
// double-click resets it; the legend shows every series' value under the cursor, and charts that share a
// `sync` key move their cursors together. The tick labels drawn on the canvas are also written to the
// chart's `data-x-ticks` / `data-y-ticks` attributes, which is how the browser tests read what is drawn.

import uPlot from 'uplot';
import { api, num, type HistoryPoint, type SeriesColumns } from './api';
import { fmtValue, h } from './dom';
import { themeColour } from './theme';

export const palette = [
  '#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777', '#4b5563', '#65a30d',
  '#1e3a8a', '#7f1d1d', '#14532d', '#581c87', '#9a3412', '#155e75', '#713f12', '#831843', '#111827', '#3f6212',
];

/** Points the server returns per series: about two per horizontal pixel of the chart. */
export const chartPoints = 2000;

export type XMode = 'step' | 'wall' | 'relative';

/** A series' points as objects (one run's history) or as columns (the runs panel's many-run answer). */
export type Series = SeriesBase & ({ points: HistoryPoint[]; columns?: undefined } | { columns: SeriesColumns; points?: undefined });

interface SeriesBase {
  label: string;
  /** The run's start (ms), for x = relative time; the series' first point when absent. */
  origin?: number;
  colour?: string;
}

export interface ChartView {
  x: XMode;
  log: boolean;
  /** 0 (none) … 0.99 (heavy): the weight of the moving average. */
  smoothing: number;
}

export const defaultView: ChartView = { x: 'step', log: false, smoothing: 0 };

export interface ChartOptions {
  width: number;
  height?: number;
  view?: ChartView;
  /** Charts with the same key share the cursor (hover one, read values on all). */
  sync?: string;
}

function finite(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/**
 * Axis labels that tell neighbouring ticks apart at any magnitude: 1e-4 … 6e-9 reads "2e-5", "4e-5", not
 * "0 0 0" (uPlot's default keeps a fixed number of decimals). Exponent notation below 1e-3 and from 1e6 up.
 */
export function tickLabels(all: (number | null)[]): string[] {
  // uPlot passes null for splits it leaves unlabelled (log axes): they stay blank.
  const label = (f: (v: number) => string) => all.map((v) => (v === null || !Number.isFinite(v) ? '' : f(v)));
  const splits = all.filter((v): v is number => v !== null && Number.isFinite(v));
  const vals = splits;
  if (vals.length === 0) return all.map(() => '');
  const maxAbs = Math.max(...vals.map(Math.abs));
  if (maxAbs !== 0 && (maxAbs < 1e-3 || maxAbs >= 1e6)) {
    for (let d = 0; d <= 6; d++) {
      const labels = splits.map((v) => (v === 0 ? '0' : v.toExponential(d)));
      if (new Set(labels).size === labels.length) return label((v) => (v === 0 ? '0' : v.toExponential(d)));
    }
    return label((v) => v.toExponential(6));
  }
  let step = Infinity;
  for (let i = 1; i < vals.length; i++) step = Math.min(step, Math.abs(vals[i] - vals[i - 1]) || Infinity);
  if (!Number.isFinite(step)) step = maxAbs || 1;
  let decimals = Math.max(0, Math.min(10, Math.ceil(-Math.log10(step) - 1e-9)));
  // A step like 0.25 needs two decimals: add them until neighbours differ.
  while (decimals < 10 && new Set(splits.map((v) => v.toFixed(decimals))).size < splits.length) decimals++;
  return label((v) => v.toFixed(decimals));
}

/** Exponential moving average with the start-up bias removed (TensorBoard's smoothing); gaps stay gaps. */
export function smooth(values: (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return values;
  let last = 0;
  let n = 0;
  return values.map((v) => {
    if (v === null) return null;
    last = last * weight + (1 - weight) * v;
    n++;
    return last / (1 - Math.pow(weight, n));
  });
}

function columnsOf(s: Series): SeriesColumns {
  if (s.columns) return s.columns;
  const n = s.points.length;
  const c = { steps: new Array<number>(n), values: new Array<number | string>(n), timestamps: new Array<number>(n) };
  s.points.forEach((p, i) => {
    c.steps[i] = p.step;
    c.values[i] = p.value;
    c.timestamps[i] = p.timestamp;
  });
  return c;
}

/** A point's x. The time modes read timestamps, which a series fetched for the step axis does not have. */
function xOf(c: SeriesColumns, i: number, mode: XMode, origin: number): number {
  if (mode === 'step') return c.steps[i];
  if (mode === 'wall') return c.timestamps![i] / 1000; // uPlot's time scale is in seconds
  return (c.timestamps![i] - origin) / 1000;
}

function relativeLabel(s: number): string {
  const a = Math.abs(s);
  if (a < 120) return `${Number(s.toFixed(a < 10 ? 1 : 0))}s`;
  if (a < 7200) return `${Number((s / 60).toFixed(1))}m`;
  return `${Number((s / 3600).toFixed(1))}h`;
}

/** Above this many series the legend (a row per series) gives way to one line naming the curve under the cursor. */
export const legendMax = 20;

const xLabel: Record<XMode, string> = { step: 'step', wall: 'time', relative: 'time since start' };

/** Several series on one x axis (x values merged; gaps where a series has no point). */
export function lineChart(series: Series[], widthOrOptions: number | ChartOptions, height = 240): { el: HTMLElement; plot: uPlot } {
  const o: ChartOptions = typeof widthOrOptions === 'number' ? { width: widthOrOptions, height } : widthOrOptions;
  const view = o.view ?? defaultView;
  const cols = series.map(columnsOf);
  const origins = series.map((s, i) => s.origin ?? (cols[i].timestamps ?? []).reduce((m, t) => Math.min(m, t), cols[i].timestamps?.length ? Infinity : 0));
  const xsSet = new Set<number>();
  cols.forEach((c, i) => {
    for (let j = 0; j < c.steps.length; j++) xsSet.add(xOf(c, j, view.x, origins[i]));
  });
  const xs = Float64Array.from(xsSet).sort();
  const index = new Map<number, number>();
  xs.forEach((x, i) => index.set(x, i));
  const ys = cols.map((c, i) => {
    const col: (number | null)[] = new Array(xs.length).fill(null);
    for (let j = 0; j < c.steps.length; j++) {
      const v = finite(num(c.values[j]));
      // A log axis cannot show zero or negative values: they are left out rather than drawn at -Infinity.
      col[index.get(xOf(c, j, view.x, origins[i]))!] = view.log && v !== null && v <= 0 ? null : v;
    }
    return smooth(col, view.smoothing);
  });
  // A series of one or a few points is drawn as dots: a line needs two points, and uPlot draws none for one.
  const sparse = cols.map((c) => c.steps.length <= 3);
  const el = h('div', { class: 'chart' });
  // The canvas cannot follow CSS: the theme's colours are read when the chart is drawn.
  const axisText = themeColour('--fg') || '#111827';
  const gridLine = themeColour('--line') || '#e5e7eb';
  const legend = series.length <= legendMax;
  // Many curves are drawn as 1 px lines: a hairline is several times cheaper to rasterise than a 1.5 px stroke
  // (1,000 curves of 250 points: ~100 ms against ~300 ms in headless Chromium), and a thicket of thick lines is a blot.
  const thin = series.length > legendMax;
  const hover = h('div', { class: 'chart-hover muted small', 'data-testid': 'chart-hover' });
  const xText = (v: number) => (view.x === 'step' ? String(v) : view.x === 'relative' ? relativeLabel(v) : new Date(v * 1000).toLocaleString('en-GB'));
  /** Without a legend: the series whose point at the cursor's x is nearest the cursor, with its value. */
  const nearest = (u: uPlot) => {
    const { idx, top } = u.cursor;
    let best = -1;
    let dist = Infinity;
    if (idx != null && top != null && top >= 0)
      for (let i = 1; i < u.series.length; i++) {
        const v = u.data[i][idx];
        if (v == null) continue;
        const d = Math.abs(u.valToPos(v, 'y') - top);
        if (d < dist) [best, dist] = [i, d];
      }
    hover.textContent = best < 0 ? '' : `${series[best - 1].label} · ${xLabel[view.x]} ${xText(u.data[0][idx!])} · ${fmtValue(u.data[best][idx!]!)}`;
  };
  const ticks = (axis: 'x' | 'y') => (_u: uPlot, splits: (number | null)[]) => {
    let labels: string[];
    if (axis === 'y' || view.x === 'step') labels = tickLabels(splits);
    else if (view.x === 'relative') labels = splits.map((s) => (s == null ? '' : relativeLabel(s)));
    else labels = splits.map((s) => (s == null ? '' : new Date(s * 1000).toLocaleTimeString('en-GB')));
    el.dataset[axis === 'x' ? 'xTicks' : 'yTicks'] = labels.join('|');
    return labels;
  };
  const plot = new uPlot(
    {
      width: o.width,
      height: o.height ?? 240,
      scales: {
        x: {
          time: view.x === 'wall',
          // One x value (a single point, or several at one step) gets a window around it instead of 0…600.
          range: (_u, min, max) => (min === max ? [min - 1, max + 1] : [min, max]),
        },
        y: view.log ? { distr: 3, log: 10 } : {},
      },
      legend: { show: legend, live: true },
      // Without a legend the hover line names the nearest curve: no cursor dot per series (1,000 elements to move).
      cursor: { drag: { x: true, y: false }, sync: o.sync ? { key: o.sync } : undefined, points: { show: legend } },
      axes: [
        { label: xLabel[view.x], values: ticks('x'), stroke: axisText, grid: { stroke: gridLine }, ticks: { stroke: gridLine } },
        { values: ticks('y'), size: 64, stroke: axisText, grid: { stroke: gridLine }, ticks: { stroke: gridLine } },
      ],
      series: [
        { label: xLabel[view.x], value: (_u, v) => (v == null ? '—' : xText(v)) },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: s.colour ?? palette[i % palette.length],
          width: thin ? 1 : 1.5,
          spanGaps: true,
          value: (_u: uPlot, v: number | null) => (v == null ? '—' : fmtValue(v)),
          points: sparse[i] ? { show: true, size: 8, fill: s.colour ?? palette[i % palette.length] } : { show: false },
        })),
      ],
      hooks: {
        setCursor: legend ? [] : [nearest],
        setScale: [
          (u, key) => {
            if (key !== 'x') return;
            el.dataset.xMin = String(u.scales.x.min);
            el.dataset.xMax = String(u.scales.x.max);
          },
        ],
      },
    },
    [xs, ...ys] as uPlot.AlignedData,
    el,
  );
  if (!legend) el.append(hover);
  return { el, plot };
}

/** "1 point", "50 points", "1,000,000 points, drawn from 2,000 (min/max per bucket)". */
export function pointsNote(total: number, drawn: number): string {
  const n = `${total.toLocaleString('en')} point${total === 1 ? '' : 's'}`;
  return total > drawn ? `${n}, drawn from ${drawn.toLocaleString('en')} (min/max per bucket)` : n;
}

/** Loads one metric's history (down-sampled) and draws it; says how many points it stands for. */
export async function metricChart(runId: string, key: string, width: number): Promise<HTMLElement> {
  const started = performance.now();
  const history = await api.history(runId, key, chartPoints);
  const { el } = lineChart([{ label: key, points: history.points }], width);
  const total = history.totalPoints ?? history.points.length;
  const ms = Math.round(performance.now() - started);
  return h(
    'figure',
    { class: 'metric', 'data-metric': key, 'data-total-points': total, 'data-drawn-points': history.points.length, 'data-render-ms': ms },
    h('figcaption', null, h('strong', null, key), h('span', { class: 'muted small' }, ` · ${pointsNote(total, history.points.length)}`)),
    el,
  );
}

/** The chart view controls: x-axis, log scale, smoothing. `onChange` gets the new view. */
export function viewControls(view: ChartView, onChange: (v: ChartView) => void, testId = 'chart-controls'): HTMLElement {
  const x = h('select', { 'aria-label': 'X axis', 'data-testid': 'x-axis' },
    (['step', 'wall', 'relative'] as XMode[]).map((m) => h('option', { value: m, selected: m === view.x }, { step: 'Step', wall: 'Wall time', relative: 'Relative time' }[m])));
  const log = h('input', { type: 'checkbox', checked: view.log, 'aria-label': 'Log scale', 'data-testid': 'log-scale' });
  const sm = h('input', { type: 'range', min: 0, max: 0.99, step: 0.01, value: view.smoothing, 'aria-label': 'Smoothing', 'data-testid': 'smoothing' });
  const smOut = h('output', null, view.smoothing.toFixed(2));
  const emit = () => {
    smOut.textContent = Number(sm.value).toFixed(2);
    onChange({ x: x.value as XMode, log: log.checked, smoothing: Number(sm.value) });
  };
  x.addEventListener('change', emit);
  log.addEventListener('change', emit);
  sm.addEventListener('change', emit);
  sm.addEventListener('input', () => (smOut.textContent = Number(sm.value).toFixed(2)));
  return h('div', { class: 'toolbar chart-controls', 'data-testid': testId },
    h('label', null, 'X axis ', x), h('label', null, log, ' log scale'), h('label', null, 'Smoothing ', sm, ' ', smOut),
    h('span', { class: 'muted small' }, 'Drag across a chart to zoom, double-click to reset.'));
}
