"""Secrets never leave in an error: Meta's error bodies can echo the request.

A Graph error message may quote the URL or form it was sent (`…?access_token=EAAB…`),
and from there it would reach PromotionLog, the logs and a 502 answer. Every Meta
error is passed through `redact_secrets` when it is built: parameters that carry
credentials lose their values, and the client's own token and proof are blanked
wherever they appear, named or not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "[redacted]"
SECRET_PARAMETERS = (
    "access_token",
    "appsecret_proof",
    "app_secret",
    "client_secret",
    "fb_exchange_token",
    "input_token",
)
# name=value (query/form), "name": "value" (JSON), name: value (prose) — the value runs
# to the next separator.
_NAMES = "|".join(SECRET_PARAMETERS)
_SECRET_ASSIGNMENT = re.compile(
    rf"""(?P<name>["']?\b(?:{_NAMES})\b["']?)"""
    r"""(?P<sep>\s*(?:=|:|%3D)\s*["']?)"""
    r"""(?P<value>[^&\s"',;}\])]+)""",
    re.IGNORECASE,
)
# Shorter strings are too likely to occur by chance to blank everywhere.
_MIN_SECRET_CHARS = 8


def redact_secrets(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every credential parameter's value and every known secret blanked."""
    for secret in sorted({s for s in secrets if len(s) >= _MIN_SECRET_CHARS}, key=len)[
        ::-1
    ]:
        text = text.replace(secret, REDACTED)
    return _SECRET_ASSIGNMENT.sub(
        lambda m: m.group("name") + m.group("sep") + REDACTED, text
    )


def redact_structure(value: Any, secrets: Iterable[str] = ()) -> Any:
    """The same for every string inside a JSON-like structure (Meta's `error_data`)."""
    known = tuple(secrets)
    if isinstance(value, str):
        return redact_secrets(value, known)
    if isinstance(value, Mapping):
        return {
            key: REDACTED
            if str(key).lower() in SECRET_PARAMETERS
            else redact_structure(item, known)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_structure(item, known) for item in value]
    return value
