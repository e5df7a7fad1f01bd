"""The HTTP side: read and record each request, play the armed fault (fail, hold,
lose the answer), and write Meta's answer."""

from __future__ import annotations

import contextlib
import json
import socket
import struct
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.graph_server.errors import graph_error_body, trace_id
from tests.fakes.graph_server.wire import RecordedRequest, decode_param, parse_multipart

if TYPE_CHECKING:
    from tests.fakes.graph_server.server import FakeGraphServer


class GraphRequestHandler(BaseHTTPRequestHandler):
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
            "x-fb-trace-id": trace_id(),
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
            params[key] = decode_param(key, value)
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
