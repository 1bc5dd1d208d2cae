// Artifact browser and previews: a directory version lists its files; a file is previewed by what its
// bytes are (images by magic number, JSON pretty-printed, CSV/TSV as a table, other UTF-8 as text).

import { api, fetchHead, mlflowFileUrl, objectUrl, signedIn, type ArtifactVersion, type MlflowFile } from './api';
import { bytes, clear, errorLine, fmtValue, h, loading } from './dom';

const previewBytes = 256 * 1024;
const csvRows = 200;

function imageType(b: Uint8Array): string | null {
  if (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'image/png';
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46) return 'image/gif';
  if (b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x45) return 'image/webp';
  return null;
}

/** Splits one CSV line (RFC 4180 quotes). */
function splitCsv(line: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === sep) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** Per-column facts of the rows read: numbers get min, max and mean; any column its missing and distinct counts. */
function columnStats(values: string[]): { numeric: boolean; text: string } {
  const present = values.filter((v) => v.trim() !== '');
  const nums = present.map(Number);
  const numeric = present.length > 0 && nums.every((n) => Number.isFinite(n));
  const missing = values.length - present.length;
  const parts: string[] = [];
  if (numeric) {
    const mean = nums.reduce((a, b) => a + b, 0) / nums.length;
    parts.push(`min ${fmtValue(Math.min(...nums))}`, `max ${fmtValue(Math.max(...nums))}`, `mean ${fmtValue(mean)}`);
  } else parts.push(`${new Set(present).size} distinct`);
  if (missing) parts.push(`${missing} empty`);
  return { numeric, text: parts.join(' · ') };
}

function csvTable(text: string, sep: string, truncated: boolean): HTMLElement | null {
  const lines = text.split(/\r?\n/);
  if (truncated) lines.pop(); // the last line may be cut
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  if (lines.length < 2) return null;
  const rows = lines.slice(0, csvRows + 1).map((l) => splitCsv(l, sep));
  const width = rows[0].length;
  if (width < 2 || rows.some((r) => r.length !== width)) return null;
  const body = rows.slice(1);
  const stats = rows[0].map((_, c) => columnStats(body.map((r) => r[c])));
  const total = lines.length - 1;
  // How many rows the file has is known only when the preview read it whole.
  const shown = truncated
    ? `showing the first ${body.length.toLocaleString('en')} rows (the file is larger than the preview)`
    : `showing ${body.length.toLocaleString('en')} of ${total.toLocaleString('en')} rows`;
  return h(
    'div',
    { class: 'table-wrap' },
    h('p', { class: 'muted small', 'data-testid': 'csv-rows' }, shown),
    h(
      'table',
      { class: 'grid csv', 'data-testid': 'csv-preview' },
      h('thead', null,
        h('tr', null, rows[0].map((c, i) => h('th', { class: stats[i].numeric ? 'num' : '' }, c))),
        h('tr', { class: 'stats', 'data-testid': 'csv-stats' }, stats.map((st) => h('td', { class: `muted small${st.numeric ? ' num' : ''}` }, st.text)))),
      h('tbody', null, body.map((r) => h('tr', null, r.map((c, i) => h('td', { class: stats[i].numeric ? 'num' : '' }, c))))),
    ),
  );
}

/** Preview of one file behind `url`; `name` (a path) hints at the format. */
export async function previewFile(url: string, name: string): Promise<HTMLElement> {
  const { data, total } = await fetchHead(url, previewBytes);
  const truncated = total > data.length;
  const img = imageType(data) ?? (/\.svg$/i.test(name) ? 'image/svg+xml' : null);
  // Signed in, the image's bytes are fetched with the credential (an <img src> cannot send one).
  if (img) return h('div', { class: 'preview' }, h('img', { src: signedIn() ? await objectUrl(url) : url, alt: name, 'data-testid': 'image-preview' }));
  if (data.includes(0)) return h('p', { class: 'muted', 'data-testid': 'binary-preview' }, `Binary file, ${bytes(total)}. Use Download.`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: !truncated }).decode(data);
  } catch {
    return h('p', { class: 'muted', 'data-testid': 'binary-preview' }, `Binary file, ${bytes(total)}. Use Download.`);
  }
  const note = truncated ? h('p', { class: 'muted small' }, `first ${bytes(data.length)} of ${bytes(total)}`) : null;
  const trimmed = text.trimStart();
  if (!truncated && (trimmed.startsWith('{') || trimmed.startsWith('['))) {
    try {
      const json = JSON.parse(text);
      return h('pre', { class: 'preview json', 'data-testid': 'json-preview' }, JSON.stringify(json, null, 2));
    } catch {
      // not JSON after all: fall through to text
    }
  }
  const sep = /\.tsv$/i.test(name) ? '\t' : ',';
  if (!/\.(txt|log|md|py|json)$/i.test(name)) {
    const table = csvTable(text, sep, truncated);
    if (table) return h('div', null, table, note);
  }
  return h('div', null, h('pre', { class: 'preview text', 'data-testid': 'text-preview' }, text), note);
}

