// What the router (main.ts) hands every page. Its own module so pages do not import the entry point.

export interface PageContext {
  root: HTMLElement;
  params: URLSearchParams;
  /** True while this page is still the one shown (navigations cancel older pages' late renders). */
  alive: () => boolean;
  /** Runs `fn` when the page is left (another page, a 401): live streams close there. */
  onLeave: (fn: () => void) => void;
}
