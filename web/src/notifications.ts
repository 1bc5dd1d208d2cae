// The header's notifications: events that want a person's attention, counted as they arrive over the event stream
// (docs/events.md) in every project the signed-in person may read. The bell shows how many arrived since they were
// last looked at; a click lists them, newest first, with links.

import type { LineageEvent } from './api';
import { artifactHref, h, link, svg, time } from './dom';
import { followEvents } from './live';
import { project } from './project';
import { runLink } from './runnames';

/**
 * The event types that notify. The server refuses a type it does not emit (400), so a type joins this list once the
 * server has it.
 */
export const notificationTypes = ['alert.fired', 'run.failed', 'openlineage_run.failed', 'dataset.validation_failed', 'deployment.status_changed'];

/** The alerts page of a project: its rules and firing history. */
const alertsHref = (project: string) => `/alerts?project=${encodeURIComponent(project)}`;

/** What a notification says and where it leads; null for an event of these types that is not worth one. */
function describe(e: LineageEvent): (string | HTMLElement)[] | null {
  const p = e.payload as Record<string, unknown>;
  switch (e.type) {
    case 'alert.fired':
      return [`Alert ${p.severity ? `(${p.severity}) ` : ''}`, link(alertsHref(e.project), h('strong', null, String(p.rule))), `: ${p.message ?? p.subject}`];
    case 'run.failed':
      return ['Run ', runLink(String(p.runId)), ' failed'];
    case 'openlineage_run.failed': {
      const job = p.job as { namespace?: string; name?: string } | undefined;
      return ['Job ', job?.namespace && job.name ? link(`/jobs/${encodeURIComponent(job.namespace)}/${encodeURIComponent(job.name)}`, job.name) : 'run', ' failed'];
    }
    case 'dataset.validation_failed': {
      const failed = Array.isArray(p.failed) ? p.failed.length : 0;
      return ['Dataset ', link(artifactHref({ project: e.project, name: String(p.name), version: String(p.version) }), `${p.name} v${p.version}`),
        `: ${failed} failed check${failed === 1 ? '' : 's'}`];
    }
    case 'deployment.status_changed':
      return p.toStatus === 'failed' || p.toStatus === 'degraded'
        ? ['Deployment of ', `${p.model} v${p.version}`, ' to ', link(`/deployments?environment=${encodeURIComponent(String(p.environment))}&project=${encodeURIComponent(e.project)}`, String(p.environment)), ` is ${p.toStatus}`]
        : null;
    default:
      return null;
  }
}

/** Keeps the bell in `host` following the stream; the returned function stops it (sign-out, another credential). */
export function notificationBell(host: HTMLElement): () => void {
  const items: { e: LineageEvent; text: (string | HTMLElement)[] }[] = [];
  let unseen = 0;
  const count = h('span', { class: 'bell-count', 'data-testid': 'notification-count' });
  // A drawn bell: an emoji needs a font the machine may not have.
  const icon = svg('svg', { width: 16, height: 16, viewBox: '0 0 24 24', fill: 'none', stroke: 'currentColor', 'stroke-width': 2, 'aria-hidden': 'true' });
  icon.append(svg('path', { d: 'M12 3a5 5 0 0 0-5 5v4l-2 3h14l-2-3V8a5 5 0 0 0-5-5z' }), svg('path', { d: 'M10 18a2 2 0 0 0 4 0' }));
  const button = h('button', { type: 'button', class: 'bell', 'aria-label': 'Notifications', 'aria-expanded': 'false', 'data-testid': 'notifications' }, icon, count);
  const list = h('div', { class: 'bell-list', hidden: true, 'data-testid': 'notification-list' });
  const render = () => {
    count.textContent = unseen ? String(unseen) : '';
    button.dataset.count = String(unseen);
    button.title = unseen ? `${unseen} new notification${unseen === 1 ? '' : 's'}` : 'Notifications';
    list.replaceChildren(
      items.length
        ? h('ul', null, items.map(({ e, text }) => h('li', { 'data-type': e.type }, h('span', null, ...text), h('span', { class: 'muted small' }, ` ${e.project} · `, time(e.time)))))
        : h('p', { class: 'muted' }, 'Nothing since this page was opened.'),
      h('p', { class: 'bell-more' }, link(alertsHref(project()), 'All alerts →')),
    );
  };
  button.addEventListener('click', () => {
    list.hidden = !list.hidden;
    button.setAttribute('aria-expanded', String(!list.hidden));
    if (!list.hidden) unseen = 0;
    render();
  });
  // Following a link in the list closes it (the page changes under it).
  list.addEventListener('click', (e) => {
    if (!(e.target as Element).closest('a')) return;
    list.hidden = true;
    button.setAttribute('aria-expanded', 'false');
  });
  host.replaceChildren(button, list);
  render();
  return followEvents({ types: notificationTypes }, {
    open: () => (button.dataset.live = 'on'),
    event: (e) => {
      const text = describe(e);
      if (!text) return;
      items.unshift({ e, text });
      items.length = Math.min(items.length, 50);
      if (list.hidden) unseen++;
      render();
    },
    refused: () => host.replaceChildren(),
  });
}
