// Compare runs: params side by side with differences highlighted, each metric's best and worst run marked,
// every metric's history overlaid, and a parallel-coordinates view of the params that differ against a
// chosen metric (log axes where values span decades, a colour scale).

import { api, num, type Run } from '../api';
import { chartPoints, lineChart } from '../charts';
import { errorLine, fmtText, fmtValue, h, link, loading, statusBadge, svg, svgNs } from '../dom';
import type { PageContext } from '../page';
import { runColour, runLabels } from '../runcharts';

/** Metrics where lower is better (loss, error rates, distances, times); for the rest higher is better. */
export const lowerIsBetter = (key: string) => /loss|err|rmse|mse|mae|mape|perplexity|wer|cer|latency|time|duration|distance/i.test(key);

/** Numeric values all positive and spanning two decades or more (a learning rate) are drawn on a log axis. */
function logAxis(ns: number[]): boolean {
  const lo = Math.min(...ns);
  const hi = Math.max(...ns);
  return ns.length > 1 && lo > 0 && hi / lo >= 100;
}


/** One vertical axis per param (numeric or categorical) and the metric last; one line per run. */
export function parallelCoordinates(runs: Run[], params: string[], metric: string, available = 960): SVGSVGElement {
  const labels = runLabels(runs);
  const width = Math.max(480, Math.min(Math.max(available, 480), 220 * (params.length + 1)));
  const height = 320;
  const top = 30;
  const bottom = height - 30;
  const axes = [...params.map((p) => ({ key: p, get: (r: Run) => r.params[p] as string | number | undefined })),
    { key: metric, get: (r: Run) => { const m = r.metrics.find((x) => x.key === metric); return m ? num(m.value) : undefined; } }];
  const scales = axes.map((a) => {
    const values = runs.map(a.get).filter((v) => v !== undefined && v !== '');
    const numeric = values.length > 0 && values.every((v) => Number.isFinite(Number(v)));
    if (numeric) {
      const ns = values.map(Number);
      const log = logAxis(ns);
      const t = (v: number) => (log ? Math.log10(v) : v);
      const lo = Math.min(...ns.map(t));
      const hi = Math.max(...ns.map(t));
      return {
        log,
        ticks: [fmtValue(Math.max(...ns)), fmtValue(Math.min(...ns))],
        y: (v: unknown) => (hi === lo ? (top + bottom) / 2 : bottom - ((t(Number(v)) - lo) / (hi - lo)) * (bottom - top)),
      };
    }
    const cats = [...new Set(values.map(String))].sort();
    return { ticks: cats, y: (v: unknown) => (cats.length < 2 ? (top + bottom) / 2 : top + (cats.indexOf(String(v)) / (cats.length - 1)) * (bottom - top)), cats };
  });
  const x = (i: number) => 60 + (i * (width - 120)) / Math.max(1, axes.length - 1);
  const root = document.createElementNS(svgNs, 'svg') as SVGSVGElement;
  root.setAttribute('width', String(width));
  root.setAttribute('height', String(height));
  root.setAttribute('class', 'parcoords');
  root.setAttribute('data-testid', 'parallel-coordinates');

  // Lines first, axes on top. Colour by the metric (low = blue, high = red).
  const mv = runs.map((r) => axes[axes.length - 1].get(r)).map(Number).filter(Number.isFinite);
  const mlo = Math.min(...mv);
  const mhi = Math.max(...mv);
  runs.forEach((r) => {
    const pts: string[] = [];
    axes.forEach((a, i) => {
      const v = a.get(r);
      if (v !== undefined && v !== '') pts.push(`${x(i)},${scales[i].y(v)}`);
    });
    const m = Number(axes[axes.length - 1].get(r));
    const t = Number.isFinite(m) && mhi > mlo ? (m - mlo) / (mhi - mlo) : 0.5;
    const colour = `rgb(${Math.round(37 + t * 183)},${Math.round(99 - t * 60)},${Math.round(235 - t * 197)})`;
    const line = svg('polyline', { points: pts.join(' '), fill: 'none', stroke: colour, 'stroke-width': 2, 'data-run': r.runId });
    line.appendChild(svg('title', {}, `${labels[runs.indexOf(r)]}: ${metric} = ${fmtValue(m)}`));
    root.appendChild(line);
  });
  axes.forEach((a, i) => {
    root.appendChild(svg('line', { x1: x(i), x2: x(i), y1: top, y2: bottom, stroke: '#374151' }));
    root.appendChild(svg('text', { x: x(i), y: 16, 'text-anchor': 'middle', class: i === axes.length - 1 ? 'axis-metric' : 'axis-param' }, a.key));
    const s = scales[i];
    if ('log' in s && s.log) root.appendChild(svg('text', { x: x(i), y: bottom + 22, 'text-anchor': 'middle', class: 'axis-scale tick' }, 'log scale'));
    if ('cats' in s && s.cats) s.cats.forEach((c) => root.appendChild(svg('text', { x: x(i) + 4, y: s.y(c) + 4, class: 'tick' }, c)));
    else {
      root.appendChild(svg('text', { x: x(i) + 4, y: top + 4, class: 'tick' }, s.ticks[0]));
      root.appendChild(svg('text', { x: x(i) + 4, y: bottom + 4, class: 'tick' }, s.ticks[1]));
    }
  });
  return root;
}

/** The lines' colour scale: low (blue) to high (red) values of the metric. */
function colourScale(runs: Run[], metric: string): HTMLElement {
  const vs = runs.map((r) => r.metrics.find((m) => m.key === metric)).filter((m) => m !== undefined).map((m) => num(m!.value)).filter(Number.isFinite);
  if (vs.length === 0) return h('span', null);
  return h('p', { class: 'colour-scale small', 'data-testid': 'colour-scale' },
    `${metric}: `, h('span', null, fmtValue(Math.min(...vs))), h('span', { class: 'gradient' }), h('span', null, fmtValue(Math.max(...vs))));
}

