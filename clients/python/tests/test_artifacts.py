"""Artifacts: register a file or a directory, skip known content, get, list, download, external, aliases."""
from __future__ import annotations

import hashlib
import os

import pytest

import lineage


def write(path: str, data: bytes) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


def record_requests(client, monkeypatch):
    calls = []
    original = client._transport.request

    def spy(method, url_path, *args, **kwargs):
        calls.append((method, url_path))
        return original(method, url_path, *args, **kwargs)

    monkeypatch.setattr(client._transport, "request", spy)
    return calls


def test_register_a_file_as_the_tutorials_do(client, unique, workdir):
    data = b"id,price\n1,10\n2,12\n"
    csv = write(os.path.join(workdir, "processed_v1.csv"), data)
    art = client.register_artifact(name=f"ecommerce_processed_features_{unique}", path=csv, artifact_type="dataset",
                                   metadata={"rows": 2, "source": "shop"}, description="features", tags={"team": "growth"})
    assert isinstance(art, lineage.Artifact)
    assert art.version == 1 and art.artifact_type == "dataset" and art.kind == "file"
    assert art.digest == hashlib.sha256(data).hexdigest() and art.size == len(data)
    assert art.metadata == {"rows": 2, "source": "shop"} and art.description == "features" and art.tags == {"team": "growth"}
    assert art.storage_path and art.created_at > 0 and art.artifact_id
    assert art.ref == f"ecommerce_processed_features_{unique}@1"
    second = client.register_artifact(name=f"ecommerce_processed_features_{unique}", path=csv, artifact_type="dataset")
    assert second.version == 2
    assert client.get_artifact(name=f"ecommerce_processed_features_{unique}", version=1).artifact_id == art.artifact_id
    assert client.get_artifact(f"ecommerce_processed_features_{unique}", "latest").version == 2
    assert client.get_artifact(f"ecommerce_processed_features_{unique}").version == 2
    assert client.get_artifact_by_id(art.artifact_id).version == 1


def test_content_the_server_has_is_not_uploaded_again(client, unique, workdir, monkeypatch):
    path = write(os.path.join(workdir, "weights.bin"), os.urandom(100_000))
    calls = record_requests(client, monkeypatch)
    client.register_artifact(name=f"w-{unique}", path=path, artifact_type="model")
    assert ("PUT", "/api/v1/blobs") in calls
    calls.clear()
    client.register_artifact(name=f"w2-{unique}", path=path, artifact_type="model")
    assert ("PUT", "/api/v1/blobs") not in calls and any(m == "HEAD" for m, _ in calls)


def test_register_a_directory_and_download_it(client, unique, workdir):
    src = os.path.join(workdir, "model")
    write(os.path.join(src, "weights.bin"), b"\x00\x01" * 1000)
    write(os.path.join(src, "config", "params.json"), b'{"depth": 3}')
    art = client.register_artifact(name=f"dir-{unique}", path=src, artifact_type="model")
    assert art.kind == "directory" and art.file_count == 2 and art.size == 2000 + 12
    manifest = client.get_manifest(f"dir-{unique}", 1)
    assert [e.path for e in manifest] == ["config/params.json", "weights.bin"]
    assert manifest[1].digest == hashlib.sha256(b"\x00\x01" * 1000).hexdigest()
    dest = os.path.join(workdir, "copy")
    assert client.download_artifact(f"dir-{unique}", 1, dest) == dest
    with open(os.path.join(dest, "config", "params.json"), "rb") as f:
        assert f.read() == b'{"depth": 3}'
    with open(os.path.join(dest, "weights.bin"), "rb") as f:
        assert f.read() == b"\x00\x01" * 1000


def test_download_a_file_checks_its_digest(client, unique, workdir, monkeypatch):
    data = os.urandom(3 * (1 << 20) + 17)  # more than one read chunk
    path = write(os.path.join(workdir, "big.bin"), data)
    art = client.register_artifact(name=f"file-{unique}", path=path, artifact_type="dataset")
    dest = os.path.join(workdir, "out", "big-copy.bin")
    client.download_artifact(f"file-{unique}", "latest", dest)
    with open(dest, "rb") as f:
        assert f.read() == data
    # A server answering other bytes than the digest says: the download fails and leaves nothing behind.
    real_get = client.get_artifact

    def lying_get(name, version="latest"):
        a = real_get(name, version)
        a.digest = "0" * 64
        return a

    monkeypatch.setattr(client, "get_artifact", lying_get)
    bad = os.path.join(workdir, "bad.bin")
    with pytest.raises(lineage.ServerError):
        client.download_artifact(f"file-{unique}", art.version, bad)
    assert not os.path.exists(bad) and not os.path.exists(bad + ".lineage-partial")


