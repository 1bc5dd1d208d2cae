// The native API (/api/v1) as the UI uses it: every URL is built here, and every failure becomes an
// ApiError carrying the server's error code and message (never a stack trace).

import { credential } from './auth';

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

  /** The 0-based position a query-language error names ("invalid filter at position 12: …"). */
  get position(): number | undefined {
    const m = /at position (\d+)/.exec(this.message);
    return m ? Number(m[1]) : undefined;
  }
}

export interface Project {
  name: string;
  description?: string;
  createdAt: number;
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

/** A series as three arrays, index for index: how the chart panel receives and draws a many-run answer. */
export interface SeriesColumns {
  steps: number[];
  values: (number | string)[];
  /** Absent when asked without (`timestamps: false`: a chart over steps). */
  timestamps?: number[];
}

/**
 * One run's series in a many-run history answer (downsampled like MetricHistory with maxPoints), in the `columns` form:
 * no object per point (250,000 of them for 1,000 runs) to make, collect and turn back into arrays for the chart.
 */
export interface RunSeries extends SeriesColumns {
  runId: string;
  totalPoints: number;
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

/** What the datasets API records about a dataset version (docs/registry.md): source, columns, rows, profile, checks. */
export interface DatasetFacts {
  source: { uri?: string; system?: string; ingestedAt?: number };
  schema?: string;
  columns: { name: string; dtype: string; nullable?: boolean }[];
  rowCount?: number;
  profile: Record<string, { missingPct?: number; min?: number; max?: number; mean?: number; distinctCount?: number }>;
  createdAt: number;
  createdBy?: string;
}

export interface ValidationCheck {
  name: string;
  passed: boolean;
  details?: string;
  runAt?: number;
  runBy?: string;
}

export interface DatasetVersion {
  artifact: ArtifactVersion;
  facts?: DatasetFacts;
  validations: ValidationCheck[];
}

/** OpenLineage jobs, runs and datasets as the Marquez-compatible API answers them (docs/lineage.md). */
export interface MqId {
  namespace: string;
  name: string;
}

export interface MqRun {
  id: string;
  state: string;
  startedAt?: string;
  endedAt?: string;
  durationMs?: number;
  inputDatasetVersions: { datasetVersionId: { namespace: string; name: string; version: string } }[];
  outputDatasetVersions: { datasetVersionId: { namespace: string; name: string; version: string } }[];
}

export interface MqJob {
  id: MqId;
  type: string;
  name: string;
  namespace: string;
  inputs: MqId[];
  outputs: MqId[];
  location?: string;
  description?: string;
  latestRun?: MqRun;
}

export interface MqDataset {
  id: MqId;
  name: string;
  namespace: string;
  fields: { name: string; type?: string; description?: string }[];
  facets: Record<string, unknown>;
  currentVersion: string;
  lastModifiedAt?: string;
  description?: string;
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
  /** The node's project: a walk may cross into other projects. */
  project?: string;
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
  startTime?: number;
  endTime?: number;
}

export interface Impact {
  root: string;
  modelVersions: ArtifactVersion[];
  runs: string[];
  artifacts: ArtifactVersion[];
  executions: Execution[];
}

export interface Model {
  project: string;
  name: string;
  description?: string;
  latestVersion: number;
  tags: Record<string, string>;
  aliases: Record<string, number>;
  approvers: string[];
  createdAt: number;
  createdBy?: string;
  updatedAt: number;
}

export interface ModelVersion {
  project: string;
  model: string;
  version: number;
  status: string;
  statusMessage?: string;
  stage: string;
  description?: string;
  artifact: ArtifactVersion;
  runId?: string;
  tags: Record<string, string>;
  aliases: string[];
  createdAt: number;
  createdBy?: string;
}

export interface RegistryChange {
  id: string;
  kind: string;
  name?: string;
  version?: number;
  oldValue?: string;
  newValue?: string;
  changedAt: number;
  changedBy?: string;
  requestId?: string;
}

export interface Promotion {
  id: string;
  project: string;
  model: string;
  version: number;
  kind: string;
  target: string;
  archiveExisting: boolean;
  status: string;
  comment?: string;
  requestedAt: number;
  requestedBy?: string;
  decidedAt?: number;
  decidedBy?: string;
  decisionComment?: string;
}

export interface DeploymentEvent {
  status: string;
  reason?: string;
  at: number;
  actor?: string;
}

export interface Deployment {
  id: string;
  project: string;
  environment: string;
  model: string;
  version: number;
  endpointUrl?: string;
  status: string;
  rollbackOf?: string;
  createdAt: number;
  createdBy?: string;
  updatedAt: number;
  events: DeploymentEvent[];
}

export interface EnvironmentStats {
  project: string;
  environment: string;
  deployments: number;
  succeeded: number;
  failed: number;
  rollbacks: number;
  successRate?: number;
}

export interface ModelMetrics {
  model: string;
  versions: { version: number; stage: string; runId?: string; createdAt: number; metrics: Record<string, number | null> }[];
}

export interface Usage {
  type: string;
  bucketMs: number;
  from: number;
  to: number;
  counts: { name: string; bucket: number; count: number }[];
}

export interface AuditEntry {
  seq: number;
  time: number;
  actor: string;
  address?: string;
  action: string;
  target: string;
  status: number;
  summary: string;
  hash: string;
}

export interface AuditVerification {
  intact: boolean;
  entries: number;
  headSeq?: number;
  headHash?: string;
  brokenAt?: number;
  reason?: string;
  /** Write entries committed with their writes but not chained yet (the chain does not cover them). */
  pending: number;
  oldestPendingTime?: number;
}

/** What an alert rule watches: which fields apply depends on its kind (docs/events.md, "Alert rules"). */
export interface AlertCondition {
  query?: string;
  model?: string;
  alias?: string;
  environment?: string;
  metric?: string;
  direction?: string;
  tolerance?: number;
  dataset?: string;
  method?: string;
  threshold?: number;
  columns?: string[];
  hours?: number;
  minutes?: number;
}

export interface AlertRule {
  id: number;
  project: string;
  name: string;
  kind: string;
  condition: AlertCondition;
  severity: string;
  description?: string;
  /** Set (ms) while the rule is muted. */
  mutedUntil?: number;
  createdAt: number;
  createdBy?: string;
  updatedAt: number;
  updatedBy?: string;
}

/** One firing of a rule for one subject (`run:<id>`, `model_version:<model>/<version>` …) and what became of it. */
export interface Alert {
  id: number;
  ruleId: number;
  rule: string;
  project: string;
  kind: string;
  severity: string;
  subject: string;
  state: string;
  value?: number;
  message?: string;
  details: Record<string, unknown>;
  firedAt: number;
  acknowledgedAt?: number;
  acknowledgedBy?: string;
  resolvedAt?: number;
  /** Null when the condition cleared; who resolved it by hand otherwise. */
  resolvedBy?: string;
}

export interface Webhook {
  id: number;
  project: string;
  name: string;
  url: string;
  eventTypes: string[];
  format: string;
  description?: string;
  active: boolean;
  createdAt: number;
  createdBy?: string;
  updatedAt: number;
  updatedBy?: string;
  /** Only in the answer to the creation: shown once. */
  secret?: string;
}

export interface WebhookChange {
  name?: string;
  url?: string;
  eventTypes?: string[];
  format?: string;
  description?: string;
  active?: boolean;
  secret?: string;
}

/** One event's delivery to one webhook and its last attempt. */
export interface WebhookDelivery {
  id: number;
  webhookId: number;
  eventId: number;
  eventType: string;
  status: string;
  attempts: number;
  nextAttemptAt?: number;
  responseCode?: number;
  latencyMs?: number;
  lastError?: string;
  lastAttemptAt?: number;
  createdAt: number;
  deliveredAt?: number;
}

type Query = Record<string, string | number | string[] | undefined | null>;

export type RunSearch = { experimentId: string; filter?: string; orderBy?: string[]; limit: number; pageToken?: string };

function url(path: string, query?: Query): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (Array.isArray(v)) v.forEach((x) => q.append(k, x)); // repeated parameters (orderBy)
    else if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
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
  // Authentication is on and this tab has no valid credential: the app shows the login page (main.ts),
  // whichever page or panel asked, even one that handles its own errors.
  if (res.status === 401) window.dispatchEvent(new CustomEvent(unauthenticatedEvent));
  throw new ApiError(res.status, code, message, field);
}

export const unauthenticatedEvent = 'lineage:unauthenticated';

/** Headers of every API request: JSON, and the signed-in credential when there is one. */
function headers(extra?: Record<string, string>): Record<string, string> {
  const auth = credential();
  return { Accept: 'application/json', ...(auth ? { Authorization: auth.header } : {}), ...extra };
}

async function send<T>(method: string, path: string, query?: Query, body?: unknown, actingAs?: string): Promise<T> {
  let res: Response;
  const extra: Record<string, string> = body === undefined ? {} : { 'Content-Type': 'application/json' };
  // With authentication off the server takes the person's name from Lineage-User (unverified); signed in, the credential decides.
  if (actingAs) extra['Lineage-User'] = actingAs;
  try {
    res = await fetch(url(path, query), {
      method,
      headers: headers(extra),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'UNREACHABLE', 'the Lineage server did not answer; is it running?');
  }
  if (!res.ok) return fail(res);
  // A delete (204) or a queued request (202) may answer with no body.
  const text = res.status === 204 ? '' : await res.text();
  const answer = text ? JSON.parse(text) : undefined;
  // The runs search says which event came last before its snapshot: a live page follows the stream from there.
  const head = res.headers.get('Lineage-Events-Head');
  if (head !== null && answer && typeof answer === 'object') answer.eventsHead = Number(head);
  return answer as T;
}

/**
 * GETs started early (see early.ts), by address: the page's own identical GET takes the answer, once, instead of asking
 * again. Only the first page shown may take them (endPrefetch), so a later visit never gets an old answer.
 */
let prefetched: Map<string, Promise<unknown>> | null = null;
let recording = false;

/** Makes the GETs `start` makes now, for the first page to take (issue 16: its first paint does not wait for the app's code). */
export function prefetch(start: () => void): void {
  prefetched = new Map();
  recording = true;
  try {
    start();
  } finally {
    recording = false;
  }
}

/** The first page has been shown: what it did not take is dropped. */
export function endPrefetch(): void {
  prefetched = null;
}

function get<T>(path: string, query?: Query): Promise<T> {
  const key = url(path, query);
  const early = prefetched?.get(key);
  if (early && !recording) {
    prefetched!.delete(key);
    return early as Promise<T>;
  }
  const answer = send<T>('GET', path, query);
  if (recording) {
    prefetched!.set(key, answer);
    answer.catch(() => undefined); // handled by the page that takes it
  }
  return answer;
}

/** A file the MLflow client logged (`log_artifact`), run-relative. */
export interface MlflowFile {
  path: string;
  is_dir?: boolean;
  file_size?: number;
}

/** MLflow's own listing (artifacts/list): the files `mlflow.log_artifact` put in the run's artifact folder. */
async function mlflowFiles(runId: string, path: string): Promise<{ root_uri?: string; files?: MlflowFile[] }> {
  const q = new URLSearchParams({ run_id: runId });
  if (path) q.set('path', path);
  let res: Response;
  try {
    res = await fetch(`/api/2.0/mlflow/artifacts/list?${q}`, { headers: headers() });
  } catch {
    throw new ApiError(0, 'UNREACHABLE', 'the Lineage server did not answer; is it running?');
  }
  if (!res.ok) return fail(res);
  return (await res.json()) as { root_uri?: string; files?: MlflowFile[] };
}

/** The artifact proxy's download address of a file under an `mlflow-artifacts:/…` root. */
export function mlflowFileUrl(rootUri: string, path: string): string | null {
  const scheme = 'mlflow-artifacts:/';
  if (!rootUri.startsWith(scheme)) return null;
  const folder = rootUri.slice(scheme.length).replace(/^\/+|\/+$/g, '');
  return `/api/2.0/mlflow-artifacts/artifacts/${[...folder.split('/'), ...path.split('/')].map(encodeURIComponent).join('/')}`;
}

const seg = encodeURIComponent;

/**
 * Whether the server accepts a credential not kept yet (the login form checks before remembering it): any read the
 * server authenticates; 401 means wrong, 403 means right but without a role on the project.
 */
async function accepts(authorization: string): Promise<boolean> {
  let res: Response;
  try {
    res = await fetch(url('/projects'), { headers: { Accept: 'application/json', Authorization: authorization } });
  } catch {
    throw new ApiError(0, 'UNREACHABLE', 'The Lineage server did not answer; is it running?');
  }
  return res.status !== 401;
}

export const api = {
  accepts,
  projects: () => get<{ projects: Project[] }>('/projects'),
  experiments: (q: { project: string; nameContains?: string; lifecycle?: string; limit?: number; pageToken?: string }) =>
    get<{ experiments: Experiment[]; nextPageToken?: string }>('/experiments', q),
  experiment: (id: string) => get<Experiment>(`/experiments/${seg(id)}`),
  /** The param, metric and tag keys of an experiment's runs (the filter box completes them). */
  experimentFields: (id: string) => get<{ params: string[]; metrics: string[]; tags: string[] }>(`/experiments/${seg(id)}/fields`),
  /** The commonest values of one param or tag in an experiment, starting with `prefix`. */
  fieldValues: (id: string, kind: 'param' | 'tag', key: string, prefix: string) =>
    get<{ values: string[] }>(`/experiments/${seg(id)}/fields/values`, { kind, key, prefix, limit: 12 }),
  runs: (q: Query) => get<{ runs: Run[]; nextPageToken?: string }>('/runs', q),
  /** The query language (docs/query.md): filter, repeated orderBy, keyset paging by token. */
  searchRuns: (q: RunSearch) =>
    get<{ runs: Run[]; nextPageToken?: string; eventsHead?: number }>('/search/runs', q),
  run: (id: string) => get<Run>(`/runs/${seg(id)}`),
  renameRun: (id: string, name: string) => send<Run>('PATCH', `/runs/${seg(id)}`, undefined, { name }),
  setRunTag: (id: string, key: string, value: string) => send<unknown>('POST', `/runs/${seg(id)}/tags`, undefined, { key, value }),
  /** Tag keys may hold '/': each segment is encoded on its own (the route takes the rest of the path). */
  deleteRunTag: (id: string, key: string) => send<void>('DELETE', `/runs/${seg(id)}/tags/${key.split('/').map(seg).join('/')}`),
  mlflowFiles,
  history: (runId: string, key: string, maxPoints: number) =>
    get<MetricHistory>(`/runs/${seg(runId)}/metrics/history`, { key, maxPoints }),
  /**
   * One metric of many runs (up to 1,000), each downsampled to `maxPoints`, in one request: the runs chart panel. Asked in
   * the compact `columns` form (three arrays a run: about half the bytes, and no object per point to parse); without
   * `timestamps` when the chart's x axis is the step (40% fewer bytes again).
   */
  histories: (runIds: string[], key: string, maxPoints: number, timestamps: boolean) =>
    send<{ key: string; series: RunSeries[] }>('POST', '/runs/metrics/history', undefined, { key, runIds, maxPoints, format: 'columns', timestamps }),
  // Artifacts and models are named within a project: every read by name says which.
  artifacts: (q: Query & { project: string }) => get<{ artifacts: ArtifactVersion[]; nextPageToken?: string }>('/artifacts', q),
  versions: (project: string, name: string) =>
    get<{ artifacts: ArtifactVersion[]; nextPageToken?: string }>(`/artifacts/${seg(name)}/versions`, { project, limit: 1000 }),
  version: (project: string, name: string, ref: string) => get<ArtifactVersion>(`/artifacts/${seg(name)}/versions/${seg(ref)}`, { project }),
  manifest: (project: string, name: string, ref: string) =>
    get<{ digest: string; files: ManifestEntry[] }>(`/artifacts/${seg(name)}/versions/${seg(ref)}/manifest`, { project }),
  /** A dataset version's recorded facts and validations (404 when the artifact is not a dataset). */
  dataset: (project: string, name: string, ref: string) => get<DatasetVersion>(`/datasets/${seg(name)}/versions/${seg(ref)}`, { project }),
  /** Dataset versions of a project whose latest result of some check failed, newest first: what lists and graphs flag. */
  failingDatasets: (project: string) =>
    get<{ versions: { name: string; version: number; failedChecks: number }[] }>('/datasets/failing', { project, limit: 1000 }),
  aliasHistory: (project: string, name: string) => get<{ changes: AliasChange[] }>(`/artifacts/${seg(name)}/aliases/history`, { project }),
  contentUrl: (project: string, name: string, ref: string, path?: string, format?: string) =>
    url(`/artifacts/${seg(name)}/versions/${seg(ref)}/content`, { project, path, format }),
  /** `node` as typed (artifact:name@version is looked up in `project`) or from a graph (artifact:<id>, run:<id>…). */
  graph: (project: string, node: string, direction = 'both', depth = 1) => get<Graph>('/lineage/graph', { project, node, direction, depth }),
  execution: (id: string) => get<Execution>(`/executions/${seg(id)}`),
  executions: (q: { project: string; type?: string; limit?: number }) => get<{ executions: Execution[]; nextPageToken?: string }>('/executions', q),
  path: (project: string, from: string, to: string) => get<Graph>('/lineage/path', { project, from, to }),
  /** `artifact` is an id or name@version (looked up in `project`). */
  impact: (project: string, artifact: string) => get<Impact>('/lineage/impact', { project, artifact }),

  job: (project: string, ns: string, job: string) => get<MqJob>(`/namespaces/${seg(ns)}/jobs/${seg(job)}`, { project }),
  jobRuns: (project: string, ns: string, job: string) =>
    get<{ runs: MqRun[]; totalCount: number }>(`/namespaces/${seg(ns)}/jobs/${seg(job)}/runs`, { project, limit: 100 }),
  openLineageDataset: (project: string, ns: string, name: string) => get<MqDataset>(`/namespaces/${seg(ns)}/datasets/${seg(name)}`, { project }),

  models: (q: Query & { project: string }) => get<{ models: Model[]; nextPageToken?: string }>('/models', q),
  model: (project: string, name: string) => get<Model>(`/models/${seg(name)}`, { project }),
  modelVersions: (project: string, name: string, q: Query) =>
    get<{ versions: ModelVersion[]; nextPageToken?: string }>(`/models/${seg(name)}/versions`, { ...q, project }),
  modelHistory: (project: string, name: string) => get<{ changes: RegistryChange[] }>(`/models/${seg(name)}/history`, { project }),
  promotions: (q: Query & { project: string }) => get<{ requests: Promotion[]; nextPageToken?: string }>('/promotions', q),
  /** Files a promotion request: the version to an alias or to a stage (an approver decides on the Approvals page). */
  requestPromotion: (project: string, model: string, body: { version: number; alias?: string; stage?: string; comment?: string }, actingAs?: string) =>
    send<Promotion>('POST', `/models/${seg(model)}/promotions`, { project }, body, actingAs),
  /** Moves an alias at once (approver role; a model with approvers lets only them). */
  setModelAlias: (project: string, model: string, alias: string, version: number, actingAs?: string) =>
    send<unknown>('PUT', `/models/${seg(model)}/aliases/${seg(alias)}`, { project }, { version }, actingAs),
  transitionStage: (project: string, model: string, version: number, stage: string, actingAs?: string) =>
    send<unknown>('POST', `/models/${seg(model)}/versions/${version}/stage`, { project }, { stage }, actingAs),
  decide: (id: string, approve: boolean, comment: string, actingAs?: string) =>
    send<Promotion>('POST', `/promotions/${seg(id)}/${approve ? 'approve' : 'reject'}`, undefined, comment ? { comment } : {}, actingAs),
  deployments: (q: Query & { project: string }) => get<{ deployments: Deployment[]; nextPageToken?: string }>('/deployments', q),
  environmentHistory: (project: string, env: string, q: Query) =>
    get<{ deployments: Deployment[]; nextPageToken?: string }>(`/environments/${seg(env)}/history`, { ...q, project }),
  environmentStats: (project: string) => get<{ environments: EnvironmentStats[] }>('/environments/stats', { project }),
  modelMetrics: (project: string, model: string) => get<ModelMetrics>('/dashboards/model-metrics', { project, model, limit: 1000 }),
  usage: (q: Query & { project: string }) => get<Usage>('/dashboards/usage', q),
  /** The audit log spans every project (server admins only). */
  audit: (q: Query) => get<{ entries: AuditEntry[]; nextPageToken?: string }>('/audit', q),
  verifyAudit: () => get<AuditVerification>('/audit/verify'),

  /** Alert rules and alerts (docs/events.md): admins manage rules, writers acknowledge, resolve and mute. */
  alertRules: (project: string) => get<{ rules: AlertRule[] }>('/alerts/rules', { project }),
  createAlertRule: (project: string, body: { name: string; kind: string; severity: string; description?: string; condition: AlertCondition }) =>
    send<AlertRule>('POST', '/alerts/rules', undefined, { ...body, project }),
  deleteAlertRule: (id: number) => send<void>('DELETE', `/alerts/rules/${id}`),
  muteAlertRule: (id: number, minutes: number) => send<AlertRule>('POST', `/alerts/rules/${id}/mute`, undefined, { minutes }),
  unmuteAlertRule: (id: number) => send<AlertRule>('DELETE', `/alerts/rules/${id}/mute`),
  alerts: (q: { project: string; state?: string; rule?: number; limit?: number; pageToken?: string | null }) =>
    get<{ alerts: Alert[]; nextPageToken?: string }>('/alerts', q),
  acknowledgeAlert: (id: number) => send<Alert>('POST', `/alerts/${id}/acknowledge`),
  resolveAlert: (id: number) => send<Alert>('POST', `/alerts/${id}/resolve`),

  /** Webhooks of a project (its admins): the secret is in the creation's answer only. */
  webhooks: (project: string) => get<{ webhooks: Webhook[] }>('/webhooks', { project }),
  webhook: (id: number) => get<Webhook>(`/webhooks/${id}`),
  createWebhook: (project: string, body: WebhookChange & { name: string; url: string }) => send<Webhook>('POST', '/webhooks', undefined, { ...body, project }),
  updateWebhook: (id: number, change: WebhookChange) => send<Webhook>('PATCH', `/webhooks/${id}`, undefined, change),
  deleteWebhook: (id: number) => send<void>('DELETE', `/webhooks/${id}`),
  testWebhook: (id: number) => send<void>('POST', `/webhooks/${id}/test`),
  deliveries: (id: number, q: { status?: string; limit?: number; pageToken?: string | null }) =>
    get<{ deliveries: WebhookDelivery[]; nextPageToken?: string }>(`/webhooks/${id}/deliveries`, q),
  redeliver: (id: number, deliveryId: number) => send<WebhookDelivery>('POST', `/webhooks/${id}/deliveries/${deliveryId}/redeliver`),
};

/** One event of the store's event log (docs/events.md), as the stream delivers it. */
export interface LineageEvent {
  id: number;
  type: string;
  project: string;
  time: number;
  actor?: string;
  entity: string;
  payload: Record<string, unknown>;
}

/**
 * Opens `GET /api/v1/events/stream` (Server-Sent Events) with the signed-in credential (an EventSource cannot send
 * one), resuming after `lastId` when given. A refusal (400, 401, 403) throws as any API error does.
 */
export async function openEventStream(q: { types: string[]; project?: string }, lastId: number | null, signal: AbortSignal): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url('/events/stream', { type: q.types.join(','), project: q.project }), {
      headers: headers({ Accept: 'text/event-stream', ...(lastId !== null ? { 'Last-Event-ID': String(lastId) } : {}) }),
      signal,
    });
  } catch (err) {
    if (signal.aborted) throw err;
    throw new ApiError(0, 'UNREACHABLE', 'the Lineage server did not answer; is it running?');
  }
  if (!res.ok || !res.body) return fail(res);
  return res;
}

