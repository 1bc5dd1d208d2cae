"""Exceptions raised by the Lineage client.

Every failure is a :class:`LineageError` carrying the server's stable error code
(``error_code``, e.g. ``"RESOURCE_DOES_NOT_EXIST"``), its message, the request field at
fault (``field``) and the HTTP status (``status``; ``None`` when no answer arrived). The
subclasses let callers catch one kind of failure::

    try:
        client.get_artifact("sales", version=7)
    except lineage.NotFound as e:
        print(e.error_code, e.message)

The codes and statuses are the ones listed in docs/api.md ("Errors").
"""
from __future__ import annotations

from typing import Dict, Optional, Type


class LineageError(Exception):
    """A request the server rejected, or could not be reached for.

    Attributes:
        error_code: the server's code (``INVALID_PARAMETER_VALUE``, ``CONFLICT``, ...), or
            ``TEMPORARILY_UNAVAILABLE`` when the server could not be reached.
        message: the server's message.
        field: the request field at fault, when the server named one.
        status: the HTTP status, or ``None`` when no answer arrived.
    """

    def __init__(self, error_code: str, message: str, status: Optional[int] = None, field: Optional[str] = None) -> None:
        super().__init__(f"{error_code}: {message}")
        self.error_code = error_code
        self.message = message
        self.status = status
        self.field = field

    @property
    def is_transient(self) -> bool:
        """True when sending the same request again may succeed (no answer, 429 or 5xx)."""
        return self.status is None or self.status == 429 or self.status >= 500


class InvalidParameter(LineageError, ValueError):
    """400 ``INVALID_PARAMETER_VALUE``: malformed or invalid input (see ``field``)."""


class Unauthenticated(LineageError):
    """401 ``UNAUTHENTICATED``: no token, or an invalid one."""


class PermissionDenied(LineageError):
    """403 ``PERMISSION_DENIED``: the token's principal lacks the role for this project."""


class NotFound(LineageError, LookupError):
    """404 ``RESOURCE_DOES_NOT_EXIST`` or ``ENDPOINT_NOT_FOUND``."""


class AlreadyExists(LineageError):
    """409 ``RESOURCE_ALREADY_EXISTS``: the name is taken."""


class Conflict(LineageError):
    """409 ``CONFLICT``: e.g. an idempotency key reused for a different request, a deployed model deleted."""


class PayloadTooLarge(LineageError):
    """413 ``PAYLOAD_TOO_LARGE``."""


class RateLimited(LineageError):
    """429 ``RATE_LIMITED`` after the client's retries were used up."""


class Unavailable(LineageError):
    """503 ``TEMPORARILY_UNAVAILABLE`` after the retries, or the server could not be reached at all."""


class ServerError(LineageError):
    """500 ``INTERNAL_ERROR`` (a server bug), or an answer the client could not read."""


_BY_CODE: Dict[str, Type[LineageError]] = {
    "INVALID_PARAMETER_VALUE": InvalidParameter,
    "UNAUTHENTICATED": Unauthenticated,
    "PERMISSION_DENIED": PermissionDenied,
    "RESOURCE_DOES_NOT_EXIST": NotFound,
    "ENDPOINT_NOT_FOUND": NotFound,
    "METHOD_NOT_ALLOWED": InvalidParameter,
    "RESOURCE_ALREADY_EXISTS": AlreadyExists,
    "CONFLICT": Conflict,
    "PAYLOAD_TOO_LARGE": PayloadTooLarge,
    "RATE_LIMITED": RateLimited,
    "TEMPORARILY_UNAVAILABLE": Unavailable,
    "INTERNAL_ERROR": ServerError,
}

_BY_STATUS: Dict[int, str] = {
    400: "INVALID_PARAMETER_VALUE",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "RESOURCE_DOES_NOT_EXIST",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    429: "RATE_LIMITED",
    503: "TEMPORARILY_UNAVAILABLE",
}


def error_for(error_code: Optional[str], message: str, status: Optional[int], field: Optional[str] = None) -> LineageError:
    """The exception for a server answer: by its ``error_code``, else by its HTTP status."""
    code = error_code if error_code in _BY_CODE else _BY_STATUS.get(status or 0, "INTERNAL_ERROR")
    return _BY_CODE[code](code, message, status, field)
