// Webhooks of the current project (its admins; docs/events.md, "Webhooks"): the list, create and edit (URL, event types,
// active), rotate the signing secret (shown once), delete, send a test event; and one webhook's delivery log (status,
// attempts, latency, response code, next attempt) with redelivery. The log re-reads itself while deliveries are pending.

import { api, type Webhook, type WebhookChange, type WebhookDelivery } from '../api';
import { action, errorLine, go, grid, h, link, loading, time } from '../dom';
import type { PageContext } from '../page';
import { coalesce, followEvents } from '../live';
import { inProject, project } from '../project';

/** A Standard Webhooks secret made in the browser (whsec_ + base64 of 32 random bytes), as the server makes them. */
function newSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `whsec_${btoa(String.fromCharCode(...bytes))}`;
}

/** The secret in full, once, with a way to copy it. */
function secretOnce(what: string, secret: string): HTMLElement {
  const copy = h('button', { type: 'button' }, 'Copy');
  copy.addEventListener('click', () => void navigator.clipboard?.writeText(secret).then(() => (copy.textContent = 'Copied')));
  return h('div', { class: 'secret-once', role: 'status', 'data-testid': 'webhook-secret' },
    h('p', null, h('strong', null, what), ' Copy it now: it is not shown again. Receivers verify signatures with it.'),
    h('code', { 'data-testid': 'secret-value' }, secret), ' ', copy);
}

const types = (text: string) => text.split(/[\s,]+/).filter(Boolean);

