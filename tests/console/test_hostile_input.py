"""What a console URL answers to input no page would send: a malformed or unknown id,
a number too large, a word where a number goes, a path the file system refuses. Each
gets a clear answer (a 404, or the page with a message), never a 500.

Each case below answered 500 before its fix.
"""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from tests.console.world import build_world
from tests.factories import ProductionFactory

pytestmark = pytest.mark.django_db

BAD_IDS = ["not-a-uuid", "0", "-1", "99999999999999999999999999", "1' OR '1'='1"]
MASTERS = "/admin/productions/creativeproduction"


@pytest.fixture
def hostile(staff_manager):
    staff_manager.raise_request_exception = False
    return staff_manager


@pytest.mark.parametrize("bad_id", BAD_IDS)
@pytest.mark.parametrize("button", ["probe", "probe-row"])
def test_probing_a_master_that_is_not_one_says_so(hostile, button, bad_id):
    # When a probe button's URL names no master (by hand, or a stale page)
    answer = hostile.post(f"{MASTERS}/{bad_id}/{button}/")

    # Then the manager is sent back and told, not shown a server error
    assert answer.status_code == 302
    said = [str(m) for m in get_messages(answer.wsgi_request)]
    assert said == ["No such master."]


@pytest.mark.parametrize("bad_id", BAD_IDS)
def test_generate_now_for_a_master_that_is_not_one_is_a_404(hostile, bad_id):
    assert hostile.get(f"{MASTERS}/{bad_id}/generate_now/").status_code == 404


@pytest.mark.parametrize("bad_id", BAD_IDS)
@pytest.mark.parametrize("button", ["promote_variant", "pause_variant", "archive"])
def test_steering_a_variant_that_is_not_one_is_a_404(hostile, button, bad_id):
    url = f"/admin/variants/creativevariant/{bad_id}/{button}_variant/".replace(
        "_variant_variant", "_variant"
    )
    answer = hostile.post(
        url, {"_form_submitted": "on", "reason": "gone", "budget": "12"}
    )
    assert answer.status_code == 404


def test_the_probe_row_goes_back_only_to_a_page_of_this_site(hostile):
    # Given a master, and a probe request that claims to come from another site
    master = ProductionFactory()
    url = f"{MASTERS}/{master.pk}/probe-row/"

    answer = hostile.post(url, HTTP_REFERER="https://evil.example/phish")

    # Then the manager lands on the master list, not on the other site
    assert answer.status_code == 302
    assert answer.url == reverse("admin:productions_creativeproduction_changelist")


def test_sorting_the_master_list_by_a_measured_column_is_refused_quietly(hostile):
    # The objective and retention columns are read for the page only: they do not
    # sort, and a hand-made ?o= naming one is ignored rather than a 500.
    ProductionFactory()
    for index in range(3, 6):
        answer = hostile.get(
            reverse("admin:productions_creativeproduction_changelist"),
            {"o": f"-{index}"},
        )
        assert answer.status_code == 200, index


def test_a_media_name_the_file_system_refuses_is_a_404(hostile):
    assert hostile.get("/media/" + "x" * 3000).status_code == 404


@pytest.mark.parametrize("page", ["abc", "-1", "0", "99999999999999999999"])
def test_a_run_report_answers_any_page_number(hostile, page):
    # Given a run with more decisions than a page shows
    world = build_world(masters=11, variants_per_master=15, days=1)  # 121 decisions
    url = reverse("admin:creative_engine_cyclerun_change", args=[world.run.pk])

    answer = hostile.get(url, {"page": page})

    # Then a word is the first page, a number out of range (0, below, past the end)
    # the last
    assert answer.status_code == 200
    expected = "page 1 of 2" if page == "abc" else "page 2 of 2"
    assert expected in answer.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"since": "notadate"},
        {"since": "0001-01-01", "until": "9999-12-31"},
        {"since": "2030-01-01", "until": "2020-01-01"},
        {"metric": "xxx"},
        {"master": "not-a-uuid"},
        {"since": "2026-02-30"},
    ],
)
def test_leaderboards_answer_any_filter(hostile, query):
    assert (
        hostile.get(reverse("admin:promotion_leaderboards"), query).status_code == 200
    )


@pytest.mark.parametrize(
    "query",
    [
        {"o": "1.2.3"},
        {"o": "99999999999999999999"},
        {"parent__id__exact": "zzz"},
        {"generated_at__gte": "garbage"},
        {"p": "abc"},
    ],
)
def test_the_grid_answers_any_query_string(hostile, query):
    answer = hostile.get(reverse("admin:variants_creativevariant_changelist"), query)
    assert answer.status_code in (200, 302)
