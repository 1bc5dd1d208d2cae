// Artifacts: the list of versions; one name's versions with aliases, metadata, alias history, files and
// previews; and a diff of two versions' metadata (schema included: it is part of the metadata).

import { api, ApiError, type ArtifactVersion, type DatasetVersion } from '../api';
import { add, bytes, clear, errorLine, fmtValue, go, h, kvTable, link, loading, projectChip, time } from '../dom';
import type { PageContext } from '../page';
import { artifactBrowser } from '../preview';
import { runLink } from '../runnames';
import { project } from '../project';

export async function artifactsPage(ctx: PageContext): Promise<void> {
  const name = ctx.params.get('name') ?? '';
  const type = ctx.params.get('type') ?? '';
  const pageToken = ctx.params.get('page') ?? undefined;
  const nameBox = h('input', { type: 'search', placeholder: 'Name', value: name, 'aria-label': 'Artifact name' });
  const typeBox = h('input', { type: 'search', placeholder: 'Type (dataset, model…)', value: type, 'aria-label': 'Artifact type' });
  const apply = () => {
    const q = new URLSearchParams();
    if (nameBox.value) q.set('name', nameBox.value);
    if (typeBox.value) q.set('type', typeBox.value);
    go(`/artifacts${q.toString() ? `?${q}` : ''}`, true);
  };
  [nameBox, typeBox].forEach((b) => b.addEventListener('keydown', (e) => e.key === 'Enter' && apply()));
  const body = h('div', null, loading());
  ctx.root.append(h('h1', null, 'Artifacts'), h('div', { class: 'toolbar' }, nameBox, typeBox, h('button', { onclick: apply }, 'Filter')), body);
  try {
    const failing = failedChecks(project());
    const page = await api.artifacts({ project: project(), name, type, latest: 'true', limit: 200, pageToken });
    const failed = await failing;
    if (!ctx.alive()) return;
    clear(body);
    if (page.artifacts.length === 0) {
      body.append(h('p', { class: 'muted' }, 'No artifacts.'));
      return;
    }
    // One row per name (its latest version); ▸ unfolds the name's versions under it.
    const versionRow = (a: ArtifactVersion, nested: boolean) =>
      h('tr', { class: nested ? 'child' : '', 'data-name': a.name, 'data-version': a.version },
        h('td', { class: 'name' }, nested ? h('span', { class: 'twisty-space' }) : null, nested ? '' : link(`/artifacts/${encodeURIComponent(a.name)}`, a.name)),
        h('td', { class: 'num' }, link(`/artifacts/${encodeURIComponent(a.name)}?v=${a.version}`, `v${a.version}`), failedBadge(failed, a)),
        h('td', null, h('span', { class: `type type-${a.type}` }, a.type)),
        h('td', null, a.aliases.map((al) => h('span', { class: 'chip alias' }, al))),
        h('td', { class: 'num' }, bytes(a.size)),
        h('td', { class: 'date' }, time(a.createdAt)),
        h('td', null, a.producerRunId ? runLink(a.producerRunId) : ''));
    const rows = page.artifacts.map((a) => {
      const row = versionRow(a, false);
      if (a.version > 1) {
        // Versions are numbered from 1 and never renumbered: the latest's number is how many there are.
        const twisty = h('button', { class: 'twisty', 'aria-label': `Versions of ${a.name}`, 'data-testid': 'versions-toggle' }, '▸');
        const count = h('span', { class: 'muted small', 'data-testid': 'version-count' }, ` ${a.version} versions`);
        let open: HTMLTableRowElement[] = [];
        twisty.addEventListener('click', async () => {
          if (open.length) {
            open.forEach((r) => r.remove());
            open = [];
            twisty.textContent = '▸';
            return;
          }
          twisty.textContent = '▾';
          const all = (await api.versions(a.project, a.name)).artifacts.sort((x, y) => y.version - x.version).filter((v) => v.id !== a.id);
          open = all.map((v) => versionRow(v, true));
          row.after(...open);
        });
        row.firstElementChild!.prepend(twisty);
        row.firstElementChild!.append(count);
      } else row.firstElementChild!.prepend(h('span', { class: 'twisty-space' }));
      return row;
    });
    body.append(
      h('table', { class: 'grid', 'data-testid': 'artifacts' },
        h('thead', null, h('tr', null, ['Name', 'Latest', 'Type', 'Aliases', 'Size', 'Created', 'Producer'].map((c) => h('th', null, c)))),
        h('tbody', null, rows)),
    );
    if (page.nextPageToken) {
      const q = new URLSearchParams(ctx.params);
      q.set('page', page.nextPageToken);
      body.append(h('p', null, link(`/artifacts?${q}`, 'Next page →')));
    }
  } catch (err) {
    if (!ctx.alive()) return;
    clear(body);
    body.append(errorLine(err));
  }
}

