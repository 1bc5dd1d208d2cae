"""Active runs and executions: the context managers of the client.

:class:`ActiveRun` buffers metrics, params and tags; one background thread formats them into
batches of up to 10,000 points (the API's maximum) and a second one sends the batches, one request at
a time and in order, each with its own idempotency key: ``log_metric`` never waits on the network, and
the next batch is formatted while the previous one is on its way. :class:`ActiveExecution` records a pipeline step's
inputs and outputs.
"""
from __future__ import annotations

import collections
import json
import operator
import queue
import re
import threading
import time
from typing import TYPE_CHECKING, Any, Deque, Dict, List, Mapping, Optional, Tuple

from . import _http
from .errors import InvalidParameter, LineageError
from .models import Artifact, Execution, Run, from_wire

if TYPE_CHECKING:  # pragma: no cover
    from .client import ArtifactRef, Client

MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 8000
MAX_BATCH_METRICS = 10_000
MAX_BATCH_PARAMS = 1_000
MAX_BATCH_TAGS = 1_000
#: Entries waiting to be sent before logging blocks (memory stays bounded when the server is down).
MAX_PENDING = 1_000_000
#: How often the sender wakes up when fewer than a batch of entries are waiting (seconds).
FLUSH_INTERVAL = 0.2

_KEY = re.compile(r"^[A-Za-z0-9_\-. /]{1,250}$")
_PARAM, _TAG = 1, 2


def validate_key(key: str, field: str = "key") -> str:
    """Raises :class:`InvalidParameter` for a key the server would refuse (same rules, checked at the call)."""
    if not isinstance(key, str) or not _KEY.match(key) or any(p in (".", "..") for p in key.split("/")):
        raise InvalidParameter("INVALID_PARAMETER_VALUE",
                               f"'{field}' value {key!r} must be 1-{MAX_KEY_LENGTH} letters, digits, '_', '-', '.', ' ' or '/' "
                               "(no '.' or '..' path segment)", None, field)
    return key


def _validate_text(value: str, limit: int, field: str) -> str:
    if not isinstance(value, str):
        value = str(value)
    if len(value) > limit:
        raise InvalidParameter("INVALID_PARAMETER_VALUE", f"'{field}' is {len(value)} characters long; the limit is {limit}", None, field)
    return value


_time = time.time


def _now_ms() -> int:
    return int(_time() * 1000)


def _integer(value: Any, field: str) -> int:
    """An int from any integral number (numpy's too); :class:`InvalidParameter` for anything else."""
    try:
        return operator.index(value)
    except TypeError:
        raise InvalidParameter("INVALID_PARAMETER_VALUE", f"'{field}' must be an integer, got {value!r}", None, field) from None


class _KeyValue:
    """A buffered param or tag."""
    __slots__ = ("kind", "key", "text", "sensitive")

    def __init__(self, kind: int, key: str, text: str, sensitive: bool) -> None:
        self.kind, self.key, self.text, self.sensitive = kind, key, text, sensitive


class _Marker:
    """Put in the queue by ``flush``: set once everything before it was sent."""
    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = threading.Event()


