// Entry point: a small history-API router. The server answers every non-API path with index.html,
// so these routes survive a reload and can be bookmarked.

// First: it starts the opened page's requests before the rest of the app's code runs (early.ts).
import './early';
import './style.css';
import 'uplot/dist/uPlot.min.css';
import { clear, errorView, go, h } from './dom';
import { experimentsPage } from './pages/experiments';
import { runsPage } from './pages/runs';
import { runPage } from './pages/run';
import { comparePage } from './pages/compare';
import { artifactsPage, artifactPage } from './pages/artifacts';
import { jobPage } from './pages/jobs';
import { approvalsPage, modelPage, modelsPage } from './pages/registry';
import { deploymentsPage } from './pages/deployments';
import { dashboardsPage } from './pages/dashboards';
import { auditPage } from './pages/audit';
import { alertsPage } from './pages/alerts';
import { webhooksPage } from './pages/webhooks';
import { loginView } from './pages/login';
import { endPrefetch, objectUrl, signedIn, unauthenticatedEvent } from './api';
import { credential, forget } from './auth';
import type { PageContext } from './page';
import { setUpTheme } from './theme';
import { notificationBell } from './notifications';
import { followCount, inProject, isScoped, project, projectFollowedEvent, resolveProject, useProject, visibleProjects } from './project';


type Page = (ctx: PageContext, ...parts: string[]) => Promise<void> | void;

// The lineage page brings Cytoscape and dagre (most of the bundle's weight): loaded when first opened, so the other
// pages parse less before their first paint.
const lineagePage: Page = async (ctx) => (await import('./pages/lineage')).lineagePage(ctx);

const routes: [RegExp, Page, string][] = [
  [/^\/$/, experimentsPage, 'experiments'],
  [/^\/experiments\/?$/, experimentsPage, 'experiments'],
  [/^\/experiments\/([^/]+)$/, runsPage, 'experiments'],
  [/^\/runs\/([^/]+)$/, runPage, 'experiments'],
  [/^\/compare$/, comparePage, 'experiments'],
  [/^\/artifacts\/?$/, artifactsPage, 'artifacts'],
  [/^\/artifacts\/([^/]+)$/, artifactPage, 'artifacts'],
  [/^\/lineage$/, lineagePage, 'lineage'],
  [/^\/jobs\/([^/]+)\/([^/]+)$/, jobPage, 'lineage'],
  [/^\/models\/?$/, modelsPage, 'models'],
  [/^\/models\/([^/]+)$/, modelPage, 'models'],
  [/^\/approvals$/, approvalsPage, 'approvals'],
  [/^\/deployments$/, deploymentsPage, 'deployments'],
  [/^\/dashboards$/, dashboardsPage, 'dashboards'],
  [/^\/alerts$/, alertsPage, 'alerts'],
  [/^\/webhooks$/, webhooksPage, 'webhooks'],
  [/^\/audit$/, auditPage, 'audit'],
];

/** Who is signed in, with a way out; nothing when the tab has no credential. */
function renderSession(): void {
  const el = document.getElementById('session');
  if (!el) return;
  clear(el);
  const c = credential();
  if (!c) return;
  const out = h('button', { class: 'signout', 'data-testid': 'sign-out' }, 'Sign out');
  out.addEventListener('click', () => {
    forget();
    listed = [];
    void render();
  });
  el.append(h('span', { 'data-testid': 'signed-in' }, `Signed in as ${c.user}`), ' ', out);
}

/** The header's notifications follow the event stream as the current credential (none with authentication off). */
let bell: { who: string | null; stop: () => void } | null = null;
function followNotifications(): void {
  const host = document.getElementById('bell');
  const who = credential()?.header ?? null;
  if (!host || (bell && bell.who === who)) return;
  bell?.stop();
  bell = { who, stop: notificationBell(host) };
}
function stopNotifications(): void {
  bell?.stop();
  bell = null;
  document.getElementById('bell')?.replaceChildren();
}

const picker = document.getElementById('project-picker') as HTMLSelectElement;
/** The projects last listed for this credential; the current one is shown even when not among them. */
let listed: string[] = [];

/** The picker shows the current project; the header's links lead to the lists of the current project. */
function renderProject(): void {
  const names = listed.includes(project()) ? listed : [...listed, project()].sort();
  picker.replaceChildren(...names.map((n) => h('option', { value: n }, n)));
  picker.value = project();
  // The brand and the sections (not the notifications' links, which name their own project and version).
  document.querySelectorAll<HTMLAnchorElement>('header.top > a[href^="/"], header.top nav a[href^="/"]').forEach((a) => a.setAttribute('href', inProject(a.pathname)));
}