/** `name@version` → how many of its checks failed last time, for a project's dataset versions that fail some (one request). */
export async function failedChecks(inProject: string): Promise<Map<string, number>> {
  try {
    const { versions } = await api.failingDatasets(inProject);
    return new Map(versions.map((v) => [`${v.name}@${v.version}`, v.failedChecks]));
  } catch {
    return new Map(); // the flags are a hint: a list without them is still the list
  }
}

/** A red ✕ after a dataset version whose latest result of some check failed. */
export function failedBadge(failed: Map<string, number>, a: { name: string; version: number }): HTMLElement | null {
  const n = failed.get(`${a.name}@${a.version}`);
  return n ? h('span', { class: 'badge status-failed', 'data-testid': 'failed-checks', title: `${n} check${n === 1 ? '' : 's'} failed (latest result)` }, `✕ ${n} failed`) : null;
}

/** Flattens JSON into path → value text, so two versions' metadata can be compared key by key. */
export function flatten(value: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (value !== null && typeof value === 'object' && !(Array.isArray(value) && value.length === 0) && Object.keys(value as object).length > 0) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>))
      flatten(v, Array.isArray(value) ? `${prefix}[${k}]` : prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix || '(root)', JSON.stringify(value));
  return out;
}

function metadataDiff(a: ArtifactVersion, b: ArtifactVersion): HTMLElement {
  const fa = flatten(a.metadata);
  const fb = flatten(b.metadata);
  const keys = [...new Set([...fa.keys(), ...fb.keys()])].sort();
  const rows = keys.map((k) => {
    const va = fa.get(k);
    const vb = fb.get(k);
    const change = va === undefined ? 'added' : vb === undefined ? 'removed' : va === vb ? 'same' : 'changed';
    return h('tr', { class: `diff-${change}`, 'data-key': k, 'data-change': change }, h('th', null, k), h('td', null, va ?? ''), h('td', null, vb ?? ''), h('td', null, change));
  });
  const changed = rows.filter((r) => r.dataset.change !== 'same').length;
  return h(
    'div',
    { 'data-testid': 'metadata-diff' },
    h('p', null, `${changed} of ${keys.length} metadata fields differ between v${a.version} and v${b.version}.`),
    h(
      'table',
      { class: 'grid diff' },
      h('thead', null, h('tr', null, h('th', null, 'Field'), h('th', null, `v${a.version}`), h('th', null, `v${b.version}`), h('th', null, ''))),
      h('tbody', null, rows),
    ),
  );
}

