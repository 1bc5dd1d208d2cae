// Alerts of the current project (docs/events.md, "Alert rules"): the rules with their state (how many subjects are firing,
// muted or not), a form to create one of each kind, mute/unmute and delete; and the firing history, newest first, with
// acknowledge and resolve. The page follows the event stream (alert.fired / alert.resolved) and re-reads what changed.

import { api, ApiError, type Alert, type AlertCondition, type AlertRule } from '../api';
import { action, artifactHref, errorLine, fmtValue, go, grid, h, link, loading, time } from '../dom';
import { coalesce, followEvents } from '../live';
import type { PageContext } from '../page';
import { project } from '../project';
import { runLink } from '../runnames';

/** One condition field of a rule kind's form: what the API calls it, how it is typed, whether the kind needs it. */
interface Field {
  name: keyof AlertCondition | 'baseline';
  label: string;
  type: 'text' | 'number' | 'list' | 'select';
  required?: boolean;
  placeholder?: string;
  options?: string[];
  value?: string;
  wide?: boolean;
}

/** The rule kinds the API accepts and the condition each takes (AlertRules.Check on the server says the same). */
const kinds: Record<string, { label: string; fields: Field[] }> = {
  metric_threshold: {
    label: 'metric threshold on runs',
    fields: [{ name: 'query', label: 'Runs matching', type: 'text', required: true, wide: true, placeholder: "metrics.val_loss > 0.5 AND tags.team = 'growth'" }],
  },
  model_regression: {
    label: 'model version worse than an alias',
    fields: [
      { name: 'model', label: 'Model', type: 'text', required: true },
      { name: 'alias', label: 'Against alias', type: 'text', required: true, value: 'champion' },
      { name: 'metric', label: 'Metric', type: 'text', required: true, placeholder: 'auc' },
      { name: 'direction', label: 'Better is', type: 'select', options: ['higher', 'lower'] },
      { name: 'tolerance', label: 'Tolerance', type: 'number', placeholder: '0' },
    ],
  },
  data_drift: {
    label: 'data drift of a dataset',
    fields: [
      { name: 'dataset', label: 'Dataset', type: 'text', required: true },
      { name: 'model', label: 'Model', type: 'text', required: true },
      { name: 'baseline', label: 'Baseline', type: 'select', options: ['alias', 'environment'] },
      { name: 'alias', label: 'Alias or environment', type: 'text', required: true, value: 'champion' },
      { name: 'method', label: 'Method', type: 'select', options: ['psi', 'ks'] },
      { name: 'threshold', label: 'Threshold', type: 'number', required: true, placeholder: '0.2' },
      { name: 'columns', label: 'Columns', type: 'list', placeholder: 'all profiled (or: age, plan)' },
    ],
  },
  promotion_pending: {
    label: 'promotion pending too long',
    fields: [
      { name: 'hours', label: 'Hours', type: 'number', required: true, placeholder: '24' },
      { name: 'model', label: 'Model', type: 'text', placeholder: 'any' },
    ],
  },
  deployment_failed: {
    label: 'deployment failed',
    fields: [
      { name: 'environment', label: 'Environment', type: 'text', placeholder: 'any' },
      { name: 'model', label: 'Model', type: 'text', placeholder: 'any' },
    ],
  },
  run_stale: {
    label: 'running run without data',
    fields: [{ name: 'minutes', label: 'Minutes', type: 'number', required: true, placeholder: '30' }],
  },
};

const severityBadge = (s: string) => h('span', { class: `badge severity-${s}` }, s);

/** A rule's condition in one line, as its kind reads. */
function describe(r: AlertRule): string {
  const c = r.condition;
  switch (r.kind) {
    case 'metric_threshold':
      return c.query ?? '';
    case 'model_regression':
      return `${c.model}: ${c.metric} ${c.direction === 'lower' ? 'above' : 'below'} the version behind '${c.alias}'${c.tolerance ? ` by more than ${c.tolerance}` : ''}`;
    case 'data_drift':
      return `${c.dataset} against the training data of ${c.model} ${c.alias ? `'${c.alias}'` : `live in ${c.environment}`}: ${c.method} > ${c.threshold}${c.columns ? ` on ${c.columns.join(', ')}` : ''}`;
    case 'promotion_pending':
      return `pending more than ${c.hours} h${c.model ? ` (${c.model})` : ''}`;
    case 'deployment_failed':
      return `failed${c.model ? ` ${c.model}` : ''}${c.environment ? ` in ${c.environment}` : ''}`;
    case 'run_stale':
      return `RUNNING, no data for ${c.minutes} min`;
    default:
      return JSON.stringify(c);
  }
}

