// Experiments list of the current project: name filter, lifecycle, paging.

import { api } from '../api';
import { clear, errorLine, go, h, link, loading, time } from '../dom';
import type { PageContext } from '../page';
import { project } from '../project';

export async function experimentsPage(ctx: PageContext): Promise<void> {
  const nameContains = ctx.params.get('q') ?? '';
  const lifecycle = ctx.params.get('lifecycle') ?? 'active';
  const pageToken = ctx.params.get('page') ?? undefined;

  const search = h('input', { type: 'search', placeholder: 'Name contains…', value: nameContains, 'aria-label': 'Filter experiments by name' });
  const life = h(
    'select',
    { 'aria-label': 'Lifecycle' },
    ['active', 'deleted', 'all'].map((l) => h('option', { value: l, selected: l === lifecycle }, l)),
  );
  const apply = () => {
    const q = new URLSearchParams();
    if (search.value) q.set('q', search.value);
    if (life.value !== 'active') q.set('lifecycle', life.value);
    go(`/${q.toString() ? `?${q}` : ''}`, true);
  };
  search.addEventListener('keydown', (e) => e.key === 'Enter' && apply());
  life.addEventListener('change', apply);

  const body = h('div', null, loading());
  ctx.root.append(
    h('h1', null, 'Experiments'),
    h('div', { class: 'toolbar' }, search, life, h('button', { onclick: apply }, 'Filter')),
    body,
  );

  try {
    const page = await api.experiments({ project: project(), nameContains, lifecycle, limit: 200, pageToken });
    if (!ctx.alive()) return;
    clear(body);
    if (page.experiments.length === 0) {
      body.append(h('p', { class: 'muted' }, 'No experiments.'));
      return;
    }
    body.append(
      h(
        'table',
        { class: 'grid', 'data-testid': 'experiments' },
        h('thead', null, h('tr', null, ['ID', 'Name', 'Description', 'Tags', 'Created', 'Lifecycle'].map((c) => h('th', null, c)))),
        h(
          'tbody',
          null,
          page.experiments.map((e) =>
            h(
              'tr',
              null,
              h('td', { class: 'num' }, e.id),
              h('td', null, link(`/experiments/${encodeURIComponent(e.id)}`, e.name)),
              h('td', null, e.description ?? ''),
              h('td', null, Object.entries(e.tags).map(([k, v]) => h('span', { class: 'chip' }, `${k}=${v}`))),
              h('td', null, time(e.createdAt)),
              h('td', null, e.lifecycle),
            ),
          ),
        ),
      ),
    );
    if (page.nextPageToken) {
      const q = new URLSearchParams(ctx.params);
      q.set('page', page.nextPageToken);
      body.append(h('p', null, link(`/?${q}`, 'Next page →')));
    }
  } catch (err) {
    if (!ctx.alive()) return;
    clear(body);
    body.append(errorLine(err));
  }
}
