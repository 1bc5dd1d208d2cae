"""Lineage: executions, the execution context manager, contexts, graph queries, impact, provenance, OpenLineage."""
from __future__ import annotations

import os
import uuid

import pytest

import lineage


def artifact(client, workdir, name, data=b"x", artifact_type="dataset"):
    path = os.path.join(workdir, uuid.uuid4().hex)
    with open(path, "wb") as f:
        f.write(data)
    return client.register_artifact(name=name, path=path, artifact_type=artifact_type)


def test_execution_context_manager_records_inputs_and_outputs(client, unique, workdir):
    raw = artifact(client, workdir, f"raw-{unique}")
    lookup = artifact(client, workdir, f"lookup-{unique}")
    with client.execution("preprocess", type=f"Transform{unique}", inputs=[raw], properties={"script": "prep.py"}) as ex:
        assert ex.info.state == "RUNNING" and ex.info.properties == {"script": "prep.py"}
        ex.input(f"lookup-{unique}@1", role="lookup")
        ex.output(artifact(client, workdir, f"clean-{unique}"))
    assert ex.info.state == "COMPLETE" and ex.info.name == "preprocess" and ex.info.type == f"transform{unique}"
    graph = client.downstream(raw)
    assert graph.node(f"execution:{ex.execution_id}") is not None
    clean = client.get_artifact(f"clean-{unique}", 1)
    assert graph.node(f"artifact:{clean.artifact_id}") is not None
    up = client.upstream(clean, depth=5)
    assert up.node(f"artifact:{lookup.artifact_id}") is not None
    assert {e.role for e in up.edges} >= {"lookup", "input", "output"}
    ex.end()  # ending again does nothing


def test_an_exception_fails_the_execution(client, unique, workdir):
    with pytest.raises(RuntimeError):
        with client.execution(f"bad-{unique}") as ex:
            ex.output(artifact(client, workdir, f"half-{unique}"))
            raise RuntimeError("boom")
    stored = client.get_execution(ex.execution_id)
    assert stored.state == "FAILED" and stored.type == f"bad-{unique}" and stored.name == f"bad-{unique}"
    # the output was still recorded
    assert client.lineage(f"half-{unique}@1").node(f"execution:{ex.execution_id}") is not None


def test_executions_by_type_like_tfx(client, unique, workdir):
    a = artifact(client, workdir, f"in-{unique}")
    first = client.create_execution(f"Trainer{unique}", name="train-1", inputs=[(a, "training_data")], state="COMPLETE")
    out = artifact(client, workdir, f"out-{unique}")
    second = client.create_execution(f"Trainer{unique}", outputs=[f"out-{unique}"])
    client.create_execution(f"Pusher{unique}")
    trainers = client.executions(type=f"Trainer{unique}")
    assert {e.execution_id for e in trainers} == {first.execution_id, second.execution_id}
    assert client.update_execution(second.execution_id, "CANCELED").state == "CANCELED"
    assert client.add_events(second.execution_id, inputs=[a]).execution_id == second.execution_id
    assert client.upstream(out).node(f"artifact:{a.artifact_id}") is not None
    page = client.executions(type=f"Trainer{unique}", limit=1)
    assert len(page) == 1 and page.next_page_token
    assert len(client.executions(type=f"Trainer{unique}", limit=1, page_token=page.next_page_token)) == 1


def test_contexts_group_executions_and_artifacts(client, unique, workdir):
    pipeline = client.create_context("pipeline", f"churn-{unique}", properties={"owner": "ana"})
    run_ctx = client.create_context("pipeline_run", f"churn-{unique}-1", parent_id=pipeline.context_id)
    assert run_ctx.parent_id == pipeline.context_id and pipeline.properties == {"owner": "ana"}
    a = artifact(client, workdir, f"ctx-{unique}")
    ex = client.create_execution(f"Step{unique}", contexts=[run_ctx.context_id])
    other = client.create_execution(f"Step{unique}")
    members = client.add_to_context(run_ctx.context_id, executions=[other], artifacts=[a])
    assert {e.execution_id for e in members.executions} == {ex.execution_id, other.execution_id}
    assert [x.artifact_id for x in members.artifacts] == [a.artifact_id]
    fetched = client.get_context(run_ctx.context_id)
    assert fetched.context.name == f"churn-{unique}-1" and len(fetched.executions) == 2
    assert {e.execution_id for e in client.executions(context_id=run_ctx.context_id)} == {ex.execution_id, other.execution_id}


