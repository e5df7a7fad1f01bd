"""The Graph API over HTTP: one attempt, one observed call, one typed error.

Everything below the resources: URLs and versions, auth (token and appsecret_proof),
parameter encoding as the SDK does it, reading Graph's body or error envelope, and
running attempts under the retry policy, create-once and verified updates.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import Any, TypeVar

import httpx

from promotion.meta.create_once import create_once
from promotion.meta.errors import (
    CONNECT_ERROR_TYPE,
    MetaAmbiguousError,
    MetaApiError,
    MetaError,
    MetaRetryLater,
    MetaTransientError,
    error_from_payload,
)
from promotion.meta.protocol import (
    MetaAttempt,
    MetaAttemptRecorder,
    MetaCall,
    MetaCallObserver,
)
from promotion.meta.retry import (
    DEFAULT_RETRY_POLICY,
    RandomSource,
    RetryPolicy,
    may_have_succeeded,
    usage_percent,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

API_VERSION_RE = re.compile(r"^v\d+\.\d+$")
USER_AGENT = "creative-engine/0.1 (httpx)"


def appsecret_proof(app_secret: str, access_token: str) -> str:
    """HMAC-SHA256 of the token keyed by the app secret (securing-requests)."""
    return hmac.new(
        app_secret.encode(), access_token.encode(), hashlib.sha256
    ).hexdigest()


def encode_params(params: Mapping[str, Any]) -> dict[str, str]:
    """Encode like the SDK: dicts, lists and bools as compact sorted JSON,
    everything else as text; None is left out."""
    encoded: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, (dict, list, tuple, bool)):
            encoded[key] = json.dumps(value, sort_keys=True, separators=(",", ":"))
        else:
            encoded[key] = str(value)
    return encoded


class GraphTransport:
    """Attempts against one Graph API version, each reported to the observer."""

    def __init__(
        self,
        *,
        base_url: str,
        api_version: str,
        access_token: str,
        app_secret: str = "",
        timeout: float = 60.0,
        observer: MetaCallObserver | None = None,
        retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
        rng: RandomSource | None = None,
        page_size: int = 100,
        attempt_recorder: MetaAttemptRecorder | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self.timeout = timeout
        self.retry_policy = retry_policy
        self.page_size = page_size
        self._access_token = access_token
        self._proof = appsecret_proof(app_secret, access_token) if app_secret else ""
        self._observer = observer
        self._attempt_recorder = attempt_recorder
        self._sleep = sleep
        self._rng: RandomSource = rng or random.Random()
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout),
            transport=transport,
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def _url(self, path: str) -> str:
        return f"{self.base_url}/{self.api_version}/{path.strip('/')}"

    def _auth(self) -> dict[str, str]:
        auth = {"access_token": self._access_token}
        if self._proof:
            auth["appsecret_proof"] = self._proof
        return auth

    def _send(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        attempt: int,
        params: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
        object_id: str = "",
        details: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One HTTP attempt, recorded before it is sent (write-ahead) and reported to
        the observer once it is answered; the JSON body or a typed error. Auth
        travels in the query for reads and in the body for writes."""
        encoded = encode_params(params or {})
        call_details = {"method": method, "path": path, **(details or {})}
        attempt_id = self._record_attempt(operation, attempt, object_id, call_details)
        call_details["attempt_id"] = attempt_id
        started = time.perf_counter()
        status: int | None = None
        try:
            if method == "GET":
                response = self._http.get(
                    self._url(path), params={**encoded, **self._auth()}
                )
            else:
                response = self._http.request(
                    method,
                    self._url(path),
                    data={**encoded, **self._auth()},
                    files=files,
                )
            status = response.status_code
            body = parse_response(response, secrets=(self._access_token, self._proof))
        except httpx.TransportError as exc:
            error = _transport_error(exc, self.timeout)
            self._report_failure(
                operation, attempt, error, started, object_id, call_details
            )
            raise error from exc
        except MetaError as exc:
            self._report_failure(
                operation, attempt, exc, started, object_id, call_details
            )
            raise
        pct = usage_percent(response.headers)
        if pct:
            call_details["usage_pct"] = pct
        self._report(
            MetaCall(
                operation=operation,
                attempt=attempt,
                success=True,
                object_id=str(body.get("id") or object_id),
                http_status=status,
                duration_ms=(time.perf_counter() - started) * 1000,
                details=call_details,
            )
        )
        return body

    def _report_failure(
        self,
        operation: str,
        attempt: int,
        error: MetaError,
        started: float,
        object_id: str,
        details: dict[str, Any],
    ) -> None:
        self._report(
            MetaCall.failed(
                operation,
                attempt,
                error,
                started=started,
                object_id=object_id,
                details={**details, "error_type": type(error).__name__},
            )
        )

    def _record_attempt(
        self, operation: str, attempt: int, object_id: str, details: dict[str, Any]
    ) -> str:
        """Write-ahead: the attempt is on record before the request leaves. A failure
        to record raises and nothing is sent."""
        if self._attempt_recorder is None:
            return ""
        return self._attempt_recorder(
            MetaAttempt(
                operation=operation,
                attempt=attempt,
                object_id=object_id,
                details=dict(details),
            )
        )

    def _report(self, call: MetaCall) -> None:
        """Complete the call's record. A failure to write it is raised, not
        swallowed: the write-ahead row stays "attempting" (outcome unknown), and
        the caller's retry resumes, so create-once finds a done create by name."""
        if self._observer is None:
            return
        attempt_id = str(call.details.get("attempt_id", ""))
        if attempt_id and not call.attempt_id:
            call = replace(call, attempt_id=attempt_id)
        self._observer(call)

    def _wait_or_raise(self, operation: str, error: MetaError, attempt: int) -> None:
        """Sleep before the next attempt, or raise: the error itself when it is
        final, `MetaRetryLater` when the wait is too long to hold a worker."""
        decision = self.retry_policy.decide(error, attempt, rng=self._rng)
        if decision.reschedule:
            raise MetaRetryLater(
                f"{operation}: {decision.reason}; retry in "
                f"{decision.delay_seconds:.0f}s",
                retry_after_seconds=decision.delay_seconds,
                operation=operation,
                cause=error,
            ) from error
        if not decision.retry:
            raise error
        if decision.delay_seconds > 0:
            self._sleep(decision.delay_seconds)

    def _retrying(self, operation: str, attempt_fn: Callable[[int], T]) -> T:
        """Run an idempotent call under the retry policy."""
        attempt = 1
        while True:
            try:
                return attempt_fn(attempt)
            except MetaError as exc:
                self._wait_or_raise(operation, exc, attempt)
            attempt += 1

    def _read(
        self,
        operation: str,
        path: str,
        params: Mapping[str, Any],
        *,
        object_id: str = "",
    ) -> dict[str, Any]:
        return self._retrying(
            operation,
            lambda attempt: self._send(
                operation,
                "GET",
                path,
                attempt=attempt,
                params=params,
                object_id=object_id,
            ),
        )

    def _read_fields(
        self, operation: str, object_id: str, fields: str
    ) -> dict[str, Any]:
        """Read `fields` (comma-separated) of one object, logged against its id."""
        return self._read(operation, object_id, {"fields": fields}, object_id=object_id)

    def _paged(
        self, operation: str, path: str, params: Mapping[str, Any]
    ) -> Iterator[dict[str, Any]]:
        """Every item of an edge. Like the SDK's Cursor: continue while the page
        has both `cursors.after` and `next`, re-requesting with `after`."""
        query: dict[str, Any] = {"limit": self.page_size, **params}
        while True:
            body = self._read(operation, path, query)
            yield from body.get("data") or []
            paging = body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not (after and paging.get("next")):
                return
            query = {**query, "after": after}

    def _create_once(
        self,
        operation: str,
        *,
        name: str,
        resume: bool,
        create: Callable[[int], str],
        find: Callable[[], str | None],
        wait_or_raise: Callable[[MetaError, int], None] | None = None,
    ) -> str:
        """Create under the retry policy, never twice (see `create_once`)."""
        return create_once(
            create=create,
            find=find,
            resume=resume,
            wait_or_raise=wait_or_raise
            or (lambda exc, attempt: self._wait_or_raise(operation, exc, attempt)),
            adopt=lambda found, attempt: self._found_by_name(
                operation, attempt, found, name
            ),
        )

    def _found_by_name(
        self, operation: str, attempt: int, found: str, name: str
    ) -> str:
        self._report(
            MetaCall(
                operation=operation,
                attempt=attempt,
                success=True,
                object_id=found,
                details={"found_by_name": True, "name": name},
            )
        )
        return found

    def _update(
        self,
        operation: str,
        object_id: str,
        params: Mapping[str, Any],
        *,
        verify: Callable[[], bool],
    ) -> None:
        """POST an update; after an unanswered attempt, check before repeating."""
        attempt, unsure = 1, False
        while True:
            if unsure and verify():
                self._report(
                    MetaCall(
                        operation,
                        attempt,
                        True,
                        object_id=object_id,
                        details={"verified_by_read": True, **params},
                    )
                )
                return
            try:
                body = self._send(
                    operation,
                    "POST",
                    object_id,
                    attempt=attempt,
                    params=params,
                    object_id=object_id,
                    details=dict(params),
                )
                if body.get("success") is not True:
                    raise MetaApiError(f"{operation}: Meta did not confirm the update")
                return
            except MetaError as exc:
                unsure = may_have_succeeded(exc)
                self._wait_or_raise(operation, exc, attempt)
            attempt += 1


