// One run: attributes, its description, params, tags, system tags (lineage.*, mlflow.*), a grid of metric
// charts (related metrics overlaid; x by step or time, log scale, smoothing, zoom, hover values), inputs
// and outputs (from the lineage graph), a browser over the artifacts it produced and the files the MLflow
// client logged for it.

import { api, ApiError, type ArtifactVersion, type Graph, type GraphNode, type MetricHistory, type Run } from '../api';
import { chartPoints, defaultView, lineChart, pointsNote, viewControls, type ChartView } from '../charts';
import { add, clear, duration, errorLine, fmtValue, go, h, kvTable, link, loading, projectChip, statusBadge, time } from '../dom';
import type { PageContext } from '../page';
import { artifactBrowser, mlflowFilesBrowser } from '../preview';
import { coalesce, followEvents } from '../live';
import { follow, project } from '../project';
import { runLink } from '../runnames';

/** Tags the tools write about a run, not the person: the SDK's lineage.* and the MLflow client's mlflow.*. */
export const isSystemTag = (k: string) => k.startsWith('lineage.') || k.startsWith('mlflow.');

/** MLflow keeps a run's description in this tag. */
export const descriptionTag = 'mlflow.note.content';

const splitPart = /^(train|training|val|valid|validation|test|eval|evaluation)[_/.-]|[_/.-](train|training|val|valid|validation|test|eval|evaluation)$/i;

/** loss, val_loss, train/loss and loss_test are one quantity: drawn on one chart. */
export function metricGroups(keys: string[]): { name: string; keys: string[] }[] {
  const groups = new Map<string, string[]>();
  for (const k of [...keys].sort()) {
    const base = k.replace(splitPart, '') || k;
    groups.set(base, [...(groups.get(base) ?? []), k]);
  }
  return [...groups].map(([name, ks]) => ({ name: ks.length === 1 ? ks[0] : name, keys: ks }));
}

/** A run id is 32 hex digits: anything else cannot name a run, and is "not found" to a person. */
async function loadRun(runId: string): Promise<Run> {
  try {
    return await api.run(runId);
  } catch (err) {
    if (err instanceof ApiError && err.status === 400)
      throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `'${runId}' is not a run id (${err.message})`);
    throw err;
  }
}

/**
 * The metric charts of one run, in a grid that fills the width; re-drawn when the view or the width changes,
 * and by `update` when a live run logged more (only the changed metrics are fetched again; charts are
 * replaced in place, without a loading flash).
 */
