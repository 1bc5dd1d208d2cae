"""The records the client returns: plain dataclasses with snake_case fields.

Each is built from the server's camelCase JSON by :func:`from_wire`; where the Python name differs
from the wire name (``Artifact.artifact_id`` is the wire's ``id``) the field says so in its
metadata. ``raw`` keeps the whole answer for fields a newer server adds. Lists of records are
:class:`ResultList`, which adds ``to_records()`` and ``to_pandas()``.
"""
from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any, Dict, Generic, List, Optional, Type, TypeVar

T = TypeVar("T")


def _wire(name: str) -> Dict[str, str]:
    return {"wire": name}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


_HINTS: Dict[type, Dict[str, Any]] = {}


def from_wire(cls: Type[T], data: Dict[str, Any]) -> T:
    """Builds dataclass ``cls`` from a JSON object of the API (missing optional fields become ``None``)."""
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    values: Dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name == "raw":
            values["raw"] = data
            continue
        key = f.metadata.get("wire", _camel(f.name))
        values[f.name] = _convert(hints[f.name], data.get(key))
    return cls(**values)


def _convert(tp: Any, value: Any) -> Any:
    if value is None:
        origin = typing.get_origin(tp)
        if origin in (list, dict):
            return origin()
        return None
    origin = typing.get_origin(tp)
    if origin is typing.Union:
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return _convert(inner[0], value)
    if origin is list:
        (item,) = typing.get_args(tp)
        return ResultList(_convert(item, v) for v in value)
    if origin is dict:
        _, item = typing.get_args(tp)
        return {k: _convert(item, v) for k, v in value.items()}
    if dataclasses.is_dataclass(tp):
        return from_wire(tp, value)
    if tp is float:
        return float(value)  # "NaN", "Infinity" and "-Infinity" arrive as strings
    return value


class ResultList(List[T], Generic[T]):
    """A list of records with ``next_page_token`` (when the server has more) and pandas export."""

    next_page_token: Optional[str] = None

    def to_records(self) -> List[Dict[str, Any]]:
        """Each record as a flat dict of its fields (nested records as dicts; ``raw`` left out)."""
        rows = []
        for item in self:
            if dataclasses.is_dataclass(item):
                row = {f.name: getattr(item, f.name) for f in dataclasses.fields(item) if f.name != "raw"}
                rows.append({k: _plain(v) for k, v in row.items()})
            else:
                rows.append(item if isinstance(item, dict) else {"value": item})
        return rows

    def to_pandas(self) -> Any:
        """A ``pandas.DataFrame`` with one row per record. Needs pandas (optional; not a dependency)."""
        try:
            import pandas  # type: ignore[import-not-found]
        except ImportError as exc:
            raise ImportError("to_pandas() needs pandas, which is optional: pip install pandas") from exc
        return pandas.DataFrame.from_records(self.to_records())


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value) if f.name != "raw"}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def result_list(cls: Type[T], items: Optional[List[Dict[str, Any]]], next_page_token: Optional[str] = None) -> "ResultList[T]":
    out: ResultList[T] = ResultList(from_wire(cls, i) for i in (items or []))
    out.next_page_token = next_page_token
    return out


# ---- tracking ----------------------------------------------------------------------------

@dataclass
class Project:
    """A project: the unit of access control; ``default`` always exists."""
    name: str
    description: Optional[str]
    created_at: int
    created_by: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class Experiment:
    """An experiment (a named group of runs) in a project."""
    experiment_id: str = field(metadata=_wire("id"))
    project: str = ""
    name: str = ""
    description: Optional[str] = None
    lifecycle: str = "active"
    created_at: int = 0
    updated_at: int = 0
    tags: Dict[str, str] = field(default_factory=dict)
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class Metric:
    """The latest value of a metric on a run."""
    key: str
    value: float
    step: int
    timestamp: int


@dataclass
class MetricPoint:
    """One logged point of a metric's history."""
    value: float
    step: int
    timestamp: int


@dataclass
class Run:
    """A run with its params, tags and latest metric values. ``metric(key)`` reads one."""
    run_id: str
    experiment_id: str
    name: Optional[str]
    status: str
    start_time: int
    end_time: Optional[int]
    user: Optional[str]
    parent_run_id: Optional[str]
    lifecycle: str
    params: Dict[str, str]
    tags: Dict[str, str]
    metrics: List[Metric]
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    def metric(self, key: str) -> Optional[float]:
        """The latest value of ``key``, or ``None`` when it was never logged."""
        for m in self.metrics:
            if m.key == key:
                return m.value
        return None


# ---- artifacts ---------------------------------------------------------------------------

