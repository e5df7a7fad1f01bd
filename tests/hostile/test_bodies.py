"""Hostile bodies against the API's real write endpoints: each is refused in the one
error shape with a status and a message that say what was wrong, and nothing is
written. The same on SQLite and PostgreSQL (NUL and \\u0000 are refused before either
database sees them)."""

from __future__ import annotations

import json
import re

import pytest
from django.db import DataError
from django.urls import URLPattern, URLResolver, get_resolver

from creative_engine.api import engine
from creative_engine.api.middleware import APIErrorShapeMiddleware
from productions import services as production_services
from tests.api.test_productions_api import new_master
from tests.hostile.conftest import assert_error, nested

pytestmark = pytest.mark.django_db

# Every endpoint that reads a body (method, path template).
WRITE_ENDPOINTS = [
    ("POST", "/api/productions/"),
    ("PATCH", "/api/productions/{master}/"),
    ("POST", "/api/fragments/"),
    ("PATCH", "/api/fragments/{approved}/"),
    ("POST", "/api/fragments/{pending}/approve/"),
    ("POST", "/api/fragments/{approved}/reject/"),
    ("POST", "/api/fragments/approve/"),
    ("POST", "/api/fragments/reject/"),
    ("POST", "/api/variants/{variant}/archive/"),
    ("POST", "/meta/creative-engine/run"),
    ("POST", "/meta/creative-engine/generate/{master}"),
    ("POST", "/meta/creative-engine/promote/{variant}"),
]
ENDPOINT_IDS = [f"{m} {p}" for m, p in WRITE_ENDPOINTS]

_DEEP = "[" * 100_000 + "]" * 100_000
# (id, body bytes, status, code, words in the message)
HOSTILE_BODIES = [
    ("deep-100k", _DEEP.encode(), 400, "json_too_deep", "API_MAX_JSON_DEPTH"),
    (
        "deep-33-in-a-field",
        json.dumps({"title": "x", "style_guide": {"vibes": nested(32)}}).encode(),
        400,
        "json_too_deep",
        "32 levels",
    ),
    ("invalid-utf8", b'{"title": "\xff\xfe\xfa"}', 400, "invalid_encoding", "utf-8"),
    ("lone-surrogate", b'{"title": "\\ud800"}', 400, "invalid_text", "surrogate"),
    (
        "surrogate-deep-in-a-list",
        b'{"ids": ["a", {"x": ["\\udfff"]}]}',
        400,
        "invalid_text",
        "$.ids[1].x[0]",
    ),
    ("nul-in-value", b'{"title": "a\\u0000b"}', 400, "invalid_text", "NUL"),
    ("nul-in-key", b'{"ti\\u0000tle": "a"}', 400, "invalid_text", "NUL"),
    ("truncated", b'{"title": ', 400, "parse_error", "JSON parse error"),
    ("nan", b'{"duration": NaN}', 400, "parse_error", "JSON parse error"),
    ("infinity", b'{"budget": -Infinity}', 400, "parse_error", "JSON parse error"),
    ("overflowing-float", b'{"duration": 1e400}', 400, "number_out_of_range", "1e400"),
    ("huge-integer", b'{"seed": ' + b"9" * 5000 + b"}", 400, "parse_error", "digits"),
    ("garbage", b"\x00\x01\x02not json", 400, "parse_error", "JSON parse error"),
]


@pytest.mark.parametrize(("method", "path"), WRITE_ENDPOINTS, ids=ENDPOINT_IDS)
@pytest.mark.parametrize(
    ("body", "status", "code", "words"),
    [pytest.param(*case[1:], id=case[0]) for case in HOSTILE_BODIES],
)
def test_a_hostile_body_is_refused_in_the_shape_and_writes_nothing(
    method, path, body, status, code, words, world, raw_api, nothing_written
):
    response = raw_api(method, world.url(path), body)

    assert_error(response, status, code, words)
    nothing_written()


