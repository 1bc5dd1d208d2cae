"""Model registry, approvals, deployments, datasets, features and reproducibility manifests."""
from __future__ import annotations

import os
import uuid

import pytest

import lineage
from lineage import Column, Feature, FeatureSpec, ValidationCheck


def artifact(client, workdir, name, data=None, artifact_type="model", run=None):
    path = os.path.join(workdir, uuid.uuid4().hex)
    with open(path, "wb") as f:
        f.write(data if data is not None else uuid.uuid4().bytes)
    return client.register_artifact(name=name, path=path, artifact_type=artifact_type, run=run)


def test_models_versions_stages_aliases_and_history(client, unique, workdir):
    model = client.create_model(f"churn-{unique}", description="churn classifier", tags={"team": "growth"})
    assert model.latest_version == 0 and model.tags == {"team": "growth"} and model.approvers == []
    with client.start_run(f"reg-{unique}") as run:
        w1 = artifact(client, workdir, f"w-{unique}", run=run)
    w2 = artifact(client, workdir, f"w-{unique}")
    v1 = client.create_model_version(f"churn-{unique}", w1, run_id=run.run_id, tags={"framework": "xgboost"})
    assert v1.version == 1 and v1.run_id == run.run_id and v1.artifact.artifact_id == w1.artifact_id and v1.status == "READY"
    v2 = client.create_model_version(f"churn-{unique}", f"w-{unique}@2", description="retrained")
    assert v2.version == 2 and v2.artifact.artifact_id == w2.artifact_id
    assert client.get_model(f"churn-{unique}").latest_version == 2
    assert client.get_model_version(f"churn-{unique}").version == 2
    assert client.get_model_version(f"churn-{unique}", 1).tags == {"framework": "xgboost"}
    assert [v.version for v in client.list_model_versions(f"churn-{unique}")] == [2, 1]
    assert [v.version for v in client.list_model_versions(tags={"framework": "xgboost"}) if v.model == f"churn-{unique}"] == [1]
    assert client.update_model_version(f"churn-{unique}", 2, description="May data").description == "May data"
    assert client.set_model_version_tag(f"churn-{unique}", 2, "eval", "passed").tags["eval"] == "passed"
    assert client.update_model(f"churn-{unique}", "new words").description == "new words"
    assert client.set_model_tag(f"churn-{unique}", "owner", "ana").tags["owner"] == "ana"
    assert [m.name for m in client.list_models(name_contains=unique)] == [f"churn-{unique}"]
    assert [m.name for m in client.list_models(tags={"owner": "ana"}) if m.name == f"churn-{unique}"] == [f"churn-{unique}"]

    assert "champion" in client.set_model_alias(f"churn-{unique}", "champion", 1).aliases
    assert client.get_model_version(f"churn-{unique}", "champion").version == 1
    client.set_model_alias(f"churn-{unique}", "champion", 2)
    assert client.transition_model_stage(f"churn-{unique}", 1, "Production").stage == "Production"
    assert client.transition_model_stage(f"churn-{unique}", 2, "Production", archive_existing=True).stage == "Production"
    assert client.get_model_version(f"churn-{unique}", 1).stage == "Archived"
    assert [v.version for v in client.list_model_versions(f"churn-{unique}", stage="Production")] == [2]
    history = client.model_history(f"churn-{unique}")
    assert [(c.kind, c.version) for c in history][:2] == [("alias", 1), ("alias", 2)]
    assert len(client.model_history(f"churn-{unique}", kind="alias", alias="champion")) == 2
    assert len(client.model_history(f"churn-{unique}", kind="stage", version=1)) == 2
    with pytest.raises(lineage.Conflict):
        client.delete_model_version(f"churn-{unique}", 2)  # the alias names it
    client.delete_model_alias(f"churn-{unique}", "champion")
    client.delete_model_version(f"churn-{unique}", 2)
    with pytest.raises(lineage.NotFound):
        client.get_model_version(f"churn-{unique}", 2)
    client.delete_model(f"churn-{unique}")
    with pytest.raises(lineage.NotFound):
        client.get_model(f"churn-{unique}")
    with pytest.raises(lineage.AlreadyExists):
        client.create_model(f"dup-{unique}")
        client.create_model(f"dup-{unique}")


