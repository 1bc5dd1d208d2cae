// The project the UI works in. Lists, and artifacts and models (found by name), belong to a project: the choice
// lives in the address (?project=, so a link or a bookmark keeps it) and in localStorage (the default for next
// time). Runs and experiments are found by id and belong to theirs: their pages follow it.

import { api } from './api';
import { credential } from './auth';

export const defaultProject = 'default';
/** Fired on window when an entity page moves the UI into its project (main.ts redraws the header). */
export const projectFollowedEvent = 'lineage:project-followed';

const storeKey = 'lineage.project';
let current = defaultProject;
/** How many times an entity page followed its project (main.ts keeps a late project choice from undoing one). */
let follows = 0;

/**
 * Addresses that carry ?project=: the list pages, the lineage page (a typed `artifact:name@version` is looked up
 * in the project) and one artifact or model by name. Runs, experiments by id and compare belong to their
 * entities' projects; the audit log spans every project.
 */
const scoped = /^\/(?:experiments\/?|artifacts(?:\/[^/]+)?\/?|models(?:\/[^/]+)?\/?|approvals|deployments|dashboards|alerts|webhooks|lineage|jobs\/[^/]+\/[^/]+)?$/;

export function project(): string {
  return current;
}

export function isScoped(path: string): boolean {
  return scoped.test(path);
}

function stored(): string | null {
  try {
    return localStorage.getItem(storeKey);
  } catch {
    return null; // storage disabled: the address alone carries the choice
  }
}

/** Makes `name` the current project and next time's default. */
export function useProject(name: string): void {
  current = name;
  try {
    localStorage.setItem(storeKey, name);
  } catch {
    // storage disabled: the address alone carries the choice
  }
}

/** An entity page shows a thing of project `name`: the UI moves there (picker and links follow). */
export function follow(name: string): void {
  follows++;
  if (name === current) return;
  useProject(name);
  window.dispatchEvent(new CustomEvent(projectFollowedEvent));
}

export function followCount(): number {
  return follows;
}

/** An in-app address with the current project added, when it is project-scoped and names none yet. */
export function inProject(href: string): string {
  if (!href.startsWith('/') || href.startsWith('//')) return href;
  const u = new URL(href, location.origin);
  if (!isScoped(u.pathname) || u.searchParams.has('project')) return href;
  u.searchParams.set('project', current);
  return `${u.pathname}${u.search}${u.hash}`;
}

let listed: { key: string; names: Promise<string[]> } | null = null;

/** The projects the signed-in principal may see (all of them with authentication off), fetched once per credential. */
export function visibleProjects(): Promise<string[]> {
  const key = credential()?.header ?? '';
  if (listed?.key !== key) {
    const names = api.projects().then((r) => r.projects.map((p) => p.name));
    listed = { key, names };
    names.catch(() => {
      if (listed?.names === names) listed = null; // asked again on the next page
    });
  }
  return listed.names;
}

/**
 * The project for an address that names none: last time's if it is still visible, else `default`, else the first
 * visible one (a principal may hold a role only in other projects). When the list cannot be read, last time's.
 */
export async function resolveProject(): Promise<string> {
  const wanted = stored() ?? defaultProject;
  let names: string[];
  try {
    names = await visibleProjects();
  } catch {
    return wanted; // a 401 shows the login page; other failures leave the page's own reads to report
  }
  return names.includes(wanted) ? wanted : names.includes(defaultProject) || names.length === 0 ? defaultProject : names[0];
}
