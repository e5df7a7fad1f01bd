"""Wrong JSON types against the API's real endpoints: no coercion (a title 5 is not
"5", a duration true is not 1.0, a UUID 5 is not 00000000-…-0005); each refusal is a
400 on its field in the one error shape, and nothing is written. Multipart forms carry
text, so the master upload still reads numbers from text, but never booleans as
numbers."""

from __future__ import annotations

import pytest

from creative_engine.models import CycleRun
from productions.models import CreativeProduction
from tests.api.test_productions_api import new_master
from tests.hostile.conftest import assert_error

pytestmark = pytest.mark.django_db

STRING = "Expected a string"
NUMBER = "Expected a number"
WHOLE = "Expected a whole number"
BOOLEAN = "Expected true or false"
UUID = "Expected a string"
CUT = {"fragment_type": "hook", "start_time": 0.0, "end_time": 3.0}


def _master(**fields):
    return lambda world: new_master(**fields)


def _cut(**fields):
    return lambda world: {"master_creative": world.master_id, **CUT, **fields}


def _same(body):
    return lambda world: body


def case(case_id, method, path, body, field, words):
    """A request (`body` made from the world) and the field message it must get."""
    return pytest.param(method, path, body, field, words, id=case_id)


CASES = [
    # POST /api/productions/
    case(
        "master-title-number",
        "POST",
        "/api/productions/",
        _master(title=5),
        ("title",),
        STRING,
    ),
    case(
        "master-title-bool",
        "POST",
        "/api/productions/",
        _master(title=True),
        ("title",),
        STRING,
    ),
    case(
        "master-title-list",
        "POST",
        "/api/productions/",
        _master(title=["a"]),
        ("title",),
        STRING,
    ),
    case(
        "master-title-object",
        "POST",
        "/api/productions/",
        _master(title={"a": 1}),
        ("title",),
        STRING,
    ),
    case(
        "master-duration-bool",
        "POST",
        "/api/productions/",
        _master(duration=True),
        ("duration",),
        NUMBER,
    ),
    case(
        "master-duration-string",
        "POST",
        "/api/productions/",
        _master(duration="20"),
        ("duration",),
        NUMBER,
    ),
    case(
        "master-duration-list",
        "POST",
        "/api/productions/",
        _master(duration=[20]),
        ("duration",),
        NUMBER,
    ),
    case(
        "master-duration-huge-int",
        "POST",
        "/api/productions/",
        _master(duration=10**400),
        ("duration",),
        "too large",
    ),
    case(
        "master-is-active-int",
        "POST",
        "/api/productions/",
        _master(is_active=1),
        ("is_active",),
        BOOLEAN,
    ),
    case(
        "master-is-active-string",
        "POST",
        "/api/productions/",
        _master(is_active="true"),
        ("is_active",),
        BOOLEAN,
    ),
    case(
        "master-is-active-zero",
        "POST",
        "/api/productions/",
        _master(is_active=0),
        ("is_active",),
        BOOLEAN,
    ),
    case(
        "master-video-url-number",
        "POST",
        "/api/productions/",
        _master(video_url=5),
        ("video_url",),
        STRING,
    ),
    case(
        "master-instructions-number",
        "POST",
        "/api/productions/",
        _master(human_instructions=5),
        ("human_instructions",),
        STRING,
    ),
    case(
        "master-genre-bool",
        "POST",
        "/api/productions/",
        _master(genre=False),
        ("genre",),
        STRING,
    ),
    case(
        "master-campaign-number",
        "POST",
        "/api/productions/",
        _master(campaign_id=120200000000001),
        ("campaign_id",),
        STRING,
    ),
    case(
        "master-adset-number",
        "POST",
        "/api/productions/",
        _master(adset_id=1.5),
        ("adset_id",),
        STRING,
    ),
    case(
        "master-pixel-number",
        "POST",
        "/api/productions/",
        _master(authorized_pixels=[123456789012345]),
        ("authorized_pixels", "0"),
        STRING,
    ),
    case(
        "master-subgenre-bool",
        "POST",
        "/api/productions/",
        _master(authorized_subgenres=[True]),
        ("authorized_subgenres", "0"),
        STRING,
    ),
    case(
        "master-title-too-long",
        "POST",
        "/api/productions/",
        _master(title="a" * 201),
        ("title",),
        "200 characters",
    ),
    case(
        "master-instructions-too-long",
        "POST",
        "/api/productions/",
        _master(human_instructions="a" * 10_001),
        ("human_instructions",),
        "10000 characters",
    ),
    case(
        "master-cut-start-bool",
        "POST",
        "/api/productions/",
        _master(fragments=[{**CUT, "start_time": True}]),
        ("fragments", 0, "start_time"),
        NUMBER,
    ),
    case(
        "master-cut-end-string",
        "POST",
        "/api/productions/",
        _master(fragments=[{**CUT, "end_time": "3"}]),
        ("fragments", 0, "end_time"),
        NUMBER,
    ),
    case(
        "master-cut-type-number",
        "POST",
        "/api/productions/",
        _master(fragments=[{**CUT, "fragment_type": 1}]),
        ("fragments", 0, "fragment_type"),
        STRING,
    ),
    case(
        "master-cut-label-number",
        "POST",
        "/api/productions/",
        _master(fragments=[{**CUT, "label": 7}]),
        ("fragments", 0, "label"),
        STRING,
    ),
    # PATCH /api/productions/{id}/
    case(
        "patch-title-number",
        "PATCH",
        "/api/productions/{master}/",
        _same({"title": 5}),
        ("title",),
        STRING,
    ),
    case(
        "patch-duration-bool",
        "PATCH",
        "/api/productions/{master}/",
        _same({"duration": True}),
        ("duration",),
        NUMBER,
    ),
    case(
        "patch-is-active-string",
        "PATCH",
        "/api/productions/{master}/",
        _same({"is_active": "false"}),
        ("is_active",),
        BOOLEAN,
    ),
    case(
        "patch-is-active-null",
        "PATCH",
        "/api/productions/{master}/",
        _same({"is_active": None}),
        ("is_active",),
        "may not be null",
    ),
    # POST /api/fragments/
    case(
        "cut-master-int-uuid",
        "POST",
        "/api/fragments/",
        _cut(master_creative=5),
        ("master_creative",),
        UUID,
    ),
    case(
        "cut-start-bool",
        "POST",
        "/api/fragments/",
        _cut(start_time=True),
        ("start_time",),
        NUMBER,
    ),
    case(
        "cut-start-false",
        "POST",
        "/api/fragments/",
        _cut(start_time=False),
        ("start_time",),
        NUMBER,
    ),
    case(
        "cut-end-string",
        "POST",
        "/api/fragments/",
        _cut(end_time="3.0"),
        ("end_time",),
        NUMBER,
    ),
    case(
        "cut-type-bool",
        "POST",
        "/api/fragments/",
        _cut(fragment_type=True),
        ("fragment_type",),
        STRING,
    ),
    case(
        "cut-label-number", "POST", "/api/fragments/", _cut(label=7), ("label",), STRING
    ),
    case(
        "cut-label-too-long",
        "POST",
        "/api/fragments/",
        _cut(label="a" * 121),
        ("label",),
        "120 characters",
    ),
    case(
        "cut-url-bool",
        "POST",
        "/api/fragments/",
        _cut(video_url=True),
        ("video_url",),
        STRING,
    ),
    # PATCH /api/fragments/{id}/
    case(
        "patch-cut-start-bool",
        "PATCH",
        "/api/fragments/{approved}/",
        _same({"start_time": True}),
        ("start_time",),
        NUMBER,
    ),
    case(
        "patch-cut-label-number",
        "PATCH",
        "/api/fragments/{approved}/",
        _same({"label": 5}),
        ("label",),
        STRING,
    ),
    # bulk approve / reject
    case(
        "approve-ids-int",
        "POST",
        "/api/fragments/approve/",
        _same({"ids": [5]}),
        ("ids", "0"),
        UUID,
    ),
    case(
        "approve-ids-bool",
        "POST",
        "/api/fragments/approve/",
        _same({"ids": [True]}),
        ("ids", "0"),
        UUID,
    ),
    case(
        "approve-ids-string",
        "POST",
        "/api/fragments/approve/",
        lambda w: {"ids": w.pending_fragment_id},
        ("ids",),
        "list",
    ),
    case(
        "reject-ids-object",
        "POST",
        "/api/fragments/reject/",
        lambda w: {"ids": {"id": w.approved_fragment_id}},
        ("ids",),
        "list",
    ),
    # single approve / reject: no input, but an object or nothing
    case(
        "approve-one-list-body",
        "POST",
        "/api/fragments/{pending}/approve/",
        _same([1]),
        ("non_field_errors",),
        "dictionary",
    ),
    case(
        "reject-one-string-body",
        "POST",
        "/api/fragments/{approved}/reject/",
        _same("yes"),
        ("non_field_errors",),
        "dictionary",
    ),
    # POST /meta/creative-engine/run
    case(
        "run-dry-run-string",
        "POST",
        "/meta/creative-engine/run",
        _same({"dry_run": "true"}),
        ("dry_run",),
        BOOLEAN,
    ),
    case(
        "run-dry-run-one",
        "POST",
        "/meta/creative-engine/run",
        _same({"dry_run": 1}),
        ("dry_run",),
        BOOLEAN,
    ),
    case(
        "run-generate-zero",
        "POST",
        "/meta/creative-engine/run",
        _same({"generate_variants": 0}),
        ("generate_variants",),
        BOOLEAN,
    ),
    case(
        "run-upload-null",
        "POST",
        "/meta/creative-engine/run",
        _same({"auto_upload": None}),
        ("auto_upload",),
        "may not be null",
    ),
    case(
        "run-master-ids-int",
        "POST",
        "/meta/creative-engine/run",
        _same({"master_creative_ids": [1]}),
        ("master_creative_ids", "0"),
        UUID,
    ),
    case(
        "run-mode-number",
        "POST",
        "/meta/creative-engine/run",
        _same({"mode": 1}),
        ("mode",),
        STRING,
    ),
    # POST /meta/creative-engine/generate/{id}
    case(
        "generate-count-bool",
        "POST",
        "/meta/creative-engine/generate/{master}",
        _same({"count": True}),
        ("count",),
        WHOLE,
    ),
    case(
        "generate-count-string",
        "POST",
        "/meta/creative-engine/generate/{master}",
        _same({"count": "8"}),
        ("count",),
        WHOLE,
    ),
    case(
        "generate-count-fraction",
        "POST",
        "/meta/creative-engine/generate/{master}",
        _same({"count": 8.5}),
        ("count",),
        WHOLE,
    ),
    case(
        "generate-count-float",
        "POST",
        "/meta/creative-engine/generate/{master}",
        _same({"count": 8.0}),
        ("count",),
        WHOLE,
    ),
    case(
        "generate-seed-bool",
        "POST",
        "/meta/creative-engine/generate/{master}",
        _same({"seed": False}),
        ("seed",),
        WHOLE,
    ),
    case(
        "generate-seed-huge",
        "POST",
        "/meta/creative-engine/generate/{master}",
        _same({"seed": 2**64}),
        ("seed",),
        "2**63",
    ),
    case(
        "generate-mode-bool",
        "POST",
        "/meta/creative-engine/generate/{master}",
        _same({"mode": True}),
        ("mode",),
        STRING,
    ),
    # POST /meta/creative-engine/promote/{id}
    case(
        "promote-force-one",
        "POST",
        "/meta/creative-engine/promote/{variant}",
        _same({"force": 1}),
        ("force",),
        BOOLEAN,
    ),
    case(
        "promote-force-string",
        "POST",
        "/meta/creative-engine/promote/{variant}",
        _same({"force": "false"}),
        ("force",),
        BOOLEAN,
    ),
    case(
        "promote-budget-bool",
        "POST",
        "/meta/creative-engine/promote/{variant}",
        _same({"budget": True}),
        ("budget",),
        "decimal string",
    ),
    case(
        "promote-budget-nan",
        "POST",
        "/meta/creative-engine/promote/{variant}",
        _same({"budget": "NaN"}),
        ("budget",),
        "valid number",
    ),
    case(
        "promote-variant-int",
        "POST",
        "/meta/creative-engine/promote/{variant}",
        _same({"variant_id": 5}),
        ("variant_id",),
        UUID,
    ),
    case(
        "promote-campaign-number",
        "POST",
        "/meta/creative-engine/promote/{variant}",
        _same({"campaign_id": 120200000000001}),
        ("campaign_id",),
        STRING,
    ),
    case(
        "promote-adset-list",
        "POST",
        "/meta/creative-engine/promote/{variant}",
        _same({"adset_id": ["1"]}),
        ("adset_id",),
        STRING,
    ),
    # POST /api/variants/{id}/archive/
    case(
        "archive-reason-number",
        "POST",
        "/api/variants/{variant}/archive/",
        _same({"reason": 5}),
        ("reason",),
        STRING,
    ),
    case(
        "archive-reason-bool",
        "POST",
        "/api/variants/{variant}/archive/",
        _same({"reason": True}),
        ("reason",),
        STRING,
    ),
]