function chartGrid(ctx: PageContext, first: Run): { el: HTMLElement; update: (r: Run, changed: string[]) => void } {
  let run = first;
  let groups = metricGroups(run.metrics.map((m) => m.key));
  const slots = new Map<string, HTMLElement>();
  const histories = new Map<string, Promise<MetricHistory>>();
  const history = (key: string) => {
    if (!histories.has(key)) histories.set(key, api.history(run.runId, key, chartPoints));
    return histories.get(key)!;
  };
  let view: ChartView = { ...defaultView };
  const grid = h('div', { class: 'chart-grid', 'data-testid': 'charts' });
  const draw = (live = false) => {
    const width = grid.clientWidth || (ctx.root.clientWidth || 960) - 40;
    const columns = Math.max(1, Math.floor(width / 420));
    const cell = Math.floor((width - (columns - 1) * 16) / columns) - 2;
    const order: HTMLElement[] = [];
    for (const g of groups) {
      let slot = slots.get(g.name);
      if (!slot) slots.set(g.name, (slot = h('div', { class: 'chart-cell' }, loading())));
      else if (!live) slot.replaceChildren(loading());
      order.push(slot);
      const started = performance.now();
      Promise.all(g.keys.map(history))
        .then((hs) => {
          if (!ctx.alive()) return;
          const { el } = lineChart(hs.map((hist, i) => ({ label: g.keys[i], points: hist.points, origin: run.startTime })),
            { width: cell, height: 220, view, sync: `run-${run.runId}` });
          const total = hs.reduce((a, x) => a + (x.totalPoints ?? x.points.length), 0);
          const drawn = hs.reduce((a, x) => a + x.points.length, 0);
          slot.replaceChildren(
            h('figure', {
              class: 'metric', 'data-metric': g.name, 'data-series': g.keys.length, 'data-total-points': total, 'data-drawn-points': drawn,
              'data-render-ms': Math.round(performance.now() - started),
            },
            h('figcaption', null, h('strong', null, g.name), g.keys.length > 1 ? h('span', { class: 'muted small' }, ` (${g.keys.join(', ')})`) : null,
              h('span', { class: 'muted small' }, ` · ${pointsNote(total, drawn)}`)),
            el),
          );
        })
        .catch((err) => slot.replaceChildren(errorLine(err)));
    }
    grid.replaceChildren(...order);
  };
  const controls = viewControls(view, (v) => {
    view = v;
    draw();
  });
  let width = 0;
  const resized = new ResizeObserver(() => {
    if (!grid.isConnected) return resized.disconnect();
    // A scrollbar coming or going (~15 px) is not worth a redraw: the cells clip the few pixels.
    if (Math.abs(grid.clientWidth - width) < 24) return;
    width = grid.clientWidth;
    draw();
  });
  resized.observe(grid);
  const update = (r: Run, changed: string[]) => {
    run = r;
    groups = metricGroups(r.metrics.map((m) => m.key));
    for (const k of changed) histories.delete(k);
    draw(true);
  };
  return { el: h('div', null, controls, grid), update };
}

/** Latest value and step of each metric. */
function metricsTable(run: Run): HTMLElement {
  return run.metrics.length === 0
    ? h('p', { class: 'muted', 'data-testid': 'metrics' }, 'No metrics.')
    : h('table', { class: 'grid', 'data-testid': 'metrics' },
        h('thead', null, h('tr', null, h('th', null, 'Metric'), h('th', null, 'Latest'), h('th', null, 'Step'))),
        h('tbody', null, run.metrics.map((m) => h('tr', null, h('th', null, m.key), h('td', { class: 'num' }, fmtValue(m.value)), h('td', { class: 'num' }, m.step)))));
}

/**
 * A RUNNING run's page follows it over the server's event stream (docs/events.md): an event about this run (a
 * log-batch, its end) reads the run again (params, tags, latest metrics — one small answer); metrics whose latest
 * step, time or value moved get their history fetched again and their chart redrawn, the status badge follows, and
 * the stream closes when the run ends or the page is left. A burst of events costs one read.
 */