/** Where an alert's subject is shown in the UI. */
function subjectLink(a: Alert): HTMLElement | string {
  const [kind, ...rest] = a.subject.split(':');
  const key = rest.join(':');
  const slash = key.lastIndexOf('/');
  const inProject = `project=${encodeURIComponent(a.project)}`;
  switch (kind) {
    case 'run':
      return runLink(key);
    case 'model_version':
      return link(`/models/${encodeURIComponent(key.slice(0, slash))}?${inProject}`, `${key.slice(0, slash)} v${key.slice(slash + 1)}`);
    case 'dataset':
      return link(artifactHref({ project: a.project, name: key.slice(0, slash), version: key.slice(slash + 1) }), `${key.slice(0, slash)} v${key.slice(slash + 1)}`);
    case 'deployment':
      return link(`/deployments?${inProject}`, `deployment #${key}`);
    case 'promotion':
      return link(`/approvals?${inProject}`, `promotion #${key}`);
    default:
      return a.subject;
  }
}

/** The create form: the condition fields change with the kind. Calls `created` after the server accepted the rule. */
function ruleForm(projectName: string, created: () => Promise<void>): HTMLElement {
  const name = h('input', { 'aria-label': 'Rule name', placeholder: 'name, e.g. loss-high', 'data-testid': 'rule-name', required: true });
  const kind = h('select', { 'aria-label': 'Kind', 'data-testid': 'rule-kind' },
    Object.entries(kinds).map(([k, d]) => h('option', { value: k }, `${k} — ${d.label}`)));
  const severity = h('select', { 'aria-label': 'Severity', 'data-testid': 'rule-severity' },
    ['info', 'warning', 'critical'].map((s) => h('option', { value: s, selected: s === 'warning' }, s)));
  const description = h('input', { 'aria-label': 'Description', placeholder: 'description (optional)', 'data-testid': 'rule-description' });
  const fieldsBox = h('div', { class: 'toolbar', 'data-testid': 'rule-condition' });
  let inputs = new Map<string, HTMLInputElement | HTMLSelectElement>();
  const drawFields = () => {
    inputs = new Map();
    fieldsBox.replaceChildren(
      ...kinds[kind.value].fields.map((f) => {
        const input = f.type === 'select'
          ? h('select', { 'data-testid': `cond-${f.name}` }, f.options!.map((o) => h('option', { value: o }, o)))
          : h('input', {
              type: f.type === 'number' ? 'number' : 'text', step: f.type === 'number' ? 'any' : null, placeholder: f.placeholder ?? (f.required ? 'required' : 'optional'),
              value: f.value, class: f.wide ? 'filter' : null, 'data-testid': `cond-${f.name}`,
            });
        inputs.set(f.name, input);
        return h('label', null, `${f.label} `, input);
      }),
    );
  };
  kind.addEventListener('change', drawFields);
  drawFields();

  const condition = (): AlertCondition => {
    const c: Record<string, unknown> = {};
    for (const f of kinds[kind.value].fields) {
      const raw = inputs.get(f.name)!.value.trim();
      if (f.name === 'baseline' || raw === '') continue;
      // A drift rule's baseline is an alias or an environment: the one box goes to the field the select names.
      const key = f.name === 'alias' && inputs.has('baseline') ? inputs.get('baseline')!.value : f.name;
      c[key] = f.type === 'number' ? Number(raw) : f.type === 'list' ? raw.split(/[\s,]+/).filter(Boolean) : raw;
    }
    return c as AlertCondition;
  };

  const submit = h('button', { type: 'submit', 'data-testid': 'rule-create' }, 'Create rule');
  const outcome = h('div', { 'data-testid': 'rule-outcome' });
  const form = h('form', { class: 'rule-form', 'data-testid': 'rule-form' },
    h('div', { class: 'toolbar' }, name, kind, severity, description), fieldsBox, h('div', { class: 'toolbar' }, submit));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    outcome.replaceChildren();
    form.querySelectorAll('.invalid').forEach((el) => el.classList.remove('invalid'));
    submit.disabled = true;
    try {
      const rule = await api.createAlertRule(projectName, {
        name: name.value.trim(), kind: kind.value, severity: severity.value, description: description.value.trim() || undefined, condition: condition(),
      });
      name.value = '';
      description.value = '';
      drawFields();
      outcome.append(h('p', { class: 'muted' }, `Rule ${rule.name} created.`));
      await created();
    } catch (err) {
      // The server names the field it refused (condition.query …): mark that box too.
      const field = err instanceof ApiError ? err.field?.replace(/^condition\./, '') : undefined;
      const box = field === 'name' ? name : field === 'severity' ? severity : field ? inputs.get(field) ?? (field === 'environment' ? inputs.get('alias') : undefined) : undefined;
      box?.classList.add('invalid');
      outcome.append(errorLine(err));
    } finally {
      submit.disabled = false;
    }
  });
  return h('details', { class: 'edit', 'data-testid': 'new-rule' }, h('summary', null, 'New rule'), form, outcome);
}

