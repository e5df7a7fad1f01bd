"""Each master's objective, and the value on it, wherever a marketer reads results:
the grid (tested with its other figures in test_creatives), the master list, the
variant page and the dashboard (test_dashboard); with hook and hold rates."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from productions.choices import Objective
from tests.factories import DailyMetricFactory, ProductionFactory, VariantFactory

pytestmark = pytest.mark.django_db


def _delivered(master, **day):
    variant = VariantFactory(parent=master)
    DailyMetricFactory(
        variant=variant,
        date=timezone.localdate(),
        impressions=1000,
        clicks=25,
        conversions=4,
        spend=20,
        revenue=50,
        video_3s_views=400,
        thruplays=120,
        **day,
    )
    return variant


def _cells(html: str, column: str) -> list[str]:
    return re.findall(rf"field-{column}[^>]*>([^<]*)<", html)


def test_the_master_list_shows_each_masters_objective_and_its_value(staff_manager):
    # Given a master judged on CPA and one left blank whose pixel reports revenue
    cpa = ProductionFactory(title="A cpa master", objective=Objective.CPA)
    _delivered(cpa)
    blank = ProductionFactory(title="B roas master", objective="")
    _delivered(blank)

    # When a manager opens the master list
    html = staff_manager.get(
        reverse("admin:productions_creativeproduction_changelist")
    ).content.decode()

    # Then each shows its objective with the value on it, and the retention rates
    assert sorted(_cells(html, "objective_column")) == ["CPA 5.00", "ROAS 2.50×"]
    assert _cells(html, "hook_rate_column") == ["40.0\u00a0%"] * 2
    assert _cells(html, "hold_rate_column") == ["12.0\u00a0%"] * 2


def test_the_variant_page_says_what_its_judges_read(staff_manager):
    # Given a variant of a master judged on CTR
    master = ProductionFactory(objective=Objective.CTR)
    variant = _delivered(master)

    # When a manager opens its page
    html = staff_manager.get(
        reverse("admin:variants_creativevariant_change", args=[variant.pk])
    ).content.decode()

    # Then its lifetime strip names the objective and the value on it
    assert "On its objective, CTR (clicks per impression)" in html
    assert "CTR 2.50\u00a0%" in html
    assert "40.0\u00a0%" in html  # hook rate
    assert "12.0\u00a0%" in html  # hold rate