def parse_response(
    response: httpx.Response, *, secrets: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Graph's body or a typed error. Branch on the envelope, not the status:
    a 5xx without an `error` object says nothing about whether work was done."""
    try:
        body = response.json()
    except ValueError:
        body = None
    status = response.status_code
    headers = dict(response.headers)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        raise error_from_payload(
            body, http_status=status, headers=headers, secrets=secrets
        )
    if status >= 500 or status in (408, 429):
        raise MetaAmbiguousError(
            f"HTTP {status} without a Graph error body", http_status=status
        )
    if status >= 400:
        raise MetaApiError(
            f"HTTP {status} without a Graph error body",
            http_status=status,
            headers=headers,
        )
    if not isinstance(body, dict):
        raise MetaAmbiguousError(
            f"HTTP {status} with an unreadable body", http_status=status
        )
    if body.get("success") is False:
        raise MetaApiError("Meta answered success=false", http_status=status)
    return body


def _transport_error(exc: httpx.TransportError, timeout: float) -> MetaError:
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
        # Never reached Meta: safe to retry, nothing to look up.
        return MetaTransientError(
            f"Could not connect to Meta: {exc}",
            is_transient=True,
            error_type=CONNECT_ERROR_TYPE,
        )
    if isinstance(exc, httpx.TimeoutException):
        return MetaAmbiguousError(f"No answer from Meta within {timeout:g}s ({exc!r})")
    return MetaAmbiguousError(f"Connection to Meta failed mid-request ({exc!r})")


def id_of(body: Mapping[str, Any]) -> str:
    object_id = body.get("id")
    if not object_id:
        raise MetaApiError("Meta answered a create without an id", http_status=200)
    return str(object_id)