@pytest.mark.parametrize(("method", "path"), WRITE_ENDPOINTS, ids=ENDPOINT_IDS)
def test_a_body_over_the_limit_is_a_413_naming_it(
    method, path, world, raw_api, nothing_written
):
    eleven_mib = b'{"title": "' + b"a" * (11 * 1024 * 1024) + b'"}'

    response = raw_api(method, world.url(path), eleven_mib)

    assert_error(response, 413, "request_too_large", "API_MAX_BODY_BYTES", "1048576")
    nothing_written()


def test_the_body_limit_holds_without_a_content_length(
    world, raw_api, nothing_written, settings, monkeypatch
):
    # Given a body the middleware cannot measure up front (no Content-Length)
    settings.API_MAX_BODY_BYTES = 16 * 1024
    body = json.dumps(new_master(human_instructions="a" * 20_000)).encode()

    monkeypatch.setattr(
        APIErrorShapeMiddleware, "_refuse_body", staticmethod(lambda request: None)
    )

    # When it is read by the parser
    response = raw_api("POST", "/api/productions/", body)

    # Then the parser counts the bytes itself
    assert_error(response, 413, "request_too_large", "16384 bytes")
    nothing_written()


@pytest.mark.parametrize("declared", ["abc", "-5", "1e3"])
def test_a_content_length_that_is_not_a_byte_count_is_a_400(
    declared, world, raw_api, nothing_written
):
    response = raw_api("POST", "/api/productions/", b"{}", CONTENT_LENGTH=declared)

    assert_error(response, 400, "bad_request", "Content-Length")
    nothing_written()


