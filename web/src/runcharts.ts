// The chart panel above the runs table (issue 16): one metric across the selected runs, or every run the
// table shows when none is ticked — its curves (each history down-sampled on the server), its latest value
// per run as bars, or a scatter of any two columns (metric against param, metric against metric…). It
// plots exactly the runs of the table, so the table's filter, sort and page apply to it.

import { api, num, type RunSeries, type Run } from './api';
import { defaultView, lineChart, palette, viewControls, type ChartView } from './charts';
import { errorLine, fmtValue, h, loading, svg } from './dom';

/** Curves drawn at most: the server's limit for one many-run history request, and the table's largest page. */
export const maxCurves = 1000;

/**
 * Points asked per curve: about one per pixel for a few runs, fewer as curves pile up (1,000 overlaid curves of
 * 250 points each already cover every pixel), so 1,000 runs are one request of 250,000 points and one draw.
 */
export function pointsPerCurve(runs: number): number {
  return Math.max(50, Math.min(1000, Math.floor(250_000 / Math.max(1, runs))));
}

/** A colour per run: the palette first, then hues spread by the golden angle, so 50 runs never repeat one. */
export function runColour(i: number): string {
  return i < palette.length ? palette[i] : `hsl(${Math.round((i * 137.508) % 360)} 70% 42%)`;
}

/** Run names for legends: a name shared by several runs gets the start of its id, so they can be told apart. */
export function runLabels(runs: Run[]): string[] {
  const count = new Map<string, number>();
  for (const r of runs) count.set(r.name ?? '', (count.get(r.name ?? '') ?? 0) + 1);
  return runs.map((r) => (!r.name ? r.runId.slice(0, 8) : count.get(r.name)! > 1 ? `${r.name} (${r.runId.slice(0, 6)})` : r.name));
}

type Field = { kind: 'metric' | 'param'; key: string };