export async function comparePage(ctx: PageContext): Promise<void> {
  const ids = (ctx.params.get('runs') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  ctx.root.append(h('h1', null, 'Compare runs'));
  if (ids.length < 2) {
    ctx.root.append(h('p', null, 'Pick two or more runs in an experiment\'s runs table and press "Compare selected".'));
    return;
  }
  const runs = await Promise.all(ids.map((id) => api.run(id)));
  if (!ctx.alive()) return;

  const paramKeys = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort();
  const metricKeys = [...new Set(runs.flatMap((r) => r.metrics.map((m) => m.key)))].sort();
  const differs = (k: string) => new Set(runs.map((r) => r.params[k] ?? '\u0000missing')).size > 1;
  const labels = runLabels(runs);
  const latest = (r: Run, k: string) => {
    const m = r.metrics.find((x) => x.key === k);
    const v = m ? num(m.value) : NaN;
    return Number.isFinite(v) ? v : undefined;
  };
  /** Best and worst run of a metric (by its latest value), when the runs differ in it. */
  const extremes = (k: string) => {
    const vs = runs.map((r) => latest(r, k)).filter((v): v is number => v !== undefined);
    if (new Set(vs).size < 2) return { best: undefined, worst: undefined };
    const lo = Math.min(...vs);
    const hi = Math.max(...vs);
    return lowerIsBetter(k) ? { best: lo, worst: hi } : { best: hi, worst: lo };
  };
  const metricCell = (r: Run, k: string, e: { best?: number; worst?: number }) => {
    const v = latest(r, k);
    const mark = v === undefined ? '' : v === e.best ? 'best' : v === e.worst ? 'worst' : '';
    return h('td', { class: `num ${mark}`, title: mark ? `${mark} ${k} of these runs` : null, 'data-mark': mark || null },
      fmtValue(r.metrics.find((m) => m.key === k)?.value), mark === 'best' ? ' ▲' : mark === 'worst' ? ' ▼' : '');
  };

  const onlyDiff = h('input', { type: 'checkbox', 'aria-label': 'Only differences' });
  const paramTable = h(
    'table',
    { class: 'grid compare', 'data-testid': 'param-diff' },
    h('thead', null, h('tr', null, h('th', null, 'Parameter'), runs.map((r, i) => h('th', null, h('span', { class: 'swatch', style: `background:${runColour(i)}` }), link(`/runs/${r.runId}`, labels[i]))))),
    h(
      'tbody',
      null,
      h('tr', null, h('th', null, 'status'), runs.map((r) => h('td', null, statusBadge(r.status)))),
      paramKeys.map((k) =>
        h('tr', { class: differs(k) ? 'differs' : 'same', 'data-param': k }, h('th', null, k),
          runs.map((r) => h('td', { title: r.params[k] ?? null }, r.params[k] === undefined ? '—' : fmtText(r.params[k])))),
      ),
      metricKeys.map((k) =>
        h('tr', { class: 'metric-row', 'data-metric': k }, h('th', null, `${k} (latest, ${lowerIsBetter(k) ? 'lower' : 'higher'} is better)`), runs.map((r) => metricCell(r, k, extremes(k)))),
      ),
    ),
  );
  onlyDiff.addEventListener('change', () => paramTable.classList.toggle('only-diff', onlyDiff.checked));

  const metricSelect = h('select', { 'aria-label': 'Metric for parallel coordinates' }, metricKeys.map((k) => h('option', { value: k }, k)));
  const pc = h('div', { class: 'parcoords-wrap' });
  const drawPc = () => {
    // Constant params say nothing about the runs: only the ones that differ get an axis.
    const varying = paramKeys.filter(differs);
    const hidden = paramKeys.length - varying.length;
    pc.replaceChildren(
      metricKeys.length ? parallelCoordinates(runs, varying, metricSelect.value, (ctx.root.clientWidth || 960) - 20) : h('p', { class: 'muted' }, 'No metrics to plot.'),
      metricKeys.length ? colourScale(runs, metricSelect.value) : '',
      hidden ? h('p', { class: 'muted small', 'data-testid': 'constant-params' }, `${hidden} param${hidden === 1 ? '' : 's'} with the same value in every run not drawn.`) : '',
    );
  };
  metricSelect.addEventListener('change', drawPc);

  const charts = h('div', { class: 'charts', 'data-testid': 'overlay-charts' });
  ctx.root.append(
    h('p', null, `${runs.length} runs. Rows whose values differ are highlighted. `, h('label', null, onlyDiff, ' only differences')),
    h('div', { class: 'table-wrap' }, paramTable),
    h('h2', null, 'Parallel coordinates'),
    h('div', { class: 'toolbar' }, 'Metric: ', metricSelect),
    pc,
    h('h2', null, 'Metrics overlaid'),
    charts,
  );
  drawPc();

  const width = Math.max(320, Math.min(900, (ctx.root.clientWidth || 960) - 40));
  for (const key of metricKeys) {
    const slot = h('div', null, loading());
    charts.append(slot);
    Promise.all(runs.map((r) => (r.metrics.some((m) => m.key === key) ? api.history(r.runId, key, chartPoints) : Promise.resolve({ key, points: [] }))))
      .then((hs) => {
        const { el } = lineChart(hs.map((hist, i) => ({ label: labels[i], points: hist.points, colour: runColour(i) })), width);
        slot.replaceChildren(h('figure', { class: 'metric', 'data-metric': key, 'data-series': runs.length }, h('figcaption', null, h('strong', null, key)), el));
      })
      .catch((err) => slot.replaceChildren(errorLine(err)));
  }
}
