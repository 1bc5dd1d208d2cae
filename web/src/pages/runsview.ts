// The runs page's columns and the query its address asks for, apart from the page itself: main.ts's first import
// (early.ts) asks for the first page of runs with it while the rest of the app's code is still being evaluated.

import type { Run, RunSearch } from '../api';

export type Kind = 'attr' | 'param' | 'metric' | 'tag';

export interface Column {
  kind: Kind;
  key: string;
}

/** `order` is the query-language field a header click sorts by; duration has none (it is not stored). */
export const attrs: Record<string, { label: string; get: (r: Run) => string | number | undefined; order?: string }> = {
  name: { label: 'Run', get: (r) => r.name ?? r.runId.slice(0, 8), order: 'attributes.run_name' },
  status: { label: 'Status', get: (r) => r.status, order: 'attributes.status' },
  start: { label: 'Started', get: (r) => r.startTime, order: 'attributes.start_time' },
  duration: { label: 'Duration', get: (r) => (r.endTime ? r.endTime - r.startTime : r.status === 'RUNNING' ? Date.now() - r.startTime : undefined) },
  user: { label: 'User', get: (r) => r.user, order: 'attributes.user_id' },
};

/** The query-language field of a column: the key quoted with backticks (double quotes for a key holding a backtick). */
export function orderField(c: Column): string | undefined {
  if (c.kind === 'attr') return attrs[c.key]?.order;
  const prefix = c.kind === 'metric' ? 'metrics' : c.kind === 'param' ? 'params' : 'tags';
  return c.key.includes('`') ? `${prefix}."${c.key.replace(/"/g, '')}"` : `${prefix}.\`${c.key}\``;
}

export function parseColumn(id: string | null): Column | null {
  const m = id ? /^(attr|param|metric|tag):(.+)$/.exec(id) : null;
  return m ? { kind: m[1] as Kind, key: m[2] } : null;
}

export const colId = (c: Column) => `${c.kind}:${c.key}`;

/** What the address asks the table to show: filter, page size and sort (so a sorted, filtered view can be bookmarked). */
export function viewOf(params: URLSearchParams) {
  const sortCol = parseColumn(params.get('sort'));
  const sortField = sortCol ? orderField(sortCol) : undefined;
  const sort = sortCol && sortField ? { col: sortCol, desc: params.get('desc') === '1' } : null;
  return {
    filterText: params.get('filter') ?? '',
    pageSize: Number(params.get('size') ?? '100'),
    sort,
    orderBy: sort ? [`${sortField} ${sort.desc ? 'DESC' : 'ASC'}`] : undefined,
  };
}

/** The search for one page of the table: built in one place, so the early request and the page's are the same request. */
export function searchQuery(experimentId: string, view: ReturnType<typeof viewOf>, pageToken?: string, filter = view.filterText): RunSearch {
  return { experimentId, filter: filter || undefined, orderBy: view.orderBy, limit: view.pageSize, pageToken };
}
