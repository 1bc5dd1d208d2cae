// Completion in the runs filter box (issue 16): while a person types a query-language filter
// (docs/query.md), a list under the box offers the field prefixes, the experiment's param, metric and tag
// keys (GET /api/v1/experiments/{id}/fields), and after `params.x = '` or `tags.x = '` the values used
// most (…/fields/values). Arrow keys move through the list, Enter or Tab takes an entry, Escape closes it.

import { h } from './dom';

export interface Fields {
  params: string[];
  metrics: string[];
  tags: string[];
}

export interface CompletionSource {
  fields: () => Promise<Fields>;
  values: (kind: 'param' | 'tag', key: string, prefix: string) => Promise<string[]>;
}

interface Suggestion {
  /** What the list shows. */
  label: string;
  /** What replaces the text from `from` to the caret. */
  insert: string;
  from: number;
  hint?: string;
}

/** Entries shown at most: the list is a hint, not a browser. */
const shown = 12;

const prefixes: { name: string; kind: keyof Fields | 'attributes'; hint: string }[] = [
  { name: 'metrics', kind: 'metrics', hint: 'latest value, a number' },
  { name: 'params', kind: 'params', hint: 'text' },
  { name: 'tags', kind: 'tags', hint: 'text' },
  { name: 'attributes', kind: 'attributes', hint: 'run_name, status, start_time…' },
];
const attributes = ['run_name', 'status', 'user_id', 'start_time', 'end_time', 'run_id', 'lifecycle_stage'];
/** Singular and long forms the grammar accepts for the same prefix. */
const aliases: Record<string, keyof Fields | 'attributes'> = {
  metric: 'metrics', metrics: 'metrics', param: 'params', params: 'params', parameters: 'params', tag: 'tags', tags: 'tags',
  attribute: 'attributes', attributes: 'attributes', attr: 'attributes',
};

/** A key as the grammar reads it: a bare word when it is one, else in backticks. */
export function quoteKey(key: string): string {
  return /^[A-Za-z0-9_\-./:]+$/.test(key) ? key : key.includes('`') ? `"${key}"` : `\`${key}\``;
}

const unquote = (key: string) => (/^[`"].*[`"]$/.test(key) ? key.slice(1, -1) : key);

/** What to offer for the text before the caret. Exported for reading; the page calls attachCompletion. */
export async function suggest(before: string, source: CompletionSource): Promise<Suggestion[]> {
  // A value: params.optimizer = 'ad|  →  the values of params.optimizer starting with "ad".
  const value = /(params?|parameters|tags?)\.(`[^`]*`|"[^"]*"|[A-Za-z0-9_\-./:]+)\s*(=|!=|<>|\blike\b|\bilike\b)\s*'((?:[^']|'')*)$/i.exec(before);
  if (value) {
    const kind = aliases[value[1].toLowerCase()] === 'tags' ? 'tag' : 'param';
    const typed = value[4].replace(/''/g, "'");
    const from = before.length - value[4].length - 1;
    return (await source.values(kind, unquote(value[2]), typed)).slice(0, shown).map((v) => ({ label: v, insert: `'${v.replace(/'/g, "''")}' `, from }));
  }
  // A field: the word being typed, with or without its prefix.
  const word = /(?:^|[\s(,])([A-Za-z_][A-Za-z0-9_\-./:]*|[A-Za-z]+\.[`"][^`"]*)$/.exec(before);
  const token = word ? word[1] : '';
  const from = before.length - token.length;
  if (!word && !/(^|\s|\()$/.test(before)) return [];
  const fields = await source.fields();
  const dot = token.indexOf('.');
  if (dot > 0 && aliases[token.slice(0, dot).toLowerCase()]) {
    const kind = aliases[token.slice(0, dot).toLowerCase()];
    const partial = token.slice(dot + 1).replace(/^[`"]/, '').toLowerCase();
    const keys = kind === 'attributes' ? attributes : fields[kind];
    const name = token.slice(0, dot);
    return keys.filter((k) => k.toLowerCase().startsWith(partial)).slice(0, shown)
      .map((k) => ({ label: `${name}.${k}`, insert: `${name}.${quoteKey(k)} `, from }));
  }
  const lower = token.toLowerCase();
  const out: Suggestion[] = prefixes.filter((p) => p.name.startsWith(lower)).map((p) => ({ label: `${p.name}.`, insert: `${p.name}.`, from, hint: p.hint }));
  if (lower)
    for (const p of prefixes) {
      const keys = p.kind === 'attributes' ? attributes : fields[p.kind];
      for (const k of keys) if (k.toLowerCase().startsWith(lower)) out.push({ label: `${p.name}.${k}`, insert: `${p.name}.${quoteKey(k)} `, from });
    }
  return out.slice(0, shown);
}

/**
 * Wires completion to a filter box; returns the list element to place under it. The box's own Enter handler
 * should ignore events whose default was prevented (Enter that took an entry).
 */
export function attachCompletion(input: HTMLInputElement, source: CompletionSource): HTMLElement {
  const list = h('ul', { class: 'completions', role: 'listbox', 'data-testid': 'completions', hidden: true });
  let items: Suggestion[] = [];
  let active = -1;
  let asked = 0;

  const close = () => {
    list.hidden = true;
    items = [];
    active = -1;
  };
  const render = () => {
    list.replaceChildren(...items.map((s, i) => {
      const li = h('li', { role: 'option', 'aria-selected': i === active ? 'true' : 'false', class: i === active ? 'active' : '', 'data-insert': s.insert },
        s.label, s.hint ? h('span', { class: 'muted small' }, ` ${s.hint}`) : null);
      // mousedown, not click: the box must not lose focus first.
      li.addEventListener('mousedown', (e) => {
        e.preventDefault();
        take(s);
      });
      return li;
    }));
    list.hidden = items.length === 0;
  };
  const refresh = async () => {
    const n = ++asked;
    const caret = input.selectionStart ?? input.value.length;
    let found: Suggestion[];
    try {
      found = await suggest(input.value.slice(0, caret), source);
    } catch {
      found = []; // completion is a help: a failed lookup leaves the box as it is
    }
    if (n !== asked || document.activeElement !== input) return;
    items = found;
    active = -1;
    render();
  };
  const take = (s: Suggestion) => {
    const caret = input.selectionStart ?? input.value.length;
    input.value = input.value.slice(0, s.from) + s.insert + input.value.slice(caret);
    const at = s.from + s.insert.length;
    input.setSelectionRange(at, at);
    input.dispatchEvent(new Event('input', { bubbles: true }));
  };

  input.setAttribute('autocomplete', 'off');
  input.setAttribute('aria-autocomplete', 'list');
  input.addEventListener('input', () => void refresh());
  input.addEventListener('focus', () => void refresh());
  input.addEventListener('blur', close);
  input.addEventListener('keydown', (e) => {
    if (list.hidden || items.length === 0) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      active = (active + (e.key === 'ArrowDown' ? 1 : items.length - 1) + (active < 0 && e.key === 'ArrowUp' ? 1 : 0)) % items.length;
      render();
    } else if ((e.key === 'Enter' && active >= 0) || e.key === 'Tab') {
      e.preventDefault();
      take(items[Math.max(0, active)]);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      close();
    }
  });
  return list;
}
