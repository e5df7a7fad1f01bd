"""Meta's errors as typed exceptions, parsed from the Graph API's JSON error envelope.

Branch on `code` / `error_subcode` / `is_transient`, never on the HTTP status
(meta-graph-api.md §6).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from promotion.meta.redaction import redact_secrets, redact_structure

RATE_LIMIT_CODES = frozenset({4, 17, 32, 341, 613}) | frozenset(range(80000, 80015))
TRANSIENT_CODES = frozenset({1, 2})
TOKEN_CODES = frozenset({190, 102})
PERMISSION_CODES = frozenset({10}) | frozenset(range(200, 300))
VERSION_CODES = frozenset({2635})
VIDEO_UPLOAD_CODES = frozenset({6000, 6001})
# Ours, not Meta's: the request never left, so Meta cannot have done the work.
CONNECT_ERROR_TYPE = "ConnectError"


class MetaError(Exception):
    """Anything that went wrong talking to Meta."""

    code: int | None = None
    subcode: int | None = None


class MetaApiError(MetaError):
    """Meta answered with an error envelope."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        subcode: int | None = None,
        is_transient: bool = False,
        http_status: int | None = None,
        error_type: str = "",
        fbtrace_id: str = "",
        user_title: str = "",
        user_message: str = "",
        error_data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        # Meta may echo the request: no credential survives into str(), logs or rows.
        known = tuple(secrets)
        message = redact_secrets(message, known)
        super().__init__(message)
        self.message = message
        self.code = code
        self.subcode = subcode
        self.is_transient = is_transient
        self.http_status = http_status
        self.error_type = error_type
        self.fbtrace_id = fbtrace_id
        self.user_title = redact_secrets(user_title, known)
        self.user_message = redact_secrets(user_message, known)
        self.error_data = redact_structure(dict(error_data or {}), known)
        self.headers = dict(headers or {})

    def __str__(self) -> str:
        sub = f"/{self.subcode}" if self.subcode else ""
        return f"Meta error {self.code}{sub}: {self.message}"


class MetaTokenError(MetaApiError):
    """Invalid or expired token (190, 102): fail fast, never retry."""

    def __str__(self) -> str:
        # Read in a PromotionLog row or a failed task: say what to do about it.
        return (
            f"{super().__str__()}. Meta rejected the access token; renew "
            "META_ACCESS_TOKEN (expired, revoked or for another app) and retry."
        )


class MetaPermissionError(MetaApiError):
    """Missing permission (10, 200-299): never retry."""


class MetaVersionError(MetaApiError):
    """Deprecated API version (2635): never retry; bump META_API_VERSION."""


class MetaRateLimitError(MetaApiError):
    """Throttled (4, 17, 32, 341, 613, 80000-80014): retry after the advertised wait."""


class MetaTransientError(MetaApiError):
    """Meta says try again (1, 2, or is_transient)."""


class MetaInvalidParameterError(MetaApiError):
    """Bad request (100 …): fix the request; 1487390 may be retried a few times."""


class MetaVideoUploadError(MetaApiError):
    """Chunked upload errors (6000/6001); 1363037 names the offsets to resume at."""


class MetaAmbiguousError(MetaError):
    """No usable answer (timeout, reset, 5xx without an error body): Meta may have done
    the work. Look the object up by name before creating it again."""

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        super().__init__(redact_secrets(message))  # a transport error may quote the URL
        self.http_status = http_status


class MetaRetryLater(MetaError):
    """Meta asked us to wait longer than a task may hold a worker: reschedule the
    task with `countdown=retry_after_seconds` instead of sleeping."""

    def __init__(
        self,
        message: str,
        *,
        retry_after_seconds: float,
        operation: str = "",
        cause: MetaError | None = None,
    ) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
        self.operation = operation
        self.cause = cause
        self.code = cause.code if cause is not None else None
        self.subcode = cause.subcode if cause is not None else None


def error_from_payload(
    payload: Mapping[str, Any],
    *,
    http_status: int | None = None,
    headers: Mapping[str, str] | None = None,
    secrets: Iterable[str] = (),
) -> MetaApiError:
    """Build the typed exception for a Graph error body `{"error": {...}}`; `secrets`
    (the caller's token and proof) are blanked wherever the body echoes them."""
    err = payload.get("error") if isinstance(payload, Mapping) else None
    if not isinstance(err, Mapping):
        err = {}
    code = _as_int(err.get("code"))
    subcode = _as_int(err.get("error_subcode"))
    error_data = err.get("error_data") or {}
    if isinstance(error_data, str):
        try:
            error_data = json.loads(error_data)
        except ValueError:
            error_data = {"raw": error_data}
    kwargs: dict[str, Any] = {
        "code": code,
        "subcode": subcode,
        "is_transient": bool(err.get("is_transient", False)),
        "http_status": http_status,
        "error_type": str(err.get("type", "")),
        "fbtrace_id": str(err.get("fbtrace_id", "")),
        "user_title": str(err.get("error_user_title", "")),
        "user_message": str(err.get("error_user_msg", "")),
        "error_data": error_data if isinstance(error_data, Mapping) else {},
        "headers": headers,
        "secrets": tuple(secrets),
    }
    message = str(err.get("message") or "Unknown Meta error")
    cls: type[MetaApiError]
    if code in TOKEN_CODES:
        cls = MetaTokenError
    elif code in PERMISSION_CODES:
        cls = MetaPermissionError
    elif code in VERSION_CODES:
        cls = MetaVersionError
    elif code in RATE_LIMIT_CODES:
        cls = MetaRateLimitError
    elif code in VIDEO_UPLOAD_CODES:
        cls = MetaVideoUploadError
    elif code in TRANSIENT_CODES or kwargs["is_transient"]:
        cls = MetaTransientError
    elif code == 100:
        cls = MetaInvalidParameterError
    else:
        cls = MetaApiError
    return cls(message, **kwargs)


def _as_int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None
