// Live updates: the server's event stream (GET /api/v1/events/stream, Server-Sent Events, docs/events.md) read
// with fetch so the signed-in credential goes along. A dropped connection is opened again and resumes after the
// last event seen (Last-Event-ID): nothing is missed or delivered twice.

import { ApiError, openEventStream, type LineageEvent } from './api';

export interface StreamHandlers {
  /** One event, in commit order. */
  event: (e: LineageEvent) => void;
  /**
   * The stream is open. Called on the first connection and on every reconnection that could not resume: unless
   * `resumed` (the caller gave `after`), what changed before it is not in the stream, so the caller reads the current
   * state once.
   */
  open?: (resumed: boolean) => void;
  /** The server refused the stream (a 4xx): it is not tried again. */
  refused?: (err: ApiError) => void;
}

/** Waits after a failed connection: 1 s, doubling, at most 15 s. */
const retryMs = (attempt: number) => Math.min(15_000, 1000 * 2 ** attempt);

/**
 * Follows the events of `types` (exact or `entity.*`) in `project` (all readable projects without one); the returned
 * function stops it. `after`: the event id the caller's data is known to include (the runs search's `eventsHead`): the
 * stream resumes after it, and the first `open` says so (`resumed`).
 */
export function followEvents(q: { types: string[]; project?: string }, on: StreamHandlers, after?: number): () => void {
  const abort = new AbortController();
  let lastId: number | null = after !== undefined && Number.isFinite(after) ? after : null;
  let opened = false;
  const run = async () => {
    for (let attempt = 0; !abort.signal.aborted; ) {
      try {
        const res = await openEventStream(q, lastId, abort.signal);
        attempt = 0;
        if (!opened || lastId === null) on.open?.(lastId !== null);
        opened = true;
        await readEvents(res.body!, (e) => {
          lastId = e.id;
          on.event(e);
        });
        // The server ended the stream (a restart): open it again after a pause, resuming after the last event.
        await new Promise((r) => setTimeout(r, retryMs(0)));
      } catch (err) {
        if (abort.signal.aborted) return;
        if (err instanceof ApiError && err.status >= 400 && err.status < 500) {
          on.refused?.(err);
          return;
        }
        await new Promise((r) => setTimeout(r, retryMs(attempt++)));
      }
    }
  };
  void run();
  return () => abort.abort();
}

/** Parses `text/event-stream` records (`id:`, `event:`, `data:`; comment lines start with ':') until the body ends. */
async function readEvents(body: ReadableStream<Uint8Array>, emit: (e: LineageEvent) => void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const record = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = record.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
      if (data) emit(JSON.parse(data) as LineageEvent);
    }
  }
}

/**
 * Runs `work` after a burst of calls has settled for `ms`, never two at once: a burst of events costs one refresh,
 * and a call during a refresh schedules one more after it.
 */
export function coalesce(work: () => Promise<void>, ms = 50): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = false;
  let again = false;
  const start = async () => {
    timer = undefined;
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      await work();
    } finally {
      running = false;
      if (again) {
        again = false;
        void start();
      }
    }
  };
  return () => {
    if (timer === undefined) timer = setTimeout(() => void start(), ms);
  };
}
