"""Every API URL pattern × {anonymous, outsider, manager, admin}.

The table below is the contract: a new endpoint without a row fails
`test_every_api_url_pattern_has_a_row_in_the_expectations_table`, and a row whose
endpoint is gone fails it too.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from productions.choices import FragmentType
from tests.api.conftest import token_client
from tests.factories import (
    FULL_BATCH,
    CycleRunFactory,
    FragmentFactory,
    PromotionLogFactory,
    VariantFactory,
    master_with_approved_cuts,
)
from variants.choices import VariantStatus

API_PREFIXES = ("api/", "meta/creative-engine/")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass
class World:
    master: Any
    fragment: Any  # unapproved, so approve/delete act on something real
    variant: Any
    log: Any
    run: Any


@dataclass(frozen=True)
class Row:
    url: Callable[[World], str]
    body: Callable[[World], dict] | None = None
    # What a manager or an admin gets; None: anything but 401/403/5xx.
    expected: int | None = 200


def _new_master_body(world: World) -> dict:
    return {
        "title": "Autumn launch",
        "video_url": "https://cdn.example.com/autumn.mp4",
        "duration": 12.0,
        "fragments": [{"fragment_type": "hook", "start_time": 0.0, "end_time": 2.5}],
    }


EXPECTATIONS: dict[tuple[str, str], Row] = {
    # --- SPEC.md's six
    ("meta/creative-engine/status", "GET"): Row(
        lambda w: "/meta/creative-engine/status"
    ),
    ("meta/creative-engine/run", "POST"): Row(
        lambda w: "/meta/creative-engine/run", lambda w: {"dry_run": True}, 202
    ),
    ("meta/creative-engine/generate/<creative_id>", "POST"): Row(
        lambda w: f"/meta/creative-engine/generate/{w.master.pk}",
        lambda w: {"count": 5, "seed": 7},
        201,
    ),
    ("meta/creative-engine/variants/<creative_id>", "GET"): Row(
        lambda w: f"/meta/creative-engine/variants/{w.master.pk}"
    ),
    ("meta/creative-engine/promote/<variant_id>", "POST"): Row(
        lambda w: f"/meta/creative-engine/promote/{w.variant.pk}",
        lambda w: {"budget": "25.00"},
        None,
    ),
    ("meta/creative-engine/history", "GET"): Row(
        lambda w: "/meta/creative-engine/history"
    ),
    # --- schema and docs
    ("api/schema/", "GET"): Row(lambda w: "/api/schema/"),
    ("api/docs/", "GET"): Row(lambda w: "/api/docs/"),
    # --- productions
    ("api/productions/", "GET"): Row(lambda w: "/api/productions/"),
    ("api/productions/", "POST"): Row(
        lambda w: "/api/productions/", _new_master_body, 201
    ),
    ("api/productions/<pk>/", "GET"): Row(lambda w: f"/api/productions/{w.master.pk}/"),
    ("api/productions/<pk>/", "PATCH"): Row(
        lambda w: f"/api/productions/{w.master.pk}/", lambda w: {"title": "Renamed"}
    ),
    # --- fragments
    ("api/fragments/", "GET"): Row(lambda w: "/api/fragments/"),
    ("api/fragments/", "POST"): Row(
        lambda w: "/api/fragments/",
        lambda w: {
            "master_creative": str(w.master.pk),
            "fragment_type": "body",
            "start_time": 24.0,
            "end_time": 27.0,
        },
        201,
    ),
    ("api/fragments/<pk>/", "GET"): Row(lambda w: f"/api/fragments/{w.fragment.pk}/"),
    ("api/fragments/<pk>/", "PATCH"): Row(
        lambda w: f"/api/fragments/{w.fragment.pk}/", lambda w: {"label": "close-up"}
    ),
    ("api/fragments/<pk>/", "DELETE"): Row(
        lambda w: f"/api/fragments/{w.fragment.pk}/", None, 204
    ),
    ("api/fragments/<pk>/approve/", "POST"): Row(
        lambda w: f"/api/fragments/{w.fragment.pk}/approve/"
    ),
    ("api/fragments/<pk>/reject/", "POST"): Row(
        lambda w: f"/api/fragments/{w.fragment.pk}/reject/"
    ),
    ("api/fragments/approve/", "POST"): Row(
        lambda w: "/api/fragments/approve/", lambda w: {"ids": [str(w.fragment.pk)]}
    ),
    ("api/fragments/reject/", "POST"): Row(
        lambda w: "/api/fragments/reject/", lambda w: {"ids": [str(w.fragment.pk)]}
    ),
    # --- variants
    ("api/variants/", "GET"): Row(lambda w: "/api/variants/"),
    ("api/variants/<pk>/", "GET"): Row(lambda w: f"/api/variants/{w.variant.pk}/"),
    ("api/variants/<pk>/archive/", "POST"): Row(
        lambda w: f"/api/variants/{w.variant.pk}/archive/",
        lambda w: {"reason": "off-brand"},
        None,
    ),
    # --- what the engine did
    ("api/promotion-logs/", "GET"): Row(lambda w: "/api/promotion-logs/"),
    ("api/promotion-logs/<pk>/", "GET"): Row(
        lambda w: f"/api/promotion-logs/{w.log.pk}/"
    ),
    ("api/runs/", "GET"): Row(lambda w: "/api/runs/"),
    ("api/runs/<pk>/", "GET"): Row(lambda w: f"/api/runs/{w.run.pk}/"),
}


def _route(pattern: Any) -> str:
    text = str(pattern).lstrip("^").rstrip("$")
    return re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", text).replace("<str:", "<")


def _methods(callback: Any) -> set[str]:
    actions = getattr(callback, "actions", None)
    if actions:  # a viewset route: its method → action map (HEAD mirrors GET)
        return {m.upper() for m in actions} & set(METHODS)
    view_class = getattr(callback, "view_class", None)
    if view_class is None:
        return {"GET"}
    return {m for m in METHODS if hasattr(view_class, m.lower())}


def discovered_endpoints() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()

    def walk(patterns: list, prefix: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + _route(entry.pattern))
            elif isinstance(entry, URLPattern):
                route = prefix + _route(entry.pattern)
                if route.startswith(API_PREFIXES):
                    found.update((route, m) for m in _methods(entry.callback))

    walk(get_resolver().url_patterns, "")
    return found


def test_every_api_url_pattern_has_a_row_in_the_expectations_table():
    discovered = discovered_endpoints()

    missing = sorted(discovered - set(EXPECTATIONS))
    stale = sorted(set(EXPECTATIONS) - discovered)

    assert not missing, f"endpoints without a row in EXPECTATIONS: {missing}"
    assert not stale, f"rows for endpoints that no longer exist: {stale}"


@pytest.fixture
def world(db) -> World:
    master = master_with_approved_cuts(sheet=FULL_BATCH)
    fragment = FragmentFactory(
        master_creative=master,
        fragment_type=FragmentType.BODY,
        start_time=5.0,
        end_time=9.0,
        approved=False,
        approved_at=None,
    )
    variant = VariantFactory(parent=master, status=VariantStatus.RENDERED)
    return World(
        master=master,
        fragment=fragment,
        variant=variant,
        log=PromotionLogFactory(variant=variant),
        run=CycleRunFactory(),
    )


@pytest.fixture
def users(manager_user, admin_user_engine, outsider_user) -> dict[str, Any]:
    return {
        "anonymous": None,
        "outsider": outsider_user,
        "manager": manager_user,
        "admin": admin_user_engine,
    }


def _call(user: Any, method: str, row: Row, world: World):
    client = token_client(user)
    body = row.body(world) if row.body else None
    return client.generic(
        method,
        row.url(world),
        # No body is an empty one (Django's generic() would send the text "None").
        data="" if body is None else __import__("json").dumps(body),
        content_type="application/json",
    )


@pytest.mark.parametrize(("route", "method"), sorted(EXPECTATIONS))
def test_anonymous_gets_401_with_a_token_challenge(route, method, world, users):
    response = _call(None, method, EXPECTATIONS[(route, method)], world)

    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"].startswith("Token")
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize(("route", "method"), sorted(EXPECTATIONS))
def test_a_user_without_an_engine_role_gets_403(route, method, world, users):
    response = _call(users["outsider"], method, EXPECTATIONS[(route, method)], world)

    assert response.status_code == 403, response.content
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("role", ["manager", "admin"])
@pytest.mark.parametrize(("route", "method"), sorted(EXPECTATIONS))
def test_managers_and_admins_get_the_endpoints_answer(
    route, method, role, world, users
):
    row = EXPECTATIONS[(route, method)]

    response = _call(users[role], method, row, world)

    if row.expected is None:
        assert response.status_code not in {401, 403}, response.content
        assert response.status_code < 500, response.content
    else:
        assert response.status_code == row.expected, response.content