export async function artifactPage(ctx: PageContext, name: string): Promise<void> {
  // Names are per project: the address names it (main.ts adds the current one when it does not).
  const failing = failedChecks(project());
  const list = await api.versions(project(), name);
  if (!ctx.alive()) return;
  const versions = list.artifacts.sort((x, y) => y.version - x.version);
  if (versions.length === 0) {
    // Shown as the not-found page.
    throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `artifact '${name}' not found`);
  }
  const wanted = ctx.params.get('v');
  const current = versions.find((v) => String(v.version) === wanted || v.aliases.includes(wanted ?? '')) ?? versions[0];
  const base = `/artifacts/${encodeURIComponent(name)}`;
  // `latest` is implicit: the highest active version.
  const latest = versions.find((v) => v.lifecycle === 'active');

  // The diff opens on the selected version against the one before it (versions are sorted newest first).
  const predecessor = versions[Math.min(versions.indexOf(current) + 1, versions.length - 1)];
  const diffA = h('select', { 'aria-label': 'First version', 'data-testid': 'diff-a' }, versions.map((v) => h('option', { value: v.version, selected: String(v.version) === (ctx.params.get('a') ?? String(predecessor.version)) }, `v${v.version}`)));
  const diffB = h('select', { 'aria-label': 'Second version', 'data-testid': 'diff-b' }, versions.map((v) => h('option', { value: v.version, selected: String(v.version) === (ctx.params.get('b') ?? String(current.version)) }, `v${v.version}`)));
  const diffOut = h('div', null);
  const showDiff = () => {
    const a = versions.find((v) => String(v.version) === diffA.value)!;
    const b = versions.find((v) => String(v.version) === diffB.value)!;
    diffOut.replaceChildren(metadataDiff(a, b));
  };
  diffA.addEventListener('change', showDiff);
  diffB.addEventListener('change', showDiff);

  const history = h('div', null, loading());
  const facts = h('div', { 'data-testid': 'dataset-facts' });
  const failed = current.type === 'dataset' ? await failing : new Map<string, number>();
  if (!ctx.alive()) return;
  ctx.root.append(
    h('p', { class: 'crumbs' }, link('/artifacts', 'Artifacts'), ' / ', name, projectChip(current.project)),
    h('h1', null, name, ' ', h('span', { class: `type type-${current.type}` }, current.type)),
    h(
      'table',
      { class: 'grid', 'data-testid': 'versions' },
      h('thead', null, h('tr', null, ['Version', 'Aliases', 'Kind', 'Size', 'Digest', 'Created', 'By', 'Producer', 'Lifecycle'].map((c) => h('th', null, c)))),
      h(
        'tbody',
        null,
        versions.map((v) =>
          h(
            'tr',
            { class: v.id === current.id ? 'selected' : '', 'data-version': v.version },
            h('td', null, link(`${base}?v=${v.version}`, `v${v.version}`), failedBadge(failed, v)),
            h('td', null, v.id === latest?.id ? h('span', { class: 'chip latest' }, 'latest') : null, v.aliases.map((a) => h('span', { class: 'chip alias' }, a))),
            h('td', null, v.kind),
            h('td', { class: 'num' }, bytes(v.size)),
            h('td', null, h('code', { title: v.digest }, v.digest.slice(0, 12))),
            h('td', null, time(v.createdAt)),
            h('td', null, v.createdBy ?? ''),
            h('td', null, v.producerRunId ? runLink(v.producerRunId) : ''),
            h('td', null, v.lifecycle),
          ),
        ),
      ),
    ),
    h(
      'section',
      { 'data-testid': 'version-detail' },
      h('h2', null, `Version ${current.version}`, current.aliases.length ? ' · ' : '', current.aliases.map((a) => h('span', { class: 'chip alias' }, a))),
      current.description ? h('p', null, current.description) : null,
      h(
        'p',
        null,
        // An external version's bytes are not here (the content endpoint answers 404): point at where they are.
        current.kind === 'external'
          ? h('span', { 'data-testid': 'external-location' }, 'Stored outside Lineage at ',
              /^https?:\/\//i.test(current.storageUri)
                ? h('a', { href: current.storageUri, target: '_blank', rel: 'noopener', 'data-testid': 'download' }, current.storageUri)
                : h('code', null, current.storageUri))
          : h('a', { href: api.contentUrl(current.project, name, String(current.version)), download: true, 'data-testid': 'download' }, 'Download'),
        ' · ',
        link(`/lineage?node=${encodeURIComponent(`artifact:${current.id}`)}`, 'Lineage'),
        ' · ',
        link(`/lineage?node=${encodeURIComponent(`artifact:${current.id}`)}&impact=1`, 'Impact'),
      ),
      h('div', { class: 'cols' },
        h('div', null, h('h3', null, 'Metadata'), h('pre', { class: 'json', 'data-testid': 'metadata' }, JSON.stringify(current.metadata, null, 2))),
        h('div', null, h('h3', null, 'Tags'), kvTable(current.tags, 'No tags.', 'artifact-tags'))),
      current.type === 'dataset' ? facts : null,
      h('h3', null, 'Files'),
      artifactBrowser(current),
    ),
    h('section', null, h('h2', null, 'Compare metadata'), h('div', { class: 'toolbar' }, diffA, ' vs ', diffB), diffOut),
    h('section', null, h('h2', null, 'Alias history'), history),
  );
  showDiff();
  if (current.type === 'dataset') void showFacts(facts, current, ctx.alive);

  try {
    const changes = (await api.aliasHistory(current.project, name)).changes;
    if (!ctx.alive()) return;
    history.replaceChildren(
      changes.length === 0
        ? h('p', { class: 'muted' }, 'No alias changes.')
        : h(
            'table',
            { class: 'grid', 'data-testid': 'alias-history' },
            h('thead', null, h('tr', null, ['When', 'Alias', 'Now points to', 'By'].map((c) => h('th', null, c)))),
            h('tbody', null, changes.map((c) => h('tr', null, h('td', null, time(c.changedAt)), h('td', null, c.alias), h('td', null, c.version === undefined || c.version === null ? 'removed' : `v${c.version}`), h('td', null, c.changedBy ?? '')))),
          ),
    );
  } catch (err) {
    history.replaceChildren(errorLine(err));
  }
}