function fieldValue(r: Run, f: Field): number | undefined {
  if (f.kind === 'param') {
    const v = r.params[f.key];
    const n = v === undefined || v.trim() === '' ? NaN : Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  const m = r.metrics.find((x) => x.key === f.key);
  const n = m ? num(m.value) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** Numeric axis ticks for the SVG charts: five, in the shared number format. */
function ticks(lo: number, hi: number): number[] {
  if (lo === hi) return [lo];
  return [0, 1, 2, 3, 4].map((i) => lo + ((hi - lo) * i) / 4);
}

function scatter(runs: Run[], labels: string[], x: Field, y: Field, width: number, log: boolean): SVGSVGElement {
  const height = 280;
  const pad = { l: 70, r: 20, t: 14, b: 40 };
  const pts = runs.map((r, i) => ({ r, i, x: fieldValue(r, x), y: fieldValue(r, y) }))
    .filter((p): p is { r: Run; i: number; x: number; y: number } => p.x !== undefined && p.y !== undefined && (!log || p.y > 0));
  const root = svg('svg', { width, height, class: 'scatter', 'data-testid': 'run-scatter' }) as SVGSVGElement;
  if (pts.length === 0) {
    root.append(svg('text', { x: width / 2, y: height / 2, 'text-anchor': 'middle', class: 'muted' }, 'No run has both values.'));
    return root;
  }
  const ty = (v: number) => (log ? Math.log10(v) : v);
  const xs = pts.map((p) => p.x);
  const ys = pts.map((p) => ty(p.y));
  const [xlo, xhi] = [Math.min(...xs), Math.max(...xs)];
  const [ylo, yhi] = [Math.min(...ys), Math.max(...ys)];
  const sx = (v: number) => (xhi === xlo ? (pad.l + width - pad.r) / 2 : pad.l + ((v - xlo) / (xhi - xlo)) * (width - pad.l - pad.r));
  const sy = (v: number) => (yhi === ylo ? height / 2 : height - pad.b - ((v - ylo) / (yhi - ylo)) * (height - pad.t - pad.b));
  root.append(svg('line', { x1: pad.l, x2: width - pad.r, y1: height - pad.b, y2: height - pad.b, stroke: '#9ca3af' }));
  root.append(svg('line', { x1: pad.l, x2: pad.l, y1: pad.t, y2: height - pad.b, stroke: '#9ca3af' }));
  for (const t of ticks(xlo, xhi)) root.append(svg('text', { x: sx(t), y: height - pad.b + 14, 'text-anchor': 'middle', class: 'tick' }, fmtValue(t)));
  for (const t of ticks(ylo, yhi)) root.append(svg('text', { x: pad.l - 4, y: sy(t) + 4, 'text-anchor': 'end', class: 'tick' }, fmtValue(log ? Math.pow(10, t) : t)));
  root.append(svg('text', { x: (pad.l + width - pad.r) / 2, y: height - 6, 'text-anchor': 'middle', class: 'axis-label' }, x.key));
  root.append(svg('text', { x: 12, y: pad.t + 4, class: 'axis-label' }, y.key + (log ? ' (log)' : '')));
  for (const p of pts) {
    const c = svg('circle', { cx: sx(p.x), cy: sy(ty(p.y)), r: 5, fill: runColour(p.i), 'data-run': p.r.runId });
    c.append(svg('title', {}, `${labels[p.i]}: ${x.key} = ${fmtValue(p.x)}, ${y.key} = ${fmtValue(p.y)}`));
    root.append(c);
  }
  return root;
}

/** Bars drawn at most (one row each): more would make the panel taller than the table it sits on. */
export const maxBars = 40;

function bars(runs: Run[], labels: string[], y: Field, width: number, log: boolean): SVGSVGElement {
  const rowH = 18;
  const vals = runs.map((r, i) => ({ r, i, v: fieldValue(r, y) })).filter((p): p is { r: Run; i: number; v: number } => p.v !== undefined && (!log || p.v > 0)).slice(0, maxBars);
  const height = Math.max(60, vals.length * rowH + 30);
  const root = svg('svg', { width, height, class: 'bars', 'data-testid': 'run-bars' }) as SVGSVGElement;
  if (vals.length === 0) {
    root.append(svg('text', { x: width / 2, y: 30, 'text-anchor': 'middle' }, `No run has ${y.key}.`));
    return root;
  }
  const left = 170;
  const t = (v: number) => (log ? Math.log10(v) : v);
  const lo = Math.min(0, ...vals.map((p) => t(p.v)));
  const hi = Math.max(0, ...vals.map((p) => t(p.v)));
  const lo2 = log ? Math.min(...vals.map((p) => t(p.v))) - 0.5 : lo;
  const span = hi - lo2 || 1;
  const sx = (v: number) => left + ((v - lo2) / span) * (width - left - 80);
  vals.forEach((p, row) => {
    const y0 = 10 + row * rowH;
    root.append(svg('text', { x: left - 6, y: y0 + 12, 'text-anchor': 'end', class: 'tick' }, labels[p.i]));
    const a = sx(log ? lo2 : 0);
    const b = sx(t(p.v));
    const bar = svg('rect', { x: Math.min(a, b), y: y0 + 2, width: Math.max(1, Math.abs(b - a)), height: rowH - 5, fill: runColour(p.i), 'data-run': p.r.runId });
    bar.append(svg('title', {}, `${labels[p.i]}: ${y.key} = ${fmtValue(p.v)}`));
    root.append(bar);
    root.append(svg('text', { x: Math.max(a, b) + 4, y: y0 + 12, class: 'tick' }, fmtValue(p.v)));
  });
  return root;
}

/**
 * The panel. `runs()` are the table's runs in its order; `selected()` the ticked ones. `refresh()` redraws
 * after the table changed (a new page, a filter, a tick).
 */
export function runChartPanel(runs: () => Run[], selected: () => Set<string>): { el: HTMLElement; refresh: () => void } {
  let view: ChartView = { ...defaultView };
  const metricSel = h('select', { 'aria-label': 'Chart metric', 'data-testid': 'panel-metric' });
  const modeSel = h('select', { 'aria-label': 'Chart kind', 'data-testid': 'panel-mode' },
    h('option', { value: 'auto' }, 'Curves (bars for single values)'), h('option', { value: 'curves' }, 'Curves'), h('option', { value: 'bars' }, 'Latest value per run'), h('option', { value: 'scatter' }, 'Scatter against…'));
  const xSel = h('select', { 'aria-label': 'Scatter x axis', 'data-testid': 'panel-x', hidden: true });
  const note = h('span', { class: 'muted small', 'data-testid': 'panel-note' });
  const body = h('div', { class: 'panel-body', 'data-testid': 'chart-panel-body' });
  const controls = viewControls(view, (v) => {
    view = v;
    draw();
  }, 'panel-view');
  const open = h('details', { class: 'chart-panel', open: true, 'data-testid': 'chart-panel' },
    h('summary', null, 'Charts'),
    h('div', { class: 'toolbar' }, h('label', null, 'Metric ', metricSel), modeSel, xSel, note),
    controls,
    body);
  /** Series fetched or being fetched, by run, metric and points asked: ticking runs or redrawing refetches nothing. */
  const cache = new Map<string, Promise<RunSeries | undefined>>();
  const noPoints = { steps: [], values: [], timestamps: [] };
  let generation = 0;
  let waitingSince: number | undefined;

  const fields = (): { metrics: string[]; params: string[] } => {
    const metrics = new Set<string>();
    const params = new Set<string>();
    for (const r of runs()) {
      r.metrics.forEach((m) => metrics.add(m.key));
      for (const [k, v] of Object.entries(r.params)) if (v.trim() !== '' && Number.isFinite(Number(v))) params.add(k);
    }
    return { metrics: [...metrics].sort(), params: [...params].sort() };
  };

  const fill = (sel: HTMLSelectElement, options: { value: string; label: string }[], keep: string) => {
    sel.replaceChildren(...options.map((o) => h('option', { value: o.value, selected: o.value === keep }, o.label)));
    if (!options.some((o) => o.value === keep) && options.length) sel.value = options[0].value;
  };

  const draw = () => {
    // Timed from the first of a burst of draws (a later one supersedes an unfinished one): what the reader waited.
    const started = (waitingSince ??= performance.now());
    const gen = ++generation;
    const all = runs();
    const ticked = selected();
    const shown = ticked.size ? all.filter((r) => ticked.has(r.runId)) : all;
    const labels = runLabels(shown);
    const key = metricSel.value;
    const mode = modeSel.value;
    xSel.hidden = mode !== 'scatter';
    controls.querySelectorAll<HTMLElement>('[data-testid=x-axis], [data-testid=smoothing]').forEach((c) => (c.closest('label')!.hidden = mode === 'bars' || mode === 'scatter'));
    note.textContent = `${shown.length} ${ticked.size ? 'selected' : 'visible'} run${shown.length === 1 ? '' : 's'}`;
    // Reading the panel's width forces a layout of everything changed before it — right after the table is built, of
    // 1,000 rows (~0.5 s). The curves read it only after their request is on its way.
    const width = () => Math.max(360, (open.clientWidth || 1000) - 20);
    if (!key) {
      body.replaceChildren(h('p', { class: 'muted' }, 'No metrics on this page.'));
      waitingSince = undefined;
      return;
    }
    const y: Field = { kind: 'metric', key };
    // A metric every shown run logged once (step 0: a test score) has no curve to draw: bars say more.
    const scalar = shown.every((r) => (r.metrics.find((m) => m.key === key)?.step ?? 0) === 0);
    if (mode === 'bars' || (mode === 'auto' && scalar)) {
      const having = shown.filter((r) => fieldValue(r, y) !== undefined).length;
      if (having > maxBars) note.textContent += ` · bars of the first ${maxBars} of ${having}; tick runs to choose`;
      body.replaceChildren(h('figure', { class: 'panel', 'data-kind': 'bars' }, bars(shown, labels, y, width(), view.log)));
      waitingSince = undefined;
      return;
    }
    if (mode === 'scatter') {
      const [kind, ...rest] = xSel.value.split(':');
      const x: Field = { kind: kind as Field['kind'], key: rest.join(':') };
      body.replaceChildren(h('figure', { class: 'panel', 'data-kind': 'scatter' }, scatter(shown, labels, x, y, width(), view.log)));
      waitingSince = undefined;
      return;
    }
    const having = shown.map((r, i) => ({ r, i })).filter(({ r }) => r.metrics.some((m) => m.key === key));
    const withMetric = having.slice(0, maxCurves);
    if (having.length > maxCurves) note.textContent += ` · curves of the first ${maxCurves} of ${having.length} with ${key}; tick runs to choose`;
    const points = pointsPerCurve(withMetric.length);
    // Timestamps only for a time axis: a curve fetched for steps is fetched again if the axis changes to time.
    const timestamps = view.x !== 'step';
    const id = (runId: string) => `${runId}\u0000${key}\u0000${points}\u0000${timestamps}`;
    // One request for every curve not fetched before (a request per run made 1,000 runs cost 1,000 round trips).
    const missing = withMetric.map(({ r }) => r.runId).filter((runId) => !cache.has(id(runId)));
    if (missing.length) {
      const byRun = api.histories(missing, key, points, timestamps).then((a) => new Map(a.series.map((s) => [s.runId, s])));
      missing.forEach((runId) => cache.set(id(runId), byRun.then((m) => m.get(runId))));
      byRun.catch(() => missing.forEach((runId) => cache.delete(id(runId)))); // a failed request is asked again next time
    }
    body.replaceChildren(loading());
    Promise.all(withMetric.map(({ r }) => cache.get(id(r.runId))!))
      .then((found) => {
        if (gen !== generation) return;
        waitingSince = undefined;
        const fetched = Math.round(performance.now() - started);
        const series = withMetric.map(({ r, i }, j) => ({ label: labels[i], columns: found[j] ?? noPoints, origin: r.startTime, colour: runColour(i) }));
        if (series.length === 0) {
          body.replaceChildren(h('p', { class: 'muted' }, `No shown run has ${key}.`));
          return;
        }
        const { el } = lineChart(series, { width: width(), height: 300, view });
        const figure = h('figure', { class: 'panel metric', 'data-kind': 'curves', 'data-metric': key, 'data-series': series.length, 'data-points-per-curve': points,
          'data-fetch-ms': fetched }, el);
        body.replaceChildren(figure);
        // Drawn: uPlot paints its canvas before the next frame.
        requestAnimationFrame(() => (figure.dataset.renderMs = String(Math.round(performance.now() - started))));
      })
      .catch((err) => {
        if (gen !== generation) return;
        waitingSince = undefined;
        body.replaceChildren(errorLine(err));
      });
  };

  const refresh = () => {
    const f = fields();
    fill(metricSel, f.metrics.map((k) => ({ value: k, label: k })), metricSel.value);
    fill(xSel, [...f.params.map((k) => ({ value: `param:${k}`, label: `param ${k}` })), ...f.metrics.map((k) => ({ value: `metric:${k}`, label: `metric ${k}` }))], xSel.value);
    draw();
  };
  metricSel.addEventListener('change', draw);
  modeSel.addEventListener('change', draw);
  xSel.addEventListener('change', draw);
  open.addEventListener('toggle', () => open.open && draw());
  return { el: open, refresh };
}
