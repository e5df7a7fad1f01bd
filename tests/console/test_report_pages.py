"""The run report, the leaderboards and the evidence pages, as staff open them.

Each page: a manager and a view-only staff member read it, someone logged out is sent
to the login form, and its query count stays the same for few and many rows.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from creative_engine.models import RunStatus
from productions.choices import FragmentType, NarrativeStructure
from promotion.choices import PromotionStatus, PromotionType
from tests.factories import (
    CycleRunFactory,
    DailyMetricFactory,
    FragmentFactory,
    ProductionFactory,
    PromotionLogFactory,
    UserFactory,
    VariantFactory,
)

pytestmark = pytest.mark.django_db

LEADERBOARDS = "admin:promotion_leaderboards"


@pytest.fixture
def manager_client(manager_user):
    manager_user.is_staff = True
    manager_user.save(update_fields=["is_staff"])
    manager = Client()
    manager.force_login(manager_user)
    return manager


@pytest.fixture
def viewer_client(client):
    """Staff holding only view permissions on the engine's pages."""
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(
        *Permission.objects.filter(
            codename__in=[
                "view_cyclerun",
                "view_promotionlog",
                "view_variantdailymetric",
            ]
        )
    )
    client.force_login(viewer)
    return client


def _decisions(variants, n: int) -> list[dict]:
    steps = ("promote", "fatigue", "generate")
    return [
        {
            "step": steps[i % 3],
            "action": ("pause", "archive_fatigued", "generate")[i % 3],
            "variant_id": str(variants[i % len(variants)].pk),
            "master_id": str(variants[i % len(variants)].parent_id),
            "reason": f"rank {i}; P(top 3) = 0.010 is below 0.02",
            "numbers": {"prob_top_n": 0.01, "rank": i, "days_used": 8},
        }
        for i in range(n)
    ]


def _run_with(n: int, **kwargs):
    master = ProductionFactory(title="Neon Nights")
    variants = [VariantFactory(parent=master) for _ in range(min(n, 10))]
    return CycleRunFactory(
        counts={"variants_generated": 15, "judged_pause": 2, "variants_planned": 3},
        timings={"generate": 0.5, "promote": 1.25},
        decisions=_decisions(variants, n),
        **kwargs,
    )


def _report(client, run, **params):
    url = reverse("admin:creative_engine_cyclerun_change", args=[run.pk])
    return client.get(url, params)


# --- cycle runs -----------------------------------------------------------------------


def test_the_run_list_says_what_each_run_did_in_words_with_a_status_badge(
    manager_client,
):
    CycleRunFactory(
        status=RunStatus.PARTIAL,
        counts={"variants_generated": 15, "renders_dispatched": 15, "judged_pause": 2},
        errors=[{"step": "promote", "error": "Meta is down"}],
    )

    html = manager_client.get(
        reverse("admin:creative_engine_cyclerun_changelist")
    ).content.decode()

    assert "15 generated · 15 rendered · 2 paused · 1 error" in html
    assert "Succeeded with errors" in html
    assert "bg-orange-100" in html  # the warning badge
    assert "variants_generated" not in html


def test_a_run_report_shows_errors_and_refusals_before_the_decisions(manager_client):
    run = _run_with(
        3,
        errors=[{"step": "fatigue", "error": "fatigue step raised: boom"}],
        refusals=[
            {
                "step": "generate",
                "master_id": None,
                "variant_id": None,
                "error": "no approved fragments",
            }
        ],
    )

    response = _report(manager_client, run)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("fatigue step raised: boom") < html.index('class="run-decisions')
    assert html.index("no approved fragments") < html.index('class="run-decisions')
    assert "Neon Nights · #1." in html  # variants by their readable names
    assert (
        reverse(
            "admin:variants_creativevariant_change",
            args=[run.decisions[0]["variant_id"]],
        )
        in html
    )
    assert "1 % chance of top 3 (rank 0)" in html
    assert "Variants generated" in html and "Promote" in html
    assert 'data-type="bar"' in html  # the timings chart
    assert 'name="_save"' not in html


def test_the_report_filters_decisions_by_step_and_by_action(manager_client):
    run = _run_with(9)

    by_step = _report(manager_client, run, step="promote").content.decode()
    by_action = _report(manager_client, run, action="generate").content.decode()
    both = _report(manager_client, run, step="promote", action="generate")

    assert by_step.count('class="decision-row') == 3
    assert (
        re.findall(r"<td class=\"decision-step[^>]*>([^<]*)<", by_step)
        == ["Promote"] * 3
    )
    assert by_action.count('class="decision-row') == 3
    assert "3 of 9 decisions shown" in by_action
    assert both.content.decode().count('class="decision-row') == 0


