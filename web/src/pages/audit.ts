// The audit log (server admins): every write, newest first, filtered by actor, target path and time range,
// paged by sequence number; and, on request, a walk of the whole hash chain that says whether it holds.

import { api, ApiError } from '../api';
import { clear, errorLine, go, grid, h, link, loading, time } from '../dom';
import type { PageContext } from '../page';

/** datetime-local text (the browser's local time) ⇄ Unix ms. */
const toMs = (local: string) => (local ? new Date(local).getTime() : undefined);
function toLocal(ms: string | null): string {
  if (!ms) return '';
  const d = new Date(Number(ms));
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

export async function auditPage(ctx: PageContext): Promise<void> {
  const params = ctx.params;
  const actor = h('input', { type: 'search', placeholder: 'actor (exact)', value: params.get('actor') ?? '', 'aria-label': 'Actor', 'data-testid': 'audit-actor' });
  const target = h('input', { type: 'search', placeholder: 'path contains, e.g. /models/churn', value: params.get('target') ?? '', 'aria-label': 'Target', 'data-testid': 'audit-target', class: 'wide' });
  const from = h('input', { type: 'datetime-local', value: toLocal(params.get('from')), 'aria-label': 'From' });
  const to = h('input', { type: 'datetime-local', value: toLocal(params.get('to')), 'aria-label': 'To' });
  const apply = () => {
    const q = new URLSearchParams();
    if (actor.value.trim()) q.set('actor', actor.value.trim());
    if (target.value.trim()) q.set('target', target.value.trim());
    if (toMs(from.value) !== undefined) q.set('from', String(toMs(from.value)));
    if (toMs(to.value) !== undefined) q.set('to', String(toMs(to.value)));
    go(`/audit${q.toString() ? `?${q}` : ''}`, true);
  };
  [actor, target].forEach((b) => b.addEventListener('keydown', (e) => e.key === 'Enter' && apply()));
  const verifyOut = h('span', { 'data-testid': 'chain' });
  const verify = h('button', { 'data-testid': 'verify' }, 'Verify chain');
  verify.addEventListener('click', async () => {
    verify.disabled = true;
    verifyOut.replaceChildren(' checking every entry…');
    try {
      const v = await api.verifyAudit();
      verifyOut.replaceChildren(
        v.intact
          ? h('span', { class: 'badge ok' }, `intact: ${v.entries} entries, head #${v.headSeq ?? 0}`)
          : h('span', { class: 'badge broken' }, `broken at entry #${v.brokenAt}: ${v.reason}`),
        // Normally a handful from the last milliseconds; an old one means no server is chaining.
        h('span', { 'data-testid': 'audit-pending' }, v.pending > 0
          ? ` · ${v.pending} pending, not chained yet (oldest ${new Date(v.oldestPendingTime ?? 0).toLocaleString()})`
          : ' · none pending'),
      );
    } catch (err) {
      verifyOut.replaceChildren(errorLine(err));
    } finally {
      verify.disabled = false;
    }
  });
  const body = h('div', null, loading());
  ctx.root.append(
    h('h1', null, 'Audit log'),
    h('p', { class: 'muted' }, 'Every write to the server, in every project (the project picker does not filter it), newest first. Each entry’s hash covers the one before it, so an edited or deleted entry breaks the chain.'),
    h('div', { class: 'toolbar' }, actor, target, h('label', null, 'from ', from), h('label', null, 'to ', to), h('button', { onclick: apply }, 'Filter'), verify, verifyOut),
    body,
  );

  const q = Object.fromEntries(['actor', 'target', 'from', 'to', 'pageToken'].map((k) => [k, params.get(k)]));
  try {
    const page = await api.audit({ ...q, limit: 100 });
    if (!ctx.alive()) return;
    clear(body);
    body.append(
      grid(
        ['#', 'Time', 'Actor', 'Action', 'Target', 'Status', 'From'],
        page.entries.map((e) => [
          String(e.seq),
          time(e.time),
          e.actor,
          h('code', null, e.action),
          e.target,
          String(e.status),
          e.address ?? '',
        ]),
        'audit',
        'No entries match.',
      ),
    );
    const nav = h('p', { class: 'pager' });
    if (params.get('pageToken')) {
      const first = new URLSearchParams(params);
      first.delete('pageToken');
      nav.append(link(`/audit${first.toString() ? `?${first}` : ''}`, '← Newest'), ' ');
    }
    if (page.nextPageToken) {
      const older = new URLSearchParams(params);
      older.set('pageToken', page.nextPageToken);
      nav.append(link(`/audit?${older}`, 'Older →'));
    }
    body.append(nav);
  } catch (err) {
    if (!ctx.alive()) return;
    // A bad filter (e.g. 'to' before 'from') stays on the page with the server's message; anything else is the page's error.
    if (err instanceof ApiError && err.status === 400) body.replaceChildren(errorLine(err));
    else throw err;
  }
}