@dataclass
class Artifact:
    """One immutable version of a named artifact.

    ``version`` counts 1, 2, ... per name; ``storage_path`` is where the content lives (a
    ``blob:``/``manifest:`` address in the server's store, or the URI of an external artifact);
    ``kind`` is ``file``, ``directory`` or ``external``.
    """
    artifact_id: str = field(metadata=_wire("id"))
    project: str = ""
    name: str = ""
    version: int = 0
    artifact_type: str = field(default="", metadata=_wire("type"))
    kind: str = ""
    digest: str = ""
    size: int = 0
    storage_path: str = field(default="", metadata=_wire("storageUri"))
    metadata: Any = None
    description: Optional[str] = None
    tags: Dict[str, str] = field(default_factory=dict)
    aliases: List[str] = field(default_factory=list)
    producer_run_id: Optional[str] = None
    lifecycle: str = "active"
    created_at: int = 0
    created_by: Optional[str] = None
    file_count: int = 0
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def ref(self) -> str:
        """``name@version``, the form lineage queries take."""
        return f"{self.name}@{self.version}"


@dataclass
class ManifestEntry:
    """One file of a directory artifact."""
    path: str
    digest: str
    size: int


@dataclass
class AliasChange:
    """One move of an artifact alias (``version`` None: deleted)."""
    alias: str
    version: Optional[int]
    changed_at: int
    changed_by: Optional[str]


# ---- lineage -----------------------------------------------------------------------------

@dataclass
class Execution:
    """A pipeline step (or a run's execution) in the lineage graph."""
    execution_id: str = field(metadata=_wire("id"))
    project: str = ""
    type: str = ""
    name: str = ""
    state: str = ""
    start_time: Optional[int] = None
    end_time: Optional[int] = None
    properties: Any = None
    run_id: Optional[str] = None
    created_at: int = 0
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class Context:
    """A group of executions and artifacts (a pipeline, a pipeline run, an experiment)."""
    context_id: str = field(metadata=_wire("id"))
    project: str = ""
    type: str = ""
    name: str = ""
    parent_id: Optional[str] = None
    properties: Any = None
    created_at: int = 0
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class ContextMembers:
    """A context with its executions and artifacts."""
    context: Context
    executions: List[Execution]
    artifacts: List[Artifact]


@dataclass
class GraphNode:
    """A node of a lineage graph: ``id`` is ``artifact:<id>`` or ``execution:<id>``."""
    id: str
    kind: str
    label: str
    type: str
    depth: int
    state: Optional[str] = None
    run_id: Optional[str] = None
    project: Optional[str] = None


@dataclass
class GraphEdge:
    """An edge of a lineage graph, with the event's role (``input``, ``training_data``, ``output``...)."""
    from_node: str = field(metadata=_wire("from"))
    to_node: str = field(default="", metadata=_wire("to"))
    role: str = ""


@dataclass
class Graph:
    """A lineage graph around ``root``."""
    root: str
    nodes: List[GraphNode]
    edges: List[GraphEdge]

    def node(self, node_id: str) -> Optional[GraphNode]:
        """The node with this id, or ``None``."""
        return next((n for n in self.nodes if n.id == node_id), None)


@dataclass
class Impact:
    """What depends on an artifact version: model versions, runs, artifacts and executions downstream."""
    root: str
    model_versions: List[Artifact]
    runs: List[str]
    artifacts: List[Artifact]
    executions: List[Execution]


@dataclass
class Provenance:
    """What an artifact version was made from: datasets, code, other artifacts, executions, run params."""
    root: str
    datasets: List[Artifact]
    code: List[Artifact]
    other_artifacts: List[Artifact]
    executions: List[Execution]
    run_params: Dict[str, Dict[str, str]]


# ---- registry, deployments, datasets, features --------------------------------------------

@dataclass
class RegisteredModel:
    """A registered model: a name whose versions point at artifact versions."""
    project: str
    name: str
    description: Optional[str]
    latest_version: int
    tags: Dict[str, str]
    aliases: Dict[str, int]
    approvers: List[str]
    created_at: int
    created_by: Optional[str]
    updated_at: int
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class FeatureSpec:
    """A model input: name, dtype and optional shape."""
    name: str
    dtype: str
    shape: Optional[List[int]] = None

    def to_json(self) -> Dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, "shape": self.shape}


@dataclass
class ModelVersion:
    """A version of a registered model with its artifact, stage, aliases and run."""
    project: str
    model: str
    version: int
    status: str
    status_message: Optional[str]
    stage: str
    description: Optional[str]
    artifact: Artifact
    run_id: Optional[str]
    tags: Dict[str, str]
    aliases: List[str]
    feature_set: Optional[Artifact]
    input_features: List[FeatureSpec]
    created_at: int
    created_by: Optional[str]
    updated_at: int
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class RegistryChange:
    """One alias or stage change of a model."""
    id: str
    kind: str
    name: Optional[str]
    version: Optional[int]
    old_value: Optional[str]
    new_value: Optional[str]
    changed_at: int
    changed_by: Optional[str]
    request_id: Optional[str]


