"""Projects, experiments and runs: the buffered logger, its background flush, and the direct calls."""
from __future__ import annotations

import math
import time

import pytest

import lineage
from lineage import environment
from lineage import run as run_module


def test_health_and_ready_answer(client):
    assert client.health()["status"] == "ok"
    assert client.ready()["status"] == "ready"


def test_projects_are_created_listed_and_read(client, unique):
    created = client.create_project(f"team-{unique}", description="the growth team")
    assert created.name == f"team-{unique}" and created.description == "the growth team"
    assert client.get_project(f"team-{unique}").created_at == created.created_at
    assert f"team-{unique}" in [p.name for p in client.list_projects()]
    with pytest.raises(lineage.AlreadyExists) as e:
        client.create_project(f"team-{unique}")
    assert e.value.error_code == "RESOURCE_ALREADY_EXISTS" and e.value.status == 409


def test_a_client_with_a_project_works_in_that_project(server, client, unique):
    client.create_project(f"p-{unique}")
    scoped = lineage.Client(server.url, project=f"p-{unique}")
    exp = scoped.create_experiment(f"exp-{unique}")
    assert exp.project == f"p-{unique}"
    assert scoped.get_experiment_by_name(f"exp-{unique}").experiment_id == exp.experiment_id
    with pytest.raises(lineage.NotFound):
        client.get_experiment_by_name(f"exp-{unique}")  # not in the default project


def test_experiments_lifecycle_and_tags(client, unique):
    exp = client.create_experiment(f"churn-{unique}", description="d", tags={"team": "growth"})
    assert exp.tags == {"team": "growth"} and exp.lifecycle == "active"
    assert client.get_experiment(exp.experiment_id).name == f"churn-{unique}"
    assert [e.experiment_id for e in client.list_experiments(name_contains=unique)] == [exp.experiment_id]
    renamed = client.update_experiment(exp.experiment_id, name=f"churn2-{unique}", description="new")
    assert renamed.name == f"churn2-{unique}" and renamed.description == "new"
    client.set_experiment_tag(exp.experiment_id, "owner/name", "ana")
    assert client.get_experiment(exp.experiment_id).tags["owner/name"] == "ana"
    client.delete_experiment_tag(exp.experiment_id, "owner/name")
    assert "owner/name" not in client.get_experiment(exp.experiment_id).tags
    assert client.delete_experiment(exp.experiment_id).lifecycle == "deleted"
    assert client.list_experiments(name_contains=unique) == []
    assert len(client.list_experiments(name_contains=unique, lifecycle="deleted")) == 1
    assert client.restore_experiment(exp.experiment_id).lifecycle == "active"


def test_get_or_create_experiment_creates_once(client, unique):
    first = client.get_or_create_experiment(f"g-{unique}")
    assert client.get_or_create_experiment(f"g-{unique}").experiment_id == first.experiment_id


def test_list_experiments_pages(client, unique):
    for i in range(3):
        client.create_experiment(f"page-{unique}-{i}")
    page = client.list_experiments(name_contains=f"page-{unique}", limit=2)
    assert len(page) == 2 and page.next_page_token
    rest = client.list_experiments(name_contains=f"page-{unique}", limit=2, page_token=page.next_page_token)
    assert len(rest) == 1 and rest.next_page_token is None


def test_a_run_logs_buffered_entries_and_ends_finished(client, unique):
    with client.start_run(f"train-{unique}", name="baseline", tags={"stage": "dev"}) as run:
        run.log_param("lr", 0.01)
        run.log_params({"epochs": 3, "optimizer": "adam"})
        run.set_tag("note", "first try")
        run.set_tags({"a": "1"})
        for step in range(25_000):
            run.log_metric("loss", 1.0 / (step + 1), step)
        run.log_metrics({"acc": 0.5, "f1": 0.25}, step=1)
        run.log_metric("weird", float("nan"), 0)
        run.log_metric("weird", float("inf"), 1)
        run.log_metric("weird", float("-inf"), 2)
    stored = client.get_run(run.run_id)
    assert stored.status == "FINISHED" and stored.end_time is not None
    assert stored.name == "baseline"
    assert stored.params == {"lr": "0.01", "epochs": "3", "optimizer": "adam"}
    assert stored.tags["stage"] == "dev" and stored.tags["note"] == "first try" and stored.tags["a"] == "1"
    assert stored.metric("acc") == 0.5 and stored.metric("missing") is None
    history = client.get_metric_history(run.run_id, "loss")
    assert len(history) == 25_000
    assert [p.step for p in history[:3]] == [0, 1, 2] and history[-1].value == pytest.approx(1 / 25_000)
    weird = client.get_metric_history(run.run_id, "weird")
    assert math.isnan(weird[0].value) and weird[1].value == math.inf and weird[2].value == -math.inf


