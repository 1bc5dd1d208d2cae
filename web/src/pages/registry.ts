// The model registry: registered models; one model's versions, aliases, stages, tags, approvers, pending
// requests, live deployments, metrics across versions and its full alias/stage history; and the approvals
// queue, where an approver approves or rejects a promotion request (the server applies it in the same step).

import { api, type Model, type ModelMetrics, type ModelVersion, type Promotion } from '../api';
import { credential } from '../auth';
import { add, artifactHref, chips, clear, errorLine, fmtValue, go, grid, h, kvTable, link, loading, projectChip, statusBadge, time } from '../dom';
import type { PageContext } from '../page';
import { project } from '../project';
import { modelMetricsChart } from './dashboards';
import { runLink } from '../runnames';

const modelHref = (projectName: string, name: string) => `/models/${encodeURIComponent(name)}?project=${encodeURIComponent(projectName)}`;

export async function modelsPage(ctx: PageContext): Promise<void> {
  const name = ctx.params.get('name') ?? '';
  const nameBox = h('input', { type: 'search', placeholder: 'Name contains', value: name, 'aria-label': 'Model name' });
  nameBox.addEventListener('keydown', (e) => e.key === 'Enter' && go(nameBox.value ? `/models?name=${encodeURIComponent(nameBox.value)}` : '/models', true));
  const body = h('div', null, loading());
  ctx.root.append(h('h1', null, 'Models'), h('div', { class: 'toolbar' }, nameBox), body);
  const page = await api.models({ project: project(), nameContains: name, limit: 200, pageToken: ctx.params.get('page') });
  if (!ctx.alive()) return;
  // Where each model's versions stand (the first 50 models: one read each, in parallel).
  const stages = new Map(await Promise.all(page.models.slice(0, 50).map(async (m) => [m.name,
    await api.modelVersions(m.project, m.name, { limit: 1000 }).then((v) => v.versions.filter((x) => x.stage !== 'None' && x.stage !== 'Archived'), () => [])] as const)));
  if (!ctx.alive()) return;
  clear(body);
  body.append(
    grid(
      ['Model', 'Description', 'Latest version', 'Versions', 'Stages', 'Aliases', 'Tags', 'Approvers', 'Updated'],
      page.models.map((m) => [
        link(modelHref(m.project, m.name), m.name),
        m.description ? h('span', { class: 'cut', title: m.description }, m.description) : '',
        m.latestVersion ? `v${m.latestVersion}` : '',
        // Versions are numbered from 1 and never renumbered: the latest's number is how many there are.
        h('span', { 'data-testid': 'model-version-count' }, String(m.latestVersion ?? 0)),
        chips((stages.get(m.name) ?? []).map((v) => `${v.stage} v${v.version}`)),
        chips(Object.entries(m.aliases).map(([a, v]) => `${a} → v${v}`), 'alias'),
        chips(Object.entries(m.tags).map(([k, v]) => `${k}=${v}`)),
        m.approvers.length ? m.approvers.join(', ') : h('span', { class: 'muted' }, 'open'),
        time(m.updatedAt),
      ]),
      'models',
      'No registered models.',
    ),
  );
  if (page.nextPageToken) {
    const q = new URLSearchParams(ctx.params);
    q.set('page', page.nextPageToken);
    body.append(h('p', null, link(`/models?${q}`, 'Next page →')));
  }
}