def test_contexts_by_type_like_mlmd(client, unique):
    pipeline = client.create_context(f"pipeline{unique}", f"churn-{unique}")
    runs = [client.create_context(f"PipelineRun{unique}".lower(), f"churn-{unique}-{i}", parent_id=pipeline.context_id) for i in range(3)]
    listed = client.contexts(type=f"PipelineRun{unique}")  # TFX-style name, lowercased like executions(type=...)
    assert [c.context_id for c in listed] == [c.context_id for c in reversed(runs)]  # newest first
    assert all(c.type == f"pipelinerun{unique}" and c.parent_id == pipeline.context_id for c in listed)
    assert [c.context_id for c in client.contexts(type=f"pipeline{unique}")] == [pipeline.context_id]
    assert {c.context_id for c in client.contexts(parent_id=pipeline.context_id)} == {c.context_id for c in runs}
    first = client.contexts(type=f"pipelinerun{unique}", limit=2)
    assert len(first) == 2 and first.next_page_token
    rest = client.contexts(type=f"pipelinerun{unique}", limit=2, page_token=first.next_page_token)
    assert [c.context_id for c in rest] == [runs[0].context_id] and not rest.next_page_token
    assert client.contexts(type=f"nothing{unique}").to_records() == []
    with pytest.raises(lineage.InvalidParameter):
        client.contexts(type="not a type!")


def test_an_openlineage_parent_run_is_a_context_of_its_child_runs(client, unique):
    parent = {"run": {"runId": str(uuid.uuid4())}, "job": {"namespace": "airflow", "name": f"dag-{unique}"}}
    children = []
    for task in ("extract", "load"):
        run_id = str(uuid.uuid4())
        answer = client.send_openlineage_event({
            "eventType": "COMPLETE", "eventTime": "2026-12-01T10:00:00Z", "run": {"runId": run_id, "facets": {"parent": {
                "_producer": "https://example.com/test", "_schemaURL": "https://openlineage.io/spec/facets/1-0-0/ParentRunFacet.json",
                **parent}}},
            "job": {"namespace": "airflow", "name": f"dag-{unique}.{task}"}, "inputs": [], "outputs": [],
            "producer": "https://example.com/test", "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"})
        children.append(answer["executionId"])
    dag = [c for c in client.contexts(type="openlineage_run", limit=1000) if f"dag-{unique}" in c.name]
    assert len(dag) == 1
    assert {e.execution_id for e in client.get_context(dag[0].context_id).executions} == set(children)


def test_graph_formats_path_impact_and_provenance(client, unique, workdir):
    data = artifact(client, workdir, f"sales-{unique}")
    code = artifact(client, workdir, f"code-{unique}", artifact_type="code")
    with client.start_run(f"lin-{unique}") as run:
        run.log_param("lr", "0.01")
        run.log_input(data, role="training_data")
        run.log_input(f"code-{unique}", version=1, role="code")
        model = run.register_artifact(f"model-{unique}", os.path.join(workdir, os.listdir(workdir)[0]), "model")
    mermaid = client.graph(f"sales-{unique}@1", format="mermaid", direction="downstream")
    assert mermaid.startswith("graph") or mermaid.startswith("flowchart")
    assert f"sales-{unique}" in mermaid
    dot = client.graph(data, format="dot")
    assert dot.lstrip().startswith("digraph") and f"model-{unique}" in dot
    with pytest.raises(ValueError):
        client.graph(data, format="svg")
    both = client.lineage(run)
    assert both.node(f"artifact:{model.artifact_id}") and both.node(f"artifact:{data.artifact_id}")
    assert client.lineage(f"artifact:{data.artifact_id}", direction="downstream", depth=1).node(f"artifact:{model.artifact_id}") is None
    path = client.path_between(data, model)
    assert path.nodes[0].id == f"artifact:{data.artifact_id}" and path.nodes[-1].id == f"artifact:{model.artifact_id}"
    impact = client.impact(f"sales-{unique}")  # latest
    assert impact.runs == [run.run_id] and [a.artifact_id for a in impact.artifacts] == [model.artifact_id]
    assert client.impact(data.artifact_id).runs == [run.run_id]
    prov = client.provenance(model)
    assert [a.artifact_id for a in prov.datasets] == [data.artifact_id]
    assert [a.artifact_id for a in prov.code] == [code.artifact_id]
    assert prov.run_params[run.run_id] == {"lr": "0.01"}
    with pytest.raises(TypeError):
        client.impact(42)
    with pytest.raises(lineage.InvalidParameter):
        client.lineage("bogus:1")


def test_an_openlineage_event_becomes_an_execution(client, unique):
    run_id = str(uuid.uuid4())
    answer = client.send_openlineage_event({
        "eventType": "COMPLETE", "eventTime": "2026-12-01T10:00:00Z",
        "run": {"runId": run_id}, "job": {"namespace": "etl", "name": f"daily-{unique}"},
        "inputs": [{"namespace": "s3://lake", "name": f"orders-{unique}"}],
        "outputs": [{"namespace": "s3://lake", "name": f"summary-{unique}"}],
        "producer": "https://example.com/test", "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"})
    execution = client.get_execution(answer["executionId"])
    assert execution.name == f"etl/daily-{unique}" and execution.state == "COMPLETE"
    assert len(answer["inputArtifactIds"]) == 1 and len(answer["outputArtifactIds"]) == 1


def test_artifact_references_are_checked(client):
    with pytest.raises(TypeError):
        client.create_execution("X", inputs=[3.5])