def test_a_report_survives_decisions_that_name_unknown_or_malformed_ids(manager_client):
    run = CycleRunFactory(
        decisions=[
            {"step": "promote", "action": "pause", "variant_id": "not-a-uuid"},
            {
                "step": "promote",
                "action": "pause",
                "variant_id": "2b1f3f3e-0000-4000-8000-000000000000",
            },
            "garbage",
        ],
        timings={"promote": "n/a"},
    )

    response = _report(manager_client, run)

    assert response.status_code == 200
    assert "(a variant since deleted)" in response.content.decode()


def test_the_report_costs_the_same_queries_for_5_and_50_decisions(
    manager_client, django_assert_max_num_queries
):
    # Session, user, groups/permissions, the run (twice: the report and the form),
    # the variants named (with their masters) and the masters named: a fixed bound.
    small, large = _run_with(5), _run_with(50)
    _report(manager_client, small)  # warm the permission caches of this client

    with django_assert_max_num_queries(12):
        small_page = _report(manager_client, small)
    with django_assert_max_num_queries(12):
        large_page = _report(manager_client, large)

    assert small_page.content.decode().count('class="decision-row') == 5
    assert large_page.content.decode().count('class="decision-row') == 50


def test_a_viewer_reads_a_report_and_someone_logged_out_is_sent_to_log_in(
    viewer_client, client
):
    run = _run_with(3)

    assert _report(viewer_client, run).status_code == 200
    viewer_client.logout()
    answer = _report(client, run)
    assert answer.status_code == 302
    assert answer.url.startswith(reverse("admin:login"))


# --- leaderboards ---------------------------------------------------------------------


def _measured_master(title: str, *, days: int = 3, variants: int = 2, campaign="c1"):
    master = ProductionFactory(title=title, campaign_id=campaign)
    hook = FragmentFactory(master_creative=master, label=f"{title} hook")
    body = FragmentFactory(
        master_creative=master,
        fragment_type=FragmentType.BODY,
        label=f"{title} body",
        start_time=3,
        end_time=8,
    )
    made = []
    for n in range(variants):
        variant = VariantFactory(
            parent=master,
            narrative_structure=NarrativeStructure.HOOK_BODY_CTA,
            fragments_order=[
                {"fragment_id": str(hook.pk), "fragment_type": "hook"},
                {"fragment_id": str(body.pk), "fragment_type": "body"},
            ],
        )
        for d in range(days):
            DailyMetricFactory(
                variant=variant,
                date=dt.date.today() - dt.timedelta(days=d + 1),
                impressions=1000,
                clicks=10 + n,
            )
        made.append(variant)
    return master, made


def test_leaderboards_rank_hooks_with_their_evidence_and_draw_a_chart(manager_client):
    _measured_master("Neon Nights")
    _measured_master("Quiet Storm", variants=1)

    response = manager_client.get(reverse(LEADERBOARDS))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Neon Nights hook" in html and "Quiet Storm hook" in html
    assert "6,000" in html  # Neon Nights' hook: 2 variants × 3 days × 1000
    assert re.search(r"\d\.\d\d – \d\.\d\d\s%", html)  # the interval beside the rate
    charts = re.findall(r'<canvas class="chart"[^>]*data-value="([^"]*)"', html)
    assert charts
    data = json.loads(charts[0].replace("&quot;", '"'))
    assert data["labels"][0] == "Neon Nights hook"
    assert "Hook→Body→CTA" in html  # structures by readable name


def test_leaderboards_filter_by_master_and_by_date_range(manager_client):
    neon, _ = _measured_master("Neon Nights")
    _measured_master("Quiet Storm")

    one_master = manager_client.get(
        reverse(LEADERBOARDS), {"master": str(neon.pk)}
    ).content.decode()
    old_range = manager_client.get(
        reverse(LEADERBOARDS), {"since": "2020-01-01", "until": "2020-01-31"}
    ).content.decode()

    assert "Neon Nights hook" in one_master
    assert "Quiet Storm hook" not in one_master
    assert "Neon Nights hook" not in old_range
    assert "0 measured variants" in old_range


