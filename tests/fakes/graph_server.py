"""A stateful fake of Meta's Graph / Marketing API on loopback, for offline tests.

A real `ThreadingHTTPServer` on 127.0.0.1, so clients are exercised down to the
socket: the live `GraphMetaClient` and the official facebook-business SDK both
talk to it. It follows the wire facts of /work/shared/meta-graph-api.md:
version in the path (`v\\d+\\.\\d+`), `/x/` ≡ `/x`, auth from query, form or
`Authorization: OAuth`, JSON-encoded object params, `{"id": ...}` for creates,
`{"success": true}` for updates, cursor paging with `next` omitted on the last
page, an `error` envelope on every failure, chunked video upload with string
offsets and 6001/1363037 naming the offsets to resume at, the adimages response
keyed by filename, the 4-budget-changes-per-hour limit (code 17), and ads that
must say their status.

Faults are injected per method and path regex (the path without version, e.g.
``act_\\d+/ads$``): errors, slow answers, lost answers and throttles.

    server = FakeGraphServer()
    with server:
        server.faults.lose_response_next("POST", r"act_\\d+/ads$")
        ...
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import re
import secrets
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

VERSION_RE = re.compile(r"^v(\d+)\.(\d+)$")
JSON_PARAMS = frozenset(
    {
        "object_story_spec",
        "degrees_of_freedom_spec",
        "creative",
        "tracking_specs",
        "time_range",
        "time_ranges",
        "filtering",
        "execution_options",
        "breakdowns",
        "action_breakdowns",
        "action_attribution_windows",
        "effective_status",
        "targeting",
        "batch",
        "asset_feed_spec",
        "summary",
    }
)
AD_CREATE_STATUSES = ("ACTIVE", "PAUSED")
AD_STATUSES = ("ACTIVE", "PAUSED", "ARCHIVED", "DELETED")
BUDGET_CHANGES_PER_HOUR = 4
DEPRECATED_FEATURES = frozenset({"standard_enhancements"})


class GraphError(Exception):
    """Raised inside a route; becomes Meta's error envelope."""

    def __init__(
        self,
        message: str,
        *,
        code: int,
        status: int = 400,
        subcode: int | None = None,
        error_type: str = "OAuthException",
        is_transient: bool = False,
        error_data: Mapping[str, Any] | None = None,
        user_title: str = "",
        user_msg: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.headers = dict(headers or {})
        envelope: dict[str, Any] = {
            "message": message,
            "type": error_type,
            "code": code,
            "is_transient": is_transient,
            "fbtrace_id": _trace_id(),
        }
        if subcode is not None:
            envelope["error_subcode"] = subcode
        if error_data is not None:
            envelope["error_data"] = dict(error_data)
        if user_title:
            envelope["error_user_title"] = user_title
        if user_msg:
            envelope["error_user_msg"] = user_msg
        self.body = {"error": envelope}


def graph_error_body(
    code: int,
    message: str = "",
    *,
    subcode: int | None = None,
    is_transient: bool = False,
    error_data: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An error envelope for `faults.fail_next(error=...)`."""
    return GraphError(
        message or f"(#{code}) Fake error",
        code=code,
        subcode=subcode,
        is_transient=is_transient,
        error_data=error_data,
    ).body


def buc_usage_header(
    account_id: str, *, minutes: float, kind: str = "ads_management"
) -> dict[str, str]:
    """X-Business-Use-Case-Usage saying the account is throttled for `minutes`."""
    usage = {
        account_id.removeprefix("act_"): [
            {
                "type": kind,
                "call_count": 100,
                "total_cputime": 30,
                "total_time": 40,
                "estimated_time_to_regain_access": minutes,
                "ads_api_access_tier": "development_access",
            }
        ]
    }
    return {"x-business-use-case-usage": json.dumps(usage)}


# --------------------------------------------------------------------------- faults


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    kind: str  # fail | timeout | lose | upload_interrupt
    remaining: int
    when: Mapping[str, str] = field(default_factory=dict)
    status: int = 500
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    work: str = "before"  # timeout: do the work before / after the wait, or none
    mode: str = "drop"  # lose: drop the connection, reset it, or answer 502
    keep_bytes: int | None = None

    def matches(self, method: str, path: str, params: Mapping[str, Any]) -> bool:
        if self.method not in ("*", method):
            return False
        if not self.pattern.search(path):
            return False
        return all(str(params.get(k)) == v for k, v in self.when.items())


class FaultQueue:
    """Faults armed for the next matching requests, first armed first used."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.fired: list[tuple[str, str, str]] = []  # (kind, method, path)

    def _arm(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def fail_next(
        self,
        method: str,
        path_regex: str,
        *,
        status: int = 500,
        error: Mapping[str, Any] | None = None,
        body: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        times: int = 1,
        when: Mapping[str, str] | None = None,
    ) -> Fault:
        """Answer `status` without doing the work.

        `error` is the full envelope (`graph_error_body(...)`) or just its inner
        object; `body` sends raw bytes instead (e.g. b"" or an HTML page).
        Neither: Meta's code 2 "Service temporarily unavailable".
        """
        if body is None:
            if error is None:
                error = graph_error_body(
                    2, "Service temporarily unavailable", is_transient=True
                )
            elif "error" not in error:
                error = {"error": dict(error)}
            raw = json.dumps(error).encode()
        else:
            raw = body.encode() if isinstance(body, str) else body
        return self._arm(
            Fault(
                method=method,
                pattern=re.compile(path_regex),
                kind="fail",
                remaining=times,
                when=dict(when or {}),
                status=status,
                body=raw,
                headers=dict(headers or {}),
            )
        )

    def timeout_next(
        self,
        method: str,
        path_regex: str,
        *,
        seconds: float = 2.0,
        work: str = "before",
        times: int = 1,
        when: Mapping[str, str] | None = None,
    ) -> Fault:
        """Hold the answer `seconds` (longer than the client's timeout).

        work="before": the work is done, only the answer is late (the nasty case);
        "after": the work happens after the wait; "none": never done.
        """
        if work not in ("before", "after", "none"):
            raise ValueError(work)
        return self._arm(
            Fault(
                method=method,
                pattern=re.compile(path_regex),
                kind="timeout",
                remaining=times,
                when=dict(when or {}),
                seconds=seconds,
                work=work,
            )
        )

    def lose_response_next(
        self,
        method: str,
        path_regex: str,
        *,
        mode: str = "drop",
        times: int = 1,
        when: Mapping[str, str] | None = None,
    ) -> Fault:
        """Do the work, then lose the answer: close the connection ("drop"),
        reset it ("reset"), or answer 502 with an empty body ("502")."""
        if mode not in ("drop", "reset", "502"):
            raise ValueError(mode)
        return self._arm(
            Fault(
                method=method,
                pattern=re.compile(path_regex),
                kind="lose",
                remaining=times,
                when=dict(when or {}),
                mode=mode,
            )
        )

    def rate_limit_next(
        self,
        method: str,
        path_regex: str,
        *,
        code: int = 17,
        subcode: int | None = 2446079,
        eta_minutes: float = 0.0,
        account_id: str = "act_1001",
        kind: str = "ads_management",
        times: int = 1,
        when: Mapping[str, str] | None = None,
    ) -> Fault:
        """Throttle: 400 with the code and X-Business-Use-Case-Usage carrying
        `estimated_time_to_regain_access` (minutes)."""
        messages = {
            4: "Application request limit reached",
            17: "User request limit reached",
            32: "Page request limit reached",
            613: "Calls to this api have exceeded the rate limit.",
        }
        message = f"(#{code}) {messages.get(code, 'There have been too many calls')}"
        body = graph_error_body(code, message, subcode=subcode, is_transient=True)
        headers = buc_usage_header(account_id, minutes=eta_minutes, kind=kind)
        return self.fail_next(
            method,
            path_regex,
            status=400,
            error=body,
            headers=headers,
            times=times,
            when=when,
        )

    def upload_interrupt_next(
        self, *, keep_bytes: int | None = None, times: int = 1
    ) -> Fault:
        """On the next chunk transfer keep only `keep_bytes` of it (default: half)
        and answer 6001/1363037 naming the offsets to resume at."""
        return self._arm(
            Fault(
                method="POST",
                pattern=re.compile(r"act_\d+/advideos$"),
                kind="upload_interrupt",
                remaining=times,
                when={"upload_phase": "transfer"},
                keep_bytes=keep_bytes,
            )
        )

    def take(self, method: str, path: str, params: Mapping[str, Any]) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and fault.matches(method, path, params):
                    fault.remaining -= 1
                    self.fired.append((fault.kind, method, path))
                    return fault
        return None

    def pending(self) -> int:
        with self._lock:
            return sum(f.remaining for f in self._faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()


# ---------------------------------------------------------------------------- state


@dataclass
class RecordedRequest:
    method: str
    path: str  # as received, without the query
    version: str
    node_path: str  # without version and trailing slash: "act_1/ads"
    query: dict[str, str]
    params: dict[str, Any]  # query + form, JSON params decoded, auth removed
    files: dict[str, tuple[str, bytes]]
    headers: dict[str, str]
    host: str
    access_token: str
    appsecret_proof: str
    content_type: str


@dataclass
class FakeGraphState:
    """What the fake Meta holds. Tests may read and seed it directly."""

    account_id: str = "act_1001"
    page_id: str = "2002"
    videos: dict[str, dict[str, Any]] = field(default_factory=dict)
    upload_sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    images: dict[str, dict[str, Any]] = field(default_factory=dict)
    creatives: dict[str, dict[str, Any]] = field(default_factory=dict)
    ads: dict[str, dict[str, Any]] = field(default_factory=dict)
    adsets: dict[str, dict[str, Any]] = field(default_factory=dict)
    insights: list[dict[str, Any]] = field(default_factory=list)
    chunk_size: int = 1024 * 1024  # the window the server hands out per transfer
    video_processing_polls: int = 1  # status polls answered "processing" first
    video_final_status: str = "ready"  # or "error"
    # What Meta reports back for creative_features_spec may differ from what was
    # sent (features it adds or overrides): feature -> enroll_status.
    creative_feature_overrides: dict[str, str] = field(default_factory=dict)
    clock: Callable[[], float] = time.time
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1000))
    lock: threading.RLock = field(default_factory=threading.RLock)

    def new_id(self) -> str:
        return str(120210000000000000 + next(self._ids))

    def add_adset(
        self,
        adset_id: str | None = None,
        *,
        campaign_id: str = "120200000000000001",
        daily_budget: int | None = 5000,
        status: str = "ACTIVE",
        name: str = "Prospecting",
    ) -> str:
        """Seed an ad set; `daily_budget=None` means the campaign holds the budget."""
        with self.lock:
            adset_id = adset_id or self.new_id()
            self.adsets[adset_id] = {
                "id": adset_id,
                "name": name,
                "campaign_id": campaign_id,
                "account_id": self.account_id.removeprefix("act_"),
                "daily_budget": daily_budget,
                "status": status,
                "budget_changes": [],  # epoch seconds of accepted changes
            }
            return adset_id

    def seed_insight(
        self,
        ad_id: str,
        day: date,
        *,
        impressions: int = 1000,
        reach: int = 800,
        clicks: int = 40,
        spend: str = "12.50",
        purchases: int = 0,
        revenue: str = "0",
        video_plays: int = 0,
        video_p25: int = 0,
        video_p50: int = 0,
        video_p75: int = 0,
        video_p100: int = 0,
        video_avg_seconds: str = "0",
    ) -> dict[str, Any]:
        """One ad-day row the way Meta returns it: numbers as strings, metrics
        without data omitted, purchases reported under several action types."""
        row: dict[str, Any] = {
            "account_id": self.account_id.removeprefix("act_"),
            "ad_id": ad_id,
            "date_start": day.isoformat(),
            "date_stop": day.isoformat(),
            "impressions": str(impressions),
            "reach": str(reach),
            "frequency": _num(Decimal(impressions) / Decimal(reach or 1)),
            "clicks": str(clicks),
            "ctr": _num(Decimal(clicks * 100) / Decimal(impressions or 1)),
            "spend": spend,
            "cpm": _num(Decimal(spend) * 1000 / Decimal(impressions or 1)),
        }
        actions = [{"action_type": "link_click", "value": str(clicks)}]
        values = []
        if purchases:
            for kind in (
                "purchase",
                "omni_purchase",
                "offsite_conversion.fb_pixel_purchase",
            ):
                actions.append({"action_type": kind, "value": str(purchases)})
                values.append({"action_type": kind, "value": revenue})
        row["actions"] = actions
        if values:
            row["action_values"] = values
        for name, count in (
            ("video_play_actions", video_plays),
            ("video_p25_watched_actions", video_p25),
            ("video_p50_watched_actions", video_p50),
            ("video_p75_watched_actions", video_p75),
            ("video_p100_watched_actions", video_p100),
        ):
            if count:
                row[name] = [{"action_type": "video_view", "value": str(count)}]
        if video_avg_seconds != "0":
            row["video_avg_time_watched_actions"] = [
                {"action_type": "video_view", "value": video_avg_seconds}
            ]
        with self.lock:
            self.insights.append(row)
        return row

    def finished_videos(self) -> list[dict[str, Any]]:
        return [v for v in self.videos.values() if v["uploading"] == "complete"]


# --------------------------------------------------------------------------- server


class FakeGraphServer:
    """The fake Graph API. `base_url` plays the role of https://graph.facebook.com."""

    def __init__(
        self,
        *,
        access_token: str = "TOK",  # noqa: S107 - the fake's test token
        app_secret: str = "",
        require_appsecret_proof: bool = False,
        min_version: tuple[int, int] | None = None,
        state: FakeGraphState | None = None,
    ) -> None:
        self.valid_tokens = {access_token}
        self.expired_tokens: set[str] = set()
        self.app_secret = app_secret
        self.require_appsecret_proof = require_appsecret_proof
        self.min_version = min_version
        self.state = state or FakeGraphState()
        self.faults = FaultQueue()
        self.requests: list[RecordedRequest] = []
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle ---------------------------------------------------------------
    def start(self) -> FakeGraphServer:
        handler = type("BoundHandler", (_Handler,), {"fake": self})
        self._httpd = _QuietServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-graph",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeGraphServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "start() the server first"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    # inspection helpers --------------------------------------------------------
    def requests_to(self, method: str, path_regex: str) -> list[RecordedRequest]:
        pattern = re.compile(path_regex)
        return [
            r
            for r in list(self.requests)
            if r.method == method and pattern.search(r.node_path)
        ]

    def wait(self, seconds: float) -> None:
        """Sleep, but wake up when the server stops (no stray sleepers)."""
        self._stopping.wait(seconds)

    # request processing --------------------------------------------------------
    def handle(self, request: RecordedRequest) -> tuple[int, dict[str, Any], dict]:
        """Auth, version, then the route. Returns (status, body, headers)."""
        try:
            self._check_version(request.version)
            self._check_auth(request)
            with self.state.lock:
                status, body = _Routes(self, request).dispatch()
            return status, body, self._usage_headers(request)
        except GraphError as exc:
            return exc.status, exc.body, exc.headers

    def _check_version(self, version: str) -> None:
        match = VERSION_RE.match(version)
        if not match:
            raise GraphError(
                f"Unknown path components: /{version}",
                code=2500,
                error_type="OAuthException",
            )
        if self.min_version and (int(match[1]), int(match[2])) < self.min_version:
            raise GraphError(
                "(#2635) You are calling a deprecated version of the Ads API. Please "
                f"update to the latest version: v{self.min_version[0]}.0.",
                code=2635,
            )

    def _check_auth(self, request: RecordedRequest) -> None:
        token = request.access_token
        if not token:
            raise GraphError(
                "An access token is required to request this resource.", code=104
            )
        if token not in self.valid_tokens:
            if token in self.expired_tokens:
                message = (
                    "Error validating access token: Session has expired on "
                    "Tuesday, 01-Sep-26 10:00:00 PDT."
                )
                subcode: int | None = 463
            else:
                message = "Invalid OAuth access token - Cannot parse access token"
                subcode = None
            header = f'OAuth "Facebook Platform" "invalid_token" "{message}"'
            raise GraphError(
                message,
                code=190,
                subcode=subcode,
                headers={"WWW-Authenticate": header},
            )
        proof = request.appsecret_proof
        if self.app_secret and (proof or self.require_appsecret_proof):
            expected = appsecret_proof(self.app_secret, token)
            if not proof:
                raise GraphError(
                    "API calls from the server require an appsecret_proof argument",
                    code=100,
                    error_type="GraphMethodException",
                )
            if not hmac.compare_digest(proof, expected):
                raise GraphError(
                    "Invalid appsecret_proof provided in the API argument",
                    code=100,
                    error_type="GraphMethodException",
                )

    def _usage_headers(self, request: RecordedRequest) -> dict[str, str]:
        calls = len(self.requests)
        headers = {
            "x-app-usage": json.dumps(
                {"call_count": min(calls, 99), "total_cputime": 1, "total_time": 1}
            )
        }
        if request.node_path.startswith("act_"):
            kind = (
                "ads_insights" if "insights" in request.node_path else "ads_management"
            )
            usage = json.loads(
                buc_usage_header(self.state.account_id, minutes=0, kind=kind)[
                    "x-business-use-case-usage"
                ]
            )
            for entries in usage.values():
                entries[0]["call_count"] = min(calls, 99)
            headers["x-business-use-case-usage"] = json.dumps(usage)
        return headers


def appsecret_proof(app_secret: str, access_token: str) -> str:
    return hmac.new(
        app_secret.encode(), access_token.encode(), hashlib.sha256
    ).hexdigest()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out close their end; that is the point of some tests.
        pass


class _Handler(BaseHTTPRequestHandler):
    fake: FakeGraphServer
    server_version = "FakeGraph/1.0"
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        fake = self.fake
        request = self._record(method)
        fake.requests.append(request)
        fault = fake.faults.take(method, request.node_path, request.params)
        if fault is not None and fault.kind == "fail":
            self._write(fault.status, fault.body or b"", fault.headers)
            return
        if fault is not None and fault.kind == "upload_interrupt":
            request.params["_interrupt_keep"] = fault.keep_bytes
        if fault is not None and fault.kind == "timeout":
            if fault.work == "before":
                status, body, headers = fake.handle(request)
                fake.wait(fault.seconds)
            elif fault.work == "after":
                fake.wait(fault.seconds)
                status, body, headers = fake.handle(request)
            else:
                fake.wait(fault.seconds)
                status, body, headers = 500, graph_error_body(1, "timeout"), {}
            with contextlib.suppress(OSError):
                self._write(status, json.dumps(body).encode(), headers)
            return
        status, body, headers = fake.handle(request)
        if fault is not None and fault.kind == "lose":
            self._lose(fault.mode)
            return
        self._write(status, json.dumps(body).encode(), headers)

    def _lose(self, mode: str) -> None:
        if mode == "502":
            self._write(502, b"", {"Content-Type": "text/html"})
            return
        self.close_connection = True
        if mode == "reset":
            # SO_LINGER 0: closing sends RST instead of FIN ("connection reset").
            self.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            self.connection.close()
            return
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _write(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
        self.send_response(status)
        merged = {
            "Content-Type": "application/json; charset=UTF-8",
            "facebook-api-version": "v25.0",
            "x-fb-trace-id": _trace_id(),
            "x-fb-rev": "1000000",
            **headers,
        }
        for name, value in merged.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _record(self, method: str) -> RecordedRequest:
        split = urlsplit(self.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        raw = self._read_body()
        content_type = self.headers.get("Content-Type", "")
        form: dict[str, str] = {}
        files: dict[str, tuple[str, bytes]] = {}
        if content_type.startswith("application/x-www-form-urlencoded"):
            form = dict(parse_qsl(raw.decode(), keep_blank_values=True))
        elif content_type.startswith("multipart/form-data"):
            form, files = parse_multipart(raw, content_type)
        params: dict[str, Any] = {**query, **form}
        token = params.pop("access_token", "")
        proof = params.pop("appsecret_proof", "")
        auth = self.headers.get("Authorization", "")
        if not token and auth.split(" ")[0] in ("OAuth", "Bearer"):
            token = auth.split(" ", 1)[1].strip()
        for key, value in list(params.items()):
            params[key] = _decode_param(key, value)
        segments = [s for s in split.path.split("/") if s]
        version = segments[0] if segments else ""
        node_path = "/".join(segments[1:])
        return RecordedRequest(
            method=method,
            path=split.path,
            version=version,
            node_path=node_path,
            query=query,
            params=params,
            files=files,
            headers={k.lower(): v for k, v in self.headers.items()},
            host=self.headers.get("Host", ""),
            access_token=token,
            appsecret_proof=proof,
            content_type=content_type,
        )

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""


def parse_multipart(
    raw: bytes, content_type: str
) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    """Split by boundary and ignore part Content-Types: the SDK labels its video
    chunk `multipart/form-data`, which trips cgi/email parsers (§2.B rule 5)."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise ValueError("multipart without boundary")
    delimiter = b"--" + match[1].encode()
    form: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for part in raw.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        part = part.removeprefix(b"\r\n")
        head, _, body = part.partition(b"\r\n\r\n")
        body = body.removesuffix(b"\r\n")
        disposition = ""
        for line in head.decode("utf-8", "replace").split("\r\n"):
            if line.lower().startswith("content-disposition:"):
                disposition = line
        name = re.search(r'\bname="([^"]*)"', disposition)
        filename = re.search(r'\bfilename="([^"]*)"', disposition)
        if not name:
            continue
        if filename:
            files[name[1]] = (filename[1], body)
        else:
            form[name[1]] = body.decode()
    return form, files


def _decode_param(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if key in JSON_PARAMS or value in ("true", "false"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


# ---------------------------------------------------------------------------- routes


class _Routes:
    def __init__(self, fake: FakeGraphServer, request: RecordedRequest) -> None:
        self.fake = fake
        self.state = fake.state
        self.request = request
        self.params = request.params

    def dispatch(self) -> tuple[int, dict[str, Any]]:
        method = self.request.method
        segments = [s for s in self.request.node_path.split("/") if s]
        if not segments:
            raise GraphError(
                "(#100) Batch requests are not supported by the fake", code=100
            )
        node = segments[0]
        edge = segments[1] if len(segments) > 1 else ""
        if len(segments) > 2:
            raise GraphError("Unknown path components", code=2500)
        if node.startswith("act_"):
            self._check_account(node)
            handler = getattr(self, f"{method.lower()}_account_{edge}", None)
        elif edge:
            handler = getattr(self, f"{method.lower()}_node_{edge}", None)
        else:
            handler = getattr(self, f"{method.lower()}_node", None)
        if handler is None:
            raise GraphError(
                f"(#100) Unsupported {method.lower()} request. Object with ID "
                f"'{node}' does not exist, cannot be loaded due to missing "
                "permissions, or does not support this operation.",
                code=100,
                subcode=33,
                error_type="GraphMethodException",
            )
        return handler(node) if not node.startswith("act_") else handler()

    # helpers ------------------------------------------------------------------
    def _check_account(self, node: str) -> None:
        if node != self.state.account_id:
            raise GraphError(
                f"(#100) Unsupported request. Object with ID '{node}' does not exist",
                code=100,
                subcode=33,
                error_type="GraphMethodException",
            )

    def _require(self, name: str) -> Any:
        value = self.params.get(name)
        if value in (None, ""):
            raise GraphError(f"(#100) The parameter {name} is required", code=100)
        return value

    def _fields(self) -> list[str]:
        return _split_fields(str(self.params.get("fields", "")))

    def _page(self, items: list[dict[str, Any]], *, default_limit: int = 25) -> dict:
        """Cursor paging: `next` only when more pages exist (SDK Cursor contract)."""
        try:
            limit = max(1, int(self.params.get("limit", default_limit)))
        except ValueError as exc:
            raise GraphError("(#100) limit must be an integer", code=100) from exc
        start = (
            _decode_cursor(str(self.params["after"])) + 1
            if "after" in self.params
            else 0
        )
        page = items[start : start + limit]
        if not page:
            return {"data": []}
        end = start + len(page) - 1
        paging: dict[str, Any] = {
            "cursors": {"before": _encode_cursor(start), "after": _encode_cursor(end)}
        }
        if end + 1 < len(items):
            query = {
                k: json.dumps(v, separators=(",", ":"))
                if isinstance(v, (dict, list))
                else v
                for k, v in self.params.items()
                if not k.startswith("_")
            }
            query.update(access_token="<token>", after=_encode_cursor(end))
            paging["next"] = (
                f"{self.fake.base_url}/{self.request.version}/"
                f"{self.request.node_path}?{urlencode(query)}"
            )
        if start > 0:
            paging["previous"] = f"{self.fake.base_url}/{self.request.version}/..."
        return {"data": page, "paging": paging}

    def _project(self, obj: Mapping[str, Any], default: tuple[str, ...]) -> dict:
        fields = self._fields() or list(default)
        out: dict[str, Any] = {}
        for name in fields:
            if name in obj and obj[name] is not None:
                out[name] = obj[name]
        out["id"] = obj["id"]
        return out

    def _find_node(self, node: str) -> tuple[str, dict[str, Any]]:
        for kind in ("videos", "creatives", "ads", "adsets", "images"):
            collection = getattr(self.state, kind)
            if node in collection:
                return kind, collection[node]
        raise GraphError(
            f"(#100) Unsupported get request. Object with ID '{node}' does not "
            "exist, cannot be loaded due to missing permissions, or does not "
            "support this operation.",
            code=100,
            subcode=33,
            error_type="GraphMethodException",
        )

    # videos -----------------------------------------------------------------------
    def post_account_advideos(self) -> tuple[int, dict]:
        phase = self.params.get("upload_phase")
        if phase:
            return getattr(self, f"_upload_{phase}", self._bad_phase)()
        upload = self.request.files.get("source")
        if upload is None:
            raise GraphError("(#100) source or file_url is required", code=100)
        filename, data = upload
        video = self._new_video(
            size=len(data),
            title=self.params.get("title") or self.params.get("name") or filename,
        )
        video["data"] = bytearray(data)
        video["uploading"] = "complete"
        return 200, {"id": video["id"]}

    def _bad_phase(self) -> tuple[int, dict]:
        raise GraphError(
            "(#100) upload_phase must be one of start, transfer, finish, cancel",
            code=100,
        )

    def _new_video(self, *, size: int, title: str = "") -> dict[str, Any]:
        video_id = self.state.new_id()
        video = {
            "id": video_id,
            "title": title,
            "size": size,
            "data": bytearray(),
            "uploading": "in_progress",
            "polls_left": self.state.video_processing_polls,
            "final_status": self.state.video_final_status,
            "created_time": self.state.clock(),
        }
        self.state.videos[video_id] = video
        return video

    def _upload_start(self) -> tuple[int, dict]:
        try:
            size = int(self._require("file_size"))
        except ValueError as exc:
            raise GraphError("(#100) file_size must be an integer", code=100) from exc
        video = self._new_video(size=size)
        session_id = self.state.new_id()
        self.state.upload_sessions[session_id] = {"video_id": video["id"], "size": size}
        end = min(size, self.state.chunk_size)
        return 200, {
            "upload_session_id": session_id,
            "video_id": video["id"],
            "start_offset": "0",
            "end_offset": str(end),
        }

    def _session(self) -> tuple[dict[str, Any], dict[str, Any]]:
        session_id = str(self._require("upload_session_id"))
        session = self.state.upload_sessions.get(session_id)
        if session is None:
            raise GraphError(
                "There was a problem uploading your video. Please try again.",
                code=6001,
                subcode=1363019,
                user_title="Error Uploading Video",
            )
        return session, self.state.videos[session["video_id"]]

    def _resume_error(self, video: dict[str, Any]) -> GraphError:
        expected = len(video["data"])
        return GraphError(
            "There was a problem uploading your video. Please try again.",
            code=6001,
            subcode=1363037,
            user_title="Error Uploading Video",
            user_msg="There was a problem uploading your video. Please try again.",
            error_data={
                "start_offset": expected,
                "end_offset": min(video["size"], expected + self.state.chunk_size),
            },
        )

    def _upload_transfer(self) -> tuple[int, dict]:
        _, video = self._session()
        try:
            start = int(self._require("start_offset"))
        except ValueError as exc:
            raise GraphError(
                "(#100) start_offset must be an integer", code=100
            ) from exc
        chunk = self.request.files.get("video_file_chunk")
        if chunk is None:
            raise GraphError("(#100) video_file_chunk is required", code=100)
        data = chunk[1]
        expected = len(video["data"])
        window = min(video["size"], expected + self.state.chunk_size) - expected
        if start != expected or len(data) != window:
            raise self._resume_error(video)
        keep = self.params.get("_interrupt_keep", "absent")
        if keep != "absent":
            kept = data[: (keep if keep is not None else len(data) // 2)]
            video["data"].extend(kept)
            raise self._resume_error(video)
        video["data"].extend(data)
        received = len(video["data"])
        end = min(video["size"], received + self.state.chunk_size)
        return 200, {"start_offset": str(received), "end_offset": str(end)}

    def _upload_finish(self) -> tuple[int, dict]:
        _, video = self._session()
        if len(video["data"]) != video["size"]:
            raise GraphError(
                "There was a problem uploading your video file. Please try again "
                "with another file.",
                code=6000,
                subcode=1363045,
                user_title="Error Uploading Video",
            )
        video["uploading"] = "complete"
        title = self.params.get("title") or self.params.get("name")
        if title:
            video["title"] = title
        if self.params.get("description"):
            video["description"] = self.params["description"]
        return 200, {"success": True}

    def _upload_cancel(self) -> tuple[int, dict]:
        _, video = self._session()
        video["uploading"] = "cancelled"
        return 200, {"success": True}

    def get_account_advideos(self) -> tuple[int, dict]:
        videos = sorted(self.state.finished_videos(), key=_creation_order, reverse=True)
        title = self.params.get("title")
        if title:
            videos = [v for v in videos if v["title"] == title]
        return 200, self._page([self._project(v, ("id",)) for v in videos])

    def _video_status(self, video: dict[str, Any]) -> dict[str, Any]:
        if video["uploading"] != "complete":
            state, processing = "upload", "not_started"
        elif video["polls_left"] > 0:
            video["polls_left"] -= 1
            state, processing = "processing", "in_progress"
        else:
            state = video["final_status"]
            processing = "error" if state == "error" else "complete"
        errors = (
            [{"code": 1363008, "message": "Video Format Not Supported"}]
            if processing == "error"
            else []
        )
        return {
            "video_status": state,
            "processing_progress": 100 if processing == "complete" else 0,
            "uploading_phase": {
                "status": video["uploading"]
                if video["uploading"] != "cancelled"
                else "error",
                "bytes_transferred": len(video["data"]),
                "source_file_size": video["size"],
                "errors": [],
            },
            "processing_phase": {"status": processing, "errors": errors},
            "publishing_phase": {"status": "not_started", "errors": []},
        }

    def get_node_thumbnails(self, node: str) -> tuple[int, dict]:
        kind, _ = self._find_node(node)
        if kind != "videos":
            raise GraphError(
                "(#100) Tried accessing nonexisting field (thumbnails)", code=100
            )
        thumb = {
            "id": f"{node}9",
            "uri": f"{self.fake.base_url}/fake-thumbnails/{node}.jpg",
            "width": 1080,
            "height": 1920,
            "scale": 1,
            "is_preferred": True,
        }
        return 200, self._page([thumb])

    # images -----------------------------------------------------------------------
    def post_account_adimages(self) -> tuple[int, dict]:
        if self.request.files:
            field_name, (filename, data) = next(iter(self.request.files.items()))
            filename = filename or field_name
        elif self.params.get("bytes"):
            data = base64.b64decode(str(self.params["bytes"]))
            filename = str(self.params.get("name") or "bytes")
        else:
            raise GraphError("(#100) Image file or bytes required", code=100)
        digest = hashlib.md5(data).hexdigest()  # noqa: S324 - a fake content hash
        url = f"{self.fake.base_url}/fake-images/{digest}.jpg"
        self.state.images.setdefault(
            digest,
            {
                "id": digest,
                "hash": digest,
                "name": filename,
                "url": url,
                "size": len(data),
            },
        )
        return 200, {"images": {filename: {"hash": digest, "url": url}}}

    # creatives --------------------------------------------------------------------
    def post_account_adcreatives(self) -> tuple[int, dict]:
        spec = self.params.get("object_story_spec")
        if not isinstance(spec, dict):
            raise GraphError("(#100) object_story_spec must be a JSON object", code=100)
        if "instagram_actor_id" in spec:
            raise GraphError(
                "(#100) instagram_actor_id is deprecated; use instagram_user_id",
                code=100,
                subcode=2446149,
            )
        if not spec.get("page_id"):
            raise GraphError("(#100) object_story_spec requires page_id", code=100)
        video_data = spec.get("video_data")
        if isinstance(video_data, dict):
            video_id = str(video_data.get("video_id", ""))
            if video_id not in self.state.videos:
                raise GraphError(
                    f"(#100) video_id {video_id} is not a video of this account",
                    code=100,
                )
            if not (video_data.get("image_hash") or video_data.get("image_url")):
                raise GraphError(
                    "(#100) video_data requires a thumbnail: image_hash or image_url",
                    code=100,
                )
            image_hash = video_data.get("image_hash")
            if image_hash and image_hash not in self.state.images:
                raise GraphError(f"(#100) Invalid image hash {image_hash}", code=100)
        features = self._features()
        creative_id = self.state.new_id()
        self.state.creatives[creative_id] = {
            "id": creative_id,
            "name": self.params.get("name") or f"Creative {creative_id}",
            "status": "ACTIVE",
            "object_story_spec": spec,
            "degrees_of_freedom_spec": {"creative_features_spec": features},
            "video_id": (video_data or {}).get("video_id"),
            "url_tags": self.params.get("url_tags"),
            "created_time": self.state.clock(),
        }
        return 200, {"id": creative_id}

    def _features(self) -> dict[str, dict[str, str]]:
        dof = self.params.get("degrees_of_freedom_spec") or {}
        if not isinstance(dof, dict):
            raise GraphError(
                "(#100) degrees_of_freedom_spec must be a JSON object", code=100
            )
        features = dof.get("creative_features_spec") or {}
        for name, detail in features.items():
            if name in DEPRECATED_FEATURES:
                raise GraphError(
                    "The standard enhancements feature bundle is deprecated; set "
                    "individual creative features instead.",
                    code=100,
                    subcode=3858504,
                )
            status = (detail or {}).get("enroll_status")
            if status not in ("OPT_IN", "OPT_OUT"):
                raise GraphError(
                    f"(#100) enroll_status of {name} must be OPT_IN or OPT_OUT",
                    code=100,
                )
        reported = {
            k: {"enroll_status": v["enroll_status"]} for k, v in features.items()
        }
        for name, status in self.state.creative_feature_overrides.items():
            reported[name] = {"enroll_status": status}
        return reported

    def get_account_adcreatives(self) -> tuple[int, dict]:
        creatives = sorted(
            self.state.creatives.values(), key=_creation_order, reverse=True
        )
        rows = [self._project(c, ("id",)) for c in creatives]
        return 200, self._page(
            _filter_rows(creatives, rows, self.params.get("filtering"))
        )

    # ads --------------------------------------------------------------------------
    def post_account_ads(self) -> tuple[int, dict]:
        name = str(self._require("name"))
        adset_id = str(self._require("adset_id"))
        adset = self.state.adsets.get(adset_id)
        if adset is None:
            raise GraphError(
                f"(#100) Invalid adset_id {adset_id}", code=100, subcode=1487472
            )
        creative = self.params.get("creative")
        creative_id = (
            str(creative.get("creative_id", "")) if isinstance(creative, dict) else ""
        )
        if creative_id not in self.state.creatives:
            raise GraphError('(#100) creative must be {"creative_id": <id>}', code=100)
        status = self.params.get("status")
        if status is None:
            # Meta would default to ACTIVE and spend at once; we never want that.
            raise GraphError(
                "(#100) The parameter status is required (the fake refuses Meta's "
                "ACTIVE default)",
                code=100,
            )
        if status not in AD_CREATE_STATUSES:
            raise GraphError("(#100) status must be one of {ACTIVE, PAUSED}", code=100)
        tracking = self.params.get("tracking_specs")
        if tracking is not None and not isinstance(tracking, list):
            raise GraphError("(#100) tracking_specs must be a JSON array", code=100)
        ad_id = self.state.new_id()
        self.state.ads[ad_id] = {
            "id": ad_id,
            "name": name,
            "adset_id": adset_id,
            "campaign_id": adset["campaign_id"],
            "creative": {"id": creative_id},
            "status": status,
            "configured_status": status,
            "effective_status": status,
            "tracking_specs": tracking,
            "created_time": self.state.clock(),
        }
        return 200, {"id": ad_id}

    def _list_ads(self, ads: list[dict[str, Any]]) -> tuple[int, dict]:
        wanted = self.params.get("effective_status")
        if wanted:
            ads = [a for a in ads if a["effective_status"] in wanted]
        else:
            # Graph's ads edges leave archived and deleted ads out by default.
            ads = [
                a for a in ads if a["effective_status"] not in ("ARCHIVED", "DELETED")
            ]
        ads = sorted(ads, key=_creation_order, reverse=True)
        rows = [self._project(a, ("id",)) for a in ads]
        return 200, self._page(_filter_rows(ads, rows, self.params.get("filtering")))

    def get_account_ads(self) -> tuple[int, dict]:
        return self._list_ads(list(self.state.ads.values()))

    def get_node_ads(self, node: str) -> tuple[int, dict]:
        kind, _ = self._find_node(node)
        if kind != "adsets":
            raise GraphError("(#100) Tried accessing nonexisting field (ads)", code=100)
        return self._list_ads(
            [a for a in self.state.ads.values() if a["adset_id"] == node]
        )

    # nodes ------------------------------------------------------------------------
    def get_node(self, node: str) -> tuple[int, dict]:
        kind, obj = self._find_node(node)
        if kind == "videos":
            view = {"id": obj["id"], "title": obj["title"], "status": None}
            if "status" in self._fields():
                view["status"] = self._video_status(obj)
            return 200, self._project(view, ("id", "title"))
        if kind == "adsets":
            view = dict(obj)
            view["daily_budget"] = (
                str(obj["daily_budget"]) if obj["daily_budget"] is not None else None
            )
            view["budget_remaining"] = view["daily_budget"]
            view["effective_status"] = obj["status"]
            view.pop("budget_changes")
            return 200, self._project(view, ("id",))
        return 200, self._project(obj, ("id",))

    def post_node(self, node: str) -> tuple[int, dict]:
        kind, obj = self._find_node(node)
        if kind == "ads":
            return self._update_ad(obj)
        if kind == "adsets":
            return self._update_adset(obj)
        if kind == "creatives" and "name" in self.params:
            obj["name"] = self.params["name"]
            return 200, {"success": True}
        raise GraphError("(#100) No fields to update", code=100)

    def delete_node(self, node: str) -> tuple[int, dict]:
        kind, obj = self._find_node(node)
        if kind != "ads":
            raise GraphError("(#100) The fake deletes ads only", code=100)
        obj.update(
            status="DELETED", configured_status="DELETED", effective_status="DELETED"
        )
        return 200, {"success": True}

    def _update_ad(self, ad: dict[str, Any]) -> tuple[int, dict]:
        if ad["effective_status"] == "ARCHIVED" and set(self.params) - {"name"}:
            raise GraphError(
                "(#100) Archived ads can only be renamed", code=100, subcode=1885088
            )
        status = self.params.get("status")
        if status is not None:
            if status not in AD_STATUSES:
                raise GraphError(
                    "(#100) status must be one of {ACTIVE, PAUSED, ARCHIVED, DELETED}",
                    code=100,
                )
            ad.update(status=status, configured_status=status, effective_status=status)
        if "name" in self.params:
            ad["name"] = self.params["name"]
        return 200, {"success": True}

    def _update_adset(self, adset: dict[str, Any]) -> tuple[int, dict]:
        if "daily_budget" in self.params:
            try:
                budget = int(self.params["daily_budget"])
            except ValueError as exc:
                raise GraphError(
                    "(#100) daily_budget must be an integer", code=100
                ) from exc
            if adset["daily_budget"] is None:
                raise GraphError(
                    "You can only set an ad set budget or a campaign budget",
                    code=100,
                    subcode=1885621,
                )
            if budget < 100:
                raise GraphError("Your budget is too low", code=100, subcode=1885272)
            now = self.state.clock()
            recent = [t for t in adset["budget_changes"] if now - t < 3600]
            if len(recent) >= BUDGET_CHANGES_PER_HOUR:
                minutes = max(1, int((3600 - (now - min(recent))) // 60) + 1)
                raise GraphError(
                    "(#17) User request limit reached",
                    code=17,
                    subcode=2446079,
                    is_transient=True,
                    user_title="Ad Set Budget Change Limit Reached",
                    user_msg="An ad set's budget can change at most 4 times an hour.",
                    headers=buc_usage_header(self.state.account_id, minutes=minutes),
                )
            adset["budget_changes"] = [*recent, now]
            adset["daily_budget"] = budget
        if "status" in self.params:
            adset["status"] = self.params["status"]
        return 200, {"success": True}

    # insights ---------------------------------------------------------------------
    def get_account_insights(self) -> tuple[int, dict]:
        level = self.params.get("level", "account")
        if level != "ad":
            raise GraphError("(#100) The fake serves level=ad insights only", code=100)
        return self._insights(self.state.insights)

    def get_node_insights(self, node: str) -> tuple[int, dict]:
        self._find_node(node)
        return self._insights([r for r in self.state.insights if r["ad_id"] == node])

    def _insights(self, rows: list[dict[str, Any]]) -> tuple[int, dict]:
        if str(self.params.get("time_increment", "1")) != "1":
            raise GraphError("(#100) The fake serves time_increment=1 only", code=100)
        time_range = self.params.get("time_range")
        if isinstance(time_range, dict):
            since = str(time_range.get("since", "0000"))
            until = str(time_range.get("until", "9999"))
            rows = [r for r in rows if since <= r["date_start"] <= until]
        elif time_range is not None:
            raise GraphError("(#100) time_range must be a JSON object", code=100)
        rows = _filter_rows(rows, rows, self.params.get("filtering"))
        rows = sorted(rows, key=lambda r: (r["date_start"], r["ad_id"]))
        fields = self._fields() or ["impressions", "spend"]
        projected = []
        for row in rows:
            view = {k: row[k] for k in fields if k in row}
            view["date_start"] = row["date_start"]
            view["date_stop"] = row["date_stop"]
            projected.append(view)
        return 200, self._page(projected)


def _filter_rows(
    source: list[dict[str, Any]], rows: list[dict[str, Any]], filtering: Any
) -> list[dict[str, Any]]:
    """Apply Graph `filtering=[{field, operator, value}]` on the source objects."""
    if not filtering:
        return rows
    if not isinstance(filtering, list):
        raise GraphError("(#100) filtering must be a JSON array", code=100)
    keep = []
    for obj, row in zip(source, rows, strict=True):
        if all(_matches(obj, rule) for rule in filtering):
            keep.append(row)
    return keep


def _matches(obj: Mapping[str, Any], rule: Mapping[str, Any]) -> bool:
    field_name = str(rule.get("field", ""))
    operator = str(rule.get("operator", "")).upper()
    value = rule.get("value")
    key = field_name.split(".")[-1]
    if field_name == "ad.id":
        key = "ad_id" if "ad_id" in obj else "id"
    actual = obj.get(key)
    if operator == "EQUAL":
        return str(actual) == str(value)
    if operator == "NOT_EQUAL":
        return str(actual) != str(value)
    if operator == "CONTAIN":
        return str(value).lower() in str(actual).lower()
    if operator == "NOT_CONTAIN":
        return str(value).lower() not in str(actual).lower()
    if operator == "IN":
        return str(actual) in {str(v) for v in value or []}
    if operator == "NOT_IN":
        return str(actual) not in {str(v) for v in value or []}
    raise GraphError(f"(#100) Filtering operator {operator} is not supported", code=100)


def _split_fields(fields: str) -> list[str]:
    """Top-level names of `a,b{c,d},e` → [a, b, e]."""
    names, depth, current = [], 0, ""
    for char in fields:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "," and depth == 0:
            names.append(current)
            current = ""
            continue
        if depth == 0 and char not in "{}":
            current += char
    names.append(current)
    return [n.strip() for n in names if n.strip()]


def _encode_cursor(index: int) -> str:
    return base64.urlsafe_b64encode(str(index).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return int(base64.urlsafe_b64decode(padded.encode()).decode())
    except ValueError as exc:
        raise GraphError("(#100) Invalid cursor", code=100) from exc


def _trace_id() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(12)).decode()


def _num(value: Decimal) -> str:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text or "0"


def days(since: date, until: date) -> Iterator[date]:
    """Every day from `since` to `until` inclusive (seeding helper)."""
    current = since
    while current <= until:
        yield current
        current += timedelta(days=1)


def _creation_order(obj: Mapping[str, Any]) -> int:
    """Ids grow with creation, like Meta's; edges list newest first."""
    return int(obj["id"])
