"""The run report and the leaderboards in Chromium, as a manager reads them.

Screenshots of each page land in test-artifacts/screenshots/ (see conftest).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from productions.choices import FragmentType
from productions.roles import MANAGER_GROUP
from tests.factories import (
    CycleRunFactory,
    DailyMetricFactory,
    FragmentFactory,
    ProductionFactory,
    VariantFactory,
)

pytestmark = pytest.mark.browser

CHART_DRAWN = """() => {
    const canvas = document.querySelector("#leaderboards canvas.chart");
    return canvas !== null && window.Chart !== undefined
        && Chart.getChart(canvas) !== undefined && canvas.width > 0;
}"""


def _run_with_decisions():
    master = ProductionFactory(title="Neon Nights")
    variants = [VariantFactory(parent=master) for _ in range(3)]
    decisions = [
        {
            "step": "promote",
            "action": "pause",
            "variant_id": str(variants[0].pk),
            "master_id": str(master.pk),
            "reason": "rank 13; P(top 3) = 0.020 is below 0.02",
            "numbers": {"prob_top_n": 0.02, "rank": 13, "days_used": 8},
        },
        {
            "step": "promote",
            "action": "promote",
            "variant_id": str(variants[1].pk),
            "master_id": str(master.pk),
            "reason": "rank 1 of the posterior, in the top 3",
            "numbers": {"prob_top_n": 0.91, "rank": 1, "days_used": 15},
        },
        {
            "step": "generate",
            "action": "generate",
            "master_id": str(master.pk),
            "reason": "0 in flight (< 5): batch 2 of 15 variants",
            "numbers": {"batch_size_cap": 15},
        },
    ]
    return CycleRunFactory(
        counts={"variants_generated": 15, "judged_pause": 1, "judged_promote": 1},
        timings={"generate": 0.4, "render_and_upload": 12.5, "promote": 0.2},
        refusals=[
            {
                "step": "generate",
                "master_id": str(master.pk),
                "variant_id": None,
                "error": "no approved CTA fragment",
            }
        ],
        decisions=decisions,
    )


def _measured_hooks():
    master = ProductionFactory(title="Neon Nights", campaign_id="c1")
    for n, label in enumerate(("Crowd roar", "Skyline drop")):
        hook = FragmentFactory(master_creative=master, label=label)
        body = FragmentFactory(
            master_creative=master,
            fragment_type=FragmentType.BODY,
            label=f"Body {n}",
            start_time=3,
            end_time=8,
        )
        variant = VariantFactory(
            parent=master,
            fragments_order=[
                {"fragment_id": str(hook.pk), "fragment_type": "hook"},
                {"fragment_id": str(body.pk), "fragment_type": "body"},
            ],
        )
        for day in range(3):
            DailyMetricFactory(
                variant=variant,
                date=dt.date.today() - dt.timedelta(days=day + 1),
                impressions=2000,
                clicks=40 + 20 * n,
            )


def test_a_manager_reads_a_run_report_and_filters_its_decisions_by_step(
    console_login, staff_user
):
    staff_user("manager1", groups=(MANAGER_GROUP,))
    run = _run_with_decisions()
    console = console_login("manager1")
    page = console.page

    console.visit(reverse("admin:creative_engine_cyclerun_change", args=[run.pk]))

    assert page.locator(".run-refusal").inner_text().count("no approved CTA") == 1
    rows = page.locator("tr.decision-row")
    assert rows.count() == 3
    assert "Paused" in rows.nth(0).inner_text()
    assert "2 % chance of top 3 (rank 13)" in rows.nth(0).inner_text()
    assert "Neon Nights · #1." in rows.nth(0).locator(".decision-variant").inner_text()
    assert page.locator("#run-report canvas.chart").count() == 1  # timings

    page.select_option("#decision-step", "promote")
    with page.expect_navigation():
        page.locator("#decision-filters button[type=submit]").click()
    console.screenshot("run-report-filtered-by-step")

    assert "step=promote" in page.url
    assert page.locator("tr.decision-row").count() == 2
    steps = page.locator("td.decision-step").all_inner_texts()
    assert steps == ["Promote", "Promote"]
    assert page.locator("#decision-step").input_value() == "promote"
    assert page.locator("[name='_save']").count() == 0

    page.locator("tr.decision-row .decision-variant a").first.click()
    page.wait_for_load_state("load")
    assert "/admin/variants/creativevariant/" in page.url
    assert console.problems == []


def test_a_manager_opens_the_leaderboards_and_sees_a_chart_drawn(
    console_login, staff_user
):
    staff_user("manager1", groups=(MANAGER_GROUP,))
    _measured_hooks()
    console = console_login("manager1")
    page = console.page

    console.visit(reverse("admin:promotion_variantdailymetric_changelist"))
    page.locator("#content, main").get_by_role(
        "link", name="Leaderboards"
    ).first.click()
    page.wait_for_load_state("load")
    page.wait_for_function(CHART_DRAWN)
    console.screenshot("leaderboards")

    hooks = page.locator("section[data-board='hooks']")
    assert hooks.locator("canvas.chart").is_visible()
    rows = hooks.locator("tbody tr")
    assert rows.count() == 2
    assert "Skyline drop" in rows.nth(0).inner_text()  # 3 % beats 2 %
    assert "6,000" in rows.nth(0).inner_text()  # the impressions behind it
    assert console.problems == []
