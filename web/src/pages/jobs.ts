// An OpenLineage job (issue 16, as Marquez shows one): its inputs and outputs, and its run history — each run's
// state and duration, drawn as bars (failed runs red) and listed — from the Marquez-compatible API.

import { api, type MqRun } from '../api';
import { add, duration, h, link, svg } from '../dom';
import type { PageContext } from '../page';
import { project } from '../project';

const stateColour: Record<string, string> = {
  COMPLETED: '#16a34a', COMPLETE: '#16a34a', FINISHED: '#16a34a', CACHED: '#16a34a', FAILED: '#dc2626', ABORTED: '#d97706', CANCELED: '#d97706', KILLED: '#d97706',
  RUNNING: '#2563eb', NEW: '#9ca3af',
};

/** A run's duration: milliseconds below a second, else as the rest of the UI writes durations. */
export const took = (d?: number | null) => (d === undefined || d === null ? '' : d < 1000 ? `${d} ms` : duration(1, 1 + d));

/** One bar per run (newest first in `runs`), oldest on the left, as tall as the run took; hovering says which run, its state and time. */
export function durationBars(runs: Pick<MqRun, 'id' | 'state' | 'durationMs'>[], width: number): SVGSVGElement {
  const height = 140;
  const pad = { l: 50, r: 10, t: 10, b: 20 };
  const list = [...runs].reverse();
  const longest = Math.max(1, ...list.map((r) => r.durationMs ?? 0));
  const slot = (width - pad.l - pad.r) / Math.max(1, list.length);
  const root = svg('svg', { width, height, class: 'bars', 'data-testid': 'run-durations' }) as SVGSVGElement;
  root.append(svg('text', { x: pad.l - 6, y: pad.t + 8, 'text-anchor': 'end', class: 'tick' }, took(longest)));
  root.append(svg('line', { x1: pad.l, x2: width - pad.r, y1: height - pad.b, y2: height - pad.b, stroke: '#9ca3af' }));
  list.forEach((r, i) => {
    const hgt = Math.max(2, ((r.durationMs ?? 0) / longest) * (height - pad.t - pad.b));
    const bar = svg('rect', {
      x: pad.l + i * slot + slot * 0.15, y: height - pad.b - hgt, width: Math.max(2, slot * 0.7), height: hgt,
      fill: stateColour[r.state] ?? '#6b7280', 'data-state': r.state,
    });
    bar.append(svg('title', {}, `${r.id.slice(0, 8)} · ${r.state} · ${took(r.durationMs) || 'no duration'}`));
    root.append(bar);
  });
  return root;
}

export async function jobPage(ctx: PageContext, namespace: string, name: string): Promise<void> {
  const [job, runs] = await Promise.all([api.job(project(), namespace, name), api.jobRuns(project(), namespace, name)]);
  if (!ctx.alive()) return;
  const datasets = (ids: { namespace: string; name: string }[]) =>
    ids.length ? h('ul', null, ids.map((d) => h('li', null, h('strong', null, d.name), h('span', { class: 'muted' }, ` ${d.namespace}`)))) : h('p', { class: 'muted' }, 'none');
  const failed = runs.runs.filter((r) => r.state === 'FAILED').length;
  add(
    ctx.root,
    h('p', { class: 'crumbs' }, link('/lineage', 'Lineage'), ' / OpenLineage job'),
    h('h1', { 'data-testid': 'job-name' }, job.name, h('span', { class: 'muted small' }, ` ${job.namespace} · ${job.type.toLowerCase()}`)),
    job.description ? h('p', { class: 'description' }, job.description) : null,
    job.location ? h('p', { class: 'small' }, 'Source: ', /^https?:\/\//.test(job.location) ? h('a', { href: job.location, target: '_blank', rel: 'noopener' }, job.location) : h('code', null, job.location)) : null,
    h('div', { class: 'cols' },
      h('section', { 'data-testid': 'job-inputs' }, h('h2', null, 'Inputs'), datasets(job.inputs)),
      h('section', { 'data-testid': 'job-outputs' }, h('h2', null, 'Outputs'), datasets(job.outputs))),
    h('h2', null, `Runs (${runs.totalCount})`, failed ? h('span', { class: 'badge status-failed' }, ` ${failed} failed`) : null),
    runs.runs.length ? durationBars(runs.runs, Math.min(900, (ctx.root.clientWidth || 900) - 20)) : null,
    runs.runs.length
      ? h('table', { class: 'grid', 'data-testid': 'job-runs' },
          h('thead', null, h('tr', null, ['Run', 'State', 'Started', 'Ended', 'Duration', 'Read', 'Wrote'].map((c) => h('th', null, c)))),
          h('tbody', null, runs.runs.map((r) => h('tr', { 'data-state': r.state },
            h('td', null, h('code', { title: r.id }, r.id.slice(0, 8))),
            h('td', null, h('span', { class: `badge status-${r.state === 'COMPLETED' ? 'finished' : r.state.toLowerCase()}` }, r.state)),
            h('td', { class: 'date' }, r.startedAt ? new Date(r.startedAt).toLocaleString('en-GB') : ''),
            h('td', { class: 'date' }, r.endedAt ? new Date(r.endedAt).toLocaleString('en-GB') : ''),
            h('td', { class: 'num' }, took(r.durationMs)),
            h('td', null, r.inputDatasetVersions.map((d) => d.datasetVersionId.name).join(', ')),
            h('td', null, r.outputDatasetVersions.map((d) => d.datasetVersionId.name).join(', '))))))
      : h('p', { class: 'muted' }, 'No runs.'),
  );
}
