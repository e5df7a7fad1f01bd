"""SPEC.md's six endpoints under /meta/creative-engine/, with real values from the
database."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django_celery_beat.models import PeriodicTask

from creative_engine.locks import cycle_lock
from creative_engine.models import CycleRun, RunStatus
from creative_engine.schedule import CYCLE_TASK_NAME
from tests.factories import (
    FULL_BATCH,
    CycleRunFactory,
    DailyMetricFactory,
    ProductionFactory,
    PromotionLogFactory,
    VariantFactory,
    master_with_approved_cuts,
)
from variants.models import CreativeVariant

pytestmark = pytest.mark.django_db

UTC = dt.UTC


# --- status --------------------------------------------------------------------------


def test_status_shows_the_last_finished_cycles_pipeline_alerts(manager_api):
    # Given a finished cycle that could not refill a master's testing pool
    master = ProductionFactory()
    alert = {
        "kind": "pipeline_stalled_no_material",
        "master_id": str(master.pk),
        "message": f"{master.title}: the testing pool cannot refill: no combination "
        "left (2 variants left waiting for evidence).",
    }
    CycleRunFactory(
        status=RunStatus.SUCCEEDED,
        started_at=dt.datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        finished_at=dt.datetime(2026, 3, 1, 12, 5, tzinfo=UTC),
        alerts=[alert],
    )

    # When a person asks for the engine's status
    response = manager_api.get("/meta/creative-engine/status")

    # Then the alert is there, with its master and its reason
    assert response.status_code == 200
    assert response.json()["alerts"] == [alert]


@time_machine.travel(dt.datetime(2026, 3, 1, 14, 30, tzinfo=UTC), tick=False)
def test_status_reports_idle_with_the_next_window_and_real_counts(manager_api):
    master = ProductionFactory()
    ProductionFactory()
    for status in ["testing", "active", "active", "fatigued", "archived", "draft"]:
        VariantFactory(parent=master, status=status)
    CycleRunFactory(
        status=RunStatus.SUCCEEDED,
        started_at=dt.datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC),
    )

    response = manager_api.get("/meta/creative-engine/status")

    assert response.status_code == 200
    assert response.json() == {
        "status": "idle",
        "last_run": "2026-03-01T12:00:05Z",
        "next_run": "2026-03-02T00:00:00Z",
        "total_masters": 2,
        "total_variants": 6,
        "active_variants": 3,
        "fatigued_variants": 1,
        "mode": "stub",
        "alerts": [],
    }


def test_status_is_running_while_a_cycle_is_running(manager_api):
    CycleRunFactory(status=RunStatus.RUNNING)

    response = manager_api.get("/meta/creative-engine/status")

    assert response.json()["status"] == "running"


def test_status_is_paused_when_the_schedule_is_disabled(manager_api):
    PeriodicTask.objects.filter(name=CYCLE_TASK_NAME).update(enabled=False)

    response = manager_api.get("/meta/creative-engine/status")

    assert response.json()["status"] == "paused"
    assert response.json()["next_run"] is None
    assert response.json()["last_run"] is None


# --- run -----------------------------------------------------------------------------


def test_run_queues_a_cycle_and_answers_202_with_its_id(
    manager_api, manager_user, monkeypatch, django_capture_on_commit_callbacks
):
    from creative_engine import tasks

    enqueued: list[str] = []
    monkeypatch.setattr(tasks.run_cycle, "delay", enqueued.append)
    master = ProductionFactory()

    with django_capture_on_commit_callbacks(execute=True):
        response = manager_api.post(
            "/meta/creative-engine/run",
            {
                "master_creative_ids": [str(master.pk)],
                "auto_upload": False,
                "mode": "stub",
                "dry_run": True,
            },
            format="json",
        )

    assert response.status_code == 202, response.content
    body = response.json()
    run = CycleRun.objects.get(pk=body["run_id"])
    assert body == {
        "run_id": str(run.pk),
        "status": "queued",
        "status_url": f"/api/runs/{run.pk}/",
    }
    assert response["Location"] == body["status_url"]
    assert enqueued == [str(run.pk)]
    assert run.trigger == "api"
    assert run.requested_by == manager_user
    assert run.dry_run is True
    assert run.options == {
        "master_creative_ids": [str(master.pk)],
        "generate_variants": True,
        "auto_upload": False,
        "promote_top_3": True,
        "dry_run": True,
    }
    assert manager_api.get(body["status_url"]).json()["status"] == "queued"


def test_a_second_run_while_one_is_in_flight_is_a_409(manager_api):
    # A running run whose worker is alive: it holds the cycle lock.
    CycleRunFactory(status=RunStatus.RUNNING)

    with cycle_lock():
        response = manager_api.post("/meta/creative-engine/run", {}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "cycle_already_running"
    assert "already running" in response.json()["error"]["message"]


def test_run_refuses_a_mode_other_than_the_servers(manager_api):
    response = manager_api.post(
        "/meta/creative-engine/run", {"mode": "live"}, format="json"
    )

    assert response.status_code == 400
    assert "stub" in response.json()["error"]["fields"]["mode"][0]
    assert not CycleRun.objects.exists()


@pytest.mark.parametrize(
    "body, field",
    [
        (
            {"master_creative_ids": ["3b1f1c3e-0000-4000-8000-000000000000"]},
            "master_creative_ids",
        ),
        ({"master_creative_ids": ["not-a-uuid"]}, "master_creative_ids"),
        ({"master_creative_ids": "all"}, "master_creative_ids"),
        ({"dry_run": "perhaps"}, "dry_run"),
        ({"mode": "turbo"}, "mode"),
    ],
)
def test_run_refuses_bad_options_with_field_messages(manager_api, body, field):
    response = manager_api.post("/meta/creative-engine/run", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not CycleRun.objects.exists()


# --- generate ------------------------------------------------------------------------


def test_generate_writes_the_asked_number_of_variants_and_returns_them(
    manager_api, settings
):
    master = master_with_approved_cuts(sheet=FULL_BATCH)

    response = manager_api.post(
        f"/meta/creative-engine/generate/{master.pk}",
        {"count": 6, "seed": 41},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["master_creative_id"] == str(master.pk)
    assert body["count"] == 6
    assert [v["variant_number"] for v in body["variants"]] == [1, 2, 3, 4, 5, 6]
    assert {v["status"] for v in body["variants"]} == {"draft"}
    assert {v["duration_category"] for v in body["variants"]} <= {
        "short",
        "medium",
        "long",
    }
    assert CreativeVariant.objects.filter(parent=master).count() == 6


def test_generate_accepts_spec_fields_equal_to_the_stored_inputs(manager_api):
    master = master_with_approved_cuts(sheet=FULL_BATCH)
    approved = [str(f.pk) for f in master.fragment_set.filter(approved=True)]

    response = manager_api.post(
        f"/meta/creative-engine/generate/{master.pk}",
        {
            "master_creative": {"id": str(master.pk), "title": master.title},
            "fragments": approved,
            "style_guide": master.style_guide,
            "mode": "stub",
        },
        format="json",
    )

    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    "override, field",
    [
        ({"style_guide": {"tone": "sombre"}}, "style_guide"),
        ({"fragments": ["3b1f1c3e-0000-4000-8000-000000000000"]}, "fragments"),
        (
            {"master_creative": {"authorized_pixels": ["555555555555"]}},
            "master_creative",
        ),
        ({"master_creative": "everything"}, "master_creative"),
        ({"mode": "live"}, "mode"),
        ({"count": 4}, "count"),
        ({"count": 16}, "count"),
        ({"seed": -1}, "seed"),
        ({"seed": "abc"}, "seed"),
    ],
)
def test_generate_refuses_overrides_of_approved_inputs_and_bad_values(
    manager_api, override, field
):
    master = master_with_approved_cuts(sheet=FULL_BATCH)

    response = manager_api.post(
        f"/meta/creative-engine/generate/{master.pk}", override, format="json"
    )

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not CreativeVariant.objects.exists()


def test_generate_for_an_inactive_master_is_a_400_saying_why(manager_api):
    master = master_with_approved_cuts(sheet=FULL_BATCH, is_active=False)

    response = manager_api.post(
        f"/meta/creative-engine/generate/{master.pk}", {}, format="json"
    )

    assert response.status_code == 400
    assert "inactive" in response.json()["error"]["fields"]["non_field_errors"][0]


def test_generate_without_approved_fragments_is_a_400(manager_api):
    master = ProductionFactory()

    response = manager_api.post(
        f"/meta/creative-engine/generate/{master.pk}", {}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["non_field_errors"]


@pytest.mark.parametrize("path", ["3b1f1c3e-0000-4000-8000-000000000000", "x"])
def test_generate_for_an_unknown_master_is_a_404(manager_api, path):
    response = manager_api.post(f"/meta/creative-engine/generate/{path}", {})

    assert response.status_code == 404


# --- variants/{creative_id} ----------------------------------------------------------


def test_variants_of_a_master_with_counts_by_status(manager_api):
    master = ProductionFactory()
    statuses = ["active"] * 3 + ["testing"] * 2 + ["fatigued", "archived", "paused"]
    for number, status in enumerate(statuses, start=1):
        VariantFactory(parent=master, variant_number=number, status=status)
    VariantFactory(status="active")  # another master's

    response = manager_api.get(f"/meta/creative-engine/variants/{master.pk}")

    assert response.status_code == 200
    body = response.json()
    counts = {k: v for k, v in body.items() if k != "variants"}
    assert counts == {
        "master_creative_id": str(master.pk),
        "total_variants": 8,
        "active": 3,
        "testing": 2,
        "paused": 1,
        "fatigued": 1,
        "archived": 1,
        "draft": 0,
        "rendering": 0,
        "rendered": 0,
        "uploading": 0,
        "failed": 0,
    }
    assert [v["variant_number"] for v in body["variants"]] == list(range(1, 9))
    assert {v["master_creative_id"] for v in body["variants"]} == {str(master.pk)}


@pytest.mark.parametrize("count", [1, 15])
def test_variants_of_a_master_cost_the_same_queries_for_1_or_15(
    manager_api, django_assert_num_queries, count
):
    master = ProductionFactory()
    for number in range(1, count + 1):
        VariantFactory(parent=master, variant_number=number)

    # token + user, groups, the master exists, the variants (counted in Python)
    with django_assert_num_queries(4):
        response = manager_api.get(f"/meta/creative-engine/variants/{master.pk}")

    assert len(response.json()["variants"]) == count


@pytest.mark.parametrize("path", ["3b1f1c3e-0000-4000-8000-000000000000", "nope"])
def test_variants_of_an_unknown_master_is_a_404(manager_api, path):
    response = manager_api.get(f"/meta/creative-engine/variants/{path}")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# --- history -------------------------------------------------------------------------


def test_history_reports_totals_averages_the_best_structure_and_runs(manager_api):
    first, second = ProductionFactory(), ProductionFactory()
    strong = VariantFactory(
        parent=first, narrative_structure="cta_forward", meta_ad_id="ad-1"
    )
    weak = VariantFactory(
        parent=first, narrative_structure="hook_body_cta", meta_ad_id="ad-2"
    )
    for number in range(1, 5):
        VariantFactory(parent=second, variant_number=number)
    for day in range(5):
        DailyMetricFactory(variant=strong, impressions=4000, conversions=40 + day)
        DailyMetricFactory(variant=weak, impressions=4000, conversions=4)
    PromotionLogFactory(variant=strong, budget_allocated=Decimal("25.00"))
    for _ in range(3):
        CycleRunFactory()

    response = manager_api.get("/meta/creative-engine/history?limit=2")

    assert response.status_code == 200
    body = response.json()
    assert body["total_runs"] == 3
    assert body["total_variants_generated"] == 6
    assert body["total_uploads"] == 2
    assert body["avg_variants_per_master"] == 3.0
    assert body["best_performing_structure"] == "cta_forward"
    assert body["best_structure_metric"] == "conversions_per_impression"
    assert len(body["history"]) == 2
    assert {"id", "status", "counts", "timings", "error_count"} <= set(
        body["history"][0]
    )


def test_history_before_any_delivery_has_no_best_structure(manager_api):
    VariantFactory()

    body = manager_api.get("/meta/creative-engine/history").json()

    assert body["best_performing_structure"] is None
    assert body["total_runs"] == 0
    assert body["history"] == []


@pytest.mark.parametrize("limit", ["0", "101", "many"])
def test_history_refuses_a_bad_limit(manager_api, limit):
    response = manager_api.get(f"/meta/creative-engine/history?limit={limit}")

    assert response.status_code == 400
    assert "limit" in response.json()["error"]["fields"]
