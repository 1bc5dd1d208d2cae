// Lineage graph: an interactive DAG (Cytoscape.js + dagre) of a node's upstream and downstream.
// Clicking a node expands its neighbours; colours follow the node type; two nodes can be joined by
// their shortest path; an artifact's impact (everything downstream) is highlighted and listed;
// the view exports as PNG or SVG.

import cytoscape from 'cytoscape';
import dagre from 'cytoscape-dagre';
import { api, type Graph, type GraphNode, type Impact, type ValidationCheck } from '../api';
import { add, artifactHref, clear, errorLine, go, h, link, loading, mark, time } from '../dom';
import { failedChecks } from './artifacts';
import { durationBars, took } from './jobs';
import type { PageContext } from '../page';
import { artifactRef } from './run';
import { layered } from '../layered';
import { runLink } from '../runnames';
import { project } from '../project';

/** Above this many nodes the graph is laid out by layered() instead of dagre. */
const bigGraph = 250;

cytoscape.use(dagre);

const typeColours: Record<string, string> = {
  dataset: '#2563eb',
  model: '#9333ea',
  feature_set: '#0891b2',
  code: '#4b5563',
  config: '#ca8a04',
  metrics: '#16a34a',
  report: '#db2777',
  run: '#ea580c',
  ingestion: '#0d9488',
  validation: '#65a30d',
  training: '#c2410c',
  // Indigo, not another orange: a run and an evaluation step side by side must be told apart.
  evaluation: '#4338ca',
  deployment: '#be123c',
};
const fallback = ['#0369a1', '#7c3aed', '#15803d', '#a16207', '#9f1239', '#475569'];

/** Node width from its label (10px sans-serif is about 6px a character), so the label sits inside. */
function labelWidth(label: string): number {
  return Math.max(40, Math.round(label.length * 6.2 + 20));
}

export function colourOf(type: string): string {
  if (typeColours[type]) return typeColours[type];
  let hash = 0;
  for (const c of type) hash = (hash * 31 + c.charCodeAt(0)) | 0;
  return fallback[Math.abs(hash) % fallback.length];
}

