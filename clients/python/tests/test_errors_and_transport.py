"""Errors carry the server's codes; retries with backoff on 429/503; idempotency keys; environment defaults."""
from __future__ import annotations

import http.server
import json
import threading

import pytest

import lineage
from lineage import _http
from lineage.errors import error_for

from lineage_server import Server, free_port


class FakeServer:
    """A loopback HTTP server answering from a script, recording what it was sent (transport behaviour only)."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                outer.requests.append((self.command, self.path, dict(self.headers), body))
                status, headers, payload = outer.answers.pop(0) if outer.answers else (200, {}, {"status": "ok"})
                data = json.dumps(payload).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def fake():
    servers = []

    def make(answers=()):
        s = FakeServer(answers)
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.close()


def test_503_is_retried_with_the_same_idempotency_key(fake):
    busy = {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "database busy"}
    server = fake([(503, {}, busy), (503, {"Retry-After": "0"}, busy),
                   (201, {}, {"id": "7", "project": "default", "name": "e", "lifecycle": "active", "createdAt": 1, "updatedAt": 1, "tags": {}})])
    client = lineage.Client(server.url)
    client._transport.backoff = 0.01
    exp = client.create_experiment("e")
    assert exp.experiment_id == "7"
    keys = [headers.get("Idempotency-Key") for _, _, headers, _ in server.requests]
    assert len(keys) == 3 and keys[0] and len(set(keys)) == 1


def test_503_after_the_last_retry_is_unavailable(fake):
    busy = {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "database busy"}
    server = fake([(503, {}, busy)] * 3)
    client = lineage.Client(server.url, max_retries=2)
    client._transport.backoff = 0.01
    with pytest.raises(lineage.Unavailable) as e:
        client.list_projects()
    assert e.value.error_code == "TEMPORARILY_UNAVAILABLE" and e.value.message == "database busy" and e.value.status == 503
    assert e.value.is_transient and len(server.requests) == 3


def test_every_write_carries_an_idempotency_key_and_reads_do_not(fake):
    server = fake([(200, {}, {"projects": []}), (204, {}, None)])
    client = lineage.Client(server.url)
    client.list_projects()
    client.delete_tag("r1", "a/b")
    (get, _, get_headers, _), (delete, delete_path, delete_headers, _) = server.requests
    assert get == "GET" and "Idempotency-Key" not in get_headers
    assert delete == "DELETE" and delete_path == "/api/v1/runs/r1/tags/a/b" and len(delete_headers["Idempotency-Key"]) == 32


def test_client_defaults_come_from_the_environment(fake, monkeypatch):
    server = fake([(200, {}, {"projects": []})])
    monkeypatch.setenv("LINEAGE_URL", server.url + "/")
    monkeypatch.setenv("LINEAGE_TOKEN", "lin_1_secret")
    monkeypatch.setenv("LINEAGE_PROJECT", "team-a")
    client = lineage.Client()
    assert client.url == server.url and client.project == "team-a"
    assert repr(client) == f"Client(url={server.url!r}, project='team-a')"
    client.list_projects()
    assert server.requests[0][2]["Authorization"] == "Bearer lin_1_secret"
    explicit = lineage.Client("http://127.0.0.1:1", token="t2", project="p2")
    assert explicit.url == "http://127.0.0.1:1" and explicit.project == "p2"


def test_a_bad_url_is_refused():
    with pytest.raises(ValueError):
        lineage.Client("ftp://example.com")


def test_an_unreachable_server_is_unavailable_without_a_status():
    client = lineage.Client(f"http://127.0.0.1:{free_port()}", max_retries=1)
    client._transport.backoff = 0.01
    with pytest.raises(lineage.Unavailable) as e:
        client.health()
    assert e.value.status is None and e.value.is_transient and "cannot reach" in e.value.message
    assert isinstance(e.value.__cause__, OSError)


def test_a_reused_idempotency_key_is_replayed_or_a_conflict(client, unique):
    t = client._transport
    first = t.request("POST", _http.path("experiments"), body={"name": f"idem-{unique}"}, idempotency_key=f"key-{unique}")
    again = t.request("POST", _http.path("experiments"), body={"name": f"idem-{unique}"}, idempotency_key=f"key-{unique}")
    assert again["id"] == first["id"]  # replayed, not created twice
    with pytest.raises(lineage.Conflict) as e:
        t.request("POST", _http.path("experiments"), body={"name": f"other-{unique}"}, idempotency_key=f"key-{unique}")
    assert e.value.error_code == "CONFLICT" and e.value.status == 409


def test_server_errors_carry_code_message_and_field(client):
    with pytest.raises(lineage.InvalidParameter) as e:
        client.create_experiment("")
    assert e.value.error_code == "INVALID_PARAMETER_VALUE" and e.value.status == 400 and e.value.field == "name"
    assert isinstance(e.value, ValueError) and not e.value.is_transient
    assert str(e.value).startswith("INVALID_PARAMETER_VALUE: ")
    with pytest.raises(lineage.NotFound) as nf:
        client._transport.request("GET", "/api/v1/no-such-route")
    assert nf.value.error_code == "ENDPOINT_NOT_FOUND"
    with pytest.raises(lineage.NotFound) as run:
        client.get_run("0" * 32)
    assert run.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_error_codes_map_to_exception_classes():
    cases = {
        "INVALID_PARAMETER_VALUE": lineage.InvalidParameter, "UNAUTHENTICATED": lineage.Unauthenticated,
        "PERMISSION_DENIED": lineage.PermissionDenied, "RESOURCE_DOES_NOT_EXIST": lineage.NotFound,
        "ENDPOINT_NOT_FOUND": lineage.NotFound, "RESOURCE_ALREADY_EXISTS": lineage.AlreadyExists, "CONFLICT": lineage.Conflict,
        "PAYLOAD_TOO_LARGE": lineage.PayloadTooLarge, "RATE_LIMITED": lineage.RateLimited,
        "TEMPORARILY_UNAVAILABLE": lineage.Unavailable, "INTERNAL_ERROR": lineage.ServerError,
    }
    for code, cls in cases.items():
        err = error_for(code, "m", 400)
        assert type(err) is cls and err.error_code == code and isinstance(err, lineage.LineageError)
    # Unknown or missing codes fall back on the HTTP status.
    assert type(error_for(None, "m", 403)) is lineage.PermissionDenied
    assert type(error_for("SOMETHING_NEW", "m", 404)).__name__ == "NotFound"
    assert type(error_for(None, "m", 502)) is lineage.ServerError


@pytest.fixture(scope="module")
def secured_server():
    """Authentication on (a user exists) and a low rate limit: the limit applies to principals, not to
    anonymous loopback callers (src/Lineage.Server/Http/RateLimits.cs)."""
    s = Server("--rate-limit", "1", "--rate-burst", "3", setup=[["users", "create", "ana"], ["tokens", "create", "ana", "--name", "pytest"],
                                                                   ["roles", "grant", "ana", "default", "reader"]])
    s.token = s.outputs[1].strip().splitlines()[-1]
    yield s
    s.stop()


def test_429_is_retried_after_retry_after(secured_server):
    impatient = lineage.Client(secured_server.url, token=secured_server.token, max_retries=0)
    with pytest.raises(lineage.RateLimited) as e:
        for _ in range(10):
            impatient.list_projects()
    assert e.value.status == 429 and e.value.error_code == "RATE_LIMITED" and e.value.is_transient
    patient = lineage.Client(secured_server.url, token=secured_server.token, max_retries=8)
    for _ in range(6):
        assert [p.name for p in patient.list_projects()] == ["default"]


def test_authentication_and_permissions(secured_server):
    assert secured_server.token.startswith("lin_")
    with pytest.raises(lineage.Unauthenticated) as e:
        lineage.Client(secured_server.url).list_experiments()
    assert e.value.error_code == "UNAUTHENTICATED" and e.value.status == 401
    ana = lineage.Client(secured_server.url, token=secured_server.token, max_retries=8)
    with pytest.raises(lineage.PermissionDenied) as denied:
        ana.create_experiment("not-allowed")  # ana only reads the default project
    assert denied.value.error_code == "PERMISSION_DENIED" and denied.value.status == 403
    with pytest.raises(lineage.Unauthenticated):
        lineage.Client(secured_server.url, token="lin_1_wrong").list_projects()