@dataclass
class Promotion:
    """A promotion request (alias or stage) waiting for, or given, an approver's decision."""
    promotion_id: str = field(metadata=_wire("id"))
    project: str = ""
    model: str = ""
    version: int = 0
    kind: str = ""
    target: str = ""
    archive_existing: bool = False
    status: str = ""
    comment: Optional[str] = None
    requested_at: int = 0
    requested_by: Optional[str] = None
    decided_at: Optional[int] = None
    decided_by: Optional[str] = None
    decision_comment: Optional[str] = None


@dataclass
class DeploymentEvent:
    """A status change of a deployment."""
    status: str
    reason: Optional[str]
    at: int
    actor: Optional[str]


@dataclass
class Deployment:
    """A model version deployed to an environment, with its status history."""
    deployment_id: str = field(metadata=_wire("id"))
    project: str = ""
    environment: str = ""
    model: str = ""
    version: int = 0
    endpoint_url: Optional[str] = None
    config: Any = None
    status: str = ""
    rollback_of: Optional[str] = None
    execution_id: Optional[str] = None
    created_at: int = 0
    created_by: Optional[str] = None
    updated_at: int = 0
    events: List[DeploymentEvent] = field(default_factory=list)


@dataclass
class EnvironmentStats:
    """Deployment counts of one environment."""
    project: str
    environment: str
    deployments: int
    succeeded: int
    failed: int
    rollbacks: int
    success_rate: Optional[float]


@dataclass
class Column:
    """A dataset column: name, dtype, nullable."""
    name: str
    dtype: str
    nullable: Optional[bool] = None

    def to_json(self) -> Dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, "nullable": self.nullable}


@dataclass
class DatasetSchema:
    """A named, versioned list of columns that dataset versions may declare."""
    project: str
    name: str
    version: int
    columns: List[Column]
    created_at: int
    created_by: Optional[str]


@dataclass
class ValidationCheck:
    """The result of one data check on a dataset version."""
    name: str
    passed: bool
    details: Optional[str] = None
    run_at: Optional[int] = None
    run_by: Optional[str] = None

    def to_json(self) -> Dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "details": self.details}


@dataclass
class DatasetFacts:
    """Source, schema, columns, row count and profile recorded for a dataset version."""
    source: Dict[str, Any]
    schema: Optional[str]
    columns: List[Column]
    row_count: Optional[int]
    profile: Dict[str, Any]
    created_at: int
    created_by: Optional[str]


@dataclass
class DatasetVersion:
    """A dataset artifact version with its facts and validation results."""
    artifact: Artifact
    facts: Optional[DatasetFacts]
    validations: List[ValidationCheck]


@dataclass
class ColumnChange:
    """A column added, removed or changed between two dataset versions."""
    column: str
    change: str
    from_value: Optional[str] = field(default=None, metadata=_wire("from"))
    to_value: Optional[str] = field(default=None, metadata=_wire("to"))


@dataclass
class SchemaDiff:
    """The column changes of a dataset between two versions."""
    name: str
    from_version: int = field(metadata=_wire("from"))
    to_version: int = field(default=0, metadata=_wire("to"))
    changes: List[ColumnChange] = field(default_factory=list)


@dataclass
class Feature:
    """A feature definition of a feature set."""
    name: str
    dtype: str
    shape: Optional[List[int]] = None
    description: Optional[str] = None
    transformation: Optional[str] = None
    owner: Optional[str] = None

    def to_json(self) -> Dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


@dataclass
class FeatureSet:
    """A feature set version: its artifact, features and the artifacts it was derived from."""
    artifact: Artifact
    features: List[Feature]
    derived_from: List[Artifact]


@dataclass
class ModelVersionRef:
    """A model version by name and number."""
    model: str
    version: int


@dataclass
class FeatureUsage:
    """Where a feature is used: feature sets and model versions."""
    feature: str
    feature_sets: List[Artifact]
    model_versions: List[ModelVersionRef]


@dataclass
class DigestCheck:
    """One digest of a manifest re-checked against the server."""
    project: str
    name: str
    version: int
    digest: str
    status: str
    detail: Optional[str]


@dataclass
class ManifestCheck:
    """The result of :meth:`Client.verify_manifest`: ``ok`` when every digest matched."""
    ok: bool
    checks: List[DigestCheck]