@pytest.mark.parametrize(
    ("content_type", "status", "code"),
    [
        ("text/plain", 415, "unsupported_media_type"),
        ("application/xml", 415, "unsupported_media_type"),
        ("application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        ("application/json; charset=rot13", 400, "parse_error"),
        ("application/json; charset=bz2_codec", 400, "parse_error"),
    ],
)
def test_a_body_in_another_media_type_or_charset_is_refused(
    content_type, status, code, world, raw_api, nothing_written
):
    body = json.dumps(new_master()).encode()

    response = raw_api("POST", "/api/productions/", body, content_type=content_type)

    assert_error(response, status, code)
    nothing_written()


def test_a_surrogate_in_a_choice_is_refused_before_it_is_echoed(
    world, raw_api, nothing_written
):
    # DRF echoes an invalid choice in its message; a lone surrogate in it could
    # not be encoded as UTF-8 (a 500 while rendering the 400).
    body = (
        f'{{"master_creative": "{world.master_id}", "fragment_type": "\\ud83d", '
        '"start_time": 0, "end_time": 1}'
    ).encode()

    response = raw_api("POST", "/api/fragments/", body)

    assert_error(response, 400, "invalid_text", "surrogate")
    nothing_written()


def test_a_long_invalid_choice_is_echoed_shortened(world, manager_api, nothing_written):
    response = manager_api.post(
        "/api/fragments/",
        {
            "master_creative": world.master_id,
            "fragment_type": "x" * 100_000,
            "start_time": 0,
            "end_time": 1,
        },
        format="json",
    )

    error = assert_error(response, 400, "invalid")
    (message,) = error["fields"]["fragment_type"]
    assert len(message) < 200
    nothing_written()


def test_a_nul_deep_in_the_style_guide_is_refused_on_every_database(
    world, raw_api, nothing_written
):
    body = json.dumps(new_master(style_guide={"vibes": ["ok", "bad\x00"]})).encode()

    response = raw_api("POST", "/api/productions/", body)

    assert_error(response, 400, "invalid_text", "$.style_guide.vibes[1]", "NUL")
    nothing_written()


@pytest.mark.parametrize(
    ("style_guide", "words"),
    [
        ("[" * 50_000 + "]" * 50_000, "API_MAX_JSON_DEPTH"),
        (json.dumps({"vibes": nested(40)}), "API_MAX_JSON_DEPTH"),
        ('{"tone": "\\ud800"}', "surrogate"),
        ('{"tone": "a\\u0000"}', "NUL"),
        ('{"max_caption_length": 1e999}', "out of range"),
        ('{"tone": NaN}', "JSON parse error"),
        ("{not json", "JSON parse error"),
    ],
    ids=["deep", "deep-40", "surrogate", "nul", "overflow", "nan", "malformed"],
)
def test_the_multipart_style_guide_meets_the_same_rules_as_a_body(
    style_guide, words, world, manager_api, nothing_written
):
    form = {
        "title": "Uploaded",
        "video_url": "https://cdn.example.com/spring.mp4",
        "duration": "20",
        "style_guide": style_guide,
    }

    response = manager_api.post("/api/productions/", form, format="multipart")

    error = assert_error(response, 400, "invalid")
    (message,) = error["fields"]["style_guide"]
    assert words in message
    nothing_written()


def test_multipart_form_fields_over_djangos_limit_are_a_json_413(
    world, manager_api, nothing_written, settings
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 20_000
    form = {"title": "t", "human_instructions": "a" * 30_000}

    response = manager_api.post("/api/productions/", form, format="multipart")

    assert_error(response, 413, "request_too_large", "DATA_UPLOAD_MAX_MEMORY_SIZE")
    nothing_written()


def test_a_multipart_form_with_too_many_fields_is_a_json_400(
    world, raw_api, nothing_written
):
    boundary = "XyZ"
    parts = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\nv\r\n'
        for i in range(1200)
    )
    body = (parts + f"--{boundary}--\r\n").encode()

    response = raw_api(
        "POST",
        "/api/productions/",
        body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )

    assert_error(response, 400, "too_many_fields", "DATA_UPLOAD_MAX_NUMBER_FIELDS")
    nothing_written()


# --- fragments nested in one master ---------------------------------------------------


def _cuts(count: int) -> list[dict]:
    return [
        {"fragment_type": "body", "start_time": i * 0.1, "end_time": i * 0.1 + 0.1}
        for i in range(count)
    ]


@pytest.mark.parametrize("count", [51, 10_000])
def test_more_nested_fragments_than_the_limit_are_refused_before_any_is_validated(
    count, world, manager_api, nothing_written, django_assert_num_queries
):
    body = new_master(duration=2000.0, fragments=_cuts(count))

    # Queries: the token, the user's groups, and the user's and groups' permissions
    # (who is acting); not one per cut, and no write.
    with django_assert_num_queries(4):
        response = manager_api.post("/api/productions/", body, format="json")

    error = assert_error(response, 400, "invalid")
    assert (
        "API_MAX_NESTED_FRAGMENTS"
        in error["fields"]["fragments"]["non_field_errors"][0]
    )
    nothing_written()


def test_the_nested_fragment_limit_is_the_setting_in_force(
    world, manager_api, settings
):
    settings.API_MAX_NESTED_FRAGMENTS = 3

    refused = manager_api.post(
        "/api/productions/", new_master(fragments=_cuts(4)), format="json"
    )
    accepted = manager_api.post(
        "/api/productions/", new_master(fragments=_cuts(3)), format="json"
    )

    assert refused.status_code == 400
    assert "At most 3 fragments" in str(refused.json()["error"]["fields"])
    assert accepted.status_code == 201, accepted.content


def test_fifty_nested_fragments_are_accepted(world, manager_api):
    response = manager_api.post(
        "/api/productions/",
        new_master(duration=2000.0, fragments=_cuts(50)),
        format="json",
    )

    assert response.status_code == 201, response.content
    assert len(response.json()["fragments"]) == 50


# --- errors the database or a bug raises ------------------------------------------------


def test_a_database_data_error_is_a_json_400_not_a_500(
    world, manager_api, nothing_written, monkeypatch
):
    def refuse(**kwargs):
        raise DataError("value too long for type character varying(200)")

    monkeypatch.setattr(production_services, "production_update", refuse)

    response = manager_api.patch(
        f"/api/productions/{world.master_id}/", {"title": "New"}, format="json"
    )

    error = assert_error(response, 400, "invalid")
    assert "could not be stored" in error["fields"]["non_field_errors"][0]
    assert "varying" not in response.content.decode()
    nothing_written()


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("/api/productions/", "creative_engine.api.masters.selectors.production_list"),
        ("/meta/creative-engine/status", "creative_engine.selectors.engine_status"),
    ],
)
def test_a_genuine_bug_is_a_json_500_without_a_traceback(
    path, target, world, manager_api, monkeypatch, settings, caplog
):
    settings.DEBUG = True  # even with the debug page on

    def crash(**kwargs):
        raise RuntimeError("secret-key=hunter2 at line 42")

    monkeypatch.setattr(target, crash)

    response = manager_api.get(path)

    assert_error(response, 500, "server_error", "logged")
    assert "hunter2" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert "hunter2" in caplog.text  # the traceback went to the log instead


