// Dashboards: deployment success rate by environment (bars), dataset / feature-set usage over time (lines),
// and a model's metrics across its versions (points). Every number is aggregated by the server
// (/environments/stats, /dashboards/usage, /dashboards/model-metrics); the browser only draws.

import uPlot from 'uplot';
import { api, type EnvironmentStats } from '../api';
import { palette } from '../charts';
import { go, grid, h, loading, mark } from '../dom';
import type { PageContext } from '../page';
import { project } from '../project';

/** Most series one chart draws (the legend stays readable); the rest are named under it. */
const maxSeries = 8;

function figure(testId: string, caption: string, plot: (el: HTMLElement) => void, note?: string): HTMLElement {
  const el = h('div', { class: 'chart' });
  plot(el);
  return h('figure', { class: 'dashboard', 'data-testid': testId }, h('figcaption', null, h('strong', null, caption), note ? h('span', { class: 'muted small' }, ` · ${note}`) : null), el);
}

/** Success rate (%) per environment as bars; environments with no decided deployment have no bar. */
export function successRateChart(stats: EnvironmentStats[], width: number): HTMLElement {
  const names = stats.map((s) => s.environment);
  const xs = names.map((_, i) => i);
  const rates = stats.map((s) => (s.successRate === undefined || s.successRate === null ? null : Math.round(s.successRate * 1000) / 10));
  return figure('success-rate', 'Deployment success rate by environment', (el) =>
    new uPlot(
      {
        width,
        height: 240,
        scales: { x: { time: false, range: [-0.5, Math.max(0.5, names.length - 0.5)] }, y: { range: [0, 100] } },
        legend: { show: false },
        cursor: { show: false },
        axes: [
          { values: (_u, splits) => splits.map((i) => (Number.isInteger(i) ? names[i] ?? '' : '')), splits: () => xs },
          { label: 'success %' },
        ],
        series: [{}, { label: 'success %', fill: '#93c5fd', stroke: palette[0], paths: uPlot.paths.bars!({ size: [0.6, 80] }), points: { show: false } }],
      },
      [xs, rates] as uPlot.AlignedData,
      el,
    ),
  );
}

const day = 86_400_000;
/** The span drawn for each bucket size (the server allows at most 2,000 buckets). */
const spans: Record<string, number> = { hour: 7 * day, day: 30 * day, week: 364 * day };

/** One line per artifact name over time buckets (the busiest names first). */
export async function usageChart(projectName: string, type: string, bucket: string, width: number): Promise<HTMLElement> {
  const to = Date.now() + 1;
  const usage = await api.usage({ project: projectName, type, bucket, from: to - (spans[bucket] ?? 30 * day), to });
  const totals = new Map<string, number>();
  for (const c of usage.counts) totals.set(c.name, (totals.get(c.name) ?? 0) + c.count);
  const names = [...totals.keys()].sort((a, b) => totals.get(b)! - totals.get(a)! || a.localeCompare(b));
  const shown = names.slice(0, maxSeries);
  const buckets: number[] = [];
  for (let t = Math.floor(usage.from / usage.bucketMs) * usage.bucketMs; t < usage.to; t += usage.bucketMs) buckets.push(t);
  const index = new Map(buckets.map((b, i) => [b, i]));
  const cols = shown.map(() => new Array<number>(buckets.length).fill(0));
  for (const c of usage.counts) {
    const s = shown.indexOf(c.name);
    if (s >= 0 && index.has(c.bucket)) cols[s][index.get(c.bucket)!] = c.count;
  }
  const label = type === 'dataset' ? 'Dataset usage' : type === 'feature_set' ? 'Feature-set usage' : `${type} usage`;
  if (names.length === 0)
    return h('figure', { class: 'dashboard', 'data-testid': 'usage' }, h('figcaption', null, h('strong', null, label)), h('p', { class: 'muted' }, `No ${type} was consumed in this period.`));
  return figure(
    'usage',
    `${label} per ${bucket}`,
    (el) =>
      new uPlot(
        {
          width,
          height: 260,
          scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
          axes: [{}, { label: 'inputs consumed' }],
          series: [{}, ...shown.map((n, i) => ({ label: n, stroke: palette[i % palette.length], width: 1.5, points: { show: true, size: 5 } }))],
        },
        [buckets.map((b) => b / 1000), ...cols] as uPlot.AlignedData,
        el,
      ),
    `${usage.counts.reduce((a, c) => a + c.count, 0)} inputs by runs and executions${names.length > shown.length ? `; ${names.length - shown.length} more names not drawn` : ''}`,
  );
}

