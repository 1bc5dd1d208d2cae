// Small DOM helpers: the UI is plain TypeScript, no framework.

import { ApiError } from './api';
import { inProject } from './project';

type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v as EventListener);
    else if (k === 'class') el.className = String(v);
    else if (k === 'value' && 'value' in el) (el as HTMLInputElement).value = String(v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

export function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
}

/** An in-app link: navigation goes through the router (no full page load); a project-scoped address keeps the project. */
export function link(href: string, ...children: Child[]): HTMLAnchorElement {
  return h('a', { href: inProject(href), 'data-link': true }, ...children);
}

/** One artifact version's page (artifacts are named within their project). */
export function artifactHref(a: { project: string; name: string; version: number | string }): string {
  return `/artifacts/${encodeURIComponent(a.name)}?v=${a.version}&project=${encodeURIComponent(a.project)}`;
}

/** The project an entity page's thing belongs to. */
export function projectChip(name: string): HTMLElement {
  return h('span', { class: 'chip project', title: 'Project', 'data-testid': 'entity-project' }, `project ${name}`);
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

export function time(ms?: number | null): string {
  if (!ms) return '';
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function duration(start?: number, end?: number): string {
  if (!start || !end) return '';
  let s = Math.max(0, Math.round((end - start) / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  s %= 60;
  if (m < 60) return `${m}m ${s}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/**
 * One number format everywhere (tables, compare, chart legends): up to five significant digits, exponent
 * notation below 1e-3 and from 1e6 up, written short (`1.41e-6`, never `1.4100e-6` beside `4.14e-06`).
 */
export function fmtValue(v: number | string | undefined | null): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (Number.isInteger(v) && a < 1e6) return String(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) {
    const [m, e] = v.toExponential(4).split('e');
    return `${Number(m)}e${Number(e)}`;
  }
  return String(Number(v.toPrecision(5)));
}

/** A param or tag value that is a plain number in the same format as metrics; any other text unchanged. */
export function fmtText(v: string | undefined): string {
  if (v === undefined) return '';
  const t = v.trim();
  return t !== '' && /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(t) ? fmtValue(Number(t)) : v;
}

export function statusBadge(status: string): HTMLElement {
  return h('span', { class: `badge status-${status.toLowerCase()}` }, status);
}

/** A key/value table; empty maps say so. */
export function kvTable(map: Record<string, string>, emptyText: string, testId?: string): HTMLElement {
  const keys = Object.keys(map).sort();
  if (keys.length === 0) return h('p', { class: 'muted', 'data-testid': testId }, emptyText);
  return h(
    'table',
    { class: 'kv', 'data-testid': testId },
    h('tbody', null, keys.map((k) => h('tr', null, h('th', null, k), h('td', null, map[k])))),
  );
}

/** What a person sees instead of a stack trace: not found, or the server's message. */
export function errorView(err: unknown, what?: string): HTMLElement {
  if (err instanceof ApiError && err.notFound)
    return h(
      'section',
      { class: 'not-found', 'data-testid': 'not-found' },
      h('h1', null, 'Not found'),
      h('p', null, what ? `${what}: ` : '', err.message),
      h('p', null, link('/', 'Back to experiments')),
    );
  const message = err instanceof ApiError ? err.message : 'Something went wrong in the page. Reload to try again.';
  return h(
    'section',
    { class: 'error-page', 'data-testid': 'error' },
    h('h1', null, err instanceof ApiError && err.status === 403 ? 'Not allowed' : 'Something went wrong'),
    h('p', null, message),
    h('p', null, link('/', 'Back to experiments')),
  );
}

export function errorLine(err: unknown): HTMLElement {
  const message = err instanceof ApiError ? err.message : 'unexpected error';
  return h('p', { class: 'error', role: 'alert', 'data-testid': 'error-line' }, message);
}

export function loading(): HTMLElement {
  return h('p', { class: 'muted' }, 'Loading…');
}

/** Performance marks the browser tests read (first paint, page change, layout). */
export function mark(name: string): void {
  performance.mark(name);
}

/** Navigate inside the app (the router listens to popstate); a project-scoped address keeps the project. */
export function go(href: string, replace = false): void {
  href = inProject(href);
  if (replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

/** Appends children, skipping null/false (as h() does). */
export function add(el: Node, ...children: Child[]): void {
  append(el, children);
}

/** A plain data table: header labels, one array of cells per row. Empty lists say so instead. */
export function grid(headers: string[], rows: Child[][], testId: string, emptyText = 'Nothing yet.'): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'muted', 'data-testid': testId }, emptyText);
  return h(
    'table',
    { class: 'grid', 'data-testid': testId },
    h('thead', null, h('tr', null, headers.map((c) => h('th', null, c)))),
    h('tbody', null, rows.map((cells) => h('tr', null, cells.map((c) => h('td', null, c))))),
  );
}

export function chips(values: string[], cls = ''): HTMLElement[] {
  return values.map((v) => h('span', { class: `chip ${cls}` }, v));
}

export const svgNs = 'http://www.w3.org/2000/svg';

/** An SVG element with attributes (and text), for the hand-drawn charts (run charts panel, compare). */
export function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const el = document.createElementNS(svgNs, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** A button that runs `work`, disabled meanwhile; a refusal is shown next to it with the server's message. */
export function action(label: string, testId: string, outcome: HTMLElement, work: () => Promise<unknown>): HTMLButtonElement {
  const b = h('button', { type: 'button', 'data-testid': testId }, label);
  b.addEventListener('click', async () => {
    b.disabled = true;
    outcome.replaceChildren();
    try {
      await work();
    } catch (err) {
      outcome.replaceChildren(errorLine(err));
    } finally {
      b.disabled = false;
    }
  });
  return b;
}
