"""Python client for Lineage, the ML metadata and lineage store.

Quick start::

    import lineage

    client = lineage.Client()            # $LINEAGE_URL, $LINEAGE_TOKEN, $LINEAGE_PROJECT
    data = client.register_artifact(name="sales", path="sales.csv", artifact_type="dataset")
    with client.start_run("churn", name="baseline") as run:
        run.log_input(data)
        run.log_param("lr", 0.01)
        for step in range(100):
            run.log_metric("loss", 1 / (step + 1), step)
        run.register_artifact("churn-model", "model.pkl", "model")
    print(client.impact("sales@latest").runs)

Everything is in :class:`Client`; failures raise :class:`LineageError` subclasses. See
docs/python.md in the Lineage repository.
"""
from .client import ArtifactRef, Client
from .errors import (AlreadyExists, Conflict, InvalidParameter, LineageError, NotFound, PayloadTooLarge, PermissionDenied, RateLimited,
                     ServerError, Unauthenticated, Unavailable)
from .models import (AliasChange, Artifact, Column, ColumnChange, Context, ContextMembers, DatasetFacts, DatasetSchema, DatasetVersion,
                     Deployment, DeploymentEvent, DigestCheck, EnvironmentStats, Execution, Experiment, Feature, FeatureSet, FeatureSpec,
                     FeatureUsage, Graph, GraphEdge, GraphNode, Impact, ManifestCheck, ManifestEntry, Metric, MetricPoint, ModelVersion,
                     ModelVersionRef, Project, Promotion, Provenance, RegisteredModel, RegistryChange, ResultList, Run, SchemaDiff,
                     ValidationCheck)
from .run import ActiveExecution, ActiveRun

__version__ = "0.1.0"

__all__ = [
    "Client", "ArtifactRef", "ActiveRun", "ActiveExecution",
    "LineageError", "InvalidParameter", "Unauthenticated", "PermissionDenied", "NotFound", "AlreadyExists", "Conflict",
    "PayloadTooLarge", "RateLimited", "Unavailable", "ServerError",
    "AliasChange", "Artifact", "Column", "ColumnChange", "Context", "ContextMembers", "DatasetFacts", "DatasetSchema", "DatasetVersion",
    "Deployment", "DeploymentEvent", "DigestCheck", "EnvironmentStats", "Execution", "Experiment", "Feature", "FeatureSet", "FeatureSpec",
    "FeatureUsage", "Graph", "GraphEdge", "GraphNode", "Impact", "ManifestCheck", "ManifestEntry", "Metric", "MetricPoint",
    "ModelVersion", "ModelVersionRef", "Project", "Promotion", "Provenance", "RegisteredModel", "RegistryChange", "ResultList", "Run",
    "SchemaDiff", "ValidationCheck",
]