def test_leaderboards_cost_the_same_queries_for_few_and_many_variants(
    manager_client, django_assert_max_num_queries
):
    _measured_master("Small", variants=1)
    manager_client.get(reverse(LEADERBOARDS))
    with django_assert_max_num_queries(10):
        manager_client.get(reverse(LEADERBOARDS))

    for n in range(5):
        _measured_master(f"Big {n}", variants=6)
    # Session, user, permissions, the filter choices (masters, campaigns), the sums,
    # the variants and the fragments: constant in the number of variants.
    with django_assert_max_num_queries(10):
        response = manager_client.get(reverse(LEADERBOARDS))
    assert "31 measured variants" in response.content.decode()


def test_any_engine_role_may_open_leaderboards_and_logged_out_is_sent_to_log_in(
    viewer_client, client
):
    assert viewer_client.get(reverse(LEADERBOARDS)).status_code == 200
    viewer_client.logout()
    answer = client.get(reverse(LEADERBOARDS))
    assert answer.status_code == 302
    assert answer.url.startswith(reverse("admin:login"))


def test_staff_without_the_metrics_permission_may_not_open_leaderboards(client):
    client.force_login(UserFactory(username="bystander", is_staff=True))

    assert client.get(reverse(LEADERBOARDS)).status_code == 403


def test_the_daily_metrics_page_links_to_the_leaderboards(manager_client):
    html = manager_client.get(
        reverse("admin:promotion_variantdailymetric_changelist")
    ).content.decode()

    assert reverse(LEADERBOARDS) in html


# --- evidence pages -------------------------------------------------------------------


def test_a_decision_row_reads_succeeded_with_its_reason_not_an_error(manager_client):
    # Given a pause decision as the engine writes it: status succeeded, success
    # false, the reason in error_message
    variant = VariantFactory(parent=ProductionFactory(title="Neon Nights"))
    PromotionLogFactory(
        variant=variant,
        promotion_type=PromotionType.WINNER,
        operation="promote_top",
        promotion_status=PromotionStatus.SUCCEEDED,
        success=False,
        error_message="rank 1 of the posterior, in the top 3",
        decision_details={"prob_top_n": 0.91, "days_used": 15, "rank": 1},
    )
    PromotionLogFactory(
        variant=variant,
        operation="create_ad",
        promotion_status=PromotionStatus.FAILED,
        success=False,
        error_message="Meta error 100: Invalid parameter",
    )
    PromotionLogFactory(
        variant=variant,
        operation="upload_refused",
        promotion_status=PromotionStatus.FAILED,
        success=False,
        error_message="the Page's running-ads cap is reached",
    )

    html = manager_client.get(
        reverse("admin:promotion_promotionlog_changelist")
    ).content.decode()

    rows = re.findall(r"<tr[^>]*>.*?</tr>", html, flags=re.S)
    promoted = next(r for r in rows if "promote_top" in r)
    failed = next(r for r in rows if "create_ad" in r)
    refused = next(r for r in rows if "upload_refused" in r)
    assert "Succeeded" in promoted and "bg-green-100" in promoted
    assert "Promoted: 91 % chance of being in the top 3 on 15 days of data" in promoted
    assert "Failed" in failed and "bg-red-100" in failed
    assert "Meta error 100: Invalid parameter" in failed
    assert "Refused" in refused and "bg-orange-100" in refused
    assert "Neon Nights · #1." in promoted


def test_a_log_row_page_shows_its_numbers_as_a_table_not_json(manager_client):
    log = PromotionLogFactory(
        promotion_type=PromotionType.BUDGET,
        operation="set_adset_budget",
        decision_details={
            "current_daily_budget_minor": 2000,
            "new_daily_budget_minor": 2500,
            "change_ratio": 0.25,
            "measured_roas": 2.5,
            "objective": "sales",
            "call": {"daily_budget": 2500},
        },
    )

    html = manager_client.get(
        reverse("admin:promotion_promotionlog_change", args=[log.pk])
    ).content.decode()

    assert "Daily budget after" in html and "25.00 a day" in html
    assert "+25 %" in html and "Objective" in html
    assert "current_daily_budget_minor" not in html
    assert "bg-green-100" in html and "('succeeded'" not in html  # a badge
    assert 'name="_save"' not in html


def test_the_log_list_costs_the_same_queries_for_few_and_many_rows(
    manager_client, django_assert_max_num_queries
):
    url = reverse("admin:promotion_promotionlog_changelist")
    PromotionLogFactory()
    manager_client.get(url)
    with django_assert_max_num_queries(10):
        manager_client.get(url)
    PromotionLogFactory.create_batch(40)
    with django_assert_max_num_queries(10):
        manager_client.get(url)