def test_approvals_need_the_approver(server, client, unique, workdir):
    carol = lineage.Client(server.url, user="carol")
    mallory = lineage.Client(server.url, user="mallory")
    client.create_model(f"fraud-{unique}", approvers=["carol"])
    client.create_model_version(f"fraud-{unique}", artifact(client, workdir, f"fw-{unique}"))
    client.create_model_version(f"fraud-{unique}", f"fw-{unique}")
    with pytest.raises(lineage.PermissionDenied) as e:
        mallory.set_model_alias(f"fraud-{unique}", "champion", 1)
    assert e.value.error_code == "PERMISSION_DENIED" and e.value.status == 403
    request = mallory.request_promotion(f"fraud-{unique}", 1, alias="champion", comment="better recall")
    assert request.status == "PENDING" and request.kind == "alias" and request.requested_by == "mallory"
    assert [p.promotion_id for p in client.list_promotions(model=f"fraud-{unique}", status="PENDING")] == [request.promotion_id]
    assert client.get_promotion(request.promotion_id).comment == "better recall"
    with pytest.raises(lineage.PermissionDenied):
        mallory.approve_promotion(request.promotion_id)
    approved = carol.approve_promotion(request.promotion_id, comment="checked")
    assert approved.status == "APPROVED" and approved.decided_by == "carol" and approved.decision_comment == "checked"
    assert client.get_model_version(f"fraud-{unique}", "champion").version == 1
    with pytest.raises(lineage.Conflict):
        carol.reject_promotion(request.promotion_id)
    stage = mallory.request_promotion(f"fraud-{unique}", 2, stage="Staging")
    assert carol.reject_promotion(stage.promotion_id, comment="not yet").status == "REJECTED"
    assert carol.set_model_approvers(f"fraud-{unique}", ["carol", "dan"]).approvers == ["carol", "dan"]


def test_deployments_status_rollback_and_stats(client, unique, workdir):
    client.create_model(f"dep-{unique}")
    client.create_model_version(f"dep-{unique}", artifact(client, workdir, f"dw-{unique}"))
    client.create_model_version(f"dep-{unique}", artifact(client, workdir, f"dw-{unique}"))
    env = f"prod-{unique}"
    d1 = client.deploy(env, f"dep-{unique}", 1, endpoint_url="https://churn.example.com/v1", config={"replicas": 2})
    assert d1.status == "pending" and d1.config == {"replicas": 2} and d1.endpoint_url == "https://churn.example.com/v1"
    assert client.set_deployment_status(d1.deployment_id, "healthy").status == "healthy"
    d2 = client.deploy(env, f"dep-{unique}", 2)
    assert client.get_deployment(d1.deployment_id).status == "retired"
    client.set_deployment_status(d2.deployment_id, "failed", reason="crash loop")
    with pytest.raises(lineage.Conflict):
        client.set_deployment_status(d1.deployment_id, "healthy")  # retired is final
    back = client.rollback_deployment(d2.deployment_id, reason="v2 crashes")
    assert back.version == 1 and back.rollback_of == d2.deployment_id
    assert [d.deployment_id for d in client.list_deployments(environment=env, live=True)] == [back.deployment_id]
    assert len(client.list_deployments(model=f"dep-{unique}")) == 3
    history = client.environment_history(env)
    assert [d.deployment_id for d in history] == [back.deployment_id, d2.deployment_id, d1.deployment_id]
    assert [e.status for e in client.get_deployment(d2.deployment_id).events][:2] == ["pending", "failed"]
    stats = {s.environment: s for s in client.environment_stats()}
    assert stats[env].deployments == 3 and stats[env].failed == 1 and stats[env].rollbacks == 1
    assert len(client.environment_history(env, model=f"dep-{unique}")) == 3
    with pytest.raises(lineage.NotFound):
        client.environment_history(env, model=f"nothing-{unique}")


