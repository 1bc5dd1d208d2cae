"""Search with the query language, result lists, to_records/to_pandas, and help texts."""
from __future__ import annotations

import os
import pydoc
import sys
import types

import pytest

import lineage


@pytest.fixture()
def searched(client, unique, workdir):
    exp = client.create_experiment(f"search-{unique}", tags={"team": "growth"})
    runs = []
    for i, (lr, acc) in enumerate([("0.1", 0.7), ("0.01", 0.9), ("0.001", 0.95)]):
        with client.start_run(experiment_id=exp.experiment_id, name=f"sgd-{i}", capture_environment=False) as run:
            run.log_param("lr", lr)
            run.log_metric("acc", acc)
        runs.append(run.run_id)
    for rows in (10, 5000):
        path = os.path.join(workdir, f"{rows}.csv")
        with open(path, "w") as f:
            f.write(str(rows))
        client.register_artifact(name=f"sa-{unique}", path=path, artifact_type="dataset", metadata={"rows": rows})
    return exp, runs


def test_search_runs_filters_and_orders(client, unique, searched):
    exp, runs = searched
    found = client.search_runs("metrics.acc > 0.8", experiment_ids=[exp.experiment_id], order_by=["metrics.acc DESC"])
    assert [r.run_id for r in found] == [runs[2], runs[1]]
    by_name = client.search_runs("params.lr = '0.1' OR run_name LIKE 'sgd-2'", experiments=[f"search-{unique}"],
                                 order_by=["attributes.run_name"])
    assert [r.name for r in by_name] == ["sgd-0", "sgd-2"]
    page = client.search_runs(experiment_ids=[exp.experiment_id], limit=2)
    assert len(page) == 2 and page.next_page_token
    assert len(client.search_runs(experiment_ids=[exp.experiment_id], limit=2, page_token=page.next_page_token)) == 1
    assert client.search_runs("metrics.acc > 0.5", experiment_ids=[exp.experiment_id], lifecycle="deleted") == []
    with pytest.raises(ValueError):
        client.search_runs("metrics.acc > 0.5")


def test_search_experiments_and_artifacts(client, unique, searched):
    exps = client.search_experiments(f"name LIKE 'search-{unique}%' AND tags.team = 'growth'", order_by=["name"], limit=5)
    assert [e.name for e in exps] == [f"search-{unique}"]
    assert client.search_experiments(f"name = 'search-{unique}'", lifecycle="deleted") == []
    arts = client.search_artifacts(f"name = 'sa-{unique}' AND metadata.rows > 1000")
    assert [a.version for a in arts] == [2]
    ordered = client.search_artifacts(f"name = 'sa-{unique}'", order_by=["version DESC"], limit=1)
    assert [a.version for a in ordered] == [2] and ordered.next_page_token
    assert [a.version for a in client.search_artifacts(f"name = 'sa-{unique}'", order_by=["version DESC"], limit=1,
                                                       page_token=ordered.next_page_token)] == [1]
    assert client.search_artifacts(f"name = 'sa-{unique}'", lifecycle="deleted") == []


def test_a_bad_query_names_the_position(client):
    with pytest.raises(lineage.InvalidParameter) as e:
        client.search_experiments("name = = 'x'")
    assert e.value.field == "filter" or "position" in e.value.message or "column" in e.value.message


def test_result_lists_become_records_and_data_frames(client, unique, searched, monkeypatch):
    exp, runs = searched
    found = client.search_runs(experiment_ids=[exp.experiment_id], order_by=["metrics.acc"])
    records = found.to_records()
    assert [r["run_id"] for r in records] == runs
    assert records[0]["params"] == {"lr": "0.1"} and records[0]["metrics"][0]["value"] == 0.7 and "raw" not in records[0]

    captured = {}
    fake = types.ModuleType("pandas")

    class DataFrame:
        @staticmethod
        def from_records(rows):
            captured["rows"] = rows
            return "frame"

    fake.DataFrame = DataFrame
    monkeypatch.setitem(sys.modules, "pandas", fake)
    assert found.to_pandas() == "frame" and captured["rows"] == records
    monkeypatch.setitem(sys.modules, "pandas", None)  # pandas not installed
    with pytest.raises(ImportError) as e:
        found.to_pandas()
    assert "optional" in str(e.value)
    assert lineage.ResultList([1, 2]).to_records() == [{"value": 1}, {"value": 2}]


def test_help_explains_the_client():
    text = pydoc.render_doc(lineage.Client)
    assert "LINEAGE_URL" in text and "429" in text and "idempotency key" in text
    for name in dir(lineage.Client):
        if not name.startswith("_"):
            assert getattr(lineage.Client, name).__doc__, f"Client.{name} has no docstring"
    for cls in (lineage.ActiveRun, lineage.ActiveExecution):
        for name in dir(cls):
            if not name.startswith("_"):
                assert getattr(cls, name).__doc__, f"{cls.__name__}.{name} has no docstring"