/** The dataset facts of a version (schema, rows, source, per-column profile) and its validations, failures first. */
async function showFacts(el: HTMLElement, v: ArtifactVersion, alive: () => boolean): Promise<void> {
  let d: DatasetVersion;
  try {
    d = await api.dataset(v.project, v.name, String(v.version));
  } catch (err) {
    if (alive()) el.replaceChildren(errorLine(err));
    return;
  }
  if (!alive()) return;
  const f = d.facts;
  if (!f && d.validations.length === 0) return; // nothing recorded: no section
  const failed = d.validations.filter((c) => !c.passed);
  const stat = (n?: number) => (n === undefined || n === null ? '' : fmtValue(n));
  el.replaceChildren();
  add(
    el,
    h('h3', null, 'Dataset facts',
      failed.length ? h('span', { class: 'badge status-failed', 'data-testid': 'validation-failed' }, ` ${failed.length} failed check${failed.length === 1 ? '' : 's'}`) : null),
    f
      ? h('p', { class: 'muted small' },
          f.rowCount !== undefined && f.rowCount !== null ? `${f.rowCount.toLocaleString('en')} rows · ` : '',
          `${f.columns.length} column${f.columns.length === 1 ? '' : 's'}`,
          f.schema ? ` · schema ${f.schema}` : '',
          f.source.uri ? ` · from ${f.source.uri}` : '', f.source.system ? ` (${f.source.system})` : '',
          f.source.ingestedAt ? ` · ingested ${time(f.source.ingestedAt)}` : '')
      : null,
    f && f.columns.length
      ? h('table', { class: 'grid', 'data-testid': 'dataset-columns' },
          h('thead', null, h('tr', null, ['Column', 'Type', 'Nullable', 'Missing %', 'Min', 'Max', 'Mean', 'Distinct'].map((c) => h('th', null, c)))),
          h('tbody', null, f.columns.map((c) => {
            const p = f.profile[c.name] ?? {};
            return h('tr', { 'data-column': c.name }, h('td', null, c.name), h('td', null, h('code', null, c.dtype)), h('td', null, c.nullable === false ? 'no' : 'yes'),
              h('td', { class: 'num' }, stat(p.missingPct)), h('td', { class: 'num' }, stat(p.min)), h('td', { class: 'num' }, stat(p.max)),
              h('td', { class: 'num' }, stat(p.mean)), h('td', { class: 'num' }, stat(p.distinctCount)));
          })))
      : null,
    d.validations.length
      ? h('table', { class: 'grid', 'data-testid': 'validations' },
          h('thead', null, h('tr', null, ['Check', 'Result', 'Details', 'When', 'By'].map((c) => h('th', null, c)))),
          h('tbody', null, [...failed, ...d.validations.filter((c) => c.passed)].map((c) =>
            h('tr', { 'data-check': c.name, class: c.passed ? '' : 'failed' }, h('td', null, c.name),
              h('td', null, h('span', { class: `badge ${c.passed ? 'ok' : 'status-failed'}` }, c.passed ? 'passed' : 'failed')),
              h('td', null, c.details ?? ''), h('td', { class: 'date' }, time(c.runAt)), h('td', null, c.runBy ?? '')))))
      : null,
  );
}
