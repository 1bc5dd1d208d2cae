// Runs shown by name, not by their 32-character ids (issue 16): a link reads the start of the id at once and
// the run's name once it is known. Names are read once per run while the page is open (GET /api/v1/runs/{id}).

import { api } from './api';
import { link } from './dom';

const names = new Map<string, Promise<string | undefined>>();

export function runName(id: string): Promise<string | undefined> {
  if (!names.has(id)) names.set(id, api.run(id).then((r) => r.name, () => undefined));
  return names.get(id)!;
}

/** A link to a run page labelled with the run's name (its id in the tooltip). */
export function runLink(id: string): HTMLAnchorElement {
  const a = link(`/runs/${id}`, id.slice(0, 8));
  a.title = id;
  a.dataset.run = id;
  void runName(id).then((name) => {
    if (name) a.textContent = name;
  });
  return a;
}
