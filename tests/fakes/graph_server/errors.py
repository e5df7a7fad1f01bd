"""Meta's error envelope, and the usage header that says an account is throttled."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Mapping
from typing import Any


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
            "fbtrace_id": trace_id(),
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


def trace_id() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(12)).decode()