function download(blob: Blob, name: string): void {
  const a = h('a', { href: URL.createObjectURL(blob), download: name });
  document.body.appendChild(a);
  a.click();
  setTimeout(() => {
    URL.revokeObjectURL(a.href);
    a.remove();
  }, 1000);
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The laid-out graph as standalone SVG (Cytoscape draws on canvas; this redraws nodes and edges). */
export function toSvg(cy: cytoscape.Core): string {
  const bb = cy.elements().boundingBox();
  const pad = 20;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.ceil(bb.w + 2 * pad)}" height="${Math.ceil(bb.h + 2 * pad)}" viewBox="${bb.x1 - pad} ${bb.y1 - pad} ${bb.w + 2 * pad} ${bb.h + 2 * pad}" font-family="sans-serif" font-size="10">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#6b7280"/></marker></defs>',
    `<rect x="${bb.x1 - pad}" y="${bb.y1 - pad}" width="${bb.w + 2 * pad}" height="${bb.h + 2 * pad}" fill="#ffffff"/>`,
  );
  cy.edges().forEach((e) => {
    const s = e.sourceEndpoint();
    const t = e.targetEndpoint();
    const hl = e.hasClass('path') || e.hasClass('impact');
    parts.push(`<line x1="${s.x}" y1="${s.y}" x2="${t.x}" y2="${t.y}" stroke="${hl ? '#f59e0b' : '#9ca3af'}" stroke-width="${hl ? 3 : 1.5}" marker-end="url(#arrow)"/>`);
  });
  cy.nodes().forEach((n) => {
    const p = n.position();
    const w = n.width();
    const ht = n.height();
    const fill = n.data('colour') as string;
    const stroke = n.hasClass('path') || n.hasClass('impact') || n.hasClass('root') ? '#f59e0b' : '#1f2937';
    parts.push(
      n.data('kind') === 'execution'
        ? `<ellipse cx="${p.x}" cy="${p.y}" rx="${w / 2}" ry="${ht / 2}" fill="${fill}" stroke="${stroke}"/>`
        : `<rect x="${p.x - w / 2}" y="${p.y - ht / 2}" width="${w}" height="${ht}" rx="4" fill="${fill}" stroke="${stroke}"/>`,
      `<text x="${p.x}" y="${p.y + 3}" text-anchor="middle" fill="#ffffff">${esc(String(n.data('display') ?? n.data('label')).replace('\n', ' · '))}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Whether a node's state says it failed (runs FAILED or KILLED, executions FAILED, deployments failed). */
export function failed(n: GraphNode): boolean {
  return /^(failed|killed|error)$/i.test(n.state ?? '');
}

/**
 * What Marquez shows for OpenLineage nodes, in the side panel: a dataset's schema fields and facets; for a job's
 * execution (named `<namespace>/<job>`), a link to the job page with its run history. Nothing for other nodes.
 */
async function openLineageFacts(n: GraphNode, into: HTMLElement, ns?: string, olName?: string): Promise<void> {
  if (n.kind === 'artifact' && ns && olName) {
    try {
      const d = await api.openLineageDataset(n.project ?? project(), ns, olName);
      const facets = Object.keys(d.facets ?? {}).sort();
      into.append(
        h('h4', null, `Schema (${d.fields.length} field${d.fields.length === 1 ? '' : 's'})`),
        d.fields.length
          ? h('table', { class: 'kv', 'data-testid': 'ol-fields' }, h('tbody', null, d.fields.map((f) => h('tr', null, h('th', null, f.name), h('td', null, f.type ?? '')))))
          : h('p', { class: 'muted small' }, 'No schema facet.'),
        h('h4', null, 'Facets'),
        h('p', { class: 'small', 'data-testid': 'ol-facets' }, facets.length ? facets.join(', ') : 'none'));
    } catch {
      // not known to the Marquez API (an artifact that only looks like a dataset's name): nothing to add
    }
    return;
  }
  if (n.kind !== 'execution' || !n.label.includes('/')) return;
  // The namespace may itself hold '/': try each split until the API knows the job.
  const parts = n.label.split('/');
  for (let i = 1; i < parts.length; i++) {
    const [ns, job] = [parts.slice(0, i).join('/'), parts.slice(i).join('/')];
    try {
      const j = await api.job(n.project ?? project(), ns, job);
      into.append(h('p', null, link(`/jobs/${encodeURIComponent(j.namespace)}/${encodeURIComponent(j.name)}`, 'Job page (run history)')));
      return;
    } catch {
      // not this split
    }
  }
}

/** The latest result of each check (a check run again counts by its last result), failed ones first. */
function latestChecks(checks: ValidationCheck[]): ValidationCheck[] {
  const last = new Map<string, ValidationCheck>();
  for (const c of checks) last.set(c.name, c);
  return [...last.values()].sort((a, b) => Number(a.passed) - Number(b.passed) || a.name.localeCompare(b.name));
}

/**
 * What Marquez's node panel shows. An artifact: its recorded schema and checks (dataset facts, docs/registry.md) and the
 * steps and runs that read it. An execution: its state and how long it took, and the state and duration of the
 * executions of the same name before it (a run history, as a job's in Marquez).
 */
async function nodeFacts(n: GraphNode, into: HTMLElement): Promise<void> {
  const p = n.project ?? project();
  const ref = artifactRef(n);
  if (ref) {
    const [dataset, down] = await Promise.all([
      n.type === 'dataset' ? api.dataset(p, ref.name, ref.version).catch(() => null) : Promise.resolve(null),
      api.graph(p, n.id, 'downstream', 1).catch(() => null),
    ]);
    const facts = dataset?.facts;
    if (facts)
      into.append(
        h('h4', null, `Schema (${facts.columns.length} column${facts.columns.length === 1 ? '' : 's'})`),
        h('table', { class: 'kv', 'data-testid': 'node-schema' }, h('tbody', null, facts.columns.map((c) =>
          h('tr', null, h('th', null, c.name), h('td', null, c.dtype, c.nullable === false ? h('span', { class: 'muted small' }, ' not null') : null))))),
        h('p', { class: 'small', 'data-testid': 'node-facts' }, [
          facts.rowCount !== undefined && facts.rowCount !== null ? `${facts.rowCount.toLocaleString('en-US')} rows` : null,
          facts.source?.uri ? `source ${facts.source.uri}` : null,
          facts.schema ? `declared schema ${facts.schema}` : null,
        ].filter((x) => x).join(' · ')));
    const checks = latestChecks(dataset?.validations ?? []);
    if (checks.length)
      into.append(
        h('h4', null, `Checks (${checks.filter((c) => !c.passed).length} of ${checks.length} failed)`),
        h('ul', { class: 'checks', 'data-testid': 'node-checks' }, checks.map((c) =>
          h('li', { 'data-check': c.name, class: c.passed ? '' : 'failed' }, h('span', { class: `badge ${c.passed ? 'ok' : 'status-failed'}` }, c.passed ? 'passed' : 'failed'), ` ${c.name}`,
            c.details ? h('span', { class: 'muted small' }, ` ${c.details}`) : null))));
    if (down) {
      const byId = new Map(down.nodes.map((x) => [x.id, x]));
      const readers = down.edges.filter((e) => e.from === n.id).map((e) => ({ node: byId.get(e.to)!, role: e.role })).filter((r) => r.node);
      into.append(
        h('h4', null, `Read by (${readers.length})`),
        readers.length
          ? h('ul', { class: 'readers', 'data-testid': 'node-consumers' }, readers.map(({ node, role }) => h('li', { 'data-state': node.state ?? '' },
              node.runId ? runLink(node.runId) : h('strong', null, node.label), ' ',
              node.state ? h('span', { class: `badge status-${node.state.toLowerCase()}` }, node.state) : null,
              h('span', { class: 'muted small' }, ` ${node.type} · ${role}`))))
          : h('p', { class: 'muted small', 'data-testid': 'node-consumers' }, 'No step or run has read this version.'));
    }
    return;
  }
  if (n.kind !== 'execution') return;
  const [exec, list] = await Promise.all([
    api.execution(n.id.slice('execution:'.length)).catch(() => null),
    api.executions({ project: p, type: n.type, limit: 1000 }).catch(() => null),
  ]);
  if (exec) {
    const span = exec.startTime && exec.endTime ? took(exec.endTime - exec.startTime) : exec.startTime && exec.state === 'RUNNING' ? `running for ${took(Date.now() - exec.startTime)}` : '';
    into.append(h('p', { 'data-testid': 'node-state' }, h('span', { class: `badge status-${exec.state.toLowerCase()}` }, exec.state), span ? ` · ${span}` : ''));
  }
  const name = exec?.name ?? n.label;
  const same = (list?.executions ?? []).filter((e) => e.name === name).sort((a, b) => (b.startTime ?? 0) - (a.startTime ?? 0)).slice(0, 30);
  if (same.length > 1) {
    const history = same.map((e) => ({ id: e.id, state: e.state, durationMs: e.startTime && e.endTime ? e.endTime - e.startTime : undefined }));
    const failedRuns = same.filter((e) => /^(FAILED|KILLED)$/.test(e.state)).length;
    into.append(
      h('h4', null, `History of ${name} (${same.length}${failedRuns ? `, ${failedRuns} failed` : ''})`),
      h('div', { 'data-testid': 'node-history' }, durationBars(history, 260),
        h('table', { class: 'grid compact' }, h('tbody', null, same.slice(0, 10).map((e) => h('tr', { 'data-state': e.state, class: e.id === n.id.slice('execution:'.length) ? 'selected' : '' },
          h('td', { class: 'date' }, time(e.startTime)),
          h('td', null, h('span', { class: `badge status-${e.state.toLowerCase()}` }, e.state)),
          h('td', { class: 'num' }, e.startTime && e.endTime ? took(e.endTime - e.startTime) : '')))))));
  }
}

const recentKey = 'lineage.recentNodes';

/** The graphs last opened in this browser, newest first (what the empty lineage page offers). */
function recentNodes(): { node: string; label: string }[] {
  try {
    const v = JSON.parse(localStorage.getItem(recentKey) ?? '[]');
    return Array.isArray(v) ? v.filter((x) => typeof x?.node === 'string' && typeof x?.label === 'string') : [];
  } catch {
    return [];
  }
}

function rememberNode(node: string, label: string): void {
  localStorage.setItem(recentKey, JSON.stringify([{ node, label }, ...recentNodes().filter((r) => r.node !== node)].slice(0, 8)));
}

interface State {
  nodes: Map<string, GraphNode>;
  edges: Map<string, { from: string; to: string; role: string }>;
  expanded: Set<string>;
}

export async function lineagePage(ctx: PageContext): Promise<void> {
  const nodeRef = ctx.params.get('node') ?? '';
  const depth = Number(ctx.params.get('depth') ?? '1');
  const direction = ctx.params.get('direction') ?? 'both';

  const input = h('input', { type: 'search', class: 'wide', placeholder: 'artifact:sales@3, artifact:<id>, execution:<id> or run:<run id>', value: nodeRef, 'aria-label': 'Node', 'data-testid': 'node-input' });
  const dirSelect = h('select', { 'aria-label': 'Direction' }, ['both', 'upstream', 'downstream'].map((d) => h('option', { value: d, selected: d === direction }, d)));
  // The address's depth is always one of the choices (depth=4 from a link must not read "1 hop").
  const depths = [...new Set([1, 2, 3, 4, 5, 10, 20, 50, 100, ...(Number.isInteger(depth) && depth > 0 ? [depth] : [])])].sort((a, b) => a - b);
  const depthSelect = h('select', { 'aria-label': 'Depth', 'data-testid': 'depth' }, depths.map((d) => h('option', { value: d, selected: d === depth }, `${d} hop${d > 1 ? 's' : ''}`)));
  const open = () => {
    const q = new URLSearchParams({ node: input.value.trim() });
    if (dirSelect.value !== 'both') q.set('direction', dirSelect.value);
    if (depthSelect.value !== '1') q.set('depth', depthSelect.value);
    go(`/lineage?${q}`);
  };
  input.addEventListener('keydown', (e) => e.key === 'Enter' && open());

  ctx.root.append(
    h('h1', null, 'Lineage'),
    h('div', { class: 'toolbar' }, input, dirSelect, depthSelect, h('button', { onclick: open }, 'Show')),
  );
  // Suggestions while typing: the project's artifacts (latest version of each name), through a datalist.
  const suggestions = h('datalist', { id: 'node-suggestions' });
  input.setAttribute('list', 'node-suggestions');
  ctx.root.append(suggestions);
  const named = api.artifacts({ project: project(), latest: 'true', limit: 200 }).then((p) => p.artifacts, () => []);
  void named.then((list) => suggestions.replaceChildren(...list.map((a) => h('option', { value: `artifact:${a.name}@${a.version}` }, `${a.name} (${a.type})`))));
  if (!nodeRef) {
    const recent = recentNodes();
    const start = h('div', { class: 'cols', 'data-testid': 'lineage-start' },
      h('section', null, h('h2', null, 'Recent'),
        recent.length
          ? h('ul', { 'data-testid': 'recent-nodes' }, recent.map((r) => h('li', null, link(`/lineage?node=${encodeURIComponent(r.node)}`, r.label))))
          : h('p', { class: 'muted' }, 'No graph opened yet in this browser.')),
      h('section', null, h('h2', null, 'Artifacts'), h('div', { 'data-testid': 'lineage-artifacts' }, loading())));
    ctx.root.append(h('p', { class: 'muted' }, 'Type a name to pick a node (suggestions as you type), or open one below, from an artifact or from a run page.'), start);
    const list = await named;
    if (!ctx.alive()) return;
    start.querySelector('[data-testid=lineage-artifacts]')!.replaceChildren(list.length
      ? h('ul', null, list.slice(0, 15).map((a) => h('li', null, link(`/lineage?node=${encodeURIComponent(`artifact:${a.name}@${a.version}`)}`, `${a.name} v${a.version}`), h('span', { class: 'muted small' }, ` ${a.type}`))))
      : h('p', { class: 'muted' }, 'No artifacts in this project.'));
    return;
  }

  // The project's failing dataset versions, asked while the graph is fetched (one request a project, once).
  const failingOf = new Map<string, Promise<Map<string, number>>>();
  const failingIn = (p: string) => {
    if (!failingOf.has(p)) failingOf.set(p, failedChecks(p));
    return failingOf.get(p)!;
  };
  void failingIn(project());

  mark('lineage-fetch-start');
  let first: Graph;
  try {
    first = await api.graph(project(), nodeRef, direction, depth);
  } catch (err) {
    if (!ctx.alive()) return;
    ctx.root.append(errorLine(err));
    return;
  }
  if (!ctx.alive()) return;
  mark('lineage-fetched');

  const state: State = { nodes: new Map(), edges: new Map(), expanded: new Set() };
  /** OpenLineage datasets' names (node id → namespace and name) and failed checks (node id → how many), found once a node. */
  const olNames = new Map<string, { ns: string; name: string }>();
  const checksFailed = new Map<string, number>();
  const decorated = new Set<string>();
  /** Versions: a node per artifact version. Datasets: a node per artifact name, its versions inside (`&view=datasets`). */
  let view: 'versions' | 'datasets' = ctx.params.get('view') === 'datasets' ? 'datasets' : 'versions';

  const status = h('p', { class: 'muted small', 'data-testid': 'graph-status' });
  const panel = h('aside', { class: 'side', 'data-testid': 'side-panel' });
  const container = h('div', { class: 'cy', 'data-testid': 'graph' });
  const legend = h('div', { class: 'legend', 'data-testid': 'legend' });
  const pathFrom = { id: '' };
  const exportPng = h('button', { 'data-testid': 'export-png' }, 'Export PNG');
  const exportSvg = h('button', { 'data-testid': 'export-svg' }, 'Export SVG');
  const fit = h('button', null, 'Fit');
  const viewButtons = (['versions', 'datasets'] as const).map((v) =>
    h('button', { type: 'button', class: v === view ? 'active' : '', 'aria-pressed': String(v === view), 'data-testid': `view-${v}`,
      title: v === 'versions' ? 'A node per artifact version' : 'A node per artifact name, its versions inside' }, v === 'versions' ? 'Versions' : 'Datasets'));
  // Find a node by its label (and expand it): the keyboard's way into the canvas, and a search in big graphs.
  const labels = h('datalist', { id: 'node-labels' });
  const find = h('input', { type: 'search', list: 'node-labels', placeholder: 'Find a node…', 'aria-label': 'Find a node', 'data-testid': 'find-node' });
  ctx.root.append(
    h('div', { class: 'toolbar' }, h('span', { class: 'segmented', role: 'group', 'aria-label': 'Graph level' }, viewButtons), exportPng, exportSvg, fit, find, labels, status),
    legend,
    h('div', { class: 'graph-area' }, container, panel),
  );

  const cy = cytoscape({
    container,
    wheelSensitivity: 0.3,
    minZoom: 0.05,
    maxZoom: 3,
    style: [
      {
        selector: 'node',
        style: {
          'background-color': 'data(colour)',
          color: '#ffffff',
          'font-size': 10,
          'text-valign': 'center',
          'text-halign': 'center',
          width: 'data(w)',
          height: 'data(h)',
          label: 'data(display)',
          'text-wrap': 'wrap',
          shape: 'round-rectangle',
          'border-width': 1,
          'border-color': '#1f2937',
          // Labels too small to read are not drawn (big graphs fitted to the screen pan and zoom smoothly).
          'min-zoomed-font-size': 7,
        },
      },
      { selector: 'node[kind = "execution"]', style: { shape: 'ellipse' } },
      // A dataset-level node holds several versions: drawn as a stack (a double border).
      { selector: 'node[level = "dataset"]', style: { 'border-width': 3, 'border-style': 'double', 'border-color': '#1f2937' } },
      { selector: 'node.root', style: { 'border-width': 3, 'border-color': '#111827' } },
      { selector: 'node.collapsed', style: { 'border-style': 'dashed' } },
      { selector: 'node:selected', style: { 'border-width': 3, 'border-color': '#facc15' } },
      // A failed run, step or deployment, or a dataset version whose checks failed, looks failed: a thick red dashed
      // border and a ✕ before its name.
      { selector: 'node[failed = "yes"]', style: { 'border-width': 3, 'border-color': '#dc2626', 'border-style': 'dashed' } },
      { selector: 'edge', style: { width: 1.5, 'line-color': '#9ca3af', 'target-arrow-color': '#9ca3af', 'target-arrow-shape': 'triangle', 'curve-style': 'bezier', label: 'data(role)', 'font-size': 8, color: '#6b7280', 'text-rotation': 'autorotate' } },
      // Nodes and edges apart: an edge's `width` is its line, a node's its box (a shared rule shrank nodes to 3 px).
      { selector: 'node.path, node.impact', style: { 'border-color': '#f59e0b', 'border-width': 4 } },
      { selector: 'edge.path, edge.impact', style: { 'line-color': '#f59e0b', 'target-arrow-color': '#f59e0b', width: 3 } },
      { selector: '.faded', style: { opacity: 0.25 } },
      // Role labels on edges only while the graph is small enough to read them (and to lay out fast).
      { selector: 'edge.quiet', style: { label: '', 'curve-style': 'straight' } },
    ],
  });
  (window as unknown as { __lineageCy: cytoscape.Core }).__lineageCy = cy;

  /** The drawn node of a graph node: itself, or in the dataset view its artifact name's node. */
  const groupOf = (n: GraphNode) => {
    const ref = artifactRef(n);
    return ref ? `dataset:${n.project ?? ''}/${ref.name}` : n.id;
  };
  const drawnId = (id: string) => {
    const n = state.nodes.get(id);
    return view === 'datasets' && n ? groupOf(n) : id;
  };
  const edgeId = (e: { from: string; to: string; role: string }) => `${drawnId(e.from)}->${drawnId(e.to)}:${e.role}`;
  /** The graph nodes a drawn node stands for, newest version first. */
  const membersOf = (drawn: string): GraphNode[] =>
    state.nodes.has(drawn)
      ? [state.nodes.get(drawn)!]
      : [...state.nodes.values()].filter((n) => groupOf(n) === drawn).sort((a, b) => Number(artifactRef(b)?.version) - Number(artifactRef(a)?.version));
  const looksFailed = (n: GraphNode) => failed(n) || checksFailed.has(n.id);

  /** A version-level node: OpenLineage datasets as Marquez draws them (name and version over the namespace). */
  const versionData = (n: GraphNode) => {
    const ol = olNames.get(n.id);
    const ref = artifactRef(n);
    const title = `${looksFailed(n) ? '✕ ' : ''}${ol && ref ? `${ol.name} v${ref.version}` : n.label}`;
    return {
      id: n.id, label: n.label, display: ol ? `${title}\n${ol.ns}` : title, kind: n.kind, type: n.type, colour: colourOf(n.type),
      w: labelWidth(ol && ol.ns.length > title.length ? ol.ns : title), h: ol ? 38 : 26, failed: looksFailed(n) ? 'yes' : 'no',
      ns: ol?.ns, olName: ol?.name, level: 'version',
    };
  };

  /** A dataset-level node: the artifact's name, and which of its versions the graph holds. */
  const datasetData = (id: string, members: GraphNode[]) => {
    const ol = members.map((m) => olNames.get(m.id)).find((x) => x);
    const name = ol?.name ?? artifactRef(members[0])!.name;
    const bad = members.some(looksFailed);
    const versions = members.map((m) => Number(artifactRef(m)!.version)).sort((a, b) => a - b);
    const listed = versions.length > 4 ? `v${versions[0]} … v${versions[versions.length - 1]}` : versions.map((v) => `v${v}`).join(', ');
    const title = `${bad ? '✕ ' : ''}${name}`;
    const sub = `${versions.length} version${versions.length === 1 ? '' : 's'}: ${listed}`;
    return {
      id, label: name, display: `${title}\n${sub}${ol ? `\n${ol.ns}` : ''}`, kind: 'artifact', type: members[0].type, colour: colourOf(members[0].type),
      w: labelWidth([title, sub, ol?.ns ?? ''].reduce((a, b) => (b.length > a.length ? b : a))), h: ol ? 50 : 38, failed: bad ? 'yes' : 'no',
      ns: ol?.ns, olName: ol?.name, level: 'dataset', versions: versions.length,
    };
  };

  const classesOf = (drawn: string, members: GraphNode[]) =>
    `${members.every((m) => state.expanded.has(m.id)) ? '' : 'collapsed'} ${members.some((m) => m.id === first.root) || drawn === first.root ? 'root' : ''}`;

  /**
   * Draws what `state` holds: the version view adds the nodes and edges not drawn yet; the dataset view is drawn
   * again whole (one node may now stand for more versions). Returns how many elements were added.
   */
  const sync = () => {
    const add: cytoscape.ElementDefinition[] = [];
    if (view === 'versions') {
      for (const n of state.nodes.values())
        if (cy.getElementById(n.id).empty()) add.push({ group: 'nodes', data: versionData(n), classes: classesOf(n.id, [n]) });
      for (const e of state.edges.values()) {
        const id = edgeId(e);
        if (cy.getElementById(id).empty()) add.push({ group: 'edges', data: { id, source: e.from, target: e.to, role: e.role } });
      }
    } else {
      const selected = cy.nodes(':selected').map((n) => n.id());
      cy.elements().remove();
      const groups = new Map<string, GraphNode[]>();
      for (const n of state.nodes.values()) groups.set(groupOf(n), [...(groups.get(groupOf(n)) ?? []), n]);
      for (const [id, members] of groups)
        add.push({ group: 'nodes', data: artifactRef(members[0]) ? datasetData(id, members) : versionData(members[0]), classes: classesOf(id, members), selected: selected.includes(id) });
      const seen = new Set<string>();
      for (const e of state.edges.values()) {
        const id = edgeId(e);
        if (seen.has(id)) continue;
        seen.add(id);
        add.push({ group: 'edges', data: { id, source: drawnId(e.from), target: drawnId(e.to), role: e.role } });
      }
    }
    // One batch: styles are computed once for all the new elements, not per element.
    cy.batch(() => {
      if (add.length) cy.add(add);
      cy.edges().toggleClass('quiet', cy.nodes().length > 150);
    });
    return add.length;
  };

  /**
   * What a node's label needs beyond the graph answer, found once per node before it is drawn (the layout needs the
   * sizes): an OpenLineage dataset's namespace and name (an artifact named `s3___lake.curated_customers_clean-24a5345bdc`,
   * docs/lineage.md, from the version's metadata.openlineage) and whether a dataset version's checks failed.
   */
  const decorate = async (nodes: GraphNode[]) => {
    const fresh = nodes.filter((n) => n.kind === 'artifact' && !decorated.has(n.id));
    fresh.forEach((n) => decorated.add(n.id));
    const inProject = (n: GraphNode) => n.project ?? project();
    await Promise.all([
      ...fresh.filter((n) => /-[0-9a-f]{10} v\d+$/.test(n.label)).slice(0, 200).map(async (n) => {
        const ref = artifactRef(n)!;
        try {
          const v = await api.version(inProject(n), ref.name, ref.version);
          const ol = (v.metadata as { openlineage?: { namespace?: string; name?: string } } | null)?.openlineage;
          if (ol?.name) olNames.set(n.id, { ns: ol.namespace ?? '', name: ol.name });
        } catch {
          // unreadable (another project, removed): the artifact name stays the label
        }
      }),
      ...[...new Set(fresh.filter((n) => n.type === 'dataset').map(inProject))].map(async (p) => {
        const failing = await failingIn(p);
        for (const n of fresh) {
          const ref = artifactRef(n);
          const count = ref && inProject(n) === p ? failing.get(`${ref.name}@${ref.version}`) : undefined;
          if (count) checksFailed.set(n.id, count);
        }
      }),
    ]);
  };

  /** Takes in graph answers; returns how many elements were drawn. */
  const absorb = async (...graphs: Graph[]) => {
    const fresh: GraphNode[] = [];
    for (const g of graphs) {
      for (const n of g.nodes)
        if (!state.nodes.has(n.id)) {
          state.nodes.set(n.id, n);
          fresh.push(n);
        }
      for (const e of g.edges) state.edges.set(`${e.from}->${e.to}:${e.role}`, e);
    }
    await decorate(fresh);
    return sync();
  };

  // dagre up to bigGraph nodes; above, the linear-time layered layout (see layered.ts for why).
  // `&layout=dagre` or `&layout=layered` forces one.
  const forced = ctx.params.get('layout');
  const layout = () =>
    new Promise<void>((resolve) => {
      const useDagre = forced === 'dagre' || (forced !== 'layered' && cy.nodes().length <= bigGraph);
      container.dataset.layout = useDagre ? 'dagre' : 'layered';
      let options: cytoscape.LayoutOptions;
      if (useDagre) options = { name: 'dagre', rankDir: 'LR', nodeSep: 12, rankSep: 60, edgeSep: 6, animate: false, fit: true, padding: 20 } as cytoscape.LayoutOptions;
      else {
        const positions = layered(
          cy.nodes().map((n) => ({ id: n.id(), width: n.data('w') as number, height: n.data('h') as number })),
          cy.edges().map((e) => ({ source: e.data('source') as string, target: e.data('target') as string })),
          { rankSep: 60, nodeSep: 12 },
        );
        options = { name: 'preset', positions: (n: cytoscape.NodeSingular) => positions.get(n.id())!, animate: false, fit: true, padding: 20 } as cytoscape.LayoutOptions;
      }
      const l = cy.layout(options);
      l.one('layoutstop', () => {
        // Fitting never zooms out below 1 (labels stay 10 px): a wide graph is shown from the selected node or the
        // root at full size, and Fit (the button) or the wheel shows the rest.
        if (cy.zoom() < 1) {
          const focus = cy.nodes(':selected').first();
          cy.zoom(1);
          cy.center(focus.nonempty() ? focus : cy.nodes('.root').first());
        }
        container.dataset.zoom = cy.zoom().toFixed(2);
        resolve();
      });
      l.run();
    });

  const renderLegend = () => {
    const types = new Map<string, string>();
    state.nodes.forEach((n) => types.set(n.type, n.kind));
    clear(legend);
    [...types.entries()].sort().forEach(([t, kind]) =>
      legend.append(h('span', { class: 'legend-item', 'data-type': t }, h('span', { class: `swatch ${kind}`, style: `background:${colourOf(t)}` }), t)),
    );
  };

  const updateStatus = () => {
    labels.replaceChildren(...cy.nodes().map((n) => h('option', { value: n.data('label') as string })));
    const drawn = cy.nodes().length;
    status.textContent = `${drawn} nodes, ${cy.edges().length} edges${view === 'datasets' ? ` (${state.nodes.size} versions and steps)` : ''} · click a node to expand it`;
    container.dataset.nodes = String(drawn);
    container.dataset.edges = String(cy.edges().length);
    container.dataset.view = view;
  };

  const clearHighlight = () => cy.elements().removeClass('path impact faded');

  const highlight = (g: Graph, cls: 'path' | 'impact') => {
    clearHighlight();
    cy.elements().addClass('faded');
    for (const n of g.nodes) cy.getElementById(drawnId(n.id)).removeClass('faded').addClass(cls);
    for (const e of g.edges) cy.getElementById(edgeId(e)).removeClass('faded').addClass(cls);
  };

  const showPath = async (from: string, to: string) => {
    try {
      const g = await api.path(project(), from, to);
      if (await absorb(g)) await layout();
      highlight(g, 'path');
      panel.append(h('p', { class: 'path-result', 'data-testid': 'path-result' }, `Path: ${g.nodes.map((n) => n.label).join(' → ')}`));
      updateStatus();
      renderLegend();
    } catch (err) {
      panel.append(errorLine(err));
    }
  };

  const showImpact = async (n: GraphNode) => {
    const ref = artifactRef(n);
    if (!ref) return;
    const box = h('div', { class: 'impact', 'data-testid': 'impact' }, h('h3', null, `Impact of ${n.label}`));
    panel.append(box);
    try {
      const [impact, down]: [Impact, Graph] = await Promise.all([api.impact(project(), n.id.slice('artifact:'.length)), api.graph(project(), n.id, 'downstream', 100)]);
      if (await absorb(down)) await layout();
      highlight({ ...down, edges: [] }, 'impact');
      cy.edges().forEach((e) => {
        if (e.source().hasClass('impact') && e.target().hasClass('impact')) e.removeClass('faded').addClass('impact');
      });
      const section = (title: string, items: HTMLElement[]) => h('div', null, h('h4', null, `${title} (${items.length})`), items.length ? h('ul', null, items.map((i) => h('li', null, i))) : h('p', { class: 'muted small' }, 'none'));
      box.append(
        section('Model versions', impact.modelVersions.map((v) => link(artifactHref(v), `${v.name} v${v.version}`))),
        section('Runs', impact.runs.map(runLink)),
        section('Artifacts', impact.artifacts.map((v) => link(artifactHref(v), `${v.name} v${v.version} (${v.type})`))),
        section('Executions', impact.executions.map((e) => h('span', null, `${e.name} (${e.type}, ${e.state})`))),
      );
      updateStatus();
      renderLegend();
    } catch (err) {
      box.append(errorLine(err));
    }
  };

  /** The side panel of one graph node: what it is, links, path and impact, and what Marquez shows of it. */
  const nodePanel = (n: GraphNode, heading?: HTMLElement) => {
    const extras = h('div', { 'data-testid': 'node-extras' });
    const ref = artifactRef(n);
    const ol = olNames.get(n.id);
    const pathBtn = h('button', { 'data-testid': 'path-from' }, 'Path from here');
    pathBtn.addEventListener('click', () => {
      pathFrom.id = n.id;
      pathBtn.textContent = 'Now click another node';
    });
    const impactBtn = ref ? h('button', { 'data-testid': 'impact-btn' }, 'Impact') : null;
    impactBtn?.addEventListener('click', () => void showImpact(n));
    const clearBtn = h('button', null, 'Clear highlight');
    clearBtn.addEventListener('click', clearHighlight);
    const failedChecksCount = checksFailed.get(n.id);
    add(
      panel,
      heading ?? h('h3', { 'data-testid': 'selected-node' }, n.label),
      ol ? h('p', { 'data-testid': 'openlineage-name' }, h('strong', null, ol.name), h('br', null), h('span', { class: 'muted' }, ol.ns)) : null,
      h('p', null, h('span', { class: 'swatch', style: `background:${colourOf(n.type)}` }), ` ${n.kind} · ${n.type}${n.state ? ` · ${n.state}` : ''}`),
      failedChecksCount
        ? h('p', { 'data-testid': 'node-failed-checks' }, h('span', { class: 'badge status-failed' }, `✕ ${failedChecksCount} failed check${failedChecksCount === 1 ? '' : 's'}`), ' (latest results)')
        : null,
      h('p', { class: 'small' }, h('code', null, n.id)),
      // Artifact names are unique within a project, and a walk may cross projects: link into the node's own.
      ref ? h('p', null, link(n.project ? artifactHref({ project: n.project, name: ref.name, version: ref.version })
        : `/artifacts/${encodeURIComponent(ref.name)}?v=${ref.version}`, 'Artifact page')) : null,
      n.project ? h('p', { class: 'small', 'data-testid': 'node-project' }, `project ${n.project}`) : null,
      n.runId ? h('p', null, link(`/runs/${n.runId}`, 'Run page')) : null,
      h('p', null, link(`/lineage?node=${encodeURIComponent(n.id)}`, 'Centre on this node')),
      h('div', { class: 'buttons' }, pathBtn, impactBtn, clearBtn),
      extras,
    );
    void openLineageFacts(n, extras, ol?.ns, ol?.name);
    void nodeFacts(n, extras);
  };

  /** A dataset-level node's panel: its versions in the graph (failed ones marked), then its newest version's. */
  const datasetPanel = (drawn: string, members: GraphNode[]) => {
    const label = cy.getElementById(drawn).data('label') as string;
    panel.append(
      h('h3', { 'data-testid': 'selected-node' }, label),
      h('p', { class: 'small muted' }, `${members.length} version${members.length === 1 ? '' : 's'} in this graph`),
      h('ul', { 'data-testid': 'dataset-versions' }, members.map((m) => {
        const ref = artifactRef(m)!;
        const bad = checksFailed.get(m.id);
        return h('li', { 'data-version': ref.version },
          link(m.project ? artifactHref({ project: m.project, name: ref.name, version: ref.version }) : `/artifacts/${encodeURIComponent(ref.name)}?v=${ref.version}`, `v${ref.version}`),
          bad ? h('span', { class: 'badge status-failed' }, ` ✕ ${bad} failed`) : null,
          ' · ', link(`/lineage?node=${encodeURIComponent(m.id)}`, 'its graph'));
      })),
      h('h4', null, `Newest here: v${artifactRef(members[0])!.version}`),
    );
    nodePanel(members[0], h('p', { class: 'small' }, members[0].label));
  };

  const showPanel = (drawn: string) => {
    clear(panel);
    const members = membersOf(drawn);
    if (!members.length) return;
    if (view === 'datasets' && !state.nodes.has(drawn)) datasetPanel(drawn, members);
    else nodePanel(members[0]);
  };

  const expand = async (drawn: string) => {
    const members = membersOf(drawn);
    if (!members.length) return;
    if (pathFrom.id && !members.some((m) => m.id === pathFrom.id)) {
      const from = pathFrom.id;
      pathFrom.id = '';
      showPanel(drawn);
      await showPath(from, members[0].id);
      return;
    }
    showPanel(drawn);
    const todo = members.filter((m) => !state.expanded.has(m.id));
    if (!todo.length) return;
    todo.forEach((m) => state.expanded.add(m.id));
    cy.getElementById(drawn).removeClass('collapsed');
    try {
      const graphs = await Promise.all(todo.map((m) => api.graph(project(), m.id, 'both', 1)));
      if (await absorb(...graphs)) await layout();
      cy.elements().unselect();
      cy.getElementById(drawn).select();
      updateStatus();
      renderLegend();
      container.dataset.expanded = String(state.expanded.size);
    } catch (err) {
      panel.append(errorLine(err));
    }
  };

  const switchView = async (v: 'versions' | 'datasets') => {
    if (v === view) return;
    const selected = cy.nodes(':selected').first();
    const keep = selected.nonempty() ? membersOf(selected.id())[0]?.id : undefined;
    view = v;
    viewButtons.forEach((b) => {
      const on = b.dataset.testid === `view-${v}`;
      b.classList.toggle('active', on);
      b.setAttribute('aria-pressed', String(on));
    });
    const q = new URLSearchParams(location.search);
    if (v === 'datasets') q.set('view', 'datasets');
    else q.delete('view');
    history.replaceState(null, '', `${location.pathname}?${q}`);
    cy.elements().remove();
    sync();
    if (keep) cy.getElementById(drawnId(keep)).select();
    await layout();
    updateStatus();
    if (keep) showPanel(drawnId(keep));
  };
  viewButtons.forEach((b) => b.addEventListener('click', () => void switchView(b.dataset.testid === 'view-datasets' ? 'datasets' : 'versions')));

  cy.on('tap', 'node', (e) => void expand(e.target.id()));
  find.addEventListener('change', () => {
    const el = cy.nodes().filter((x) => x.data('label') === find.value.trim()).first();
    if (el.empty()) return;
    cy.elements().unselect();
    el.select();
    cy.center(el);
    void expand(el.id());
  });
  exportPng.addEventListener('click', () => download(cy.png({ output: 'blob', full: true, bg: '#ffffff', scale: 2 }) as unknown as Blob, 'lineage.png'));
  exportSvg.addEventListener('click', () => download(new Blob([toSvg(cy)], { type: 'image/svg+xml' }), 'lineage.svg'));
  fit.addEventListener('click', () => cy.fit(undefined, 20));

  // Nodes whose neighbours are all loaded (inside the requested depth) count as expanded.
  for (const n of first.nodes) if (n.depth < depth) state.expanded.add(n.id);
  await absorb(first);
  await layout();
  mark('lineage-layout-done');
  performance.measure('lineage-layout', 'lineage-fetch-start', 'lineage-layout-done');
  performance.measure('lineage-layout-only', 'lineage-fetched', 'lineage-layout-done');
  updateStatus();
  renderLegend();
  container.dataset.ready = 'true';
  const root = state.nodes.get(first.root);
  if (root) rememberNode(nodeRef, root.label);
  if (root) {
    showPanel(drawnId(root.id));
    cy.getElementById(drawnId(root.id)).select();
    if (ctx.params.get('impact') && root.kind === 'artifact') await showImpact(root);
  }
}
