// Metric charts (uPlot). Histories are fetched down-sampled on the server (maxPoints, min/max buckets),
// so a 1,000,000-step series arrives as ~2,000 points and draws in milliseconds.

import uPlot from 'uplot';
import { api, num, type HistoryPoint } from './api';
import { h } from './dom';

export const palette = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777', '#4b5563', '#65a30d'];

/** Points the server returns per series: about two per horizontal pixel of the chart. */
export const chartPoints = 2000;

export interface Series {
  label: string;
  points: HistoryPoint[];
}

function finite(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/** Several series over step, on one x axis (steps merged; gaps where a series has no point). */
export function lineChart(series: Series[], width: number, height = 240): { el: HTMLElement; plot: uPlot } {
  const steps = new Set<number>();
  for (const s of series) for (const p of s.points) steps.add(p.step);
  const xs = [...steps].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = series.map((s) => {
    const col: (number | null)[] = new Array(xs.length).fill(null);
    for (const p of s.points) col[index.get(p.step)!] = finite(num(p.value));
    return col;
  });
  const el = h('div', { class: 'chart' });
  const plot = new uPlot(
    {
      width,
      height,
      scales: { x: { time: false } },
      legend: { show: true },
      cursor: { drag: { x: true, y: false } },
      axes: [{ label: 'step' }, {}],
      series: [
        { label: 'step' },
        ...series.map((s, i) => ({ label: s.label, stroke: palette[i % palette.length], width: 1.5, spanGaps: true, points: { show: false } })),
      ],
    },
    [xs, ...ys] as uPlot.AlignedData,
    el,
  );
  return { el, plot };
}

/** Loads one metric's history (down-sampled) and draws it; says how many points it stands for. */
export async function metricChart(runId: string, key: string, width: number): Promise<HTMLElement> {
  const started = performance.now();
  const history = await api.history(runId, key, chartPoints);
  const { el } = lineChart([{ label: key, points: history.points }], width);
  const total = history.totalPoints ?? history.points.length;
  const note =
    total > history.points.length
      ? `${total.toLocaleString('en')} points, drawn from ${history.points.length.toLocaleString('en')} (min/max per bucket)`
      : `${total.toLocaleString('en')} points`;
  const ms = Math.round(performance.now() - started);
  return h(
    'figure',
    { class: 'metric', 'data-metric': key, 'data-total-points': total, 'data-drawn-points': history.points.length, 'data-render-ms': ms },
    h('figcaption', null, h('strong', null, key), h('span', { class: 'muted small' }, ` · ${note}`)),
    el,
  );
}