/** Each metric of a model's versions (the latest value of the producing run), version on the x axis. */
export async function modelMetricsChart(projectName: string, model: string, width: number): Promise<HTMLElement> {
  const data = await api.modelMetrics(projectName, model);
  const keys = [...new Set(data.versions.flatMap((v) => Object.keys(v.metrics)))].sort();
  if (keys.length === 0)
    return h('p', { class: 'muted', 'data-testid': 'model-metrics-empty' }, `No metrics: the versions of ${model} have no producing run with metrics.`);
  const shown = keys.slice(0, maxSeries);
  const xs = data.versions.map((v) => v.version);
  return figure(
    'model-metrics-chart',
    `Metrics across versions of ${model}`,
    (el) =>
      new uPlot(
        {
          width,
          height: 260,
          scales: { x: { time: false } },
          axes: [{ label: 'version', values: (_u, splits) => splits.map((v) => (Number.isInteger(v) ? `v${v}` : '')) }, {}],
          series: [
            { label: 'version' },
            ...shown.map((k, i) => ({ label: k, stroke: palette[i % palette.length], width: 1, spanGaps: true, points: { show: true, size: 7 } })),
          ],
        },
        [xs, ...shown.map((k) => data.versions.map((v) => v.metrics[k] ?? null))] as uPlot.AlignedData,
        el,
      ),
    `${data.versions.length} versions${keys.length > shown.length ? `; ${keys.length - shown.length} more metrics not drawn` : ''}`,
  );
}

export async function dashboardsPage(ctx: PageContext): Promise<void> {
  const type = ctx.params.get('type') ?? 'dataset';
  const bucket = ctx.params.get('bucket') ?? 'day';
  const model = ctx.params.get('model') ?? '';
  const width = Math.min(900, ctx.root.clientWidth - 40);
  const projectName = project();
  const [stats, models] = await Promise.all([api.environmentStats(projectName), api.models({ project: projectName, limit: 200 })]);
  if (!ctx.alive()) return;

  const set = (key: string, value: string) => {
    const q = new URLSearchParams(ctx.params);
    q.set(key, value);
    go(`/dashboards?${q}`, true);
  };
  const select = (label: string, key: string, current: string, options: [string, string][]) => {
    const s = h('select', { 'aria-label': label, 'data-testid': `pick-${key}` }, options.map(([v, text]) => h('option', { value: v, selected: v === current }, text)));
    s.addEventListener('change', () => set(key, s.value));
    return s;
  };
  const chosenModel = model || models.models[0]?.name || '';
  const usageArea = h('div', null, loading());
  const modelArea = h('div', null, chosenModel ? loading() : h('p', { class: 'muted' }, 'No registered models.'));

  ctx.root.append(
    h('h1', null, 'Dashboards'),
    h('h2', null, 'Deployments'),
    stats.environments.length === 0
      ? h('p', { class: 'muted', 'data-testid': 'success-rate' }, 'No deployments yet.')
      : h('div', { class: 'cols' },
          successRateChart(stats.environments, Math.min(520, width)),
          grid(
            ['Environment', 'Deployments', 'Became healthy', 'Failed', 'Rollbacks', 'Success rate'],
            stats.environments.map((s) => [s.environment, s.deployments, s.succeeded, s.failed, s.rollbacks,
              s.successRate === undefined || s.successRate === null ? '—' : `${(s.successRate * 100).toFixed(1)} %`]),
            'environment-stats',
          )),
    h('h2', null, 'Usage over time ',
      select('Artifact type', 'type', type, [['dataset', 'datasets'], ['feature_set', 'feature sets']]), ' ',
      select('Bucket', 'bucket', bucket, [['hour', 'per hour (7 days)'], ['day', 'per day (30 days)'], ['week', 'per week (1 year)']])),
    usageArea,
    h('h2', null, 'Metrics across model versions ', models.models.length
      ? select('Model', 'model', chosenModel, models.models.map((m) => [m.name, m.name]))
      : null),
    modelArea,
  );

  const draws: Promise<void>[] = [
    usageChart(projectName, type, bucket, width).then((el) => void (ctx.alive() && usageArea.replaceChildren(el))),
  ];
  if (chosenModel) draws.push(modelMetricsChart(projectName, chosenModel, width).then((el) => void (ctx.alive() && modelArea.replaceChildren(el))));
  await Promise.all(draws);
  mark('dashboards-drawn');
}
