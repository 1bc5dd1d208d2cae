// One run: attributes, params, tags, system tags (lineage.*), metric charts of full histories,
// inputs and outputs (from the lineage graph), and a browser over the artifacts it produced.

import { api, type ArtifactVersion, type Graph, type GraphNode } from '../api';
import { metricChart } from '../charts';
import { clear, duration, errorLine, fmtValue, h, kvTable, link, loading, projectChip, statusBadge, time } from '../dom';
import type { PageContext } from '../main';
import { artifactBrowser } from '../preview';
import { follow, project } from '../project';

/** `artifact:<id>` nodes carry a label `name vN`; split it back for links. */
export function artifactRef(n: GraphNode): { name: string; version: string } | null {
  const m = /^(.*) v(\d+)$/.exec(n.label);
  if (n.kind !== 'artifact' || !m) return null;
  return { name: m[1], version: m[2] };
}

function ioList(nodes: { node: GraphNode; role: string }[], emptyText: string, testId: string): HTMLElement {
  if (nodes.length === 0) return h('p', { class: 'muted', 'data-testid': testId }, emptyText);
  return h(
    'table',
    { class: 'grid', 'data-testid': testId },
    h('thead', null, h('tr', null, h('th', null, 'Artifact'), h('th', null, 'Type'), h('th', null, 'Role'), h('th', null, ''))),
    h(
      'tbody',
      null,
      nodes.map(({ node, role }) => {
        const ref = artifactRef(node);
        return h(
          'tr',
          null,
          h('td', null, ref ? link(`/artifacts/${encodeURIComponent(ref.name)}?v=${ref.version}`, node.label) : node.label),
          h('td', null, node.type),
          h('td', null, role),
          h('td', null, link(`/lineage?node=${encodeURIComponent(node.id)}`, 'lineage')),
        );
      }),
    ),
  );
}

