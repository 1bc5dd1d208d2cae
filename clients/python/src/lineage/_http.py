"""Transport: every URL, header, retry and error of the client is made here (STYLE.md, rule 10).

One keep-alive connection per thread (``http.client`` connections are not thread-safe), so a
:class:`Transport` may be shared by the caller's threads and the background metric sender.
"""
from __future__ import annotations

import http.client
import json
import random

import threading
import time
import uuid
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union
from urllib.parse import quote, urlencode, urlsplit

from .errors import LineageError, ServerError, Unavailable, error_for

#: A query: pairs, so a name may repeat (``orderBy`` twice); ``None`` values are left out.
Query = Union[Mapping[str, Any], Sequence[Tuple[str, Any]], None]
#: A request body: JSON-able value, raw bytes, or a callable opening a fresh binary stream (re-opened on a retry).
Body = Union[None, bytes, Callable[[], Any], Any]

_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_RETRY_STATUSES = frozenset({429, 503})


def path(*segments: Union[str, int]) -> str:
    """``/api/v1/`` + escaped segments; ``path("artifacts", "a b", "versions", 2)`` → ``/api/v1/artifacts/a%20b/versions/2``."""
    return "/api/v1/" + "/".join(quote(str(s), safe="") for s in segments)


def new_key() -> str:
    """A fresh idempotency key (32 hex characters)."""
    return uuid.uuid4().hex


class Transport:
    """Sends requests to one server with retries on 429/503 and dropped connections.

    Thread-safe. Every write (POST, PUT, PATCH, DELETE) carries an ``Idempotency-Key`` that stays
    the same across retries, so a write whose answer was lost is applied once (docs/api.md,
    "Idempotent writes").
    """

    def __init__(self, url: str, token: Optional[str], user: Optional[str], timeout: float, max_retries: int,
                 backoff: float = 0.1, max_backoff: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"url must be http(s)://host[:port][/prefix], got {url!r}")
        self.url = url.rstrip("/")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._prefix = parts.path.rstrip("/")
        self._headers: Dict[str, str] = {"Accept": "application/json", "User-Agent": "lineage-client-python"}
        if token:
            self._headers["Authorization"] = "Bearer " + token
        if user:
            self._headers["Lineage-User"] = user
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._local = threading.local()

    # ---- connections ------------------------------------------------------------------

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            # 1 MiB blocks for streamed uploads: http.client's default of 8 KiB costs a system call per 8 KiB.
            conn = cls(self._host, self._port, timeout=self.timeout, blocksize=1 << 20)
            self._local.conn = conn
        return conn

    def _drop_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def close(self) -> None:
        """Closes this thread's connection (others close when their threads end)."""
        self._drop_connection()

    # ---- requests ---------------------------------------------------------------------

    def request(self, method: str, url_path: str, query: Query = None, body: Body = None,
                idempotency_key: Optional[str] = None, stream: bool = False,
                content_type: Optional[str] = None, length: Optional[int] = None,
                ok_statuses: Iterable[int] = ()) -> Any:
        """Sends one request and returns the decoded JSON answer (``None`` for an empty one).

        ``stream=True`` returns the open :class:`http.client.HTTPResponse` instead (the caller reads
        and closes it). A status in ``ok_statuses`` is returned as an int instead of raised (``HEAD``
        probes). Raises a :class:`~lineage.LineageError` subclass for every failure.
        """
        target = self._prefix + url_path + _query_string(query)
        headers = dict(self._headers)
        if method in _WRITES:
            headers["Idempotency-Key"] = idempotency_key or new_key()
        payload_factory: Optional[Callable[[], Any]] = None
        payload: Any = None
        if body is None:
            pass
        elif callable(body):
            payload_factory = body
            headers["Content-Type"] = content_type or "application/octet-stream"
            if length is not None:
                headers["Content-Length"] = str(length)
        elif isinstance(body, (bytes, bytearray)):
            payload = bytes(body)
            headers["Content-Type"] = content_type or "application/octet-stream"
        else:
            payload = dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if payload is not None:
            headers["Content-Length"] = str(len(payload))
        elif body is None and method in _WRITES:
            headers["Content-Length"] = "0"

        attempt = 0
        while True:
            attempt += 1
            opened = None
            try:
                conn = self._connection()
                data = payload
                if payload_factory is not None:
                    opened = payload_factory()
                    data = opened
                conn.request(method, target, body=data, headers=headers)
                response = conn.getresponse()
            except (OSError, http.client.HTTPException) as exc:
                self._drop_connection()
                if attempt <= self.max_retries:
                    self._sleep(attempt, None)
                    continue
                raise Unavailable("TEMPORARILY_UNAVAILABLE",
                                  f"cannot reach the Lineage server at {self.url}: {exc}", None) from exc
            finally:
                if opened is not None:
                    opened.close()
            status = response.status
            if status in _RETRY_STATUSES and attempt <= self.max_retries:
                retry_after = response.getheader("Retry-After")
                response.read()
                self._sleep(attempt, retry_after)
                continue
            if 200 <= status < 300:
                if stream:
                    return response
                return _decode(response, method, url_path)
            if status in ok_statuses:
                response.read()
                return status
            raise _error(response, method, url_path)

    def _sleep(self, attempt: int, retry_after: Optional[str]) -> None:
        delay = min(self.max_backoff, self.backoff * (2 ** (attempt - 1)))
        if retry_after:
            try:
                delay = max(delay, min(float(retry_after), self.max_backoff))
            except ValueError:
                pass
        time.sleep(delay * (0.5 + random.random() / 2))


def _query_string(query: Query) -> str:
    if not query:
        return ""
    pairs = query.items() if isinstance(query, Mapping) else query
    kept: List[Tuple[str, str]] = []
    for name, value in pairs:
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        kept.append((name, str(value)))
    return "?" + urlencode(kept, quote_via=quote) if kept else ""


def _decode(response: http.client.HTTPResponse, method: str, url_path: str) -> Any:
    raw = response.read()
    if not raw:
        return None
    ctype = response.getheader("Content-Type") or ""
    if "json" not in ctype:
        return raw.decode("utf-8")
    try:
        return json.loads(raw, parse_constant=_constant)
    except ValueError as exc:
        raise ServerError("INTERNAL_ERROR", f"{method} {url_path}: the answer is not JSON ({exc})", response.status) from exc


def _error(response: http.client.HTTPResponse, method: str, url_path: str) -> LineageError:
    raw = response.read()
    text = raw.decode("utf-8", "replace")
    code = message = field = None
    try:
        answer = json.loads(text)
        if isinstance(answer, dict):
            code, message, field = answer.get("error_code"), answer.get("message"), answer.get("field")
    except ValueError:
        pass
    if message is None:
        message = f"{method} {url_path} answered {response.status}: {text[:200]}"
    return error_for(code, message, response.status, field)


def _constant(name: str) -> float:
    return float(name)


def _default(value: Any) -> Any:
    to_json = getattr(value, "to_json", None)
    if to_json is not None:
        return to_json()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(value: Any) -> str:
    """JSON with the API's spelling of non-finite floats (``"NaN"``, ``"Infinity"``, ``"-Infinity"``)."""
    return json.dumps(_finite(value), separators=(",", ":"), default=_default, allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value in (float("inf"), float("-inf")):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


__all__ = ["Transport", "path", "new_key", "dumps"]