def test_a_crash_while_rendering_the_answer_is_a_json_500(
    world, manager_api, monkeypatch
):
    monkeypatch.setattr(
        engine.cycles.EngineStatusSerializer,
        "data",
        property(lambda self: {"bad": object()}),
    )

    response = manager_api.get("/meta/creative-engine/status")

    assert_error(response, 500, "server_error")


# --- routes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/nope/",
        "/api/productions/not-a-uuid/extra/deeper/",
        "/api/%00/",
        "/api/schema/extra",
        "/api/",
        "/meta/creative-engine/nope",
        "/meta/creative-engine/run/extra",
        "/meta/creative-engine/",
    ],
)
@pytest.mark.parametrize("debug", [False, True])
def test_an_unknown_route_is_a_json_404(path, debug, manager_api, settings):
    settings.DEBUG = debug

    response = manager_api.get(path)

    assert_error(response, 404, "not_found", "No endpoint")


def test_a_path_outside_the_api_keeps_djangos_pages(manager_api):
    response = manager_api.get("/nowhere/")

    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_options_on_the_docs_page_is_a_405_not_a_500(manager_api):
    response = manager_api.options("/api/docs/")

    assert_error(response, 405, "method_not_allowed")


def test_the_docs_page_still_renders(manager_api):
    response = manager_api.get("/api/docs/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


# --- every route, junk in ---------------------------------------------------------------


def _api_routes() -> list[str]:
    """Every URL pattern under /api/ and /meta/creative-engine/, as a regex text."""
    routes: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                routes.append(prefix + str(entry.pattern))

    walk(get_resolver().url_patterns, "")
    return sorted(
        r for r in routes if r.startswith(("api/", "^api/", "meta/creative-engine/"))
    )


ROUTES = _api_routes()
JUNK = [
    b"{",
    _DEEP.encode(),
    b'{"\\ud800": "\\u0000"}',
    b"\xff\xfe",
    b"[1, 2, 3]",
    b'"a string"',
    b"null",
]


def test_the_walk_sees_every_api_route():
    assert len(ROUTES) >= 15, ROUTES
    assert any("approve" in r for r in ROUTES)
    assert any(r.startswith("meta/creative-engine/promote") for r in ROUTES)


UNKNOWN_ID = "3b1f1c3e-0000-4000-8000-000000000000"
# A router's regex group or a path converter, named.
_PARAMETER = re.compile(r"\(\?P<(?P<group>\w+)>[^)]*\)|<(?:\w+:)?(?P<converter>\w+)>")


def _concrete(route: str, world) -> list[str]:
    """Paths for a route: a real id, an unknown id and junk in each parameter."""
    route = route.replace("^", "").replace("$", "")
    if "variants/(" in route or "promote" in route:
        real = world.variant_id
    elif "fragments/(" in route:
        real = world.approved_fragment_id
    else:
        real = world.master_id
    return sorted(
        {"/" + _PARAMETER.sub(value, route) for value in (real, UNKNOWN_ID, "%00%ff")}
    )


# DELETE last: on a real fragment it deletes (once), after every other method tried.
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "OPTIONS", "DELETE")


@pytest.mark.parametrize("route", ROUTES)
def test_no_route_answers_junk_with_a_500(route, world, raw_api):
    for path in _concrete(route, world):
        for method in METHODS:
            for body in JUNK:
                response = raw_api(method, path, body)

                assert response.status_code < 500, (method, path, body[:20])
                if response.status_code >= 400 and method != "HEAD":
                    error = json.loads(response.content)["error"]
                    assert error["code"] and error["message"], error
