"""The Lineage client: one object per server, for runs, artifacts, lineage, registry and search."""
from __future__ import annotations

import getpass
import hashlib
import os
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from . import _http, environment
from ._http import path
from .errors import AlreadyExists, InvalidParameter, NotFound, ServerError
from .models import (AliasChange, Artifact, Column, Context, ContextMembers, DatasetSchema, DatasetVersion, Deployment,
                     EnvironmentStats, Execution, Experiment, Feature, FeatureSet, FeatureSpec, FeatureUsage, Graph, Impact,
                     ManifestCheck, ManifestEntry, MetricPoint, ModelVersion, Project, Promotion, Provenance, RegisteredModel,
                     RegistryChange, ResultList, Run, SchemaDiff, ValidationCheck, from_wire, result_list)
from .run import ActiveExecution, ActiveRun, validate_key

#: An artifact version as the lineage calls take it: an :class:`Artifact`, ``"name@version"``
#: (version: number, ``latest`` or an alias), ``"name"`` (latest), or a wire dict (``{"id": ...}``).
ArtifactRef = Union[Artifact, str, Mapping[str, Any]]

_CHUNK = 1 << 20


class Client:
    """A client of one Lineage server (the native API ``/api/v1``, docs/api.md).

    Args:
        url: the server root, e.g. ``http://127.0.0.1:5000``; default ``$LINEAGE_URL``, else that address.
        token: an API token for servers with authentication; default ``$LINEAGE_TOKEN``.
        project: the project every call works in; default ``$LINEAGE_PROJECT``, else the server's ``default``.
        user: who an open server (no users) records as the actor (``Lineage-User``); default the OS user.
        timeout: seconds one request may take before it counts as failed.
        max_retries: how often a request answered 429/503, or lost on the network, is sent again
            (with exponential backoff, honouring ``Retry-After``). Writes carry an idempotency key, so
            a retried write is applied once.

    Every failure raises a :class:`lineage.LineageError` subclass (``NotFound``, ``Conflict``,
    ``PermissionDenied``, ...) carrying the server's ``error_code``. Thread-safe: share one client.
    """

    def __init__(self, url: Optional[str] = None, token: Optional[str] = None, project: Optional[str] = None,
                 user: Optional[str] = None, timeout: float = 100.0, max_retries: int = 5) -> None:
        self.url = (url or os.environ.get("LINEAGE_URL") or "http://127.0.0.1:5000").rstrip("/")
        self.project = project or os.environ.get("LINEAGE_PROJECT") or None
        token = token or os.environ.get("LINEAGE_TOKEN") or None
        if user is None:
            try:
                user = getpass.getuser()
            except Exception:
                user = None
        self._transport = _http.Transport(self.url, token, user, timeout, max_retries)

    def __repr__(self) -> str:
        return f"Client(url={self.url!r}, project={self.project!r})"

    def close(self) -> None:
        """Closes the calling thread's connection (the client stays usable)."""
        self._transport.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _get(self, url_path: str, query: Any = None) -> Any:
        return self._transport.request("GET", url_path, query)

    def _send(self, method: str, url_path: str, body: Any = None, query: Any = None) -> Any:
        return self._transport.request(method, url_path, query, body=_clean(body))

    def _pq(self, **extra: Any) -> List[Tuple[str, Any]]:
        """Query pairs with this client's project first."""
        return [("project", self.project)] + list(extra.items())

    # ---- health and projects ----------------------------------------------------------

    def health(self) -> Dict[str, Any]:
        """``{"status": "ok", "version": ...}`` while the server process is up."""
        return self._transport.request("GET", "/health")

    def ready(self) -> Dict[str, Any]:
        """``{"status": "ready", ...}`` when the database answers; :class:`Unavailable` otherwise."""
        return self._transport.request("GET", "/ready")

    def create_project(self, name: str, description: Optional[str] = None) -> Project:
        """Creates a project (names: 1-100 of ``a-z 0-9 - _ .``); :class:`AlreadyExists` when taken."""
        return from_wire(Project, self._send("POST", path("projects"), {"name": name, "description": description}))

    def get_project(self, name: str) -> Project:
        """One project; :class:`NotFound` when it does not exist."""
        return from_wire(Project, self._get(path("projects", name)))

    def list_projects(self) -> ResultList[Project]:
        """The projects the caller can read."""
        return result_list(Project, self._get(path("projects"))["projects"])

    # ---- experiments ------------------------------------------------------------------

    def create_experiment(self, name: str, description: Optional[str] = None, tags: Optional[Mapping[str, str]] = None) -> Experiment:
        """Creates an experiment in the client's project; :class:`AlreadyExists` when the name is taken."""
        return from_wire(Experiment, self._send("POST", path("experiments"),
                                                {"name": name, "project": self.project, "description": description, "tags": tags}))

    def get_experiment(self, experiment_id: str) -> Experiment:
        """An experiment by id."""
        return from_wire(Experiment, self._get(path("experiments", experiment_id)))

    def get_experiment_by_name(self, name: str) -> Experiment:
        """An experiment by name in the client's project; :class:`NotFound` when missing."""
        return from_wire(Experiment, self._get(path("experiments", "by-name"), self._pq(name=name)))

    def get_or_create_experiment(self, name: str) -> Experiment:
        """The experiment with this name, created when missing (safe against concurrent creators)."""
        try:
            return self.get_experiment_by_name(name)
        except NotFound:
            pass
        try:
            return self.create_experiment(name)
        except AlreadyExists:
            return self.get_experiment_by_name(name)

    def list_experiments(self, name_contains: Optional[str] = None, lifecycle: Optional[str] = None,
                         limit: Optional[int] = None, page_token: Optional[str] = None) -> ResultList[Experiment]:
        """Experiments of the client's project by id (``lifecycle``: active, deleted or all); ``next_page_token`` when more."""
        answer = self._get(path("experiments"), self._pq(lifecycle=lifecycle, nameContains=name_contains, limit=limit, pageToken=page_token))
        return result_list(Experiment, answer["experiments"], answer.get("nextPageToken"))

    def update_experiment(self, experiment_id: str, name: Optional[str] = None, description: Optional[str] = None) -> Experiment:
        """Renames or describes an experiment."""
        return from_wire(Experiment, self._send("PATCH", path("experiments", experiment_id), {"name": name, "description": description}))

    def delete_experiment(self, experiment_id: str) -> Experiment:
        """Soft-deletes an experiment with its active runs."""
        return from_wire(Experiment, self._send("DELETE", path("experiments", experiment_id)))

    def restore_experiment(self, experiment_id: str) -> Experiment:
        """Restores a deleted experiment with exactly the runs its deletion took."""
        return from_wire(Experiment, self._send("POST", path("experiments", experiment_id, "restore")))

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        """Sets (overwrites) an experiment tag."""
        self._send("POST", path("experiments", experiment_id, "tags"), {"key": validate_key(key), "value": value})

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """Deletes an experiment tag."""
        self._send("DELETE", path("experiments", experiment_id, "tags") + "/" + _key_path(key))

    # ---- runs -------------------------------------------------------------------------

    def start_run(self, experiment: Optional[str] = None, name: Optional[str] = None, tags: Optional[Mapping[str, str]] = None,
                  parent_run_id: Optional[str] = None, experiment_id: Optional[str] = None,
                  capture_environment: bool = True) -> ActiveRun:
        """Starts a run and returns it for a ``with`` block (see :class:`ActiveRun`).

        ``experiment`` names the experiment (created when missing) in the client's project;
        ``experiment_id`` picks one by id instead; with neither, the server's ``Default``
        experiment (``0``). The run records where it runs (git commit, host, Python version,
        packages: :func:`lineage.environment.capture`) unless ``capture_environment`` is false.
        """
        if experiment is not None and experiment_id is not None:
            raise ValueError("give experiment (a name) or experiment_id, not both")
        if experiment is not None:
            experiment_id = self.get_or_create_experiment(experiment).experiment_id
        all_tags: Dict[str, str] = environment.capture() if capture_environment else {}
        all_tags.update(tags or {})
        answer = self._send("POST", path("runs"), {"experimentId": experiment_id or "0", "name": name, "user": self._user(),
                                                   "parentRunId": parent_run_id, "tags": all_tags})
        return ActiveRun(self, from_wire(Run, answer))

    def _user(self) -> Optional[str]:
        try:
            return getpass.getuser()
        except Exception:
            return None

    def get_run(self, run_id: str) -> Run:
        """A run with its params, tags and latest metric values."""
        return from_wire(Run, self._get(path("runs", run_id)))

    def list_runs(self, experiment_ids: Optional[Sequence[str]] = None, status: Optional[str] = None, lifecycle: Optional[str] = None,
                  parent_run_id: Optional[str] = None, user: Optional[str] = None, limit: Optional[int] = None,
                  page_token: Optional[str] = None) -> ResultList[Run]:
        """Runs, newest start first, of the given experiments (all when omitted)."""
        answer = self._get(path("runs"), [("experimentId", ",".join(experiment_ids) if experiment_ids else None), ("status", status),
                                          ("lifecycle", lifecycle), ("parentRunId", parent_run_id), ("user", user), ("limit", limit),
                                          ("pageToken", page_token)])
        return result_list(Run, answer["runs"], answer.get("nextPageToken"))

    def update_run(self, run_id: str, status: Optional[str] = None, end_time: Optional[int] = None, name: Optional[str] = None) -> Run:
        """Renames a run or sets its status; a terminal status without ``end_time`` ends it now."""
        return from_wire(Run, self._send("PATCH", path("runs", run_id), {"status": status, "endTime": end_time, "name": name}))

    def delete_run(self, run_id: str) -> Run:
        """Soft-deletes a run."""
        return from_wire(Run, self._send("DELETE", path("runs", run_id)))

    def restore_run(self, run_id: str) -> Run:
        """Restores a deleted run."""
        return from_wire(Run, self._send("POST", path("runs", run_id, "restore")))

    def log_metric(self, run_id: str, key: str, value: float, step: int = 0, timestamp: Optional[int] = None) -> None:
        """Stores one point now (unbuffered; inside a training loop use :meth:`ActiveRun.log_metric`)."""
        self._send("POST", path("runs", run_id, "metrics"), {"key": validate_key(key), "value": float(value), "step": step,
                                                             "timestamp": timestamp})

    def log_param(self, run_id: str, key: str, value: Any, sensitive: bool = False) -> None:
        """Stores a param now (write-once: a different value is :class:`InvalidParameter`)."""
        self._send("POST", path("runs", run_id, "params"), {"key": validate_key(key), "value": str(value), "sensitive": sensitive or None})

    def set_tag(self, run_id: str, key: str, value: Any, sensitive: bool = False) -> None:
        """Sets (overwrites) a run tag now."""
        self._send("POST", path("runs", run_id, "tags"), {"key": validate_key(key), "value": str(value), "sensitive": sensitive or None})

    def delete_tag(self, run_id: str, key: str) -> None:
        """Deletes a run tag."""
        self._send("DELETE", path("runs", run_id, "tags") + "/" + _key_path(key))

    def log_batch(self, run_id: str, metrics: Iterable[Mapping[str, Any]] = (), params: Optional[Mapping[str, Any]] = None,
                  tags: Optional[Mapping[str, Any]] = None) -> Dict[str, int]:
        """Stores metrics (dicts with ``key``, ``value``, ``step``, ``timestamp``), params and tags in one
        all-or-nothing request (at most 10,000 / 1,000 / 1,000). Returns the counts stored."""
        return self._send("POST", path("runs", run_id, "batch"), {
            "metrics": [dict(m) for m in metrics],
            "params": [{"key": k, "value": str(v)} for k, v in (params or {}).items()],
            "tags": [{"key": k, "value": str(v)} for k, v in (tags or {}).items()]})

    def get_metric_history(self, run_id: str, key: str) -> ResultList[MetricPoint]:
        """Every logged point of a metric in logged order (follows the pages)."""
        points: ResultList[MetricPoint] = ResultList()
        token = None
        while True:
            answer = self._get(path("runs", run_id, "metrics", "history"), [("key", key), ("limit", 100_000), ("pageToken", token)])
            points.extend(result_list(MetricPoint, answer["points"]))
            token = answer.get("nextPageToken")
            if not token:
                return points

    def log_input(self, run_id: str, artifact: ArtifactRef, version: Any = None, role: str = "input") -> Execution:
        """Records that a run consumed an artifact version (``artifact`` as in :data:`ArtifactRef`, or a name with ``version``)."""
        return from_wire(Execution, self._send("POST", path("runs", run_id, "inputs"),
                                               {"artifact": self._artifact_ref(artifact, version), "role": role}))

    # ---- artifacts --------------------------------------------------------------------

    def register_artifact(self, name: str, path: str, artifact_type: str = "artifact", metadata: Any = None,
                          description: Optional[str] = None, tags: Optional[Mapping[str, str]] = None,
                          run: Union[None, str, ActiveRun, Run] = None, inputs: Optional[Sequence[ArtifactRef]] = None) -> Artifact:
        """Registers the next version (1, 2, ...) of artifact ``name`` from a file or a whole directory.

        Each file is hashed locally (SHA-256), streamed only if the server lacks that content, and
        checked by the server against its digest. Symbolic links are refused before anything is sent.
        ``run`` (an id or run object) records the run as the producer; ``inputs`` records what the
        version was made from: the run's inputs when ``run`` is given, else a ``register`` execution
        with these inputs and the new version as output.
        """
        local = os.fspath(path)
        run_id = _run_id(run)
        request: Dict[str, Any] = {"name": name, "type": artifact_type, "project": self.project, "metadata": metadata,
                                   "description": description, "tags": tags, "runId": run_id}
        if os.path.islink(local):
            raise InvalidParameter("INVALID_PARAMETER_VALUE", f"'{local}' is a symbolic link; nothing was uploaded", None, "path")
        if os.path.isfile(local):
            digest, size = self._upload(local)
            request["file"] = {"digest": digest, "size": size}
        elif os.path.isdir(local):
            entries = []
            for relative, full in _walk(local):
                digest, size = self._upload(full)
                entries.append({"path": relative, "digest": digest, "size": size})
            request["files"] = entries
        else:
            raise InvalidParameter("INVALID_PARAMETER_VALUE", f"'{local}' is neither a file nor a directory", None, "path")
        artifact = from_wire(Artifact, self._send("POST", _http.path("artifacts"), request))
        self._link_inputs(artifact, run_id, inputs)
        return artifact

    def register_external(self, name: str, uri: str, digest: str, size: int, artifact_type: str = "dataset", metadata: Any = None,
                          run: Union[None, str, ActiveRun, Run] = None, inputs: Optional[Sequence[ArtifactRef]] = None) -> Artifact:
        """Registers data Lineage does not store (a data-lake path): its URI and the SHA-256 digest you vouch for."""
        run_id = _run_id(run)
        artifact = from_wire(Artifact, self._send("POST", _http.path("artifacts"), {
            "name": name, "type": artifact_type, "project": self.project, "metadata": metadata, "runId": run_id,
            "external": {"uri": uri, "digest": digest, "size": size}}))
        self._link_inputs(artifact, run_id, inputs)
        return artifact

    def _link_inputs(self, artifact: Artifact, run_id: Optional[str], inputs: Optional[Sequence[ArtifactRef]]) -> None:
        if not inputs:
            return
        if run_id is not None:
            for ref in inputs:
                self.log_input(run_id, ref)
        else:
            self.create_execution("register", name=f"register {artifact.name}", inputs=list(inputs), outputs=[artifact], state="COMPLETE")

    def _upload(self, file_path: str) -> Tuple[str, int]:
        """Uploads one file unless the server has its content; returns (digest, size)."""
        sha = hashlib.sha256()
        with open(file_path, "rb") as f:
            for chunk in iter(lambda: f.read(_CHUNK), b""):
                sha.update(chunk)
        digest = sha.hexdigest()
        size = os.path.getsize(file_path)
        status = self._transport.request("HEAD", _http.path("blobs", sha.hexdigest()), ok_statuses=(404,))
        if status == 404:
            answer = self._transport.request("PUT", _http.path("blobs"), [("digest", sha.hexdigest())],
                                             body=lambda: open(file_path, "rb"), length=size)
            digest = answer["digest"]
        return digest, size

    def get_artifact(self, name: str, version: Union[int, str] = "latest") -> Artifact:
        """One version of ``name``: a number, ``"latest"`` or an alias. :class:`NotFound` when missing."""
        return from_wire(Artifact, self._get(_http.path("artifacts", name, "versions", version), self._pq()))

    def get_artifact_by_id(self, artifact_id: str) -> Artifact:
        """An artifact version by its id."""
        return from_wire(Artifact, self._get(_http.path("artifacts", "by-id", artifact_id)))

    def list_artifacts(self, name: Optional[str] = None, artifact_type: Optional[str] = None,
                       metadata: Optional[Mapping[str, Any]] = None, lifecycle: Optional[str] = None,
                       limit: Optional[int] = None, page_token: Optional[str] = None) -> ResultList[Artifact]:
        """Versions of ``name`` (newest first), or all artifacts, filtered by type and metadata values."""
        pairs = self._pq(name=name, type=artifact_type, lifecycle=lifecycle, limit=limit, pageToken=page_token)
        pairs += [("metadata." + k, _scalar(v)) for k, v in (metadata or {}).items()]
        answer = self._get(_http.path("artifacts"), pairs)
        return result_list(Artifact, answer["artifacts"], answer.get("nextPageToken"))

    def get_manifest(self, name: str, version: Union[int, str] = "latest") -> ResultList[ManifestEntry]:
        """The files of a version (one entry for a file artifact)."""
        return result_list(ManifestEntry, self._get(_http.path("artifacts", name, "versions", version, "manifest"), self._pq())["files"])

    def download_artifact(self, name: str, version: Union[int, str] = "latest", dest: str = ".") -> str:
        """Downloads a version to ``dest``: the file itself, or the directory tree. Every file is checked
        against its SHA-256 and appears only when complete. Returns ``dest``."""
        artifact = self.get_artifact(name, version)
        content = _http.path("artifacts", name, "versions", artifact.version, "content")
        if artifact.kind == "file":
            self._download(content, self._pq(), dest, artifact.digest)
        elif artifact.kind == "directory":
            root = os.path.abspath(dest)
            for entry in self.get_manifest(name, artifact.version):
                target = os.path.abspath(os.path.join(root, *entry.path.split("/")))
                if not target.startswith(root + os.sep):
                    raise ServerError("INTERNAL_ERROR", f"manifest path {entry.path!r} leaves the destination", None)
                self._download(content, self._pq(path=entry.path), target, entry.digest)
        else:
            raise InvalidParameter("INVALID_PARAMETER_VALUE",
                                   f"'{name}' v{artifact.version} is an external reference; its content is at {artifact.storage_path}", None)
        return dest

    def _download(self, url_path: str, query: Any, dest: str, digest: str) -> None:
        os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
        temp = dest + ".lineage-partial"
        try:
            response = self._transport.request("GET", url_path, query, stream=True)
            sha = hashlib.sha256()
            with open(temp, "wb") as out:
                while True:
                    chunk = response.read(_CHUNK)
                    if not chunk:
                        break
                    sha.update(chunk)
                    out.write(chunk)
            actual = sha.hexdigest()
            if actual != digest.split(":")[-1].lower():
                raise ServerError("INTERNAL_ERROR", f"downloaded content of {dest} hashes to {actual}, expected {digest}", None)
            os.replace(temp, dest)
        finally:
            if os.path.exists(temp):
                os.remove(temp)

    def set_alias(self, name: str, alias: str, version: int) -> Artifact:
        """Points ``alias`` (e.g. ``production``) of artifact ``name`` at ``version``."""
        return from_wire(Artifact, self._send("PUT", _http.path("artifacts", name, "aliases", alias), {"version": version}, self._pq()))

    def delete_alias(self, name: str, alias: str) -> None:
        """Removes an alias."""
        self._send("DELETE", _http.path("artifacts", name, "aliases", alias), query=self._pq())

    def alias_history(self, name: str, alias: Optional[str] = None) -> ResultList[AliasChange]:
        """Every move of the aliases of ``name`` (or of one alias), oldest first."""
        return result_list(AliasChange, self._get(_http.path("artifacts", name, "aliases", "history"), self._pq(alias=alias))["changes"])

    def update_artifact(self, name: str, version: int, description: Optional[str]) -> Artifact:
        """Sets the description of a version (the content is immutable)."""
        return from_wire(Artifact, self._send("PATCH", _http.path("artifacts", name, "versions", version), {"description": description}, self._pq()))

    def delete_artifact(self, name: str, version: int) -> Artifact:
        """Soft-deletes a version (its content stays until garbage collection)."""
        return from_wire(Artifact, self._send("DELETE", _http.path("artifacts", name, "versions", version), query=self._pq()))

    def restore_artifact(self, name: str, version: int) -> Artifact:
        """Restores a deleted version."""
        return from_wire(Artifact, self._send("POST", _http.path("artifacts", name, "versions", version, "restore"), query=self._pq()))

    # ---- lineage ----------------------------------------------------------------------

    def _artifact_ref(self, ref: ArtifactRef, version: Any = None) -> Dict[str, Any]:
        if isinstance(ref, Artifact):
            return {"id": ref.artifact_id}
        if isinstance(ref, Mapping):
            return dict(ref)
        if isinstance(ref, str):
            name, at, ver = ref.partition("@")
            if not at:
                ver = "latest" if version is None else str(version)
            out: Dict[str, Any] = {"name": name, "version": ver}
            if self.project:
                out["project"] = self.project
            return out
        raise TypeError(f"an artifact reference is an Artifact, 'name@version' or a dict, got {type(ref).__name__}")

    def _events(self, refs: Optional[Sequence[Any]], default_role: str) -> Optional[List[Dict[str, Any]]]:
        if refs is None:
            return None
        events = []
        for ref in refs:
            artifact, role = ref if isinstance(ref, tuple) else (ref, default_role)
            events.append({"artifact": self._artifact_ref(artifact), "role": role})
        return events

    @staticmethod
    def _node(ref: Union[Artifact, Run, ActiveRun, Execution, str]) -> str:
        if isinstance(ref, Artifact):
            return f"artifact:{ref.artifact_id}"
        if isinstance(ref, (Run, ActiveRun)):
            return f"run:{ref.run_id}"
        if isinstance(ref, Execution):
            return f"execution:{ref.execution_id}"
        if ref.split(":", 1)[0] in ("artifact", "execution", "run"):
            return ref
        return "artifact:" + ref

    def create_execution(self, type: str, name: Optional[str] = None, inputs: Optional[Sequence[Any]] = None,
                         outputs: Optional[Sequence[Any]] = None, state: str = "RUNNING", properties: Any = None,
                         contexts: Optional[Sequence[str]] = None) -> Execution:
        """Records a pipeline step of ``type`` (e.g. ``Trainer``). ``inputs``/``outputs``: artifact refs,
        or ``(ref, role)`` pairs; ``contexts``: context ids it belongs to.

        The server keeps types as lowercase words (``trainer``); the client lowercases ``type`` here and in
        :meth:`executions`, so TFX-style names work unchanged."""
        return from_wire(Execution, self._send("POST", _http.path("executions"), {
            "type": type.lower(), "name": name or type, "project": self.project, "state": state, "properties": properties,
            "inputs": self._events(inputs, "input"), "outputs": self._events(outputs, "output"), "contexts": contexts}))

    def execution(self, name: str, type: Optional[str] = None, inputs: Optional[Sequence[Any]] = None,
                  properties: Any = None) -> ActiveExecution:
        """Starts a step for a ``with`` block that records its inputs and outputs (see :class:`ActiveExecution`)."""
        return ActiveExecution(self, self.create_execution(type or name, name=name, inputs=inputs, properties=properties))

    def get_execution(self, execution_id: str) -> Execution:
        """An execution by id."""
        return from_wire(Execution, self._get(_http.path("executions", execution_id)))

    def executions(self, type: Optional[str] = None, context_id: Optional[str] = None, limit: Optional[int] = None,
                   page_token: Optional[str] = None) -> ResultList[Execution]:
        """Executions of the client's project, by ``type`` (TFX's ``get_executions_by_type``) or context."""
        answer = self._get(_http.path("executions"), self._pq(type=type.lower() if type else None, contextId=context_id, limit=limit, pageToken=page_token))
        return result_list(Execution, answer["executions"], answer.get("nextPageToken"))

    def update_execution(self, execution_id: str, state: str) -> Execution:
        """Sets an execution's state (RUNNING, COMPLETE, FAILED, CACHED, CANCELED)."""
        return from_wire(Execution, self._send("PATCH", _http.path("executions", execution_id), {"state": state}))

    def add_events(self, execution_id: str, inputs: Optional[Sequence[Any]] = None, outputs: Optional[Sequence[Any]] = None) -> Execution:
        """Adds input and output artifact versions to an execution."""
        return from_wire(Execution, self._send("POST", _http.path("executions", execution_id, "events"),
                                               {"inputs": self._events(inputs, "input"), "outputs": self._events(outputs, "output")}))

    def create_context(self, type: str, name: str, parent_id: Optional[str] = None, properties: Any = None) -> Context:
        """Creates a context (a pipeline, a pipeline run) that executions and artifacts can join."""
        return from_wire(Context, self._send("POST", _http.path("contexts"), {"type": type, "name": name, "project": self.project,
                                                                              "parentId": parent_id, "properties": properties}))

    def contexts(self, type: Optional[str] = None, parent_id: Optional[str] = None, limit: Optional[int] = None,
                 page_token: Optional[str] = None) -> ResultList[Context]:
        """Contexts of the client's project, newest first, by ``type`` (MLMD's ``get_contexts_by_type``) or parent:
        ``"openlineage_run"`` (an OpenLineage parent run, grouping its child runs' executions) and the types clients
        create (``"pipeline"``, ``"pipeline_run"``, …). TFX-style names are lowercased (``"PipelineRun"`` → ``"pipelinerun"``)."""
        answer = self._get(_http.path("contexts"), self._pq(type=type.lower() if type else None, parentId=parent_id, limit=limit, pageToken=page_token))
        return result_list(Context, answer["contexts"], answer.get("nextPageToken"))

    def get_context(self, context_id: str) -> ContextMembers:
        """A context with its executions and artifacts."""
        return from_wire(ContextMembers, self._get(_http.path("contexts", context_id)))

    def add_to_context(self, context_id: str, executions: Sequence[Union[str, Execution]] = (),
                       artifacts: Sequence[ArtifactRef] = ()) -> ContextMembers:
        """Adds executions (ids or objects) and artifact versions to a context."""
        return from_wire(ContextMembers, self._send("POST", _http.path("contexts", context_id, "members"), {
            "executions": [e.execution_id if isinstance(e, Execution) else e for e in executions],
            "artifacts": [self._artifact_ref(a) for a in artifacts]}))

    def lineage(self, ref: Any, direction: str = "both", depth: int = 20) -> Graph:
        """The lineage graph around ``ref`` (an Artifact, a run, an execution, ``"name@version"``,
        ``"artifact:…"``, ``"run:…"`` or ``"execution:…"``); ``direction``: upstream, downstream or both."""
        return from_wire(Graph, self._get(_http.path("lineage", "graph"), self._pq(node=self._node(ref), direction=direction, depth=depth)))

    def upstream(self, ref: Any, depth: int = 20) -> Graph:
        """What ``ref`` was made from, ``depth`` steps back."""
        return self.lineage(ref, "upstream", depth)

    def downstream(self, ref: Any, depth: int = 20) -> Graph:
        """What was made from ``ref``, ``depth`` steps on."""
        return self.lineage(ref, "downstream", depth)

    def graph(self, ref: Any, format: str = "mermaid", direction: str = "both", depth: int = 20) -> str:
        """The lineage graph as text: ``format`` = ``mermaid`` or ``dot`` (Graphviz)."""
        if format not in ("mermaid", "dot"):
            raise ValueError("format must be 'mermaid' or 'dot' (lineage() returns the graph as objects)")
        return self._get(_http.path("lineage", "graph"),
                         self._pq(node=self._node(ref), direction=direction, depth=depth, format=format))

    def path_between(self, source: Any, target: Any) -> Graph:
        """The shortest lineage path from ``source`` to ``target``."""
        return from_wire(Graph, self._get(_http.path("lineage", "path"), self._pq(**{"from": self._node(source), "to": self._node(target)})))

    def impact(self, artifact: ArtifactRef) -> Impact:
        """What depends on an artifact version: model versions, runs, artifacts, executions downstream."""
        return from_wire(Impact, self._get(_http.path("lineage", "impact"), self._pq(artifact=self._version_ref(artifact))))

    def provenance(self, artifact: ArtifactRef) -> Provenance:
        """What an artifact version was made from: datasets, code, other artifacts, executions, run params."""
        return from_wire(Provenance, self._get(_http.path("lineage", "provenance"), self._pq(artifact=self._version_ref(artifact))))

    @staticmethod
    def _version_ref(ref: ArtifactRef) -> str:
        if isinstance(ref, Artifact):
            return ref.artifact_id
        if isinstance(ref, str):
            return ref if "@" in ref or ref.isdigit() else ref + "@latest"
        raise TypeError("impact/provenance take an Artifact, 'name@version' or an artifact id")

    def send_openlineage_event(self, event: Mapping[str, Any]) -> Dict[str, Any]:
        """Ingests one OpenLineage run event (as an OpenLineage client would post it)."""
        return self._send("POST", _http.path("lineage"), dict(event))

    # ---- model registry ---------------------------------------------------------------

    def create_model(self, name: str, description: Optional[str] = None, tags: Optional[Mapping[str, str]] = None,
                     approvers: Optional[Sequence[str]] = None) -> RegisteredModel:
        """Registers a model name; ``approvers`` must approve promotions of its versions."""
        return from_wire(RegisteredModel, self._send("POST", _http.path("models"), {
            "name": name, "project": self.project, "description": description, "tags": tags,
            "approvers": list(approvers) if approvers is not None else None}))

    def get_model(self, name: str) -> RegisteredModel:
        """A registered model."""
        return from_wire(RegisteredModel, self._get(_http.path("models", name), self._pq()))

    def list_models(self, name_contains: Optional[str] = None, tags: Optional[Mapping[str, str]] = None,
                    limit: Optional[int] = None, page_token: Optional[str] = None) -> ResultList[RegisteredModel]:
        """Registered models of the client's project having every given tag."""
        pairs = self._pq(nameContains=name_contains, limit=limit, pageToken=page_token) + [("tag." + k, v) for k, v in (tags or {}).items()]
        answer = self._get(_http.path("models"), pairs)
        return result_list(RegisteredModel, answer["models"], answer.get("nextPageToken"))

    def update_model(self, name: str, description: Optional[str]) -> RegisteredModel:
        """Sets a model's description."""
        return from_wire(RegisteredModel, self._send("PATCH", _http.path("models", name), {"description": description}, self._pq()))

    def delete_model(self, name: str) -> None:
        """Deletes a model with its versions (not their artifacts); :class:`Conflict` while deployed."""
        self._send("DELETE", _http.path("models", name), query=self._pq())

    def set_model_tag(self, name: str, key: str, value: str) -> RegisteredModel:
        """Sets a tag of a registered model."""
        return from_wire(RegisteredModel, self._send("POST", _http.path("models", name, "tags"), {"key": validate_key(key), "value": value},
                                                     self._pq()))

    def set_model_approvers(self, name: str, approvers: Sequence[str]) -> RegisteredModel:
        """Replaces the users who must approve promotions."""
        return from_wire(RegisteredModel, self._send("PUT", _http.path("models", name, "approvers"), {"approvers": list(approvers)}, self._pq()))

    def create_model_version(self, model: str, artifact: ArtifactRef, run_id: Optional[str] = None, description: Optional[str] = None,
                             tags: Optional[Mapping[str, str]] = None, feature_set: Optional[ArtifactRef] = None,
                             input_features: Optional[Sequence[FeatureSpec]] = None) -> ModelVersion:
        """Registers the next version of ``model`` from an artifact version (its producing run is the version's run)."""
        return from_wire(ModelVersion, self._send("POST", _http.path("models", model, "versions"), {
            "artifact": self._artifact_ref(artifact), "runId": run_id, "description": description, "tags": tags,
            "featureSet": self._artifact_ref(feature_set) if feature_set is not None else None,
            "inputFeatures": [f.to_json() for f in input_features] if input_features else None}, self._pq()))

    def get_model_version(self, model: str, version: Union[int, str] = "latest") -> ModelVersion:
        """A version by number, alias or ``"latest"``."""
        return from_wire(ModelVersion, self._get(_http.path("models", model, "versions", version), self._pq()))

    def list_model_versions(self, model: Optional[str] = None, tags: Optional[Mapping[str, str]] = None, stage: Optional[str] = None,
                            status: Optional[str] = None, limit: Optional[int] = None,
                            page_token: Optional[str] = None) -> ResultList[ModelVersion]:
        """Versions of ``model`` (or of every model) with every given tag, stage and status; newest first."""
        pairs = self._pq(model=model, stage=stage, status=status, limit=limit, pageToken=page_token) + \
            [("tag." + k, v) for k, v in (tags or {}).items()]
        answer = self._get(_http.path("model-versions"), pairs)
        return result_list(ModelVersion, answer["versions"], answer.get("nextPageToken"))

    def update_model_version(self, model: str, version: int, description: Optional[str] = None, status: Optional[str] = None,
                             status_message: Optional[str] = None) -> ModelVersion:
        """Sets a version's description or status."""
        return from_wire(ModelVersion, self._send("PATCH", _http.path("models", model, "versions", version),
                                                  {"description": description, "status": status, "statusMessage": status_message}, self._pq()))

    def set_model_version_tag(self, model: str, version: int, key: str, value: str) -> ModelVersion:
        """Sets a tag of a model version."""
        return from_wire(ModelVersion, self._send("POST", _http.path("models", model, "versions", version, "tags"),
                                                  {"key": validate_key(key), "value": value}, self._pq()))

    def delete_model_version(self, model: str, version: int) -> None:
        """Deletes one version (not its artifact); :class:`Conflict` while deployed or aliased."""
        self._send("DELETE", _http.path("models", model, "versions", version), query=self._pq())

    def transition_model_stage(self, model: str, version: int, stage: str, archive_existing: bool = False) -> ModelVersion:
        """Moves a version to None, Staging, Production or Archived (models with approvers need a promotion)."""
        return from_wire(ModelVersion, self._send("POST", _http.path("models", model, "versions", version, "stage"),
                                                  {"stage": stage, "archiveExisting": archive_existing}, self._pq()))

    def set_model_alias(self, model: str, alias: str, version: int) -> ModelVersion:
        """Points ``alias`` of ``model`` at ``version``."""
        return from_wire(ModelVersion, self._send("PUT", _http.path("models", model, "aliases", alias), {"version": version}, self._pq()))

    def delete_model_alias(self, model: str, alias: str) -> None:
        """Removes a model alias."""
        self._send("DELETE", _http.path("models", model, "aliases", alias), query=self._pq())

    def model_history(self, model: str, kind: Optional[str] = None, alias: Optional[str] = None,
                      version: Optional[int] = None) -> ResultList[RegistryChange]:
        """Every alias and stage change of a model, oldest first (``kind``: alias or stage)."""
        return result_list(RegistryChange, self._get(_http.path("models", model, "history"),
                                                     self._pq(kind=kind, alias=alias, version=version))["changes"])

    def request_promotion(self, model: str, version: int, alias: Optional[str] = None, stage: Optional[str] = None,
                          archive_existing: bool = False, comment: Optional[str] = None) -> Promotion:
        """Asks the model's approvers to move ``alias`` or ``stage`` (exactly one) to ``version``."""
        return from_wire(Promotion, self._send("POST", _http.path("models", model, "promotions"), {
            "version": version, "alias": alias, "stage": stage, "archiveExisting": archive_existing, "comment": comment}, self._pq()))

    def list_promotions(self, model: Optional[str] = None, status: Optional[str] = None) -> ResultList[Promotion]:
        """Promotion requests (``status``: PENDING, APPROVED or REJECTED)."""
        answer = self._get(_http.path("promotions"), self._pq(model=model, status=status))
        return result_list(Promotion, answer["requests"], answer.get("nextPageToken"))

    def get_promotion(self, promotion_id: str) -> Promotion:
        """One promotion request."""
        return from_wire(Promotion, self._get(_http.path("promotions", promotion_id)))

    def approve_promotion(self, promotion_id: str, comment: Optional[str] = None) -> Promotion:
        """Approves a request (as this client's user); the move happens when every approver agreed."""
        return from_wire(Promotion, self._send("POST", _http.path("promotions", promotion_id, "approve"), {"comment": comment}))

    def reject_promotion(self, promotion_id: str, comment: Optional[str] = None) -> Promotion:
        """Rejects a request."""
        return from_wire(Promotion, self._send("POST", _http.path("promotions", promotion_id, "reject"), {"comment": comment}))

    # ---- deployments ------------------------------------------------------------------

    def deploy(self, environment: str, model: str, version: int, endpoint_url: Optional[str] = None, config: Any = None) -> Deployment:
        """Records that a model version is deployed to ``environment``."""
        return from_wire(Deployment, self._send("POST", _http.path("deployments"), {
            "environment": environment, "model": model, "version": version, "endpointUrl": endpoint_url, "config": config,
            "project": self.project}))

    def get_deployment(self, deployment_id: str) -> Deployment:
        """A deployment with its status events."""
        return from_wire(Deployment, self._get(_http.path("deployments", deployment_id)))

    def list_deployments(self, environment: Optional[str] = None, model: Optional[str] = None, live: bool = False,
                         limit: Optional[int] = None, page_token: Optional[str] = None) -> ResultList[Deployment]:
        """Deployments, newest first; ``live=True``: what is deployed where right now."""
        answer = self._get(_http.path("deployments"), self._pq(environment=environment, model=model, live=True if live else None,
                                                               limit=limit, pageToken=page_token))
        return result_list(Deployment, answer["deployments"], answer.get("nextPageToken"))

    def set_deployment_status(self, deployment_id: str, status: str, reason: Optional[str] = None) -> Deployment:
        """Records a status: pending, healthy, degraded, failed or retired."""
        return from_wire(Deployment, self._send("POST", _http.path("deployments", deployment_id, "status"), {"status": status, "reason": reason}))

    def rollback_deployment(self, deployment_id: str, reason: Optional[str] = None) -> Deployment:
        """Redeploys the version that was live before ``deployment_id``; returns the new deployment."""
        return from_wire(Deployment, self._send("POST", _http.path("deployments", deployment_id, "rollback"), {"reason": reason}))

    def environment_stats(self) -> ResultList[EnvironmentStats]:
        """Deployment counts and success rate per environment."""
        return result_list(EnvironmentStats, self._get(_http.path("environments", "stats"), self._pq())["environments"])

    def environment_history(self, environment: str, model: Optional[str] = None) -> ResultList[Deployment]:
        """Every deployment to ``environment``, newest first."""
        answer = self._get(_http.path("environments", environment, "history"), self._pq(model=model))
        return result_list(Deployment, answer["deployments"], answer.get("nextPageToken"))

    # ---- datasets and features --------------------------------------------------------

    def create_dataset_schema(self, name: str, columns: Sequence[Column]) -> DatasetSchema:
        """Registers the next version of a named schema."""
        return from_wire(DatasetSchema, self._send("POST", _http.path("dataset-schemas"),
                                                   {"name": name, "columns": [c.to_json() for c in columns], "project": self.project}))

    def get_dataset_schema(self, name: str, version: Union[int, str] = "latest") -> DatasetSchema:
        """A schema version."""
        return from_wire(DatasetSchema, self._get(_http.path("dataset-schemas", name, "versions", version), self._pq()))

    def set_dataset_facts(self, name: str, version: Union[int, str], columns: Sequence[Column], source: Optional[Mapping[str, Any]] = None,
                          schema: Optional[str] = None, row_count: Optional[int] = None,
                          profile: Optional[Mapping[str, Mapping[str, Any]]] = None) -> DatasetVersion:
        """Records columns, source (``uri``, ``system``), declared schema (``"name@version"``), row count and
        column profile of a dataset artifact version (once)."""
        return from_wire(DatasetVersion, self._send("PUT", _http.path("datasets", name, "versions", version), {
            "columns": [c.to_json() for c in columns], "source": source, "schema": schema, "rowCount": row_count, "profile": profile},
            self._pq()))

    def add_dataset_validations(self, name: str, version: Union[int, str], checks: Sequence[ValidationCheck]) -> DatasetVersion:
        """Records data-check results on a dataset version."""
        return from_wire(DatasetVersion, self._send("POST", _http.path("datasets", name, "versions", version, "validations"),
                                                    {"checks": [c.to_json() for c in checks]}, self._pq()))

    def get_dataset(self, name: str, version: Union[int, str] = "latest") -> DatasetVersion:
        """A dataset version with its facts and validations."""
        return from_wire(DatasetVersion, self._get(_http.path("datasets", name, "versions", version), self._pq()))

    def diff_dataset(self, name: str, from_version: Union[int, str], to_version: Union[int, str] = "latest") -> SchemaDiff:
        """The column changes between two versions of a dataset."""
        return from_wire(SchemaDiff, self._get(_http.path("datasets", name, "diff"), self._pq(**{"from": from_version, "to": to_version})))

    def dataset_usage(self, name: str, version: Union[int, str] = "latest") -> Impact:
        """Where a dataset version is used: runs, model versions and executions downstream."""
        return from_wire(Impact, self._get(_http.path("datasets", name, "versions", version, "usage"), self._pq()))

    def register_feature_set(self, name: str, features: Sequence[Feature], description: Optional[str] = None,
                             derived_from: Optional[Sequence[ArtifactRef]] = None, run_id: Optional[str] = None) -> FeatureSet:
        """Registers the next version of a feature set and the artifacts it was derived from."""
        return from_wire(FeatureSet, self._send("POST", _http.path("feature-sets"), {
            "name": name, "features": [f.to_json() for f in features], "project": self.project, "description": description,
            "derivedFrom": [self._artifact_ref(r) for r in derived_from] if derived_from else None, "runId": run_id}))

    def get_feature_set(self, name: str, version: Union[int, str] = "latest") -> FeatureSet:
        """A feature set version."""
        return from_wire(FeatureSet, self._get(_http.path("feature-sets", name, "versions", version), self._pq()))

    def feature_usage(self, feature: str) -> FeatureUsage:
        """Which feature sets define ``feature`` and which model versions use it."""
        return from_wire(FeatureUsage, self._get(_http.path("features", feature, "usage")))

    # ---- reproducibility manifests ------------------------------------------------------

    def manifest(self, model: str, version: Union[int, str] = "latest") -> Dict[str, Any]:
        """Everything needed to rebuild a model version (format 1, snake_case keys; docs/registry.md)."""
        return self._get(_http.path("models", model, "versions", version, "manifest"), self._pq())

    def verify_manifest(self, manifest: Mapping[str, Any]) -> ManifestCheck:
        """Re-checks every digest a manifest names against the server's store and bytes."""
        return from_wire(ManifestCheck, self._send("POST", _http.path("manifests", "verify"), dict(manifest)))

    # ---- search (docs/query.md) ---------------------------------------------------------

    def search_runs(self, filter: Optional[str] = None, experiments: Optional[Sequence[str]] = None,
                    experiment_ids: Optional[Sequence[str]] = None, order_by: Sequence[str] = (), lifecycle: Optional[str] = None,
                    limit: Optional[int] = None, page_token: Optional[str] = None) -> ResultList[Run]:
        """Runs matching a query (``"metrics.acc > 0.9 AND params.lr = '0.01'"``) in the experiments
        named (``experiments``) or given by id; ``order_by`` e.g. ``["metrics.acc DESC"]``."""
        ids = list(experiment_ids or [])
        ids += [self.get_experiment_by_name(n).experiment_id for n in (experiments or [])]
        if not ids:
            raise ValueError("search_runs needs experiments (names) or experiment_ids")
        pairs: List[Tuple[str, Any]] = [("experimentId", i) for i in ids]
        pairs += [("filter", filter), ("lifecycle", lifecycle), ("limit", limit), ("pageToken", page_token)]
        pairs += [("orderBy", o) for o in order_by]
        answer = self._get(_http.path("search", "runs"), pairs)
        return result_list(Run, answer["runs"], answer.get("nextPageToken"))

    def search_experiments(self, filter: Optional[str] = None, order_by: Sequence[str] = (), lifecycle: Optional[str] = None,
                           limit: Optional[int] = None, page_token: Optional[str] = None) -> ResultList[Experiment]:
        """Experiments matching a query (``"name LIKE 'churn%'"``, ``"tags.team = 'growth'"``)."""
        pairs = [("filter", filter), ("lifecycle", lifecycle), ("limit", limit), ("pageToken", page_token)] + [("orderBy", o) for o in order_by]
        answer = self._get(_http.path("search", "experiments"), pairs)
        return result_list(Experiment, answer["experiments"], answer.get("nextPageToken"))

    def search_artifacts(self, filter: Optional[str] = None, order_by: Sequence[str] = (), lifecycle: Optional[str] = None,
                         limit: Optional[int] = None, page_token: Optional[str] = None) -> ResultList[Artifact]:
        """Artifact versions matching a query (``"type = 'dataset' AND metadata.rows > 1000"``)."""
        pairs = self._pq(filter=filter, lifecycle=lifecycle, limit=limit, pageToken=page_token) + [("orderBy", o) for o in order_by]
        answer = self._get(_http.path("search", "artifacts"), pairs)
        return result_list(Artifact, answer["artifacts"], answer.get("nextPageToken"))