export async function modelPage(ctx: PageContext, name: string): Promise<void> {
  // Independent reads in parallel, in the address's project (names are per project); a missing model fails the
  // first one with the server's not-found message.
  const projectName = project();
  const [model, versions, history, pending, live, metrics] = await Promise.all([
    api.model(projectName, name),
    api.modelVersions(projectName, name, { limit: 1000 }),
    api.modelHistory(projectName, name),
    api.promotions({ project: projectName, model: name, status: 'PENDING', limit: 100 }),
    api.deployments({ project: projectName, model: name, live: 'true', limit: 100 }),
    api.modelMetrics(projectName, name).catch(() => undefined),
  ]);
  if (!ctx.alive()) return;
  const charts = h('div', { 'data-testid': 'model-metrics' }, loading());
  // Per-version metric columns: the latest value of each metric of the version's producing run (the first six keys).
  const metricsOf = new Map((metrics?.versions ?? []).map((v) => [v.version, v.metrics]));
  const metricKeys = [...new Set((metrics?.versions ?? []).flatMap((v) => Object.keys(v.metrics)))].sort().slice(0, 6);
  add(
    ctx.root,
    h('p', { class: 'crumbs' }, link('/models', 'Models'), ' / ', model.name, projectChip(model.project)),
    h('h1', { 'data-testid': 'model-name' }, model.name),
    model.description ? h('p', null, model.description) : null,
    h(
      'div',
      { class: 'cols' },
      h('section', null, h('h2', null, 'Tags'), kvTable(model.tags, 'No tags.', 'model-tags')),
      h(
        'section',
        null,
        h('h2', null, 'Aliases'),
        kvTable(Object.fromEntries(Object.entries(model.aliases).map(([a, v]) => [a, `v${v}`])), 'No aliases.', 'model-aliases'),
      ),
      h(
        'section',
        null,
        h('h2', null, 'Approvers'),
        h('p', { 'data-testid': 'approvers' }, model.approvers.length ? model.approvers.join(', ') : 'None: anyone with the approver role may move aliases and stages.'),
      ),
    ),
    h('h2', null, 'Versions'),
    grid(
      ['Version', 'Status', 'Stage', 'Aliases', ...metricKeys, 'Tags', 'Artifact', 'Run', 'Registered'],
      versions.versions.map((v) => [
        `v${v.version}`,
        statusBadge(v.status),
        h('span', { class: `badge stage-${v.stage.toLowerCase()}` }, v.stage),
        chips(v.aliases, 'alias'),
        ...metricKeys.map((k) => h('span', { class: 'num', 'data-metric': k }, fmtValue(metricsOf.get(v.version)?.[k] ?? undefined))),
        chips(Object.entries(v.tags).map(([k, x]) => `${k}=${x}`)),
        link(artifactHref(v.artifact), `${v.artifact.name} v${v.artifact.version}`),
        v.runId ? runLink(v.runId) : '',
        [time(v.createdAt), v.createdBy ? ` by ${v.createdBy}` : ''],
      ]),
      'versions',
      'No versions registered.',
    ),
    versions.nextPageToken ? h('p', { class: 'muted' }, 'Showing the first 1,000 versions.') : null,
    promoteForm(model, versions.versions),
    h('h2', null, 'Pending requests'),
    grid(
      ['Request', 'Version', 'Wants', 'By', 'Comment'],
      pending.requests.map((p) => [link('/approvals', `#${p.id}`), `v${p.version}`, wants(p), p.requestedBy ?? '', p.comment ?? '']),
      'model-pending',
      'No pending requests.',
    ),
    h('h2', null, 'Deployed now'),
    grid(
      ['Environment', 'Version', 'Status', 'Endpoint', 'Since'],
      live.deployments.map((d) => [
        link(`/deployments?environment=${encodeURIComponent(d.environment)}`, d.environment),
        `v${d.version}`,
        h('span', { class: `badge deploy-${d.status}` }, d.status),
        d.endpointUrl ?? '',
        time(d.createdAt),
      ]),
      'model-deployments',
      'Not deployed anywhere.',
    ),
    h('h2', null, 'Metrics across versions'),
    charts,
    h('h2', null, 'History'),
    history.changes.length === 0
      ? h('p', { class: 'muted', 'data-testid': 'history' }, 'No alias or stage changes yet.')
      : h(
          'ol',
          { class: 'timeline', 'data-testid': 'history' },
          [...history.changes].reverse().map((c) =>
            h(
              'li',
              { 'data-kind': c.kind },
              h('time', null, time(c.changedAt)),
              ' ',
              // An alias moves between versions ("alias champion: v1 → v2"); a stage changes on one version.
              h('strong', null, c.kind === 'alias' ? `alias ${c.name ?? ''}` : 'stage'),
              c.kind !== 'alias' && c.version !== undefined ? ` of v${c.version}` : '',
              ': ',
              c.oldValue === undefined ? '—' : c.kind === 'alias' ? `v${c.oldValue}` : c.oldValue,
              ' → ',
              c.newValue === undefined ? 'removed' : c.kind === 'alias' ? `v${c.newValue}` : c.newValue,
              c.changedBy ? h('span', { class: 'muted' }, ` by ${c.changedBy}`) : null,
              c.requestId ? h('span', { class: 'muted' }, ` (request #${c.requestId})`) : null,
            ),
          ),
        ),
  );
  try {
    const chart = await modelMetricsChart(projectName, name, Math.min(900, ctx.root.clientWidth - 40));
    if (!ctx.alive()) return;
    charts.replaceChildren(chart);
  } catch (err) {
    if (ctx.alive()) charts.replaceChildren(errorLine(err));
  }
}

const wants = (p: Promotion) => (p.kind === 'alias' ? `alias ${p.target}` : `stage ${p.target}${p.archiveExisting ? ' (archive others)' : ''}`);