/** Create (no `hook`) or edit form; `saved` gets the server's answer. */
function webhookForm(projectName: string, hook: Webhook | null, saved: (w: Webhook) => Promise<void>, cancel?: () => void): HTMLFormElement {
  const name = h('input', { 'aria-label': 'Webhook name', placeholder: 'name, e.g. ci', value: hook?.name, required: true, 'data-testid': 'webhook-name' });
  const url = h('input', { type: 'url', class: 'wide', 'aria-label': 'URL', placeholder: 'https://ci.example.com/lineage', value: hook?.url, required: true, 'data-testid': 'webhook-url' });
  const events = h('input', { class: 'wide', 'aria-label': 'Event types', placeholder: '* (every type), or e.g. run.failed, model_version.*', value: hook?.eventTypes.join(', '), 'data-testid': 'webhook-events' });
  const format = h('select', { 'aria-label': 'Format', 'data-testid': 'webhook-format', disabled: hook !== null },
    ['lineage', 'mlflow'].map((f) => h('option', { value: f, selected: f === (hook?.format ?? 'lineage') }, f === 'lineage' ? 'Lineage (Standard Webhooks)' : 'MLflow 3')));
  const description = h('input', { 'aria-label': 'Description', placeholder: 'description (optional)', value: hook?.description, 'data-testid': 'webhook-description' });
  const active = h('input', { type: 'checkbox', checked: hook?.active ?? true, 'data-testid': 'webhook-active' });
  const submit = h('button', { type: 'submit', 'data-testid': 'webhook-save' }, hook ? 'Save changes' : 'Create webhook');
  const outcome = h('div', { 'data-testid': 'webhook-outcome' });
  const form = h('form', { class: 'webhook-form', 'data-testid': hook ? 'webhook-edit' : 'webhook-form' },
    h('div', { class: 'toolbar' }, name, url),
    h('div', { class: 'toolbar' }, events, format, h('label', null, active, ' active'), description),
    h('div', { class: 'toolbar' }, submit, cancel ? h('button', { type: 'button', onclick: cancel }, 'Cancel') : null),
    outcome);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    outcome.replaceChildren();
    submit.disabled = true;
    const change: WebhookChange = {
      name: name.value.trim(),
      url: url.value.trim(),
      eventTypes: types(events.value),
      description: description.value.trim() || undefined,
      active: active.checked,
    };
    try {
      const w = hook
        ? await api.updateWebhook(hook.id, { ...change, eventTypes: change.eventTypes!.length ? change.eventTypes : ['*'] })
        : await api.createWebhook(projectName, { ...change, name: change.name!, url: change.url!, format: format.value,
            eventTypes: change.eventTypes!.length ? change.eventTypes : undefined });
      await saved(w);
    } catch (err) {
      outcome.append(errorLine(err));
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

const statusBadge = (d: WebhookDelivery) => h('span', { class: `badge delivery-${d.status}`, 'data-testid': 'delivery-status' }, d.status);

export async function webhooksPage(ctx: PageContext): Promise<void> {
  const projectName = project();
  // The webhook whose log is shown; "send test event" switches to its webhook without leaving the page.
  let chosen = ctx.params.get('webhook') ? Number(ctx.params.get('webhook')) : null;
  let status = ctx.params.get('status') ?? '';
  let pageToken = ctx.params.get('pageToken');
  /**
   * A delivery on its way (a test event, or an event of the webhook's types seen on the stream): the delivery row is made
   * shortly after the event, so the log is read every 500 ms until `shown` holds or 15 s pass.
   */
  let awaiting: { until: number; shown: (ds: WebhookDelivery[]) => boolean } | null = null;
  const await_ = (shown: (ds: WebhookDelivery[]) => boolean) => (awaiting = { until: Date.now() + 15_000, shown });
  /** The event stream followed for the shown webhook's log. */
  let following: { id: number; stop: () => void } | null = null;
  ctx.onLeave(() => following?.stop());
  // A secret stays shown until the next secret or the page is left; other news goes to its own line.
  const notice = h('div', { 'data-testid': 'webhook-notice' });
  const news = h('p', { class: 'muted', role: 'status', 'data-testid': 'webhook-news' });
  const listBox = h('div', null, loading());
  const editBox = h('div');
  const logBox = h('section', { 'data-testid': 'delivery-log' });

  // Non-admins get 403: the page says so in the server's words instead of an empty list.
  let hooks = (await api.webhooks(projectName)).webhooks;
  if (!ctx.alive()) return;
  const newForm = webhookForm(projectName, null, async (w) => {
    notice.replaceChildren(secretOnce(`Webhook ${w.name} created. Its signing secret:`, w.secret ?? ''));
    (newForm.closest('details') as HTMLDetailsElement).open = false;
    newForm.reset();
    await drawList();
  });

  const drawList = async (list?: Webhook[]) => {
    const rows = list ?? (await api.webhooks(projectName)).webhooks;
    if (!ctx.alive()) return;
    hooks = rows;
    listBox.replaceChildren(
      grid(
        ['Name', 'URL', 'Events', 'Format', 'Active', 'Changed', ''],
        rows.map((w) => {
          const outcome = h('div');
          const act = (label: string, testId: string, work: () => Promise<unknown>) => action(label, testId, outcome, work);
          return [
            h('span', { 'data-webhook': w.id }, link(`/webhooks?webhook=${w.id}`, h('strong', null, w.name))),
            h('code', { class: 'url' }, w.url),
            w.eventTypes.join(', '),
            w.format,
            w.active ? h('span', { class: 'badge ok' }, 'active') : h('span', { class: 'badge' }, 'paused'),
            `${time(w.updatedAt)}${w.updatedBy ? ` by ${w.updatedBy}` : ''}`,
            h('div', { class: 'row-actions' },
              act('Edit', 'webhook-edit-open', async () => {
                editBox.replaceChildren(h('h2', null, `Edit ${w.name}`),
                  webhookForm(projectName, w, async (changed) => {
                    editBox.replaceChildren();
                    news.textContent = `Webhook ${changed.name} saved.`;
                    await drawList();
                  }, () => editBox.replaceChildren()));
                editBox.scrollIntoView({ block: 'nearest' });
              }),
              act('Send test event', 'webhook-test', async () => {
                const newest = (await api.deliveries(w.id, { limit: 1 })).deliveries[0]?.id ?? 0;
                await api.testWebhook(w.id);
                news.textContent = `Test event queued for ${w.name}; it shows in the delivery log below.`;
                if (chosen !== w.id) {
                  chosen = w.id;
                  status = '';
                  pageToken = null;
                  history.pushState(null, '', inProject(`/webhooks?webhook=${w.id}`));
                }
                await_((ds) => ds.some((d) => d.id > newest && d.eventType === 'webhook.test'));
                await drawLog();
              }),
              act('Rotate secret', 'webhook-rotate', async () => {
                if (!confirm(`Sign ${w.name}'s deliveries with a new secret from now on? Its receiver must switch to the new one.`)) return;
                const secret = newSecret();
                await api.updateWebhook(w.id, { secret });
                notice.replaceChildren(secretOnce(`New signing secret of ${w.name}:`, secret));
              }),
              act('Delete', 'webhook-delete', async () => {
                if (!confirm(`Delete the webhook ${w.name} and its delivery log?`)) return;
                await api.deleteWebhook(w.id);
                if (chosen === w.id) go('/webhooks', true);
                else await drawList();
              }),
              outcome),
          ];
        }),
        'webhooks',
        'No webhooks in this project yet.',
      ),
    );
  };

  // New deliveries of the shown webhook follow its project's events of its types (a Lineage-format webhook's types are
  // event types the stream takes; an MLflow one's are not, so its log is read again by hand or while deliveries are pending).
  const follow = (hook: Webhook) => {
    if (following?.id === hook.id) return;
    following?.stop();
    following = null;
    if (hook.format !== 'lineage' || pageToken) return;
    following = {
      id: hook.id,
      stop: followEvents({ types: hook.eventTypes, project: hook.project }, {
        event: (e) => {
          if (hooks.find((w) => w.id === hook.id)?.active === false) return; // paused: nothing is queued for it
          await_((ds) => ds.some((d) => d.eventId >= e.id));
          reread();
        },
      }),
    };
  };
  const reread = coalesce(() => drawLog().catch(() => undefined), 200);

  // The delivery log of the chosen webhook; while a delivery is pending it is read again every 2 s.
  let logGeneration = 0;
  const drawLog = async () => {
    const gen = ++logGeneration;
    if (chosen === null) return;
    const hook = hooks.find((w) => w.id === chosen) ?? (await api.webhook(chosen));
    const id = chosen;
    const page = await api.deliveries(id, { status: status || undefined, limit: 100, pageToken });
    if (!ctx.alive() || gen !== logGeneration) return;
    const filter = h('select', { 'aria-label': 'Delivery status', 'data-testid': 'delivery-filter' },
      [['', 'all'], ['pending', 'pending'], ['succeeded', 'succeeded'], ['dead', 'dead']].map(([v, label]) => h('option', { value: v, selected: v === status }, label)));
    filter.addEventListener('change', () => go(`/webhooks?webhook=${id}${filter.value ? `&status=${filter.value}` : ''}`, true));
    const refresh = h('button', { type: 'button', 'data-testid': 'delivery-refresh', onclick: () => void drawLog() }, 'Refresh');
    const rows = page.deliveries.map((d) => {
      const outcome = h('div');
      // Anything not waiting for its first attempt can be sent again: a dead letter, a failing retry, or a delivered one.
      const again = d.status !== 'pending' || d.attempts > 0
        ? h('button', { type: 'button', 'data-testid': 'redeliver' }, 'Redeliver')
        : null;
      again?.addEventListener('click', async () => {
        again.disabled = true;
        try {
          await api.redeliver(id, d.id);
          await drawLog();
        } catch (err) {
          outcome.replaceChildren(errorLine(err));
          again.disabled = false;
        }
      });
      return [
        h('span', null, `#${d.eventId} `, h('code', null, d.eventType)),
        statusBadge(d),
        String(d.attempts),
        time(d.lastAttemptAt),
        d.latencyMs === undefined || d.latencyMs === null ? '' : `${d.latencyMs} ms`,
        d.responseCode ? String(d.responseCode) : '',
        d.status === 'pending' ? time(d.nextAttemptAt) : '',
        h('span', { class: 'error-text' }, d.lastError ?? ''),
        h('div', { class: 'row-actions' }, again, outcome),
      ];
    });
    const table = grid(['Event', 'Status', 'Attempts', 'Last attempt', 'Latency', 'Response', 'Next attempt', 'Last error', ''], rows, 'deliveries',
      'No deliveries yet: events of its types committed after its creation, and test events, show here.');
    table.querySelectorAll('tbody tr').forEach((tr, i) => {
      tr.setAttribute('data-delivery', String(page.deliveries[i].id));
      tr.setAttribute('data-event-type', page.deliveries[i].eventType);
      tr.setAttribute('data-status', page.deliveries[i].status);
    });
    const pager = h('p', { class: 'pager' });
    if (page.nextPageToken) pager.append(link(`/webhooks?${new URLSearchParams({ webhook: String(id), ...(status ? { status } : {}), pageToken: page.nextPageToken })}`, 'Older →'));
    logBox.replaceChildren(
      h('h2', null, `Delivery log of ${hook.name} `, filter, ' ', refresh),
      h('p', { class: 'muted small' }, `Newest event first. Deliveries are retried with backoff; after the last attempt they are dead (send them again by hand).`),
      table, pager);
    if (awaiting && (Date.now() > awaiting.until || awaiting.shown(page.deliveries))) awaiting = null;
    if (awaiting || page.deliveries.some((d) => d.status === 'pending'))
      setTimeout(() => { if (ctx.alive() && gen === logGeneration) void drawLog().catch(() => undefined); }, awaiting ? 500 : 2000);
    follow(hook);
  };

  ctx.root.append(
    h('h1', null, 'Webhooks'),
    h('p', { class: 'muted' }, 'Signed HTTP POSTs of this project’s events, at least once and in order per webhook (docs/events.md). Project admins manage them.'),
    h('details', { class: 'edit', 'data-testid': 'new-webhook' }, h('summary', null, 'New webhook'), newForm),
    notice,
    news,
    listBox,
    editBox,
    logBox,
  );
  await drawList(hooks);
  if (chosen !== null) {
    try {
      await drawLog();
    } catch (err) {
      if (ctx.alive()) logBox.replaceChildren(errorLine(err));
    }
  } else if (hooks.length) logBox.append(h('p', { class: 'muted' }, 'Choose a webhook to see its delivery log.'));
}
