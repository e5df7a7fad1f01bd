"""A request as it reached the fake: the recorded request, and the decoding of
forms, multipart bodies and JSON-encoded object params."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

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


def decode_param(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if key in JSON_PARAMS or value in ("true", "false"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