const actingKey = 'lineage.actingAs';

/**
 * Point an alias at a version or move it to a stage. A model with approvers gets a promotion request (an approver
 * decides on the Approvals page); an open model is changed at once (the server still asks for the approver role).
 */
function promoteForm(model: Model, versions: ModelVersion[]): HTMLElement {
  const guarded = model.approvers.length > 0;
  const version = h('select', { 'aria-label': 'Version', 'data-testid': 'promote-version' }, versions.map((v) => h('option', { value: v.version }, `v${v.version}`)));
  const kind = h('select', { 'aria-label': 'Alias or stage', 'data-testid': 'promote-kind' }, h('option', { value: 'alias' }, 'alias'), h('option', { value: 'stage' }, 'stage'));
  const alias = h('input', { value: 'champion', 'aria-label': 'Alias', 'data-testid': 'promote-alias' });
  const stage = h('select', { 'aria-label': 'Stage', 'data-testid': 'promote-stage', hidden: true }, ['Staging', 'Production', 'Archived'].map((x) => h('option', { value: x }, x)));
  const comment = h('input', { placeholder: 'why (optional)', 'aria-label': 'Comment', 'data-testid': 'promote-comment', hidden: !guarded });
  kind.addEventListener('change', () => {
    alias.hidden = kind.value !== 'alias';
    stage.hidden = kind.value !== 'stage';
  });
  const submit = h('button', { type: 'submit', 'data-testid': 'promote' }, guarded ? 'Request promotion' : 'Apply');
  const outcome = h('div', { 'data-testid': 'promote-outcome' });
  const form = h('form', { class: 'toolbar', 'data-testid': 'promote-form' }, version, kind, alias, stage, comment, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    outcome.replaceChildren();
    submit.disabled = true;
    const v = Number(version.value);
    const acting = credential() ? undefined : sessionStorage.getItem(actingKey) || undefined;
    try {
      if (guarded) {
        const r = await api.requestPromotion(model.project, model.name,
          { version: v, ...(kind.value === 'alias' ? { alias: alias.value.trim() } : { stage: stage.value }), comment: comment.value.trim() || undefined }, acting);
        outcome.append(`Request #${r.id} filed: `, link('/approvals', 'an approver decides on the Approvals page'), '.');
      } else {
        if (kind.value === 'alias') await api.setModelAlias(model.project, model.name, alias.value.trim(), v, acting);
        else await api.transitionStage(model.project, model.name, v, stage.value, acting);
        go(`/models/${encodeURIComponent(model.name)}?project=${encodeURIComponent(model.project)}`, true);
      }
    } catch (err) {
      outcome.append(errorLine(err));
    } finally {
      submit.disabled = false;
    }
  });
  return h('section', null, h('h2', null, guarded ? 'Request a promotion' : 'Move an alias or a stage'),
    h('p', { class: 'muted small' }, guarded
      ? `This model has approvers (${model.approvers.join(', ')}): the change waits for one of them.`
      : 'This model has no approvers: the change applies at once (it needs the approver role).'),
    form, outcome);
}

/** The candidate's metrics against the version that holds the alias or stage now, per metric they share. */
function againstCurrent(p: Promotion, model: Model | undefined, metrics: ModelMetrics | undefined, versions: ModelVersion[]): HTMLElement {
  const current = p.kind === 'alias'
    ? model?.aliases[p.target]
    : versions.filter((v) => v.stage === p.target && v.version !== p.version).map((v) => v.version).sort((a, b) => b - a)[0];
  const of = (n: number | undefined) => metrics?.versions.find((v) => v.version === n)?.metrics ?? {};
  const mine = of(p.version);
  const theirs = of(current);
  const keys = Object.keys(mine).filter((k) => k in theirs).sort();
  if (current === undefined || current === p.version) return h('span', { class: 'muted', 'data-testid': 'against-current' }, `nothing holds ${p.target} now`);
  if (keys.length === 0) return h('span', { class: 'muted', 'data-testid': 'against-current' }, `v${current} holds it now; no shared metrics`);
  return h('div', { 'data-testid': 'against-current' }, h('div', { class: 'muted small' }, `against v${current} (${p.target} now)`),
    keys.map((k) => h('div', { 'data-metric': k }, `${k} `, h('strong', null, fmtValue(mine[k])), ' vs ', fmtValue(theirs[k]))));
}