def _at(fields, path):
    """The messages at a path of `fields` (a list's errors are keyed by index)."""
    for key in path:
        fields = fields[int(key)] if isinstance(fields, list) else fields[str(key)]
    return fields


@pytest.mark.parametrize(
    ("method", "path", "body", "field", "words"),
    CASES,
)
def test_a_wrong_type_is_refused_on_its_field_and_writes_nothing(
    method, path, body, field, words, world, manager_api, nothing_written
):
    response = manager_api.generic(
        method,
        world.url(path),
        data=_json(body(world)),
        content_type="application/json",
    )

    error = assert_error(response, 400, "invalid")
    messages = _at(error["fields"], field)
    assert any(words in m for m in messages), messages
    nothing_written()


def _json(value):
    import json

    return json.dumps(value)


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("limit=true", "valid integer"),
        ("limit=1.5", "valid integer"),
        ("limit=0", "greater"),
    ],
)
def test_the_history_limit_is_a_whole_number_in_its_query(query, words, manager_api):
    response = manager_api.get(f"/meta/creative-engine/history?{query}")

    error = assert_error(response, 400, "invalid")
    assert words in error["fields"]["limit"][0]


# --- what a correct type still does ------------------------------------------------------


def test_a_dry_run_with_real_booleans_is_accepted(world, manager_api):
    response = manager_api.post(
        "/meta/creative-engine/run", {"dry_run": True}, format="json"
    )

    assert response.status_code == 202, response.content
    assert CycleRun.objects.count() == 1