async function fillPicker(gen: number): Promise<void> {
  try {
    const names = await visibleProjects();
    if (gen !== generation) return;
    listed = names;
  } catch {
    if (gen !== generation) return;
    listed = []; // a 401 shows the login page; the picker fills again once signed in
  }
  renderProject();
}

// Another project: the list page of the same section, in that project (a page token or a name is per project).
picker.addEventListener('change', () => {
  useProject(picker.value);
  go(document.querySelector<HTMLAnchorElement>('header.top nav a.active')?.pathname ?? '/');
});
window.addEventListener(projectFollowedEvent, renderProject);

const app = document.getElementById('app')!;
let generation = 0;
/** What the shown page asked to be done when it is left (closing its event streams). */
let leaving: (() => void)[] = [];
const leave = () => {
  const fns = leaving;
  leaving = [];
  fns.forEach((fn) => fn());
};

async function render(): Promise<void> {
  const gen = ++generation;
  leave();
  const path = location.pathname.replace(/\/+$/, '') || '/';
  clear(app);
  renderSession();
  followNotifications();
  const params = new URLSearchParams(location.search);
  const named = params.get('project');
  if (named) useProject(named);
  else if (isScoped(location.pathname)) {
    useProject(await resolveProject());
    if (gen !== generation) return;
    // The address names the project from now on, so a reload or a bookmark keeps it.
    params.set('project', project());
    history.replaceState(null, '', `${location.pathname}?${params}${location.hash}`);
  } else {
    // A run or an experiment by id follows its own project: its page need not wait for the project list (one
    // round trip less before its first paint). The list decides the picker only if the page followed nothing.
    const followed = followCount();
    void resolveProject().then((p) => {
      if (gen !== generation || followCount() !== followed) return;
      useProject(p);
      renderProject();
    });
  }
  renderProject();
  void fillPicker(gen);
  const ctx: PageContext = {
    root: app,
    params,
    alive: () => gen === generation,
    onLeave: (fn) => (gen === generation ? leaving.push(fn) : fn()),
  };
  for (const [re, page, nav] of routes) {
    const m = re.exec(path);
    if (!m) continue;
    document.querySelectorAll('[data-nav]').forEach((a) => a.classList.toggle('active', a.getAttribute('data-nav') === nav));
    try {
      await page(ctx, ...m.slice(1).map(decodeURIComponent));
    } catch (err) {
      if (!ctx.alive()) return;
      clear(app);
      app.appendChild(errorView(err));
    } finally {
      endPrefetch(); // the early answers were for the first page shown only
    }
    return;
  }
  app.appendChild(
    h(
      'section',
      { class: 'not-found', 'data-testid': 'not-found' },
      h('h1', null, 'Not found'),
      h('p', null, `There is no page at ${path}.`),
      h('p', null, h('a', { href: '/', 'data-link': true }, 'Back to experiments')),
    ),
  );
}

// Downloads of API content need the credential when signed in: fetched with it, then saved from a local URL.
document.addEventListener('click', (e) => {
  const a = (e.target as Element | null)?.closest?.('a');
  const href = a?.getAttribute('href');
  if (!a || !href?.startsWith('/api/') || !a.hasAttribute('download') || !signedIn() || e.defaultPrevented) return;
  e.preventDefault();
  void objectUrl(href).then((local) => {
    const save = h('a', { href: local, download: a.getAttribute('download') || href.split('/').pop() || 'download' });
    save.click();
    setTimeout(() => URL.revokeObjectURL(local), 60_000);
  }, () => undefined); // a failure is reported by the API layer (401 shows the login page)
});

document.addEventListener('click', (e) => {
  const a = (e.target as Element | null)?.closest?.('a');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
  const href = a.getAttribute('href');
  if (!href || !href.startsWith('/') || href.startsWith('/api/') || a.hasAttribute('download') || a.target) return;
  e.preventDefault();
  go(href);
});
window.addEventListener('popstate', () => void render());
// A theme change redraws the page: charts painted on canvases took the old colours.
setUpTheme(document.getElementById('theme'), () => void render());
// Any 401: the page being shown is dropped (its late answers too) and the login page takes its place; a stale
// credential (revoked, expired) is forgotten first. Several requests failing together show one form.
window.addEventListener(unauthenticatedEvent, () => {
  if (app.querySelector('form.login')) return;
  generation++;
  leave();
  stopNotifications();
  const stale = credential() !== null;
  forget();
  listed = [];
  renderProject();
  renderSession();
  clear(app);
  app.appendChild(loginView(() => void render(), stale ? 'Your credential was not accepted (revoked or expired); sign in again.' : undefined));
});
// A bug must never show a raw stack trace: log it, tell the person plainly.
window.addEventListener('error', (e) => console.error(e.error ?? e.message));
window.addEventListener('unhandledrejection', (e) => console.error(e.reason));

void render();
