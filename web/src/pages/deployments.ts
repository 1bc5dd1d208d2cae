// Deployments of the current project: what is deployed where right now, and one environment's timeline (every deployment, newest
// first, with its status events), rollbacks marked with the deployment they replaced.

import { api, type Deployment } from '../api';
import { clear, go, grid, h, link, loading, time } from '../dom';
import type { PageContext } from '../page';
import { project } from '../project';

const badge = (status: string) => h('span', { class: `badge deploy-${status}` }, status);
const modelLink = (d: Deployment) => link(`/models/${encodeURIComponent(d.model)}?project=${encodeURIComponent(d.project)}`, `${d.model} v${d.version}`);

export async function deploymentsPage(ctx: PageContext): Promise<void> {
  const projectName = project();
  const [live, stats] = await Promise.all([api.deployments({ project: projectName, live: 'true', limit: 1000 }), api.environmentStats(projectName)]);
  if (!ctx.alive()) return;
  const environments = [...new Set([...stats.environments.map((s) => s.environment), ...live.deployments.map((d) => d.environment)])].sort();
  const chosen = ctx.params.get('environment') ?? environments[0] ?? '';
  const picker = h(
    'select',
    { 'aria-label': 'Environment', 'data-testid': 'environment' },
    environments.map((e) => h('option', { value: e, selected: e === chosen }, e)),
  );
  picker.addEventListener('change', () => go(`/deployments?environment=${encodeURIComponent(picker.value)}`, true));
  const timeline = h('div', null, chosen ? loading() : h('p', { class: 'muted' }, 'No deployments yet.'));

  ctx.root.append(
    h('h1', null, 'Deployments'),
    h('h2', null, 'Deployed now'),
    grid(
      ['Environment', 'Model', 'Status', 'Endpoint', 'Deployed', 'By'],
      live.deployments
        .sort((a, b) => a.environment.localeCompare(b.environment) || a.model.localeCompare(b.model))
        .map((d) => [
          link(`/deployments?environment=${encodeURIComponent(d.environment)}`, d.environment),
          modelLink(d),
          badge(d.status),
          d.endpointUrl ?? '',
          time(d.createdAt),
          d.createdBy ?? '',
        ]),
      'live',
      'Nothing is deployed.',
    ),
    h('h2', null, 'Timeline of ', environments.length ? picker : 'an environment'),
    timeline,
  );
  if (!chosen) return;

  const page = await api.environmentHistory(projectName, chosen, { limit: 200, pageToken: ctx.params.get('page') });
  if (!ctx.alive()) return;
  clear(timeline);
  const byId = new Map(page.deployments.map((d) => [d.id, d]));
  timeline.append(
    page.deployments.length === 0
      ? h('p', { class: 'muted' }, `Nothing was ever deployed to ${chosen}.`)
      : h(
          'ol',
          { class: 'timeline', 'data-testid': 'timeline' },
          page.deployments.map((d) =>
            h(
              'li',
              { 'data-deployment': d.id, class: d.rollbackOf ? 'rollback' : '' },
              h('div', null, h('time', null, time(d.createdAt)), ' ', h('strong', null, `#${d.id} `), modelLink(d), ' ', badge(d.status),
                d.rollbackOf
                  ? h('span', { class: 'chip rollback', 'data-testid': 'rollback' },
                      `rollback of #${d.rollbackOf}${byId.has(d.rollbackOf) ? ` (v${byId.get(d.rollbackOf)!.version})` : ''}`)
                  : null,
                d.createdBy ? h('span', { class: 'muted' }, ` by ${d.createdBy}`) : null),
              h(
                'ul',
                { class: 'events' },
                d.events.map((e) =>
                  h('li', null, h('time', null, time(e.at)), ' ', badge(e.status), e.reason ? ` — ${e.reason}` : '', e.actor ? h('span', { class: 'muted' }, ` by ${e.actor}`) : null),
                ),
              ),
            ),
          ),
        ),
  );
  if (page.nextPageToken) {
    const q = new URLSearchParams({ environment: chosen, page: page.nextPageToken });
    timeline.append(h('p', null, link(`/deployments?${q}`, 'Older deployments →')));
  }
}
