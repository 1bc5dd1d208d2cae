// The native API (/api/v1) as the UI uses it: every URL is built here, and every failure becomes an
// ApiError carrying the server's error code and message (never a stack trace).

export class ApiError extends Error {
  constructor(
    public readonly status: number,
    public readonly code: string,
    message: string,
    public readonly field?: string,
  ) {
    super(message);
  }

  get notFound(): boolean {
    return this.status === 404;
  }
}

export interface Experiment {
  id: string;
  project: string;
  name: string;
  description?: string;
  lifecycle: string;
  createdAt: number;
  updatedAt: number;
  tags: Record<string, string>;
}

export interface Metric {
  key: string;
  value: number | string;
  step: number;
  timestamp: number;
}

export interface Run {
  runId: string;
  experimentId: string;
  name?: string;
  status: string;
  startTime: number;
  endTime?: number;
  user?: string;
  parentRunId?: string;
  lifecycle: string;
  params: Record<string, string>;
  tags: Record<string, string>;
  metrics: Metric[];
}

export interface HistoryPoint {
  value: number | string;
  step: number;
  timestamp: number;
}

export interface MetricHistory {
  key: string;
  points: HistoryPoint[];
  nextPageToken?: string;
  totalPoints?: number;
}

export interface ArtifactVersion {
  id: string;
  project: string;
  name: string;
  version: number;
  type: string;
  kind: string;
  digest: string;
  size: number;
  storageUri: string;
  metadata: unknown;
  description?: string;
  tags: Record<string, string>;
  aliases: string[];
  producerRunId?: string;
  lifecycle: string;
  createdAt: number;
  createdBy?: string;
  fileCount: number;
}

export interface ManifestEntry {
  path: string;
  digest: string;
  size: number;
}

export interface AliasChange {
  alias: string;
  version?: number;
  changedAt: number;
  changedBy?: string;
}

export interface GraphNode {
  id: string;
  kind: string;
  label: string;
  type: string;
  depth: number;
  state?: string;
  runId?: string;
}

export interface GraphEdge {
  from: string;
  to: string;
  role: string;
}

export interface Graph {
  root: string;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export interface Execution {
  id: string;
  type: string;
  name: string;
  state: string;
  runId?: string;
}

export interface Impact {
  root: string;
  modelVersions: ArtifactVersion[];
  runs: string[];
  artifacts: ArtifactVersion[];
  executions: Execution[];
}

type Query = Record<string, string | number | undefined | null>;

function url(path: string, query?: Query): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return `/api/v1${path}${s ? `?${s}` : ''}`;
}

async function fail(res: Response): Promise<never> {
  let code = `HTTP_${res.status}`;
  let message = `${res.status} ${res.statusText}`;
  let field: string | undefined;
  try {
    const body = await res.json();
    if (body && typeof body.message === 'string') {
      code = body.error_code ?? code;
      message = body.message;
      field = body.field ?? undefined;
    }
  } catch {
    // not JSON: keep the status line
  }
  throw new ApiError(res.status, code, message, field);
}

async function get<T>(path: string, query?: Query): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url(path, query), { headers: { Accept: 'application/json' } });
  } catch {
    throw new ApiError(0, 'UNREACHABLE', 'the Lineage server did not answer; is it running?');
  }
  if (!res.ok) return fail(res);
  return (await res.json()) as T;
}

const seg = encodeURIComponent;

export const api = {
  experiments: (q: { nameContains?: string; lifecycle?: string; limit?: number; pageToken?: string }) =>
    get<{ experiments: Experiment[]; nextPageToken?: string }>('/experiments', q),
  experiment: (id: string) => get<Experiment>(`/experiments/${seg(id)}`),
  runs: (q: Query) => get<{ runs: Run[]; nextPageToken?: string }>('/runs', q),
  run: (id: string) => get<Run>(`/runs/${seg(id)}`),
  history: (runId: string, key: string, maxPoints: number) =>
    get<MetricHistory>(`/runs/${seg(runId)}/metrics/history`, { key, maxPoints }),
  artifacts: (q: Query) => get<{ artifacts: ArtifactVersion[]; nextPageToken?: string }>('/artifacts', q),
  versions: (name: string) => get<{ artifacts: ArtifactVersion[]; nextPageToken?: string }>(`/artifacts/${seg(name)}/versions`, { limit: 1000 }),
  version: (name: string, ref: string) => get<ArtifactVersion>(`/artifacts/${seg(name)}/versions/${seg(ref)}`),
  manifest: (name: string, ref: string) =>
    get<{ digest: string; files: ManifestEntry[] }>(`/artifacts/${seg(name)}/versions/${seg(ref)}/manifest`),
  aliasHistory: (name: string) => get<{ changes: AliasChange[] }>(`/artifacts/${seg(name)}/aliases/history`),
  contentUrl: (name: string, ref: string, path?: string, format?: string) =>
    url(`/artifacts/${seg(name)}/versions/${seg(ref)}/content`, { path, format }),
  graph: (node: string, direction = 'both', depth = 1) => get<Graph>('/lineage/graph', { node, direction, depth }),
  path: (from: string, to: string) => get<Graph>('/lineage/path', { from, to }),
  impact: (artifact: string) => get<Impact>('/lineage/impact', { artifact }),
};

/** The first `bytes` bytes of a URL (HTTP Range), and the full size when the server tells it. */
export async function fetchHead(u: string, bytes: number): Promise<{ data: Uint8Array; total: number; contentType: string }> {
  const res = await fetch(u, { headers: { Range: `bytes=0-${bytes - 1}` } });
  if (!res.ok && res.status !== 206) return fail(res);
  const data = new Uint8Array(await res.arrayBuffer());
  const range = res.headers.get('Content-Range');
  const total = range ? Number(range.split('/')[1]) : data.length;
  return { data, total: Number.isFinite(total) ? total : data.length, contentType: res.headers.get('Content-Type') ?? '' };
}

/** Metric values arrive as numbers or as "NaN"/"Infinity"/"-Infinity". */
export function num(v: number | string): number {
  return typeof v === 'number' ? v : Number(v);
}
