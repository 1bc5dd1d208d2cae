// Runs of one experiment: chosen param/metric/tag columns, nested runs as a tree, and sorting, filtering and
// paging done by the server through the query language (GET /api/v1/search/runs, docs/query.md): a sort or a
// filter covers every run of the experiment, and keyset paging makes page N cost what page 1 does at 100,000 runs.

import { api, ApiError, type Run } from '../api';
import { add, clear, duration, errorLine, errorView, fmtText, fmtValue, go, h, link, mark, projectChip, statusBadge, time } from '../dom';
import type { PageContext } from '../page';
import { follow } from '../project';
import { runChartPanel } from '../runcharts';
import { attachCompletion } from '../completion';
import { coalesce, followEvents } from '../live';
import { attrs, colId, orderField, searchQuery, viewOf, type Column, type Kind } from './runsview';

/** Where a run's row goes in the table: its index in the page's runs, its depth in the tree, whether it has children. */
type RowPlace = { index: number; depth: number; kids: boolean };

const filterHelp = "metrics.loss < 0.5 and params.optimizer = 'adam'   (the query language: docs/query.md)";

function value(r: Run, c: Column): string | number | undefined {
  switch (c.kind) {
    case 'attr':
      return attrs[c.key].get(r);
    case 'param':
      return r.params[c.key];
    case 'tag':
      return r.tags[c.key];
    case 'metric': {
      const m = r.metrics.find((x) => x.key === c.key);
      return m === undefined ? undefined : typeof m.value === 'number' ? m.value : Number(m.value);
    }
  }
}