class ActiveRun:
    """A run being tracked. Use it as a context manager (from :meth:`Client.start_run`)::

        with client.start_run("churn", name="baseline") as run:
            run.log_param("lr", 0.01)
            for step in range(100):
                run.log_metric("loss", loss, step)

    Leaving the block flushes and ends the run ``FINISHED``; an exception leaving it ends the run
    ``FAILED`` (and propagates). ``log_metric``, ``log_param`` and ``set_tag`` are thread-safe and
    never wait on the network: a background thread sends them in order. Delivery errors (a param
    changed, the run deleted) are raised by the next :meth:`flush`, or when the block ends.
    """

    def __init__(self, client: "Client", run: Run) -> None:
        self._client = client
        self.info = run
        self._pending: Deque[Any] = collections.deque()
        self._wake = threading.Event()
        self._stop = False
        self._errors: List[LineageError] = []
        self._errors_lock = threading.Lock()
        self._key_json: Dict[str, str] = {}
        self._ended = False
        # Formatted batches waiting for the poster: one, so at most two batches are held formatted (~1 MB).
        self._outbox: "queue.Queue[Optional[Tuple[Optional[bytes], List[_Marker]]]]" = queue.Queue(maxsize=1)
        self._sender = threading.Thread(target=self._send_loop, name=f"lineage-run-{run.run_id[:8]}", daemon=True)
        self._poster = threading.Thread(target=self._post_loop, name=f"lineage-post-{run.run_id[:8]}", daemon=True)
        self._sender.start()
        self._poster.start()

    @property
    def run_id(self) -> str:
        """The run's id."""
        return self.info.run_id

    @property
    def experiment_id(self) -> str:
        """The id of the run's experiment."""
        return self.info.experiment_id

    # ---- logging (buffered) -------------------------------------------------------------

    def log_metric(self, key: str, value: float, step: int = 0, timestamp: Optional[int] = None) -> None:
        """Buffers one point; ``NaN`` and ±infinity are allowed; ``timestamp`` (Unix ms) defaults to now."""
        # The hot path of a training loop: one tuple appended to a deque (thread-safe without a lock);
        # formatting happens on the sender thread (docs/benchmarks.md, "Python client").
        if key not in self._key_json:
            self._key_json[validate_key(key)] = json.dumps(key)
        if self._ended:
            raise RuntimeError(f"run {self.run_id} has ended; start a new run to log more")
        if type(step) is not int:
            step = _integer(step, "step")
        if timestamp is None:
            timestamp = _time() * 1000.0
        elif type(timestamp) is not int:
            timestamp = _integer(timestamp, "timestamp")
        pending = self._pending
        pending.append((key, float(value), step, timestamp))
        n = len(pending)
        if n >= MAX_BATCH_METRICS:
            if n == MAX_BATCH_METRICS:
                self._wake.set()
            elif n >= MAX_PENDING:
                self._wake.set()
                self._wait_for_room()

    def log_metrics(self, metrics: Mapping[str, float], step: int = 0, timestamp: Optional[int] = None) -> None:
        """Buffers one point per key, all at ``step``."""
        ts = _now_ms() if timestamp is None else timestamp
        for key, value in metrics.items():
            self.log_metric(key, value, step, ts)

    def log_param(self, key: str, value: Any, sensitive: bool = False) -> None:
        """Buffers a param (write-once: a different value for a logged key fails the next flush).

        ``sensitive`` has the server store it encrypted whatever its key (docs/governance.md).
        """
        self._enqueue(_KeyValue(_PARAM, validate_key(key), _validate_text(value, MAX_PARAM_VALUE, "value"), sensitive))

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Buffers several params."""
        for key, value in params.items():
            self.log_param(key, value)

    def set_tag(self, key: str, value: Any, sensitive: bool = False) -> None:
        """Buffers a tag; a later value for the same key overwrites it."""
        self._enqueue(_KeyValue(_TAG, validate_key(key), _validate_text(value, MAX_TAG_VALUE, "value"), sensitive))

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Buffers several tags."""
        for key, value in tags.items():
            self.set_tag(key, value)

    def flush(self, timeout: Optional[float] = None) -> None:
        """Waits until everything logged before this call is stored, then raises the first delivery
        error since the last flush (the rejected batch is not stored). ``TimeoutError`` after ``timeout`` seconds."""
        marker = _Marker()
        self._pending.append(marker)
        self._wake.set()
        if not marker.done.wait(timeout):
            raise TimeoutError(f"run {self.run_id}: buffered entries not stored within {timeout} s")
        self._raise_errors()

    # ---- direct calls -------------------------------------------------------------------

    def log_input(self, artifact: "ArtifactRef", version: Any = None, role: str = "input") -> Execution:
        """Records that this run consumed an artifact version (its training data, a config)."""
        return self._client.log_input(self.run_id, artifact, version=version, role=role)

    def register_artifact(self, name: str, path: str, artifact_type: str, metadata: Any = None, **kwargs: Any) -> Artifact:
        """Registers a file or directory as an artifact version produced by this run (see :meth:`Client.register_artifact`)."""
        return self._client.register_artifact(name=name, path=path, artifact_type=artifact_type, metadata=metadata, run=self, **kwargs)

    def start_child_run(self, name: Optional[str] = None, tags: Optional[Mapping[str, str]] = None) -> "ActiveRun":
        """Starts a nested run in the same experiment with this run as parent."""
        return self._client.start_run(experiment_id=self.experiment_id, name=name, tags=tags, parent_run_id=self.run_id)

    def refresh(self) -> Run:
        """Flushes, then reads the run back from the server (params, tags, latest metrics)."""
        self.flush()
        self.info = self._client.get_run(self.run_id)
        return self.info

    def end(self, status: str = "FINISHED") -> None:
        """Flushes, then ends the run with ``status`` (FINISHED, FAILED or KILLED). Later calls do nothing.

        The run is ended even when the flush failed; the flush error is raised afterwards."""
        if self._ended:
            return
        flush_error: Optional[LineageError] = None
        try:
            self.flush()
        except LineageError as exc:
            flush_error = exc
        self._ended = True
        self._stop_sender()
        self.info = self._client.update_run(self.run_id, status=status, end_time=_now_ms())
        if flush_error is not None:
            raise flush_error

    def __enter__(self) -> "ActiveRun":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.end("FINISHED")
            return
        try:
            self.end("KILLED" if issubclass(exc_type, KeyboardInterrupt) else "FAILED")
        except LineageError:
            pass  # the block's own exception is propagating; it matters more than ours

    def __repr__(self) -> str:
        return f"ActiveRun(run_id={self.run_id!r}, experiment_id={self.experiment_id!r})"

    # ---- the sender ---------------------------------------------------------------------

    def _enqueue(self, entry: "_KeyValue") -> None:
        if self._ended:
            raise RuntimeError(f"run {self.run_id} has ended; start a new run to log more")
        self._pending.append(entry)
        if len(self._pending) >= MAX_PENDING:
            self._wake.set()
            self._wait_for_room()

    def _wait_for_room(self) -> None:
        while len(self._pending) >= MAX_PENDING and self._sender.is_alive():
            time.sleep(0.001)

    def _send_loop(self) -> None:
        while True:
            self._wake.wait(FLUSH_INTERVAL)
            self._wake.clear()
            stopping = self._stop
            while self._pending:
                try:
                    self._send_next()
                except Exception as exc:  # a bug must not stop the sender: flush() would wait forever
                    with self._errors_lock:
                        self._errors.append(LineageError("INTERNAL_ERROR", f"sending a batch failed: {exc!r}"))
            if stopping:
                self._outbox.put(None)
                return

    def _post_loop(self) -> None:
        """Sends the formatted batches in order, one request at a time; a flush marker is set once every batch
        before it was sent. Runs beside the formatter, which meanwhile formats the next batch (the socket wait
        releases the GIL)."""
        while True:
            item = self._outbox.get()
            if item is None:
                return
            body, markers = item
            if body is not None:
                try:
                    # One key for all attempts: a batch stored whose answer was lost is not stored twice.
                    self._client._transport.request("POST", _http.path("runs", self.run_id, "batch"), body=body,
                                                    content_type="application/json", idempotency_key=_http.new_key())
                except LineageError as exc:
                    with self._errors_lock:
                        self._errors.append(exc)
                except Exception as exc:  # never let the poster die silently
                    with self._errors_lock:
                        self._errors.append(LineageError("INTERNAL_ERROR", f"sending a batch failed: {exc!r}"))
            for marker in markers:
                marker.done.set()

    def _send_next(self) -> None:
        """Takes one batch off the queue (up to the batch limits or the next flush marker), formats it and hands
        it to the poster.

        Queue entries: a metric is a plain tuple (key, value, step, timestamp in ms), a param or tag a
        :class:`_KeyValue`, a flush a :class:`_Marker`."""
        pending = self._pending
        popleft = pending.popleft
        metrics: List[str] = []
        params: List[str] = []
        tags: List[str] = []
        markers: List[_Marker] = []
        key_json = self._key_json
        point = '{"key":%s,"value":%r,"step":%d,"timestamp":%d}'
        append = metrics.append
        while pending:
            entry = pending[0]
            if type(entry) is tuple:
                if len(metrics) == MAX_BATCH_METRICS:
                    break
                popleft()
                key, value, step, ts = entry
                append(point % (key_json[key], value, step, ts))
                continue
            if isinstance(entry, _Marker):
                if metrics or params or tags:
                    break  # send what came before the marker first
                popleft()
                markers.append(entry)
                continue
            target = params if entry.kind == _PARAM else tags
            if len(target) == (MAX_BATCH_PARAMS if entry.kind == _PARAM else MAX_BATCH_TAGS):
                break
            popleft()
            item = {"key": entry.key, "value": entry.text}
            if entry.sensitive:
                item["sensitive"] = True
            target.append(json.dumps(item))
        if metrics or params or tags:
            points = ",".join(metrics)
            if "nan," in points or "inf," in points:  # %r spells non-finite floats nan/inf; the API takes "NaN", "Infinity", "-Infinity"
                points = points.replace(':nan,', ':"NaN",').replace(':inf,', ':"Infinity",').replace(':-inf,', ':"-Infinity",')
            text = '{"metrics":[' + points + '],"params":[' + ",".join(params) + '],"tags":[' + ",".join(tags) + "]}"
            self._outbox.put((text.encode(), markers))
        elif markers:
            self._outbox.put((None, markers))

    def _raise_errors(self) -> None:
        with self._errors_lock:
            first = self._errors[0] if self._errors else None
            self._errors.clear()
        if first is not None:
            raise first

    def _stop_sender(self) -> None:
        self._stop = True
        self._wake.set()
        self._sender.join()
        self._poster.join()


