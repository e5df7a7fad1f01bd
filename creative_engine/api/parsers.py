"""JSON as the API accepts it: bounded in size and depth, text the database can store.

Python's json module happily returns what the rest of the stack cannot take: nesting
deep enough to exhaust the recursion limit wherever the value is walked again
(serializers, json.dumps, the database adapter), lone UTF-16 surrogates that no UTF-8
encoder can write back out, NUL characters that PostgreSQL refuses in text and jsonb,
and numbers like 1e400 that become infinity (PostgreSQL's jsonb refuses those too).
Every JSON value that enters the API — a request body or a JSON field of a multipart
form — goes through `load_json`, so each of these is a 400 naming what was wrong,
the same on SQLite and PostgreSQL, before any view or database sees it.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import (  # type: ignore[attr-defined]
    JSONParser,
    get_encoding,
)
from rest_framework.utils.json import strict_constant

# NUL (refused by PostgreSQL in text and jsonb) and the surrogate range (only reachable
# through \ud800-style escapes: a strict UTF-8 decode never yields one).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


class InvalidJSON(ValueError):
    """A JSON text the API refuses; `code` says which rule it broke."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


def body_too_large_message(size: int | None = None) -> str:
    limit = settings.API_MAX_BODY_BYTES
    got = f" is {size} bytes;" if size is not None else " is too large;"
    return (
        f"The request body{got} this API accepts at most {limit} bytes "
        "(API_MAX_BODY_BYTES)."
    )


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InvalidJSON(
            f"The number {text[:40]} is out of range.", code="number_out_of_range"
        )
    return value


def _location(path: tuple[str | int, ...]) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def _check_value(value: Any) -> None:
    """Walk the parsed value without recursion: depth and storable text."""
    max_depth = settings.API_MAX_JSON_DEPTH
    stack: list[tuple[Any, int, tuple[str | int, ...]]] = [(value, 0, ())]
    while stack:
        item, depth, path = stack.pop()
        if isinstance(item, str):
            _check_text(item, path)
            continue
        if not isinstance(item, dict | list):
            continue
        if depth + 1 > max_depth:
            raise InvalidJSON(_too_deep_message(), code="json_too_deep")
        if isinstance(item, dict):
            for key, child in item.items():
                _check_text(key, path)
                stack.append((child, depth + 1, (*path, key)))
        else:
            stack.extend(
                (child, depth + 1, (*path, index)) for index, child in enumerate(item)
            )


def _check_text(text: str, path: tuple[str | int, ...]) -> None:
    found = _UNSTORABLE.search(text)
    if found is None:
        return
    where = _location(path)
    if found.group() == "\x00":
        raise InvalidJSON(
            f"Text at {where} contains a NUL character (\\u0000), which cannot be "
            "stored.",
            code="invalid_text",
        )
    raise InvalidJSON(
        f"Text at {where} contains a lone UTF-16 surrogate "
        f"(\\u{ord(found.group()):04x}), which is not valid Unicode.",
        code="invalid_text",
    )


def _too_deep_message() -> str:
    return (
        f"JSON nested deeper than {settings.API_MAX_JSON_DEPTH} levels "
        "(API_MAX_JSON_DEPTH) is refused."
    )


def load_json(text: str) -> Any:
    """Parse one JSON text by the API's rules; raises InvalidJSON with a clear
    message (and a code) on anything it refuses."""
    try:
        value = json.loads(
            text, parse_constant=strict_constant, parse_float=_finite_float
        )
    except RecursionError:
        # The C scanner gives up near the interpreter's recursion limit: far deeper
        # than the limit, so the same refusal.
        raise InvalidJSON(_too_deep_message(), code="json_too_deep") from None
    except InvalidJSON:
        raise
    except ValueError as exc:  # JSONDecodeError, NaN/Infinity, >4300-digit integers
        raise InvalidJSON(f"JSON parse error - {exc}", code="parse_error") from exc
    _check_value(value)
    return value


class SafeJSONParser(JSONParser):
    """DRF's JSON parser with the API's rules: at most API_MAX_BODY_BYTES, strict
    decoding in the declared charset (UTF-8 by default), and `load_json`."""

    def parse(
        self,
        stream: IO[bytes] | None,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        if stream is None:
            return {}
        limit = settings.API_MAX_BODY_BYTES
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise RequestTooLarge(body_too_large_message())
        encoding = get_encoding(parser_context or {})  # refuses unknown charsets
        try:
            text = codecs.decode(raw, encoding)
        except (LookupError, UnicodeError) as exc:
            raise exceptions.ParseError(
                f"The request body is not valid {encoding} text.",
                code="invalid_encoding",
            ) from exc
        try:
            return load_json(text)
        except InvalidJSON as exc:
            raise exceptions.ParseError(str(exc), code=exc.code) from exc