def test_symbolic_links_are_refused_before_anything_is_sent(client, unique, workdir, monkeypatch):
    src = os.path.join(workdir, "linked")
    write(os.path.join(src, "a.txt"), b"a")
    os.symlink("/etc/hostname", os.path.join(src, "b.txt"))
    calls = record_requests(client, monkeypatch)
    with pytest.raises(lineage.InvalidParameter) as e:
        client.register_artifact(name=f"link-{unique}", path=src, artifact_type="dataset")
    assert "symbolic link" in e.value.message and calls == []
    with pytest.raises(lineage.InvalidParameter):
        client.register_artifact(name=f"link-{unique}", path=os.path.join(src, "b.txt"))
    with pytest.raises(lineage.InvalidParameter):
        client.register_artifact(name=f"link-{unique}", path=os.path.join(workdir, "missing"))


def test_list_artifacts_by_name_type_and_metadata(client, unique, workdir):
    path = write(os.path.join(workdir, "x.csv"), b"x")
    client.register_artifact(name=f"la-{unique}", path=path, artifact_type="dataset", metadata={"split": "train", "rows": 5})
    client.register_artifact(name=f"la-{unique}", path=path, artifact_type="dataset", metadata={"split": "test", "rows": 5})
    versions = client.list_artifacts(name=f"la-{unique}")
    assert [a.version for a in versions] == [2, 1]
    assert [a.version for a in client.list_artifacts(name=f"la-{unique}", metadata={"split": "train"})] == [1]
    assert client.list_artifacts(name=f"la-{unique}", artifact_type="model") == []
    page = client.list_artifacts(name=f"la-{unique}", limit=1)
    assert len(page) == 1 and page.next_page_token
    assert [a.version for a in client.list_artifacts(name=f"la-{unique}", limit=1, page_token=page.next_page_token)] == [1]


def test_register_external_data(client, unique):
    digest = hashlib.sha256(b"lake").hexdigest()
    art = client.register_external(f"lake-{unique}", "s3://bucket/path/part-0.parquet", digest, 4, metadata={"rows": 1})
    assert art.kind == "external" and art.storage_path == "s3://bucket/path/part-0.parquet" and art.digest == digest
    with pytest.raises(lineage.InvalidParameter):
        client.download_artifact(f"lake-{unique}", 1, "/tmp/never")


def test_aliases_pick_versions_and_keep_history(client, unique, workdir):
    path = write(os.path.join(workdir, "m.bin"), b"m")
    client.register_artifact(name=f"al-{unique}", path=path, artifact_type="model")
    client.register_artifact(name=f"al-{unique}", path=path, artifact_type="model")
    assert "production" in client.set_alias(f"al-{unique}", "production", 1).aliases
    assert client.get_artifact(f"al-{unique}", "production").version == 1
    client.set_alias(f"al-{unique}", "production", 2)
    assert client.get_artifact(f"al-{unique}", version="production").version == 2
    client.delete_alias(f"al-{unique}", "production")
    with pytest.raises(lineage.NotFound):
        client.get_artifact(f"al-{unique}", "production")
    history = client.alias_history(f"al-{unique}")
    assert [(c.alias, c.version) for c in history] == [("production", 1), ("production", 2), ("production", None)]
    assert len(client.alias_history(f"al-{unique}", alias="staging")) == 0


def test_describe_delete_and_restore_a_version(client, unique, workdir):
    path = write(os.path.join(workdir, "d.bin"), b"d")
    client.register_artifact(name=f"del-{unique}", path=path, artifact_type="dataset")
    assert client.update_artifact(f"del-{unique}", 1, "cleaned").description == "cleaned"
    assert client.delete_artifact(f"del-{unique}", 1).lifecycle == "deleted"
    assert client.list_artifacts(name=f"del-{unique}") == []
    assert client.restore_artifact(f"del-{unique}", 1).lifecycle == "active"


def test_an_unknown_version_is_not_found(client, unique):
    with pytest.raises(lineage.NotFound) as e:
        client.get_artifact(f"nothing-{unique}", 3)
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST" and e.value.status == 404
    assert isinstance(e.value, LookupError)


def test_register_with_a_run_and_inputs_records_lineage(client, unique, workdir):
    raw = client.register_artifact(name=f"raw-{unique}", path=write(os.path.join(workdir, "raw.csv"), b"r"), artifact_type="dataset")
    # Without a run: a 'register' execution links the inputs to the new version.
    feats = client.register_artifact(name=f"feats-{unique}", path=write(os.path.join(workdir, "f.csv"), b"f"), artifact_type="dataset",
                                     inputs=[raw])
    assert any(a.artifact_id == feats.artifact_id for a in client.impact(raw).artifacts)
    with client.start_run(f"reg-{unique}") as run:
        model = run.register_artifact(f"model-{unique}", write(os.path.join(workdir, "m.pkl"), b"m"), "model",
                                      metadata={"auc": 0.9}, inputs=[f"feats-{unique}@1"])
    assert model.producer_run_id == run.run_id
    impact = client.impact(f"feats-{unique}@1")
    assert run.run_id in impact.runs
    assert any(a.artifact_id == model.artifact_id for a in impact.artifacts)
    ext = client.register_external(f"ext-{unique}", "s3://b/k", hashlib.sha256(b"k").hexdigest(), 1, run=run.run_id, inputs=[raw])
    assert ext.producer_run_id == run.run_id