def test_batches_are_sent_in_the_order_they_were_logged(client, unique):
    # One thread formats batches while another sends them: a tag rewritten between batches must end with its
    # last value, and flush() must wait for every batch before it, not only for the one being formatted.
    with client.start_run(f"order-{unique}") as run:
        for round_ in range(5):
            for step in range(12_000):
                run.log_metric("loss", float(round_), round_ * 12_000 + step)
            run.set_tag("phase", f"round-{round_}")
        run.flush()
        assert len(client.get_metric_history(run.run_id, "loss")) == 60_000
        assert client.get_run(run.run_id).tags["phase"] == "round-4"


def test_the_background_thread_flushes_without_being_asked(client, unique):
    run = client.start_run(f"bg-{unique}")
    run.log_metric("loss", 0.5, 1)
    run.log_param("p", "v")
    deadline = time.time() + 10
    while time.time() < deadline:
        stored = client.get_run(run.run_id)
        if stored.params.get("p") == "v" and stored.metric("loss") == 0.5:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the buffered entries were never sent without an explicit flush")
    assert stored.status == "RUNNING"
    run.end()


def test_log_metric_does_not_wait_for_the_network(client, unique):
    run = client.start_run(f"fast-{unique}")
    start = time.perf_counter()
    for step in range(50_000):
        run.log_metric("loss", 0.1, step)
    elapsed = time.perf_counter() - start
    run.end()
    # 50,000 network round trips would take minutes; buffered logging takes well under a second.
    assert elapsed < 5, elapsed
    assert len(client.get_metric_history(run.run_id, "loss")) == 50_000


def test_flush_raises_the_servers_error_for_a_changed_param(client, unique):
    run = client.start_run(f"param-{unique}")
    run.log_param("lr", "0.1")
    run.flush()
    run.log_param("lr", "0.2")
    with pytest.raises(lineage.InvalidParameter) as e:
        run.flush()
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    run.flush()  # the error was reported once
    run.end()
    assert client.get_run(run.run_id).params["lr"] == "0.1"


def test_end_raises_a_delivery_error_after_ending_the_run(client, unique):
    run = client.start_run(f"enderr-{unique}")
    run.log_param("k", "1")
    run.flush()
    run.log_param("k", "2")
    with pytest.raises(lineage.InvalidParameter):
        run.end()
    assert client.get_run(run.run_id).status == "FINISHED"
    run.end()  # ending twice does nothing


def test_an_exception_leaving_the_block_fails_the_run_and_propagates(client, unique):
    with pytest.raises(ZeroDivisionError):
        with client.start_run(f"fail-{unique}") as run:
            run.log_metric("loss", 1.0)
            1 / 0
    stored = client.get_run(run.run_id)
    assert stored.status == "FAILED"
    assert stored.metric("loss") == 1.0  # flushed before ending


def test_keyboard_interrupt_ends_the_run_killed(client, unique):
    with pytest.raises(KeyboardInterrupt):
        with client.start_run(f"kill-{unique}") as run:
            raise KeyboardInterrupt
    assert client.get_run(run.run_id).status == "KILLED"


def test_logging_after_the_end_is_refused(client, unique):
    run = client.start_run(f"late-{unique}")
    run.end("KILLED")
    assert client.get_run(run.run_id).status == "KILLED"
    with pytest.raises(RuntimeError):
        run.log_metric("loss", 1.0)
    with pytest.raises(RuntimeError):
        run.log_param("a", "b")


def test_bad_keys_and_long_values_fail_at_the_call(client, unique):
    run = client.start_run(f"bad-{unique}")
    with pytest.raises(lineage.InvalidParameter) as e:
        run.log_metric("bad!key", 1.0)
    assert e.value.field == "key" and e.value.status is None
    with pytest.raises(lineage.InvalidParameter):
        run.log_param("a/../b", "x")
    with pytest.raises(lineage.InvalidParameter):
        run.log_param("ok", "x" * 6001)
    with pytest.raises(lineage.InvalidParameter):
        run.set_tag("ok", "x" * 8001)
    with pytest.raises(lineage.InvalidParameter) as step:
        run.log_metric("loss", 1.0, step="3")
    assert step.value.field == "step"
    with pytest.raises(lineage.InvalidParameter):
        run.log_metric("loss", 1.0, 1, timestamp=1.5)
    with pytest.raises(ValueError):
        run.log_metric("loss", "not a number")
    run.log_metric("loss", 2, True)  # integral numbers of any kind are fine
    run.end()
    assert client.get_metric_history(run.run_id, "loss")[0].step == 1


def test_the_run_records_where_it_ran(client, unique):
    with client.start_run(f"env-{unique}") as run:
        pass
    tags = client.get_run(run.run_id).tags
    assert tags[environment.RUNTIME].startswith("Python 3.")
    assert tags[environment.HOST] and tags[environment.USER] and tags[environment.WORKING_DIRECTORY]
    assert "pytest==" in tags[environment.PACKAGES]
    # The tests run inside the repository's git work tree.
    assert len(tags[environment.GIT_COMMIT]) == 40
    assert tags[environment.GIT_DIRTY] in ("true", "false")


