"""Failure injection of the stub: which calls fail, and the error real Meta gives.

Failures are drawn per (seed, operation, name, attempt), so a retry in another
process meets the same fate as it would have here; tests may script them instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from promotion.meta.errors import (
    MetaAmbiguousError,
    MetaApiError,
    MetaInvalidParameterError,
    MetaRateLimitError,
    MetaTransientError,
    MetaVideoUploadError,
)
from promotion.meta.stub.ids import seeded_unit

# The calls that make up one upload; the failure rate applies to the upload as a whole.
UPLOAD_OPERATIONS = ("upload_video", "upload_image", "create_creative", "create_ad")

# Which failure a failing upload call shows, by cumulative share.
FAILURE_MIX = (
    (0.45, "transient"),
    (0.55, "throttled"),
    (0.75, "ambiguous"),
    (0.85, "oops"),
    (1.00, "permanent"),
)


class FailurePlan:
    """Which kind of failure (or "ok") each call meets."""

    def __init__(
        self,
        *,
        seed: int,
        failure_rate: float,
        scripted: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """`failure_rate` is the share of uploads (video, poster, creative, ad) that
        meet at least one failure. `scripted`: operation → kinds for its next calls
        ("ok", "transient", "throttled", "ambiguous", "oops", "permanent")."""
        if not 0.0 <= failure_rate < 1.0:
            raise ValueError("failure_rate must be in [0, 1).")
        self.seed = seed
        self._scripted = {op: list(kinds) for op, kinds in (scripted or {}).items()}
        # Per call: 1 - (1 - rate) ** (1 / calls), so an upload of four calls meets a
        # failure at `failure_rate`.
        self._call_failure_p = 1.0 - (1.0 - failure_rate) ** (
            1.0 / len(UPLOAD_OPERATIONS)
        )

    def kind_for(self, operation: str, name: str, attempt: int) -> str:
        scripted = self._scripted.get(operation)
        if scripted:
            return scripted.pop(0)
        if operation not in UPLOAD_OPERATIONS or self._call_failure_p <= 0:
            return "ok"
        if seeded_unit(self.seed, "fail", operation, name, attempt) >= (
            self._call_failure_p
        ):
            return "ok"
        draw = seeded_unit(self.seed, "kind", operation, name, attempt)
        return next(kind for share, kind in FAILURE_MIX if draw < share)


def invalid_parameter(
    message: str, *, subcode: int | None = None, **extra: Any
) -> MetaInvalidParameterError:
    """Meta's code 100: the request named something wrong or missing."""
    return MetaInvalidParameterError(
        message,
        code=100,
        subcode=subcode,
        http_status=400,
        error_type="OAuthException",
        **extra,
    )


def lost_answer_error(operation: str) -> MetaAmbiguousError:
    """The answer to a call that Meta did carry out never arrived."""
    return MetaAmbiguousError(
        f"{operation}: the connection was reset after Meta received the "
        "request; it may have done the work. Look it up by name.",
        http_status=None,
    )


def failure_error(kind: str, operation: str) -> MetaApiError:
    """The error real Meta gives for this kind of failure of this call."""
    if kind == "throttled":
        return MetaRateLimitError(
            "(#17) User request limit reached",
            code=17,
            subcode=2446079,
            is_transient=True,
            http_status=400,
            error_type="OAuthException",
            headers={
                "x-business-use-case-usage": json.dumps(
                    {
                        "act_stub": [
                            {
                                "type": "ads_management",
                                "call_count": 100,
                                "estimated_time_to_regain_access": 1,
                            }
                        ]
                    }
                )
            },
        )
    if kind == "oops" and operation == "create_creative":
        return invalid_parameter(
            "Invalid parameter",
            subcode=1487390,
            user_title="Adcreative Create Failed",
            user_message="Oops, something went wrong. Please try again later",
        )
    if kind == "permanent":
        if operation == "upload_video":
            return MetaVideoUploadError(
                "There was a problem uploading your video file. Please try again "
                "with another file.",
                code=6000,
                subcode=1363045,
                http_status=400,
                error_type="OAuthException",
                user_title="Error Uploading Video",
            )
        if operation == "create_ad":
            return invalid_parameter(
                "Invalid parameter",
                subcode=2490427,
                user_title="Ad Rejected",
                user_message="The ad was rejected by ad review.",
            )
        return invalid_parameter(
            "Invalid parameter: the request was rejected", subcode=2446383
        )
    if kind in ("transient", "oops"):
        return MetaTransientError(
            "An unexpected error has occurred. Please retry your request later.",
            code=2,
            is_transient=True,
            http_status=503,
            error_type="OAuthException",
        )
    raise ValueError(f"Unknown stub failure kind {kind!r}.")