def test_daily_metrics_show_the_variant_by_name_and_computed_rates(
    manager_client, django_assert_max_num_queries
):
    variant = VariantFactory(parent=ProductionFactory(title="Neon Nights"))
    DailyMetricFactory(
        variant=variant,
        impressions=2000,
        clicks=50,
        conversions=5,
        spend=10,
        revenue=35,
    )
    url = reverse("admin:promotion_variantdailymetric_changelist")
    manager_client.get(url)

    with django_assert_max_num_queries(10):
        html = manager_client.get(url).content.decode()
    DailyMetricFactory.create_batch(40)
    with django_assert_max_num_queries(10):
        manager_client.get(url)

    assert "Neon Nights · #1." in html
    assert "2.50\u00a0%" in html  # CTR 50 / 2000 (no break before the unit)
    assert "10.00\u00a0%" in html  # CVR 5 / 50
    assert "3.50×" in html  # ROAS 35 / 10


@pytest.mark.parametrize(
    "name",
    [
        "admin:promotion_promotionlog_changelist",
        "admin:promotion_variantdailymetric_changelist",
        "admin:creative_engine_cyclerun_changelist",
    ],
)
def test_evidence_lists_open_for_a_viewer_and_not_for_someone_logged_out(
    viewer_client, client, name
):
    PromotionLogFactory()
    DailyMetricFactory()
    CycleRunFactory()

    assert viewer_client.get(reverse(name)).status_code == 200
    viewer_client.logout()
    assert client.get(reverse(name)).status_code == 302


def test_a_decision_carried_out_is_written_as_a_success_and_a_refusal_is_not():
    # The source of the "Succeeded beside a red cross" rows: `success` now agrees
    # with the status the decision was written with.
    from promotion.services.meta_calls import promotion_log_decision

    done = promotion_log_decision(
        operation="promote_top",
        message="rank 1 of the posterior, in the top 3",
        promotion_type=PromotionType.WINNER,
        status=PromotionStatus.SUCCEEDED,
        details={"prob_top_n": 0.9},
    )
    refused = promotion_log_decision(
        operation="upload_refused", message="cap reached", error_code="cap"
    )

    assert (done.promotion_status, done.success) == ("succeeded", True)
    assert (refused.promotion_status, refused.success) == ("skipped", False)


def test_the_run_list_costs_the_same_queries_for_few_and_many_runs(
    manager_client, django_assert_max_num_queries
):
    url = reverse("admin:creative_engine_cyclerun_changelist")
    _run_with(5)
    manager_client.get(url)
    # Session, user, permissions, the count, the page of runs, the date hierarchy.
    with django_assert_max_num_queries(10):
        manager_client.get(url)
    CycleRunFactory.create_batch(30, counts={"variants_generated": 15})
    with django_assert_max_num_queries(10):
        response = manager_client.get(url)
    assert response.content.decode().count("15 generated") == 31


def test_what_the_engine_wrote_is_shown_as_text_never_as_markup(manager_client):
    run = CycleRunFactory(
        decisions=[
            {
                "step": "generate",
                "action": "refuse",
                "reason": "<script>alert(1)</script>",
            }
        ],
        errors=[{"step": "promote", "error": "<img src=x>"}],
    )

    html = _report(manager_client, run).content.decode()

    assert "<script>alert(1)</script>" not in html and "<img src=x>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_run_report_shows_what_the_recovery_check_did_and_why(manager_client):
    run = _run_with(
        1,
        recoveries=[
            {
                "at": "2026-12-02T00:04:05+00:00",
                "action": "resend",
                "was": "queued",
                "reason": "its message was lost: not on the broker; sent again",
            },
            {
                "at": "2026-12-02T00:09:30+00:00",
                "action": "resume",
                "was": "running",
                "reason": "its worker is gone (lock free, no heartbeat for 120s)",
            },
        ],
    )

    html = _report(manager_client, run).content.decode()

    recoveries = html[html.index("run-recoveries") : html.index("run-decisions")]
    assert recoveries.count('class="run-recovery ') == 2
    assert "Sent again" in recoveries and "Resumed" in recoveries
    assert "Dec 02, 00:04:05" in recoveries
    assert "its message was lost: not on the broker; sent again" in recoveries
    assert "Running" in recoveries  # the state it was in, in words


def test_a_run_that_needed_no_recovery_shows_no_recoveries_card(manager_client):
    html = _report(manager_client, _run_with(1)).content.decode()

    assert "run-recoveries" not in html