def test_environment_capture_outside_git_and_credentials_stripped(workdir):
    tags = environment.capture(workdir)
    assert environment.GIT_COMMIT not in tags and environment.COMMAND in tags
    assert environment.strip_credentials("https://ana:secret@git.example.com/repo.git") == "https://git.example.com/repo.git"
    assert environment.strip_credentials("git@github.com:org/repo.git") == "git@github.com:org/repo.git"
    assert "pytest==" in environment.packages()


def test_start_run_without_capture_and_by_experiment_id(client, unique):
    exp = client.create_experiment(f"byid-{unique}")
    with client.start_run(experiment_id=exp.experiment_id, capture_environment=False) as run:
        assert run.experiment_id == exp.experiment_id
        assert repr(run).startswith("ActiveRun(")
    assert environment.HOST not in client.get_run(run.run_id).tags
    with pytest.raises(ValueError):
        client.start_run("x", experiment_id="1")
    with client.start_run() as default:
        pass
    assert default.experiment_id == "0"


def test_child_runs_and_refresh(client, unique):
    with client.start_run(f"parent-{unique}") as parent:
        with parent.start_child_run("fold-1", tags={"fold": "1"}) as child:
            child.log_metric("acc", 0.9)
            assert child.refresh().metric("acc") == 0.9
        children = client.list_runs(experiment_ids=[parent.experiment_id], parent_run_id=parent.run_id)
        assert [c.run_id for c in children] == [child.run_id]
        assert children[0].parent_run_id == parent.run_id and children[0].tags["fold"] == "1"


def test_direct_run_calls(client, unique):
    exp = client.create_experiment(f"direct-{unique}")
    run = client.start_run(experiment_id=exp.experiment_id, capture_environment=False)
    client.log_metric(run.run_id, "loss", 0.3, step=2, timestamp=1_700_000_000_000)
    client.log_param(run.run_id, "seed", 42)
    client.set_tag(run.run_id, "team/name", "growth")
    counts = client.log_batch(run.run_id, metrics=[{"key": "acc", "value": 0.7, "step": 1}], params={"lr": 0.1}, tags={"t": "v"})
    assert counts == {"metrics": 1, "params": 1, "tags": 1}
    stored = client.get_run(run.run_id)
    assert stored.params == {"seed": "42", "lr": "0.1"} and stored.tags["team/name"] == "growth"
    assert client.get_metric_history(run.run_id, "loss")[0].timestamp == 1_700_000_000_000
    client.delete_tag(run.run_id, "team/name")
    assert "team/name" not in client.get_run(run.run_id).tags
    assert client.update_run(run.run_id, name="renamed").name == "renamed"
    assert client.update_run(run.run_id, status="FINISHED").end_time is not None
    assert [r.run_id for r in client.list_runs(experiment_ids=[exp.experiment_id], status="FINISHED")] == [run.run_id]
    assert client.delete_run(run.run_id).lifecycle == "deleted"
    assert client.list_runs(experiment_ids=[exp.experiment_id]) == []
    assert len(client.list_runs(experiment_ids=[exp.experiment_id], lifecycle="deleted", limit=5)) == 1
    assert client.restore_run(run.run_id).lifecycle == "active"
    assert len(client.list_runs(user=client.get_run(run.run_id).user, experiment_ids=[exp.experiment_id])) == 1
    run.end()


def test_flush_times_out_when_the_sender_cannot_keep_up(client, unique, monkeypatch):
    run = client.start_run(f"slow-{unique}")
    original = run._client._transport.request

    def slow(*args, **kwargs):
        time.sleep(0.5)
        return original(*args, **kwargs)

    monkeypatch.setattr(run._client._transport, "request", slow)
    run.log_metric("loss", 1.0)
    with pytest.raises(TimeoutError):
        run.flush(timeout=0.01)
    monkeypatch.undo()
    run.end()
    assert client.get_run(run.run_id).metric("loss") == 1.0


def test_logging_blocks_when_too_much_is_waiting(client, unique, monkeypatch):
    monkeypatch.setattr(run_module, "MAX_PENDING", 20_000)
    with client.start_run(f"bounded-{unique}") as run:
        for step in range(60_000):
            run.log_metric("loss", 0.5, step)
            assert len(run._pending) <= 20_000 + 1
    assert len(client.get_metric_history(run.run_id, "loss")) == 60_000


def test_a_client_closes_its_connection_and_stays_usable(server):
    with lineage.Client(server.url) as c:
        assert c.health()["status"] == "ok"
        assert c._transport._local.conn is not None
    assert c._transport._local.conn is None  # closed by the with block
    c.close()  # closing twice is fine
    assert c.ready()["status"] == "ready"  # a new connection on the next call