const muteChoices: [string, number][] = [['1 hour', 60], ['8 hours', 480], ['1 day', 1440], ['1 week', 10080]];

export async function alertsPage(ctx: PageContext): Promise<void> {
  const projectName = project();
  const state = ctx.params.get('state') ?? '';
  const pageToken = ctx.params.get('pageToken');
  const rulesBox = h('div', null, loading());
  const historyBox = h('div', null, loading());
  const live = h('span', { class: 'muted small', 'data-testid': 'alerts-live' }, 'connecting to the event stream…');
  const stateFilter = h('select', { 'aria-label': 'State', 'data-testid': 'alert-state' },
    [['', 'all'], ['firing', 'firing'], ['resolved', 'resolved']].map(([v, label]) => h('option', { value: v, selected: v === state }, label)));
  stateFilter.addEventListener('change', () => go(`/alerts${stateFilter.value ? `?state=${stateFilter.value}` : ''}`, true));

  const drawRules = (rules: AlertRule[], firing: Alert[]) => {
    const now = Date.now();
    rulesBox.replaceChildren(
      grid(
        ['Name', 'Kind', 'Condition', 'Severity', 'State', 'Muted', ''],
        rules.map((r) => {
          const outcome = h('div');
          const open = firing.filter((a) => a.ruleId === r.id).length;
          const muted = r.mutedUntil !== undefined && r.mutedUntil !== null && r.mutedUntil > now;
          const muteFor = h('select', { 'aria-label': `Mute ${r.name} for`, 'data-testid': 'mute-for' }, muteChoices.map(([label, m]) => h('option', { value: m }, label)));
          const buttons = muted
            ? [action('Unmute', 'unmute', outcome, async () => { await api.unmuteAlertRule(r.id); await refresh(); })]
            : [muteFor, action('Mute', 'mute', outcome, async () => { await api.muteAlertRule(r.id, Number(muteFor.value)); await refresh(); })];
          const remove = action('Delete', 'delete-rule', outcome, async () => {
            if (!confirm(`Delete the rule ${r.name}? Its alerts go with it.`)) return;
            await api.deleteAlertRule(r.id);
            await refresh();
          });
          return [
            h('span', { 'data-rule': r.id, title: r.description ?? '' }, h('strong', null, r.name)),
            h('code', null, r.kind),
            h('span', { class: 'condition' }, describe(r)),
            severityBadge(r.severity),
            open ? h('span', { class: 'badge alert-firing', 'data-testid': 'rule-state' }, `${open} firing`) : h('span', { class: 'badge ok', 'data-testid': 'rule-state' }, 'ok'),
            muted ? h('span', { 'data-testid': 'rule-muted' }, `until ${time(r.mutedUntil)}`) : h('span', { class: 'muted', 'data-testid': 'rule-muted' }, 'no'),
            h('div', { class: 'row-actions' }, ...buttons, remove, outcome),
          ];
        }),
        'alert-rules',
        'No alert rules in this project yet.',
      ),
    );
  };

  const drawHistory = (alerts: Alert[], next?: string) => {
    const rows = alerts.map((a) => {
      const outcome = h('div');
      const firing = a.state === 'firing';
      const buttons = firing
        ? [
            a.acknowledgedAt ? null : action('Acknowledge', 'acknowledge', outcome, async () => { await api.acknowledgeAlert(a.id); await refresh(); }),
            action('Resolve', 'resolve', outcome, async () => { await api.resolveAlert(a.id); await refresh(); }),
          ]
        : [];
      return [
        time(a.firedAt),
        h('strong', null, a.rule),
        severityBadge(a.severity),
        subjectLink(a),
        h('span', { class: 'num' }, a.value === undefined || a.value === null ? '' : fmtValue(a.value)),
        a.message ?? '',
        h('span', { class: `badge alert-${a.state}`, 'data-testid': 'alert-state-badge' }, a.state),
        a.acknowledgedAt ? `${time(a.acknowledgedAt)}${a.acknowledgedBy ? ` by ${a.acknowledgedBy}` : ''}` : '',
        a.resolvedAt ? `${time(a.resolvedAt)} ${a.resolvedBy ? `by ${a.resolvedBy}` : '(cleared)'}` : '',
        h('div', { class: 'row-actions' }, ...buttons, outcome),
      ];
    });
    const table = grid(['Fired', 'Rule', 'Severity', 'Subject', 'Value', 'Message', 'State', 'Acknowledged', 'Resolved', ''], rows, 'alerts',
      state ? `No ${state} alerts.` : 'No alert has fired in this project.');
    // Rows carry their alert's id and state, for people reading the DOM and for tests.
    table.querySelectorAll('tbody tr').forEach((tr, i) => {
      tr.setAttribute('data-alert', String(alerts[i].id));
      tr.setAttribute('data-state', alerts[i].state);
    });
    const pager = h('p', { class: 'pager' });
    if (pageToken) pager.append(link(`/alerts${state ? `?state=${state}` : ''}`, '← Newest'));
    if (next) pager.append(link(`/alerts?${new URLSearchParams({ ...(state ? { state } : {}), pageToken: next })}`, 'Older →'));
    historyBox.replaceChildren(table, pager);
  };

  const refresh = async () => {
    const [rules, firing, history] = await Promise.all([
      api.alertRules(projectName),
      api.alerts({ project: projectName, state: 'firing', limit: 1000 }),
      api.alerts({ project: projectName, state: state || undefined, limit: 100, pageToken }),
    ]);
    if (!ctx.alive()) return;
    drawRules(rules.rules, firing.alerts);
    drawHistory(history.alerts, history.nextPageToken);
  };

  ctx.root.append(
    h('h1', null, 'Alerts'),
    h('p', { class: 'muted' }, 'Rules the server evaluates as their data changes; each firing is an alert (and an alert.fired event for webhooks and the bell). ',
      'Project admins create and delete rules; writers acknowledge, resolve and mute.'),
    h('h2', null, 'Rules'),
    ruleForm(projectName, () => refresh()),
    rulesBox,
    h('h2', null, 'History ', stateFilter, ' ', live),
    historyBox,
  );
  await refresh();
  if (!ctx.alive()) return;

  // Firings and resolutions arrive over the stream: a burst costs one re-read. An older page (pageToken) stays as it is.
  const reread = coalesce(async () => {
    try {
      await refresh();
    } catch (err) {
      if (ctx.alive()) historyBox.prepend(errorLine(err));
    }
  });
  ctx.onLeave(followEvents({ types: ['alert.fired', 'alert.resolved'], project: projectName }, {
    // What fired between the first read and the stream's opening is not in the stream: read once more.
    open: () => {
      live.textContent = 'live';
      live.dataset.live = 'on';
      if (!pageToken) reread();
    },
    event: () => {
      if (!pageToken) reread();
    },
    refused: (err) => live.replaceChildren(`not live: ${err.message}`),
  }));
}
