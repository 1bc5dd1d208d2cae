// Lineage graph: an interactive DAG (Cytoscape.js + dagre) of a node's upstream and downstream.
// Clicking a node expands its neighbours; colours follow the node type; two nodes can be joined by
// their shortest path; an artifact's impact (everything downstream) is highlighted and listed;
// the view exports as PNG or SVG.

import cytoscape from 'cytoscape';
import dagre from 'cytoscape-dagre';
import { api, type Graph, type GraphNode, type Impact } from '../api';
import { add, artifactHref, clear, errorLine, go, h, link, loading, mark } from '../dom';
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
  const status = h('p', { class: 'muted small', 'data-testid': 'graph-status' });
  const panel = h('aside', { class: 'side', 'data-testid': 'side-panel' });
  const container = h('div', { class: 'cy', 'data-testid': 'graph' });
  const legend = h('div', { class: 'legend', 'data-testid': 'legend' });
  const pathFrom = { id: '' };
  const exportPng = h('button', { 'data-testid': 'export-png' }, 'Export PNG');
  const exportSvg = h('button', { 'data-testid': 'export-svg' }, 'Export SVG');
  const fit = h('button', null, 'Fit');
  // Find a node by its label (and expand it): the keyboard's way into the canvas, and a search in big graphs.
  const labels = h('datalist', { id: 'node-labels' });
  const find = h('input', { type: 'search', list: 'node-labels', placeholder: 'Find a node…', 'aria-label': 'Find a node', 'data-testid': 'find-node' });
  ctx.root.append(h('div', { class: 'toolbar' }, exportPng, exportSvg, fit, find, labels, status), legend, h('div', { class: 'graph-area' }, container, panel));

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
      { selector: 'node.root', style: { 'border-width': 3, 'border-color': '#111827' } },
      { selector: 'node.collapsed', style: { 'border-style': 'dashed' } },
      { selector: 'node:selected', style: { 'border-width': 3, 'border-color': '#facc15' } },
      // A failed run, step or deployment looks failed: a thick red dashed border and a ✕ before its name.
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

  const merge = (g: Graph) => {
    const add: cytoscape.ElementDefinition[] = [];
    for (const n of g.nodes)
      if (!state.nodes.has(n.id)) {
        state.nodes.set(n.id, n);
        add.push({
          group: 'nodes',
          data: { id: n.id, label: n.label, display: failed(n) ? `✕ ${n.label}` : n.label, kind: n.kind, type: n.type, colour: colourOf(n.type),
            w: labelWidth(n.label) + (failed(n) ? 12 : 0), h: 26, failed: failed(n) ? 'yes' : 'no' },
          classes: `${state.expanded.has(n.id) ? '' : 'collapsed'} ${n.id === first.root ? 'root' : ''}`,
        });
      }
    for (const e of g.edges) {
      const id = `${e.from}->${e.to}:${e.role}`;
      if (!state.edges.has(id)) {
        state.edges.set(id, e);
        add.push({ group: 'edges', data: { id, source: e.from, target: e.to, role: e.role } });
      }
    }
    // One batch: styles are computed once for all the new elements, not per element.
    cy.batch(() => {
      if (add.length) cy.add(add);
      cy.edges().toggleClass('quiet', state.nodes.size > 150);
    });
    return add.length;
  };

  /**
   * OpenLineage datasets are artifacts named `<namespace.name, mangled>-<hash>` (docs/lineage.md): drawn as
   * Marquez draws them, the name with the namespace under it (`curated/customers_clean v3` / `s3://lake`),
   * read from the version's metadata.openlineage. Done before the layout, which needs the nodes' sizes.
   */
  const openLineageNames = async () => {
    const pending = cy.nodes().filter((n) => n.data('kind') === 'artifact' && !n.data('named') && /-[0-9a-f]{10} v\d+$/.test(n.data('label') as string));
    pending.forEach((n) => {
      n.data('named', true);
    });
    const nodes = pending.toArray().slice(0, 200);
    await Promise.all(nodes.map(async (el) => {
      const g = state.nodes.get(el.id());
      const ref = g ? artifactRef(g) : null;
      if (!g || !ref) return;
      try {
        const v = await api.version(g.project ?? project(), ref.name, ref.version);
        const ol = (v.metadata as { openlineage?: { namespace?: string; name?: string } } | null)?.openlineage;
        if (!ol?.name) return;
        const title = `${ol.name} v${ref.version}`;
        el.data({ display: `${title}\n${ol.namespace ?? ''}`, w: labelWidth(title.length > (ol.namespace ?? '').length ? title : ol.namespace!), h: 38, ns: ol.namespace, olName: ol.name });
      } catch {
        // unreadable (another project, removed): the artifact name stays the label
      }
    }));
  };

  // dagre up to bigGraph nodes; above, the linear-time layered layout (see layered.ts for why).
  // `&layout=dagre` or `&layout=layered` forces one.
  const forced = ctx.params.get('layout');
  const layout = () =>
    new Promise<void>((resolve) => {
      const useDagre = forced === 'dagre' || (forced !== 'layered' && state.nodes.size <= bigGraph);
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
    labels.replaceChildren(...[...state.nodes.values()].map((n) => h('option', { value: n.label })));
    status.textContent = `${state.nodes.size} nodes, ${state.edges.size} edges · click a node to expand it`;
    container.dataset.nodes = String(state.nodes.size);
    container.dataset.edges = String(state.edges.size);
  };

  const clearHighlight = () => cy.elements().removeClass('path impact faded');

  const showPath = async (from: string, to: string) => {
    try {
      const g = await api.path(project(), from, to);
      if (merge(g)) {
        await openLineageNames();
        await layout();
      }
      clearHighlight();
      cy.elements().addClass('faded');
      for (const n of g.nodes) cy.getElementById(n.id).removeClass('faded').addClass('path');
      for (const e of g.edges) cy.getElementById(`${e.from}->${e.to}:${e.role}`).removeClass('faded').addClass('path');
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
      if (merge(down)) {
        await openLineageNames();
        await layout();
      }
      clearHighlight();
      cy.elements().addClass('faded');
      for (const d of down.nodes) cy.getElementById(d.id).removeClass('faded').addClass('impact');
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

  const showPanel = (n: GraphNode) => {
    clear(panel);
    const extras = h('div', { 'data-testid': 'node-extras' });
    const ref = artifactRef(n);
    const pathBtn = h('button', { 'data-testid': 'path-from' }, 'Path from here');
    pathBtn.addEventListener('click', () => {
      pathFrom.id = n.id;
      pathBtn.textContent = 'Now click another node';
    });
    const impactBtn = ref ? h('button', { 'data-testid': 'impact-btn' }, 'Impact') : null;
    impactBtn?.addEventListener('click', () => void showImpact(n));
    const clearBtn = h('button', null, 'Clear highlight');
    clearBtn.addEventListener('click', clearHighlight);
    add(
      panel,
      h('h3', { 'data-testid': 'selected-node' }, n.label),
      cy.getElementById(n.id).data('olName')
        ? h('p', { 'data-testid': 'openlineage-name' }, h('strong', null, cy.getElementById(n.id).data('olName') as string), h('br', null), h('span', { class: 'muted' }, cy.getElementById(n.id).data('ns') as string))
        : null,
      h('p', null, h('span', { class: 'swatch', style: `background:${colourOf(n.type)}` }), ` ${n.kind} · ${n.type}${n.state ? ` · ${n.state}` : ''}`),
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
    void openLineageFacts(n, extras, cy.getElementById(n.id).data('ns') as string | undefined, cy.getElementById(n.id).data('olName') as string | undefined);
  };

  const expand = async (id: string) => {
    const n = state.nodes.get(id);
    if (!n) return;
    if (pathFrom.id && pathFrom.id !== id) {
      const from = pathFrom.id;
      pathFrom.id = '';
      showPanel(n);
      await showPath(from, id);
      return;
    }
    showPanel(n);
    if (state.expanded.has(id)) return;
    state.expanded.add(id);
    cy.getElementById(id).removeClass('collapsed');
    try {
      const g = await api.graph(project(), id, 'both', 1);
      if (merge(g)) {
        await openLineageNames();
        await layout();
      }
      cy.getElementById(id).select();
      updateStatus();
      renderLegend();
      container.dataset.expanded = String(state.expanded.size);
    } catch (err) {
      panel.append(errorLine(err));
    }
  };

  cy.on('tap', 'node', (e) => void expand(e.target.id()));
  find.addEventListener('change', () => {
    const n = [...state.nodes.values()].find((x) => x.label === find.value.trim());
    if (!n) return;
    const el = cy.getElementById(n.id);
    cy.elements().unselect();
    el.select();
    cy.center(el);
    void expand(n.id);
  });
  exportPng.addEventListener('click', () => download(cy.png({ output: 'blob', full: true, bg: '#ffffff', scale: 2 }) as unknown as Blob, 'lineage.png'));
  exportSvg.addEventListener('click', () => download(new Blob([toSvg(cy)], { type: 'image/svg+xml' }), 'lineage.svg'));
  fit.addEventListener('click', () => cy.fit(undefined, 20));

  // Nodes whose neighbours are all loaded (inside the requested depth) count as expanded.
  for (const n of first.nodes) if (n.depth < depth) state.expanded.add(n.id);
  merge(first);
  await openLineageNames();
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
    showPanel(root);
    cy.getElementById(root.id).select();
    if (ctx.params.get('impact') && root.kind === 'artifact') await showImpact(root);
  }
}