function followLive(ctx: PageContext, first: Run, inProject: string, onChange: (r: Run, changed: string[]) => void, note: HTMLElement): void {
  const sig = (r: Run) => new Map(r.metrics.map((m) => [m.key, `${m.step}:${m.timestamp}:${m.value}`]));
  let last = sig(first);
  let status = first.status;
  const refresh = coalesce(async () => {
    if (!ctx.alive()) return;
    let r: Run;
    try {
      r = await api.run(first.runId);
    } catch {
      return; // a blip: the next event reads it again
    }
    if (!ctx.alive()) return;
    const now = sig(r);
    const changed = [...now].filter(([k, v]) => last.get(k) !== v).map(([k]) => k);
    if (changed.length || r.status !== status) onChange(r, changed);
    last = now;
    status = r.status;
    if (r.status !== 'RUNNING') stop();
  }, 10);
  const stop = followEvents({ types: ['run.logged', 'run.finished', 'run.failed', 'run.killed'], project: inProject }, {
    // What was logged between reading the run and opening the stream is not in the stream: read it once.
    open: () => {
      note.dataset.live = 'on';
      refresh();
    },
    event: (e) => e.payload.runId === first.runId && refresh(),
    refused: (err) => note.replaceChildren(`Live updates are off: ${err.message}`),
  });
  ctx.onLeave(stop);
}

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
  const run = await loadRun(runId);
  if (!ctx.alive()) return;
  const experiment = await api.experiment(run.experimentId).catch(() => null);
  if (!ctx.alive()) return;
  // The run's experiment says its project: links and artifact reads below are in it.
  if (experiment) follow(experiment.project);
  const description = run.tags[descriptionTag];
  let badge = statusBadge(run.status);
  const latestBox = h('div', null, metricsTable(run));
  const chartsBox = h('div', null);
  let grid: ReturnType<typeof chartGrid> | null = null;
  const showCharts = (r: Run, changed: string[]) => {
    if (!r.metrics.length) return;
    if (grid) grid.update(r, changed);
    else chartsBox.append((grid = chartGrid(ctx, r)).el);
  };
  showCharts(run, []);
  const liveNote = h('p', { class: 'muted small', 'data-testid': 'live-note' });
  if (run.status === 'RUNNING')
    followLive(ctx, run, experiment?.project ?? project(), (r, changed) => {
      latestBox.replaceChildren(metricsTable(r));
      showCharts(r, changed);
      const next = statusBadge(r.status);
      badge.replaceWith(next);
      badge = next;
    }, liveNote);
  const system = Object.fromEntries(Object.entries(run.tags).filter(([k]) => isSystemTag(k) && k !== descriptionTag));
  const user = Object.fromEntries(Object.entries(run.tags).filter(([k]) => !isSystemTag(k)));

  const io = h('div', null, loading());
  const browser = h('div', null);
  const children = h('div', null);

  add(
    ctx.root,
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
    h('h1', { 'data-testid': 'run-name' }, run.name ?? run.runId, ' ', badge),
    description ? h('p', { class: 'description', 'data-testid': 'run-description' }, description) : null,
    run.lifecycle === 'active' ? runEditor(run, user, description) : null,
    h(
      'table',
      { class: 'kv facts' },
      h(
        'tbody',
        null,
        h('tr', null, h('th', null, 'Run ID'), h('td', null, h('code', null, run.runId))),
        h('tr', null, h('th', null, 'Started'), h('td', null, time(run.startTime))),
        h('tr', null, h('th', null, 'Ended'), h('td', null, time(run.endTime), run.endTime ? ` (${duration(run.startTime, run.endTime)})` : '',
          !run.endTime && run.status === 'RUNNING' ? `running for ${duration(run.startTime, Date.now())}` : '')),
        h('tr', null, h('th', null, 'User'), h('td', null, run.user ?? '')),
        run.parentRunId ? h('tr', null, h('th', null, 'Parent run'), h('td', null, runLink(run.parentRunId))) : null,
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
    h('section', null, h('h2', null, 'Metrics'), liveNote, latestBox, chartsBox),
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

  // Files the MLflow client logged (mlflow.log_artifact) live in the run's artifact folder, not in the lineage graph.
  const mlflowFiles = mlflowFilesBrowser(run.runId).catch((err) => errorLine(err));

  // Inputs and outputs: the run's execution and its direct neighbours.
  let graph: Graph;
  try {
    graph = await api.graph(project(), `run:${run.runId}`, 'both', 1);
  } catch (err) {
    clear(io);
    io.append(errorLine(err));
    const logged = await mlflowFiles;
    if (logged && ctx.alive()) browser.append(h('h3', null, 'Logged files'), logged);
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
  const logged = await mlflowFiles;
  if (!ctx.alive()) return;
  if (logged) browser.append(h('h3', null, 'Logged files'), logged);
  if (refs.length === 0) {
    if (!logged) browser.append(h('p', { class: 'muted', 'data-testid': 'no-artifacts' }, 'This run produced no artifacts.'));
    return;
  }
  if (logged) browser.append(h('h3', null, 'Artifact versions'));
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

/**
 * Edit the run's name, description (MLflow's `mlflow.note.content` tag) and tags. Saving sends only what changed, one
 * request per change (PATCH for the name, a tag set or delete for the rest), then shows the run again; a refusal stops
 * there and says what the server answered and which changes were saved before it.
 */
function runEditor(run: Run, tags: Record<string, string>, description: string | undefined): HTMLElement {
  const name = h('input', { value: run.name ?? '', 'aria-label': 'Run name', 'data-testid': 'edit-name', class: 'wide' });
  const text = h('textarea', { rows: 3, cols: 70, 'aria-label': 'Description', 'data-testid': 'edit-description' });
  text.value = description ?? '';
  const rows = h('tbody', null);
  const tagRow = (k = '', v = '') => {
    const key = h('input', { value: k, placeholder: 'key', 'aria-label': 'Tag key', 'data-testid': 'edit-tag-key' });
    const value = h('input', { value: v, placeholder: 'value', 'aria-label': 'Tag value', 'data-testid': 'edit-tag-value', class: 'wide' });
    const remove = h('button', { type: 'button', 'aria-label': `Remove tag ${k}`, 'data-testid': 'edit-tag-remove' }, '✕');
    const tr = h('tr', { 'data-tag': k || null }, h('td', null, key), h('td', null, value), h('td', null, remove));
    remove.addEventListener('click', () => tr.remove());
    rows.append(tr);
  };
  Object.entries(tags).forEach(([k, v]) => tagRow(k, v));
  const addTag = h('button', { type: 'button', 'data-testid': 'edit-tag-add' }, 'Add tag');
  addTag.addEventListener('click', () => tagRow());
  const message = h('p', { class: 'error', role: 'alert', 'data-testid': 'edit-error' });
  const save = h('button', { type: 'submit', 'data-testid': 'edit-save' }, 'Save');
  const form = h('form', { class: 'run-edit' },
    h('label', null, 'Name ', name),
    h('label', null, 'Description', text),
    h('table', { class: 'kv' }, h('thead', null, h('tr', null, h('th', null, 'Tag'), h('th', null, 'Value'), h('th', null, ''))), rows),
    h('div', { class: 'toolbar' }, addTag, save),
    message);
  const panel = h('details', { class: 'edit', 'data-testid': 'run-edit' }, h('summary', null, 'Edit name, description and tags'), form);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    message.textContent = '';
    const wanted = new Map<string, string>();
    for (const tr of rows.querySelectorAll('tr')) {
      const [k, v] = [...tr.querySelectorAll('input')].map((i) => i.value);
      if (k.trim()) wanted.set(k.trim(), v);
    }
    const changes: [string, () => Promise<unknown>][] = [];
    if (name.value.trim() && name.value.trim() !== (run.name ?? '')) changes.push([`name`, () => api.renameRun(run.runId, name.value.trim())]);
    if (text.value !== (description ?? ''))
      changes.push(['description', () => (text.value.trim() ? api.setRunTag(run.runId, descriptionTag, text.value) : api.deleteRunTag(run.runId, descriptionTag))]);
    for (const [k, v] of wanted) if (tags[k] !== v) changes.push([`tag ${k}`, () => api.setRunTag(run.runId, k, v)]);
    for (const k of Object.keys(tags)) if (!wanted.has(k)) changes.push([`removal of tag ${k}`, () => api.deleteRunTag(run.runId, k)]);
    save.disabled = true;
    const done: string[] = [];
    try {
      for (const [what, change] of changes) {
        try {
          await change();
        } catch (err) {
          message.textContent = `${what}: ${err instanceof ApiError ? err.message : String(err)}` + (done.length ? ` (saved before it: ${done.join(', ')})` : ' (nothing was saved)');
          return;
        }
        done.push(what);
      }
      go(location.pathname + location.search, true);
    } finally {
      save.disabled = false;
    }
  });
  return panel;
}