export async function runsPage(ctx: PageContext, experimentId: string): Promise<void> {
  const storeKey = `lineage.columns.${experimentId}`;
  const view = viewOf(ctx.params);
  let filterText = view.filterText;
  const { pageSize, sort } = view;
  const search = (pageToken?: string, filter = filterText) => api.searchRuns(searchQuery(experimentId, view, pageToken, filter));

  // The first page is requested together with the experiment (one round trip less before first paint); when the page
  // is the one the browser opened, both were asked for already, before the app's code ran (early.ts).
  let firstRequest: ReturnType<typeof api.searchRuns> | null = search();
  firstRequest.catch(() => undefined); // handled where it is awaited
  const experiment = await api.experiment(experimentId);
  if (!ctx.alive()) return;
  follow(experiment.project);

  // Paging state: tokens[i] is the token that loads page i (page 0 has none).
  const tokens: (string | undefined)[] = [undefined];
  let pageIndex = 0;
  let runs: Run[] = [];
  let next: string | undefined;
  /** The newest event before the first page was read (the search's answer header): the live stream starts after it. */
  let eventsHead: number | undefined;
  const collapsed = new Set<string>();
  const selected = new Set<string>();
  let chosen: Column[] | null = (() => {
    try {
      return JSON.parse(localStorage.getItem(storeKey) ?? 'null');
    } catch {
      return null;
    }
  })();
  let firstPaint = true;

  const filterBox = h('input', {
    type: 'search',
    class: 'filter',
    placeholder: filterHelp,
    value: filterText,
    'aria-label': 'Filter runs',
    'data-testid': 'runs-filter',
  });
  const filterError = h('div', { class: 'filter-error', 'data-testid': 'filter-error' });
  const sizeSelect = h(
    'select',
    { 'aria-label': 'Runs per page' },
    [25, 50, 100, 250, 1000].map((n) => h('option', { value: n, selected: n === pageSize }, `${n} / page`)),
  );
  // Filter, sort and page size live in the address, so a sorted, filtered view can be bookmarked.
  const reload = (sortBy: { col: Column; desc: boolean } | null) => {
    const q = new URLSearchParams();
    if (filterBox.value.trim()) q.set('filter', filterBox.value.trim());
    if (sizeSelect.value !== '100') q.set('size', sizeSelect.value);
    if (sortBy) {
      q.set('sort', colId(sortBy.col));
      if (sortBy.desc) q.set('desc', '1');
    }
    go(`/experiments/${encodeURIComponent(experimentId)}${q.toString() ? `?${q}` : ''}`, true);
  };
  const applyFilter = () => reload(sort);
  let fields: ReturnType<typeof api.experimentFields> | null = null;
  const completions = attachCompletion(filterBox, {
    fields: () => (fields ??= api.experimentFields(experimentId)),
    values: async (kind, key, prefix) => (await api.fieldValues(experimentId, kind, key, prefix)).values,
  });
  // Enter applies the filter (with its error shown) unless it took a completion.
  filterBox.addEventListener('keydown', (e) => e.key === 'Enter' && !e.defaultPrevented && applyFilter());
  // Search as you type: a pause in typing runs the filter; an unfinished filter (400) keeps the table as it is.
  let typing: ReturnType<typeof setTimeout> | undefined;
  let typed = 0;
  filterBox.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(async () => {
      const text = filterBox.value.trim();
      if (text === filterText) return;
      const n = ++typed;
      try {
        const page = await search(undefined, text);
        if (n !== typed || !ctx.alive()) return;
        filterText = text;
        filterBox.classList.remove('incomplete');
        filterBox.title = '';
        filterError.replaceChildren();
        const q = new URLSearchParams(location.search);
        if (text) q.set('filter', text);
        else q.delete('filter');
        history.replaceState(null, '', `${location.pathname}?${q}`);
        show(0, page);
        panel.refresh();
      } catch (err) {
        if (n !== typed || !ctx.alive()) return;
        filterBox.classList.add('incomplete');
        filterBox.title = err instanceof ApiError ? err.message : String(err);
      }
    }, 350);
  });
  sizeSelect.addEventListener('change', applyFilter);

  const columnsPanel = h('details', { class: 'columns' }, h('summary', null, 'Columns'));
  const compareBtn = h('button', { disabled: true, 'data-testid': 'compare-selected' }, 'Compare selected');
  compareBtn.addEventListener('click', () => go(`/compare?runs=${[...selected].join(',')}`));
  const pager = h('div', { class: 'pager' });
  const table = h('div', { class: 'table-wrap' });
  const count = h('span', { class: 'muted', 'data-testid': 'run-count' });
  const panel = runChartPanel(() => visibleRuns(), () => selected);
  /** Rows drawn at once (the default page); see drawRows. */
  const rowChunk = 100;
  let moreRows: IntersectionObserver | undefined;
  ctx.onLeave(() => moreRows?.disconnect());

  add(
    ctx.root,
    h('p', { class: 'crumbs' }, link('/', 'Experiments'), ' / ', experiment.name, projectChip(experiment.project)),
    h('h1', null, experiment.name, h('span', { class: 'muted small' }, ` experiment ${experiment.id}`)),
    experiment.description ? h('p', null, experiment.description) : null,
    h('div', { class: 'toolbar' }, h('div', { class: 'filter-box' }, filterBox, completions), h('button', { onclick: applyFilter }, 'Apply'), sizeSelect, columnsPanel, compareBtn, count),
    filterError,
    panel.el,
    table,
    pager,
  );

  /** The server's message; for a filter error also the filter with the text from the bad token on marked. */
  const showError = (err: ApiError) => {
    filterError.append(errorLine(err));
    const at = err.field === 'filter' ? err.position : undefined;
    if (at !== undefined && at <= filterText.length)
      filterError.append(h('code', { class: 'filter-echo' }, filterText.slice(0, at), h('mark', null, filterText.slice(at) || ' ')));
  };

  const keysOf = () => {
    const params = new Set<string>();
    const metrics = new Set<string>();
    const tags = new Set<string>();
    for (const r of runs) {
      Object.keys(r.params).forEach((k) => params.add(k));
      r.metrics.forEach((m) => metrics.add(m.key));
      Object.keys(r.tags).forEach((k) => !k.startsWith('lineage.') && tags.add(k));
    }
    return { params: [...params].sort(), metrics: [...metrics].sort(), tags: [...tags].sort() };
  };

  /** The runs the table draws (children of a folded parent are hidden): what the chart panel plots. */
  const visibleRuns = (): Run[] => {
    const hidden = new Set<string>();
    const byId = new Map(runs.map((r) => [r.runId, r]));
    for (const r of runs) {
      for (let p = r.parentRunId; p && byId.has(p); p = byId.get(p)!.parentRunId)
        if (collapsed.has(p)) {
          hidden.add(r.runId);
          break;
        }
    }
    return runs.filter((r) => !hidden.has(r.runId));
  };

  const columns = (): Column[] => {
    const base: Column[] = Object.keys(attrs).map((key) => ({ kind: 'attr', key }));
    if (chosen) return [...base, ...chosen];
    const k = keysOf();
    // Params whose value varies across the runs first (a constant says nothing about the runs); then the rest.
    const distinct = (key: string) => new Set(runs.map((r) => r.params[key] ?? '\u0000')).size;
    const params = [...k.params].sort((a, b) => Number(distinct(b) > 1) - Number(distinct(a) > 1) || a.localeCompare(b));
    return [
      ...base,
      ...k.metrics.slice(0, 4).map((key) => ({ kind: 'metric' as Kind, key })),
      ...params.slice(0, 4).map((key) => ({ kind: 'param' as Kind, key })),
    ];
  };

  const renderColumnsPanel = () => {
    const k = keysOf();
    const current = new Set(columns().map(colId));
    const box = (kind: Kind, key: string) => {
      const cb = h('input', { type: 'checkbox', checked: current.has(`${kind}:${key}`), 'data-column': `${kind}:${key}` });
      cb.addEventListener('change', () => {
        const set = columns().filter((c) => c.kind !== 'attr');
        chosen = cb.checked ? [...set, { kind, key }] : set.filter((c) => colId(c) !== `${kind}:${key}`);
        localStorage.setItem(storeKey, JSON.stringify(chosen));
        renderTable();
      });
      return h('label', null, cb, ` ${key}`);
    };
    clear(columnsPanel);
    columnsPanel.append(
      h('summary', null, 'Columns'),
      h(
        'div',
        { class: 'columns-list' },
        h('strong', null, 'Metrics'),
        k.metrics.length ? k.metrics.map((key) => box('metric', key)) : h('span', { class: 'muted' }, 'none on this page'),
        h('strong', null, 'Params'),
        k.params.length ? k.params.map((key) => box('param', key)) : h('span', { class: 'muted' }, 'none on this page'),
        h('strong', null, 'Tags'),
        k.tags.length ? k.tags.map((key) => box('tag', key)) : h('span', { class: 'muted' }, 'none on this page'),
      ),
    );
  };

  const cell = (r: Run, c: Column, depth: number, hasChildren: boolean): HTMLTableCellElement => {
    if (c.kind === 'attr') {
      switch (c.key) {
        case 'name': {
          const toggle = hasChildren
            ? h('button', { class: 'twisty', 'aria-label': collapsed.has(r.runId) ? 'Expand' : 'Collapse', 'data-testid': 'twisty' },
                collapsed.has(r.runId) ? '▸' : '▾')
            : h('span', { class: 'twisty-space' });
          if (hasChildren)
            toggle.addEventListener('click', () => {
              if (collapsed.has(r.runId)) collapsed.delete(r.runId);
              else collapsed.add(r.runId);
              renderTable();
              panel.refresh();
            });
          const label = r.name ?? r.runId.slice(0, 8);
          return h('td', { class: 'name', title: label }, h('span', { style: `padding-left:${depth * 1.3}em` }), toggle, link(`/runs/${r.runId}`, label));
        }
        case 'status':
          return h('td', null, statusBadge(r.status));
        case 'start':
          return h('td', { class: 'date' }, time(r.startTime));
        case 'duration':
          // A run still going shows how long it has been going.
          return !r.endTime && r.status === 'RUNNING'
            ? h('td', { class: 'num elapsed', 'data-testid': 'elapsed', title: 'running' }, `${duration(r.startTime, Date.now())} …`)
            : h('td', { class: 'num' }, duration(r.startTime, r.endTime));
        default:
          return h('td', { title: r.user ?? '' }, h('span', { class: 'cut' }, r.user ?? ''));
      }
    }
    const v = value(r, c);
    if (c.kind === 'metric') return h('td', { class: 'num' }, fmtValue(v));
    // Long values (a 1,800-character param) are cut to the column; the whole value is the cell's tooltip.
    const text = (v ?? '') as string;
    const shown = fmtText(text);
    const numeric = shown !== text || (text !== '' && Number.isFinite(Number(text)));
    return h('td', { class: numeric ? 'num' : '', title: text }, h('span', { class: 'cut' }, shown));
  };

  const rowOf = (r: Run, cols: Column[], depth: number, hasChildren: boolean): HTMLTableRowElement => {
    const check = h('input', { type: 'checkbox', checked: selected.has(r.runId), 'aria-label': `Select ${r.name ?? r.runId}` });
    check.addEventListener('change', () => {
      if (check.checked) selected.add(r.runId);
      else selected.delete(r.runId);
      compareBtn.disabled = selected.size < 2;
      compareBtn.textContent = `Compare selected (${selected.size})`;
      panel.refresh();
    });
    return h('tr', { 'data-run': r.runId, 'data-depth': depth, 'data-status': r.status, class: depth ? 'child' : '' },
      h('td', { class: 'sel' }, check), cols.map((c) => cell(r, c, depth, hasChildren)));
  };

  const renderTable = () => {
    const cols = columns();
    clear(table);
    count.textContent = `${runs.length} run${runs.length === 1 ? '' : 's'} on this page${next ? ' (more on the next pages)' : ''}`;
    if (runs.length === 0) {
      table.append(h('p', { class: 'muted', 'data-testid': 'no-runs' }, 'No runs match.'));
      return;
    }
    // Nested runs: a child whose parent is on this page is drawn under it.
    const ids = new Set(runs.map((r) => r.runId));
    const children = new Map<string, Run[]>();
    const roots: Run[] = [];
    for (const r of runs) {
      if (r.parentRunId && ids.has(r.parentRunId)) {
        const list = children.get(r.parentRunId) ?? [];
        list.push(r);
        children.set(r.parentRunId, list);
      } else roots.push(r);
    }
    const index = new Map(runs.map((r, i) => [r.runId, i]));
    const order: RowPlace[] = [];
    const walk = (list: Run[], depth: number) => {
      for (const r of list) {
        const kids = children.get(r.runId) ?? [];
        order.push({ index: index.get(r.runId)!, depth, kids: kids.length > 0 });
        if (kids.length && !collapsed.has(r.runId)) walk(kids, depth + 1);
      }
    };
    walk(roots, 0);

    const head = h(
      'tr',
      null,
      h('th', { class: 'sel' }, ''),
      cols.map((c) => {
        const label = c.kind === 'attr' ? attrs[c.key].label : c.key;
        const active = sort && colId(sort.col) === colId(c);
        const sortable = orderField(c) !== undefined;
        const th = h(
          'th',
          {
            class: `${sortable ? 'sortable' : ''} ${c.kind}${colId(c) === 'attr:name' ? ' name' : ''}`,
            title: sortable ? 'Sort all runs by this column' : null,
            'data-col': colId(c),
            'aria-sort': active ? (sort!.desc ? 'descending' : 'ascending') : null,
          },
          c.kind === 'attr' ? null : h('span', { class: `kind kind-${c.kind}` }, c.kind[0]),
          label,
          active ? (sort!.desc ? ' ▼' : ' ▲') : '',
        );
        if (sortable) th.addEventListener('click', () => reload(active ? { col: c, desc: !sort!.desc } : { col: c, desc: false }));
        return th;
      }),
    );
    const body = h('tbody', null);
    table.append(h('table', { class: 'grid runs', 'data-testid': 'runs-table' }, h('thead', null, head), body));
    drawRows(body, order, cols);
  };

  /**
   * The first rowChunk rows now, each further chunk when the end of the table comes within a screen of the viewport:
   * a page of 1,000 runs lays out 100 rows before its chart panel draws, not 1,000 (~0.5 s on a laptop). Rows are made
   * from `runs` when drawn (a live update replaces a run at its index), so a run read again meanwhile is drawn as it is
   * now. The observer watches a
   * mark below the table, not its last row, which a live update may replace.
   */
  const drawRows = (body: HTMLElement, order: RowPlace[], cols: Column[]) => {
    moreRows?.disconnect();
    moreRows = undefined;
    let drawn = 0;
    const drawChunk = () => {
      const chunk = order.slice(drawn, drawn + rowChunk);
      drawn += chunk.length;
      body.append(...chunk.map((o) => rowOf(runs[o.index], cols, o.depth, o.kids)));
    };
    drawChunk();
    if (drawn === order.length) return;
    const end = h('div', { class: 'rows-end', 'data-testid': 'more-rows' }, `${order.length - drawn} more rows below`);
    table.append(end);
    const observer = new IntersectionObserver(
      (seen) => {
        if (!seen.some((s) => s.isIntersecting)) return;
        drawChunk();
        if (drawn === order.length) {
          observer.disconnect();
          end.remove();
          return;
        }
        end.textContent = `${order.length - drawn} more rows below`;
        // Observing again reports where the mark is now: still in reach (a fast scroll) draws the next chunk at once.
        observer.unobserve(end);
        observer.observe(end);
      },
      { rootMargin: '0px 0px 100% 0px' },
    );
    observer.observe(end);
    moreRows = observer;
  };

  const renderPager = () => {
    clear(pager);
    const prev = h('button', { disabled: pageIndex === 0, 'data-testid': 'prev-page' }, '← Previous');
    const nextBtn = h('button', { disabled: !next, 'data-testid': 'next-page' }, 'Next →');
    prev.addEventListener('click', () => void load(pageIndex - 1));
    nextBtn.addEventListener('click', () => {
      if (next) {
        tokens[pageIndex + 1] = next;
        void load(pageIndex + 1);
      }
    });
    const range = runs.length === 0 ? 'no runs' : `runs ${pageIndex * pageSize + 1}–${pageIndex * pageSize + runs.length}`;
    pager.append(prev, h('span', { 'data-testid': 'page-label' }, ` Page ${pageIndex + 1} · ${range} `), nextBtn);
  };

  const show = (index: number, page: { runs: Run[]; nextPageToken?: string }) => {
    if (index === 0) tokens.length = 1;
    pageIndex = index;
    runs = page.runs;
    next = page.nextPageToken;
    renderColumnsPanel();
    renderTable();
    renderPager();
  };

  const load = async (index: number) => {
    mark('runs-page-start');
    filterError.replaceChildren();
    try {
      const request = index === 0 && firstRequest ? firstRequest : search(tokens[index]);
      firstRequest = null;
      const page = await request;
      if (!ctx.alive()) return;
      eventsHead ??= page.eventsHead;
      show(index, page);
      if (firstPaint) {
        firstPaint = false;
        mark('runs-first-paint');
      } else {
        mark('runs-page-rendered');
        performance.measure('runs-page-change', 'runs-page-start', 'runs-page-rendered');
      }
      // The chart panel after the table's marks: the table is what the first-paint figure measures.
      panel.refresh();
    } catch (err) {
      if (!ctx.alive()) return;
      if (err instanceof ApiError && err.status === 400) showError(err);
      else {
        clear(ctx.root);
        ctx.root.append(errorView(err));
      }
    }
  };

  await load(0);
  if (ctx.alive()) followRuns();

  /**
   * Live: the table follows the experiment over the event stream (docs/events.md). A run of this page that logged
   * or ended is read again — the changed runs of a burst in one search request — and only its row is redrawn
   * (status, duration, latest metric values); a new run of this experiment reloads the first page (the server
   * decides where it sorts) or, on a later page, is counted in the toolbar.
   */
  function followRuns() {
    const changed = new Set<string>();
    let unseen = 0;
    const newRuns = h('span', { class: 'new-runs', 'data-testid': 'new-runs' });
    count.after(newRuns);
    const refreshRows = coalesce(async () => {
      const ids = [...changed].filter((id) => runs.some((r) => r.runId === id));
      changed.clear();
      if (!ids.length) return;
      let fresh: Run[];
      try {
        // At most 100 ids a request: a filter of 1,000 ids would outgrow the request line.
        const chunks = Array.from({ length: Math.ceil(ids.length / 100) }, (_, i) => ids.slice(i * 100, i * 100 + 100));
        fresh = (await Promise.all(chunks.map((chunk) =>
          api.searchRuns({ experimentId, filter: `attributes.run_id IN (${chunk.map((id) => `'${id}'`).join(', ')})`, limit: 100 })))).flatMap((p) => p.runs);
      } catch {
        return; // a blip: the next event of these runs reads them again
      }
      if (!ctx.alive()) return;
      const cols = columns();
      for (const r of fresh) {
        const i = runs.findIndex((x) => x.runId === r.runId);
        const tr = table.querySelector<HTMLTableRowElement>(`tr[data-run="${r.runId}"]`);
        if (i < 0) continue;
        runs[i] = r;
        tr?.replaceWith(rowOf(r, cols, Number(tr.dataset.depth ?? 0), tr.querySelector('[data-testid=twisty]') !== null));
      }
    }, 100);
    const reloadFirst = coalesce(async () => {
      if (pageIndex !== 0) {
        newRuns.textContent = ` · ${unseen} new run${unseen === 1 ? '' : 's'} on page 1`;
        return;
      }
      try {
        const page = await search();
        if (!ctx.alive() || pageIndex !== 0) return;
        unseen = 0;
        newRuns.textContent = '';
        show(0, page);
        panel.refresh();
      } catch {
        // a blip (or a filter being edited): the table stays as it is
      }
    }, 100);
    const stop = followEvents({ types: ['run.*'], project: experiment.project }, {
      // The stream resumes after the event the page's search saw last, so nothing logged since is missed. Without that
      // id (an older server), what a running run logged before the stream opened is read once.
      open: (resumed) => {
        newRuns.dataset.live = 'on';
        if (resumed) return;
        runs.filter((r) => r.status === 'RUNNING').forEach((r) => changed.add(r.runId));
        refreshRows();
      },
      event: (e) => {
        const id = e.payload.runId as string;
        if (e.type === 'run.created') {
          if (String(e.payload.experimentId) !== experimentId) return;
          unseen++;
          reloadFirst();
        } else if (runs.some((r) => r.runId === id)) {
          changed.add(id);
          refreshRows();
        }
      },
      refused: (err) => (newRuns.textContent = ` · live updates are off: ${err.message}`),
    }, eventsHead);
    ctx.onLeave(stop);
  }
}