def test_a_whole_float_duration_and_an_integer_duration_are_numbers(manager_api):
    first = manager_api.post(
        "/api/productions/", new_master(duration=20), format="json"
    )
    second = manager_api.post(
        "/api/productions/", new_master(duration=20.0), format="json"
    )

    assert first.status_code == second.status_code == 201
    assert first.json()["duration"] == second.json()["duration"] == 20.0


# --- multipart: numbers from text, never booleans as numbers -----------------------------


def _form(**fields):
    return {
        "title": "Uploaded",
        "video_url": "https://cdn.example.com/spring.mp4",
        "duration": "20",
        **fields,
    }


def test_a_multipart_master_reads_its_numbers_and_booleans_from_text(manager_api):
    response = manager_api.post(
        "/api/productions/",
        _form(
            is_active="false",
            style_guide='{"tone": "warm"}',
            **{"fragments[0]fragment_type": "hook", "fragments[0]start_time": "0.5"},
            **{"fragments[0]end_time": "3"},
        ),
        format="multipart",
    )

    assert response.status_code == 201, response.content
    master = CreativeProduction.objects.get(pk=response.json()["id"])
    assert master.duration == 20.0
    assert master.is_active is False
    assert master.style_guide == {"tone": "warm"}
    (cut,) = master.fragment_set.all()
    assert (cut.start_time, cut.end_time) == (0.5, 3.0)