export async function approvalsPage(ctx: PageContext): Promise<void> {
  const projectName = project();
  const [pending, decided] = await Promise.all([
    api.promotions({ project: projectName, status: 'PENDING', limit: 200 }),
    api.promotions({ project: projectName, status: 'APPROVED', limit: 20 }).then(async (a) => [...a.requests, ...(await api.promotions({ project: projectName, status: 'REJECTED', limit: 20 })).requests]),
  ]);
  if (!ctx.alive()) return;
  // Each pending request's candidate against what holds its alias or stage now: the models' aliases, versions and metrics.
  const names = [...new Set(pending.requests.map((p) => p.model))];
  const context = new Map(await Promise.all(names.map(async (n) => [n, await Promise.all([
    api.model(projectName, n).catch(() => undefined),
    api.modelMetrics(projectName, n).catch(() => undefined),
    api.modelVersions(projectName, n, { limit: 1000 }).then((v) => v.versions).catch(() => [] as ModelVersion[]),
  ])] as const)));
  if (!ctx.alive()) return;
  // Signed in, the server knows who decides. With authentication off it takes the name the person gives (unverified).
  const signedIn = credential() !== null;
  const actingAs = h('input', {
    value: sessionStorage.getItem(actingKey) ?? '',
    placeholder: 'your name',
    'aria-label': 'Deciding as',
    'data-testid': 'acting-as',
  });
  actingAs.addEventListener('change', () => sessionStorage.setItem(actingKey, actingAs.value.trim()));

  const row = (p: Promotion) => {
    const comment = h('input', { placeholder: 'comment (optional)', 'aria-label': `Comment on request ${p.id}` });
    const outcome = h('div', { class: 'outcome' });
    const decide = async (approve: boolean, buttons: HTMLButtonElement[]) => {
      buttons.forEach((b) => (b.disabled = true));
      outcome.replaceChildren();
      try {
        const result = await api.decide(p.id, approve, comment.value.trim(), signedIn ? undefined : actingAs.value.trim() || undefined);
        if (!ctx.alive()) return;
        outcome.append(h('span', { class: `badge promo-${result.status.toLowerCase()}`, 'data-testid': 'decision' }, result.status),
          result.decidedBy ? ` by ${result.decidedBy}` : '');
        comment.disabled = true;
      } catch (err) {
        buttons.forEach((b) => (b.disabled = false));
        outcome.append(errorLine(err));
      }
    };
    const approve = h('button', { class: 'approve', 'data-testid': 'approve' }, 'Approve');
    const reject = h('button', { class: 'reject', 'data-testid': 'reject' }, 'Reject');
    approve.addEventListener('click', () => void decide(true, [approve, reject]));
    reject.addEventListener('click', () => void decide(false, [approve, reject]));
    return h(
      'tr',
      { 'data-request': p.id },
      h('td', null, `#${p.id}`),
      h('td', null, link(modelHref(p.project, p.model), p.model), ` v${p.version}`),
      h('td', null, wants(p)),
      h('td', null, p.requestedBy ?? '', h('div', { class: 'muted small' }, time(p.requestedAt))),
      h('td', null, p.comment ?? ''),
      h('td', null, againstCurrent(p, context.get(p.model)?.[0], context.get(p.model)?.[1], context.get(p.model)?.[2] ?? [])),
      h('td', { class: 'decide' }, comment, approve, reject, outcome),
    );
  };

  add(
    ctx.root,
    h('h1', null, 'Approvals'),
    signedIn
      ? null
      : h('p', { class: 'toolbar' }, h('label', null, 'Deciding as ', actingAs),
          h('span', { class: 'muted small' }, 'Authentication is off: the server records this name without checking it.')),
    h('h2', null, 'Pending'),
    pending.requests.length === 0
      ? h('p', { class: 'muted', 'data-testid': 'pending' }, 'No pending requests.')
      : h(
          'table',
          { class: 'grid', 'data-testid': 'pending' },
          h('thead', null, h('tr', null, ['Request', 'Model', 'Wants', 'Requested by', 'Comment', 'Against current', 'Decision'].map((c) => h('th', null, c)))),
          h('tbody', null, pending.requests.map(row)),
        ),
    h('h2', null, 'Recently decided'),
    grid(
      ['Request', 'Model', 'Wants', 'Decision', 'Decided by', 'When', 'Comment'],
      decided
        .sort((a, b) => (b.decidedAt ?? 0) - (a.decidedAt ?? 0))
        .map((p) => [
          `#${p.id}`,
          [link(modelHref(p.project, p.model), p.model), ` v${p.version}`],
          wants(p),
          h('span', { class: `badge promo-${p.status.toLowerCase()}` }, p.status),
          p.decidedBy ?? '',
          time(p.decidedAt),
          p.decisionComment ?? '',
        ]),
      'decided',
      'None yet.',
    ),
  );
}
