"""`FakeGraphServer`: the threaded HTTP server on loopback, with its checks of
version, token and appsecret_proof, and the usage headers of every answer."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from http.server import ThreadingHTTPServer
from typing import Any

from tests.fakes.graph_server.errors import GraphError, buc_usage_header
from tests.fakes.graph_server.faults import FaultQueue
from tests.fakes.graph_server.handler import GraphRequestHandler
from tests.fakes.graph_server.routes import Routes
from tests.fakes.graph_server.state import FakeGraphState
from tests.fakes.graph_server.wire import RecordedRequest

VERSION_RE = re.compile(r"^v(\d+)\.(\d+)$")


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
        handler = type("BoundHandler", (GraphRequestHandler,), {"fake": self})
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
                status, body = Routes(self, request).dispatch()
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