def test_a_multipart_master_without_is_active_is_active(manager_api):
    # DRF reads an absent form boolean as false (an unticked checkbox); the API's
    # default is true and a form that leaves the field out gets the default.
    response = manager_api.post("/api/productions/", _form(), format="multipart")

    assert response.status_code == 201, response.content
    assert response.json()["is_active"] is True


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"duration": "true"}, "duration", "valid number"),
        ({"duration": "nan"}, "duration", "valid number"),
        ({"duration": "inf"}, "duration", "valid number"),
        ({"duration": "1e400"}, "duration", "valid number"),
        ({"is_active": "1"}, "is_active", BOOLEAN),
        ({"is_active": "on"}, "is_active", BOOLEAN),
        ({"is_active": "yes"}, "is_active", BOOLEAN),
    ],
    ids=["bool-as-duration", "nan", "inf", "overflow", "one", "on", "yes"],
)
def test_a_multipart_master_refuses_what_is_not_its_type(
    fields, field, words, world, manager_api, nothing_written
):
    response = manager_api.post(
        "/api/productions/", _form(**fields), format="multipart"
    )

    error = assert_error(response, 400, "invalid")
    assert words in error["fields"][field][0], error
    nothing_written()


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ("title=" + "a" * 201, "title", "200 characters"),
        ("title=a%00b", "title", "Null characters"),
        ("duration_min=true", "duration_min", "number"),
    ],
    ids=["long-title", "nul-title", "bool-as-number"],
)
def test_a_list_filter_refuses_what_is_not_its_type(query, field, words, manager_api):
    path = "/api/variants/" if field.startswith("duration") else "/api/productions/"

    response = manager_api.get(f"{path}?{query}")

    error = assert_error(response, 400, "invalid")
    assert words in error["fields"][field][0], error