def _clean(body: Any) -> Any:
    """Drops ``None`` members of a JSON object body (the API reads a missing field as 'not given')."""
    if isinstance(body, dict):
        return {k: v for k, v in body.items() if v is not None}
    return body


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _key_path(key: str) -> str:
    """Keys may contain '/': escape each segment, keep the separators (the routes take the rest of the path)."""
    from urllib.parse import quote
    return "/".join(quote(part, safe="") for part in key.split("/"))


def _run_id(run: Union[None, str, ActiveRun, Run]) -> Optional[str]:
    if run is None or isinstance(run, str):
        return run
    return run.run_id


def _walk(root: str) -> List[Tuple[str, str]]:
    """Files under ``root`` as ('/'-separated relative path, full path), sorted; links are refused."""
    found: List[Tuple[str, str]] = []
    for current, dirs, files in os.walk(root, followlinks=False):
        for name in dirs + files:
            full = os.path.join(current, name)
            relative = os.path.relpath(full, root).replace(os.sep, "/")
            if os.path.islink(full):
                raise InvalidParameter("INVALID_PARAMETER_VALUE",
                                       f"'{relative}' is a symbolic link; links could point outside the artifact, so nothing was uploaded",
                                       None, "path")
            if name in files:
                found.append((relative, full))
    return sorted(found)