def test_datasets_schemas_validations_diff_and_usage(client, unique, workdir):
    name = f"houses-{unique}"
    artifact(client, workdir, name, b"size,bedrooms\n1500,3\n", "dataset")
    schema = client.create_dataset_schema(name, [Column("size", "float", False), Column("bedrooms", "int")])
    assert schema.version == 1 and [c.name for c in schema.columns] == ["size", "bedrooms"]
    assert client.get_dataset_schema(name, 1).columns[0].nullable is False
    facts = client.set_dataset_facts(name, 1, [Column("size", "float", False), Column("bedrooms", "int")],
                                     source={"uri": "s3://raw/houses.csv", "system": "s3"}, schema=f"{name}@1", row_count=1,
                                     profile={"bedrooms": {"missingPct": 0.2, "min": 1, "max": 7}})
    assert facts.facts.row_count == 1 and facts.facts.schema == f"{name}@1" and facts.facts.source["uri"] == "s3://raw/houses.csv"
    with pytest.raises(lineage.AlreadyExists):  # facts are recorded once
        client.set_dataset_facts(name, 1, [Column("size", "float", False), Column("bedrooms", "int")])
    checked = client.add_dataset_validations(name, 1, [ValidationCheck("missing_below_1pct", True, "0.2%")])
    assert [(v.name, v.passed) for v in checked.validations] == [("missing_below_1pct", True)]
    assert client.get_dataset(name, 1).artifact.version == 1
    artifact(client, workdir, name, b"size,city\n", "dataset")
    client.set_dataset_facts(name, 2, [Column("size", "double", False), Column("city", "str")])
    diff = client.diff_dataset(name, 1, 2)
    assert diff.from_version == 1 and diff.to_version == 2
    assert {(c.column, c.change) for c in diff.changes} >= {("city", "added"), ("bedrooms", "removed"), ("size", "dtype_changed")}
    assert client.get_dataset(name).artifact.version == 2
    with client.start_run(f"use-{unique}") as run:
        run.log_input(name, version=1)
    assert client.dataset_usage(name, 1).runs == [run.run_id]
    with pytest.raises(lineage.InvalidParameter) as e:
        client.set_dataset_facts(name, 2, [Column("size", "float")], schema=f"{name}@1")
    assert e.value.field


def test_feature_sets_and_feature_usage(client, unique, workdir):
    artifact(client, workdir, f"fh-{unique}", b"size,bedrooms\n", "dataset")
    fs = client.register_feature_set(f"house-features-{unique}", [
        Feature("size", "float", transformation="(size - 1500) / 500", owner="data-team"),
        Feature(f"spb_{unique}", "float", transformation="size / bedrooms")], description="d", derived_from=[f"fh-{unique}@1"])
    assert fs.artifact.artifact_type == "feature_set" and [f.name for f in fs.features] == ["size", f"spb_{unique}"]
    assert [a.name for a in fs.derived_from] == [f"fh-{unique}"]
    assert client.get_feature_set(f"house-features-{unique}").artifact.version == 1
    client.create_model(f"fm-{unique}")
    v = client.create_model_version(f"fm-{unique}", artifact(client, workdir, f"fmw-{unique}"), feature_set=fs.artifact,
                                    input_features=[FeatureSpec(f"spb_{unique}", "float")])
    assert v.feature_set.artifact_id == fs.artifact.artifact_id and v.input_features[0].name == f"spb_{unique}"
    usage = client.feature_usage(f"spb_{unique}")
    assert [(m.model, m.version) for m in usage.model_versions] == [(f"fm-{unique}", 1)]
    assert [a.artifact_id for a in usage.feature_sets] == [fs.artifact.artifact_id]
    with pytest.raises(lineage.InvalidParameter) as e:
        client.create_model_version(f"fm-{unique}", f"fmw-{unique}", feature_set=fs.artifact, input_features=[FeatureSpec(f"spb_{unique}", "int")])
    assert e.value.field == "inputFeatures[0].dtype"


def test_manifest_and_verify(client, unique, workdir):
    data = artifact(client, workdir, f"md-{unique}", b"a,b\n", "dataset")
    with client.start_run(f"man-{unique}") as run:
        run.log_param("seed", "7")
        run.log_input(data)
        weights = run.register_artifact(f"mw-{unique}", os.path.join(workdir, os.listdir(workdir)[0]), "model")
    client.create_model(f"mm-{unique}")
    client.create_model_version(f"mm-{unique}", weights)
    manifest = client.manifest(f"mm-{unique}", 1)
    assert manifest["model_id"] == f"mm-{unique}-v1"
    assert manifest["trained_on_digest"] == data.digest
    check = client.verify_manifest(manifest)
    assert check.ok and all(c.status in ("ok", "external") for c in check.checks)
    assert data.digest in [a["digest"] for a in manifest["artifacts"]]
    for a in manifest["artifacts"]:
        a["digest"] = "0" * 64
    tampered = client.verify_manifest(manifest)
    assert tampered.ok is False and any(c.status != "ok" for c in tampered.checks)