export async function runPage(ctx: PageContext, runId: string): Promise<void> {
  const run = await api.run(runId);
  if (!ctx.alive()) return;
  const experiment = await api.experiment(run.experimentId).catch(() => null);
  if (!ctx.alive()) return;
  // The run's experiment says its project: links and artifact reads below are in it.
  if (experiment) follow(experiment.project);
  const system = Object.fromEntries(Object.entries(run.tags).filter(([k]) => k.startsWith('lineage.')));
  const user = Object.fromEntries(Object.entries(run.tags).filter(([k]) => !k.startsWith('lineage.')));

  const charts = h('div', { class: 'charts', 'data-testid': 'charts' });
  const io = h('div', null, loading());
  const browser = h('div', null);
  const children = h('div', null);

  ctx.root.append(
    h(
      'p',
      { class: 'crumbs' },
      link('/', 'Experiments'),
      ' / ',
      link(`/experiments/${encodeURIComponent(run.experimentId)}`, experiment?.name ?? `experiment ${run.experimentId}`),
      ' / ',
      run.name ?? run.runId,
      experiment ? projectChip(experiment.project) : null,
    ),
    h('h1', { 'data-testid': 'run-name' }, run.name ?? run.runId, ' ', statusBadge(run.status)),
    h(
      'table',
      { class: 'kv facts' },
      h(
        'tbody',
        null,
        h('tr', null, h('th', null, 'Run ID'), h('td', null, h('code', null, run.runId))),
        h('tr', null, h('th', null, 'Started'), h('td', null, time(run.startTime))),
        h('tr', null, h('th', null, 'Ended'), h('td', null, time(run.endTime), run.endTime ? ` (${duration(run.startTime, run.endTime)})` : '')),
        h('tr', null, h('th', null, 'User'), h('td', null, run.user ?? '')),
        run.parentRunId ? h('tr', null, h('th', null, 'Parent run'), h('td', null, link(`/runs/${run.parentRunId}`, run.parentRunId))) : null,
        run.lifecycle !== 'active' ? h('tr', null, h('th', null, 'Lifecycle'), h('td', null, run.lifecycle)) : null,
        h('tr', null, h('th', null, 'Lineage'), h('td', null, link(`/lineage?node=${encodeURIComponent(`run:${run.runId}`)}`, 'Open in lineage graph'))),
      ),
    ),
    children,
    h('div', { class: 'cols' },
      h('section', null, h('h2', null, 'Parameters'), kvTable(run.params, 'No parameters.', 'params')),
      h('section', null, h('h2', null, 'Tags'), kvTable(user, 'No tags.', 'tags')),
      h('section', null, h('h2', null, 'System tags'), kvTable(system, 'No system tags.', 'system-tags')),
    ),
    h('section', null, h('h2', null, 'Metrics'),
      run.metrics.length === 0
        ? h('p', { class: 'muted' }, 'No metrics.')
        : h('table', { class: 'grid', 'data-testid': 'metrics' },
            h('thead', null, h('tr', null, h('th', null, 'Metric'), h('th', null, 'Latest'), h('th', null, 'Step'))),
            h('tbody', null, run.metrics.map((m) => h('tr', null, h('th', null, m.key), h('td', { class: 'num' }, fmtValue(m.value)), h('td', { class: 'num' }, m.step))))),
      charts,
    ),
    h('section', null, h('h2', null, 'Inputs and outputs'), io),
    h('section', null, h('h2', null, 'Artifacts'), browser),
  );

  // Child runs (nested runs).
  api
    .runs({ experimentId: run.experimentId, parentRunId: run.runId, limit: 100 })
    .then((page) => {
      if (!ctx.alive() || page.runs.length === 0) return;
      children.append(
        h('h2', null, 'Child runs'),
        h('ul', { 'data-testid': 'child-runs' }, page.runs.map((c) => h('li', null, link(`/runs/${c.runId}`, c.name ?? c.runId), ' ', statusBadge(c.status)))),
      );
    })
    .catch(() => undefined);

  // Charts: one per metric, full history down-sampled on the server.
  const width = Math.max(320, Math.min(900, (ctx.root.clientWidth || 960) - 40));
  for (const m of run.metrics) {
    const slot = h('div', null, loading());
    charts.append(slot);
    metricChart(run.runId, m.key, width)
      .then((el) => slot.replaceChildren(el))
      .catch((err) => slot.replaceChildren(errorLine(err)));
  }

  // Inputs and outputs: the run's execution and its direct neighbours.
  let graph: Graph;
  try {
    graph = await api.graph(project(), `run:${run.runId}`, 'both', 1);
  } catch (err) {
    clear(io);
    io.append(errorLine(err));
    return;
  }
  if (!ctx.alive()) return;
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const inputs = graph.edges.filter((e) => e.to === graph.root).map((e) => ({ node: byId.get(e.from)!, role: e.role }));
  const outputs = graph.edges.filter((e) => e.from === graph.root).map((e) => ({ node: byId.get(e.to)!, role: e.role }));
  clear(io);
  io.append(
    h('div', { class: 'cols' },
      h('div', null, h('h3', null, 'Inputs'), ioList(inputs, 'No inputs recorded.', 'inputs')),
      h('div', null, h('h3', null, 'Outputs'), ioList(outputs, 'No outputs recorded.', 'outputs'))),
  );

  // Artifact browser over the outputs.
  const refs = outputs.map((o) => artifactRef(o.node)).filter((r): r is { name: string; version: string } => r !== null);
  if (refs.length === 0) {
    browser.append(h('p', { class: 'muted' }, 'This run produced no artifacts.'));
    return;
  }
  const versions = (await Promise.all(refs.map((r) => api.version(project(), r.name, r.version).catch(() => null)))).filter((v): v is ArtifactVersion => v !== null);
  if (!ctx.alive()) return;
  const pane = h('div', null);
  const pick = (v: ArtifactVersion) => {
    tabs.querySelectorAll('button').forEach((b) => b.classList.toggle('active', b.dataset.id === v.id));
    pane.replaceChildren(artifactBrowser(v));
  };
  const tabs = h('div', { class: 'tabs' }, versions.map((v) => {
    const b = h('button', { 'data-id': v.id }, `${v.name} v${v.version}`);
    b.addEventListener('click', () => pick(v));
    return b;
  }));
  browser.append(tabs, pane);
  if (versions.length) pick(versions[0]);
}
