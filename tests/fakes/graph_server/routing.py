"""Routing of a Graph path to its handler, and what every route shares: required
params, `fields` projection, cursor paging and `filtering`."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from tests.fakes.graph_server.errors import GraphError
from tests.fakes.graph_server.wire import RecordedRequest

if TYPE_CHECKING:
    from tests.fakes.graph_server.server import FakeGraphServer


class RouteBase:
    """One request's routing and the helpers every resource's handlers use."""

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
        return split_fields(str(self.params.get("fields", "")))

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
        for kind in ("videos", "creatives", "ads", "adsets", "images", "pages"):
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


def filter_rows(
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


def split_fields(fields: str) -> list[str]:
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


def creation_order(obj: Mapping[str, Any]) -> int:
    """Ids grow with creation, like Meta's; edges list newest first."""
    return int(obj["id"])