/** Files of a version (one file, or a directory's manifest) with a preview of the chosen one. */
export function artifactBrowser(v: ArtifactVersion): HTMLElement {
  const ref = String(v.version);
  const box = h('div', { class: 'browser', 'data-testid': 'artifact-browser' });
  const view = h('div', { class: 'preview-pane' });
  const show = async (path: string | undefined, label: string) => {
    clear(view);
    view.append(h('h4', null, label), loading());
    try {
      const el = await previewFile(api.contentUrl(v.project, v.name, ref, path), label);
      view.lastChild?.remove();
      view.append(el);
    } catch (err) {
      view.lastChild?.remove();
      view.append(errorLine(err));
    }
  };

  if (v.kind === 'external') {
    box.append(h('p', null, 'External content at ', h('code', null, v.storageUri), ` (${bytes(v.size)}); not stored here, so no preview.`));
    return box;
  }
  if (v.kind === 'directory') {
    const list = h('ul', { class: 'files' }, loading());
    box.append(
      h('div', { class: 'files-pane' }, list, h('a', { href: api.contentUrl(v.project, v.name, ref, undefined, 'zip'), download: `${v.name}-v${v.version}.zip` }, 'Download all (zip)')),
      view,
    );
    api
      .manifest(v.project, v.name, ref)
      .then((m) => {
        clear(list);
        for (const f of m.files) {
          const a = h('a', { href: '#', 'data-file': f.path }, f.path);
          a.addEventListener('click', (e) => {
            e.preventDefault();
            void show(f.path, f.path);
          });
          list.append(h('li', null, a, h('span', { class: 'muted small' }, ` ${bytes(f.size)} `), h('a', { href: api.contentUrl(v.project, v.name, ref, f.path), download: f.path.split('/').pop() }, '⤓')));
        }
        if (m.files.length) void show(m.files[0].path, m.files[0].path);
      })
      .catch((err) => {
        clear(list);
        list.append(errorLine(err));
      });
    return box;
  }
  box.append(
    h('div', { class: 'files-pane' }, h('p', null, `One file, ${bytes(v.size)}`), h('a', { href: api.contentUrl(v.project, v.name, ref), download: v.name }, 'Download')),
    view,
  );
  void show(undefined, v.name);
  return box;
}

/**
 * The files the MLflow client logged for a run (`mlflow.log_artifact`, issue 16): MLflow's listing, walked
 * folder by folder (at most `limit` files), each previewable and downloadable through the artifact proxy.
 * Resolves to null when the run has none (or its artifact root is not served here).
 */
export async function mlflowFilesBrowser(runId: string, limit = 500): Promise<HTMLElement | null> {
  const files: MlflowFile[] = [];
  let root = '';
  const folders = [''];
  while (folders.length && files.length < limit) {
    const page = await api.mlflowFiles(runId, folders.shift()!);
    root = page.root_uri ?? root;
    for (const f of page.files ?? []) {
      if (f.is_dir) folders.push(f.path);
      else if (files.length < limit) files.push(f);
    }
  }
  if (files.length === 0) return null;
  files.sort((a, b) => a.path.localeCompare(b.path));
  const view = h('div', { class: 'preview-pane' });
  const show = async (f: MlflowFile) => {
    const u = mlflowFileUrl(root, f.path)!;
    clear(view);
    view.append(h('h4', null, f.path), loading());
    try {
      const el = await previewFile(u, f.path);
      view.lastChild?.remove();
      view.append(el);
    } catch (err) {
      view.lastChild?.remove();
      view.append(errorLine(err));
    }
  };
  const list = h('ul', { class: 'files', 'data-testid': 'mlflow-files' });
  for (const f of files) {
    const u = mlflowFileUrl(root, f.path);
    if (!u) continue;
    const a = h('a', { href: '#', 'data-file': f.path }, f.path);
    a.addEventListener('click', (e) => {
      e.preventDefault();
      void show(f);
    });
    list.append(h('li', null, a, h('span', { class: 'muted small' }, ` ${bytes(f.file_size ?? 0)} `), h('a', { href: u, download: f.path.split('/').pop(), title: 'Download' }, '⤓')));
  }
  if (!list.childElementCount) return null;
  void show(files[0]);
  return h('div', { class: 'browser', 'data-testid': 'mlflow-browser' }, h('div', { class: 'files-pane' }, h('p', { class: 'muted small' }, `Logged with the MLflow client (${root})`), list), view);
}