class ActiveExecution:
    """A pipeline step being recorded (from :meth:`Client.execution`)::

        with client.execution("preprocess", type="Transform", inputs=["raw@1"]) as ex:
            ex.input("lookup@latest")
            ex.output(client.register_artifact(name="features", path="f.csv", artifact_type="dataset"))

    Inputs are recorded at once; outputs when the block ends, which then closes the execution
    ``COMPLETE``, or ``FAILED`` when an exception left the block.
    """

    def __init__(self, client: "Client", execution: Execution) -> None:
        self._client = client
        self.info = execution
        self._outputs: List[Dict[str, Any]] = []
        self._lock = threading.Lock()
        self._ended = False

    @property
    def execution_id(self) -> str:
        """The execution's id."""
        return self.info.execution_id

    def input(self, artifact: "ArtifactRef", role: str = "input") -> None:
        """Records now that this step consumed ``artifact`` (an :class:`Artifact`, ``"name@version"`` or ``"name"``)."""
        self.info = self._client.add_events(self.execution_id, inputs=[(artifact, role)])

    def output(self, artifact: "ArtifactRef", role: str = "output") -> None:
        """Records, when the step ends, that it produced ``artifact``."""
        with self._lock:
            self._outputs.append({"artifact": self._client._artifact_ref(artifact), "role": role})

    def end(self, state: str = "COMPLETE") -> Execution:
        """Records the outputs and ends the step with ``state`` (COMPLETE, FAILED, CANCELED). Later calls do nothing."""
        if self._ended:
            return self.info
        with self._lock:
            outputs = list(self._outputs)
        t = self._client._transport
        if outputs:
            t.request("POST", _http.path("executions", self.execution_id, "events"), body={"outputs": outputs})
        self.info = from_wire(Execution, t.request("PATCH", _http.path("executions", self.execution_id), body={"state": state}))
        self._ended = True
        return self.info

    def __enter__(self) -> "ActiveExecution":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.end("COMPLETE")
            return
        try:
            self.end("FAILED")
        except LineageError:
            pass  # the block's own exception matters more