/** The first `bytes` bytes of a URL (HTTP Range), and the full size when the server tells it. */
export async function fetchHead(u: string, bytes: number): Promise<{ data: Uint8Array; total: number; contentType: string }> {
  const res = await fetch(u, { headers: headers({ Range: `bytes=0-${bytes - 1}` }) });
  if (!res.ok && res.status !== 206) return fail(res);
  const data = new Uint8Array(await res.arrayBuffer());
  const range = res.headers.get('Content-Range');
  const total = range ? Number(range.split('/')[1]) : data.length;
  return { data, total: Number.isFinite(total) ? total : data.length, contentType: res.headers.get('Content-Type') ?? '' };
}

/**
 * Bytes behind an API URL as a page-local object URL, fetched with the signed-in credential. An <img src> or a
 * download link cannot send an Authorization header, so with authentication on they go through here.
 */
export async function objectUrl(u: string): Promise<string> {
  const res = await fetch(u, { headers: headers() });
  if (!res.ok) return fail(res);
  return URL.createObjectURL(await res.blob());
}

/** Whether requests carry a credential (authentication on and signed in). */
export function signedIn(): boolean {
  return credential() !== null;
}

/** Metric values arrive as numbers or as "NaN"/"Infinity"/"-Infinity". */
export function num(v: number | string): number {
  return typeof v === 'number' ? v : Number(v);
}
