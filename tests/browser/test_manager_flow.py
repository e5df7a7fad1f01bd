"""A manager's day in the console, in a real browser: run a cycle from the dashboard,
find the winner and why, promote and archive through the confirmation dialogs; an
admin-only page refuses them; view-only staff see and change nothing.

The cycle runs for real (renders at 180x320, the stub Meta account); "four days later"
is the engine's own cycle service run on the stub market's clock, as `make demo` does.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from creative_engine.models import CycleRun
from creative_engine.services.cycle import cycle_execute, cycle_request
from productions.roles import MANAGER_GROUP
from tests.factories import FULL_BATCH, master_with_approved_cuts
from variants.choices import VariantStatus
from variants.models import CreativeVariant
from variants.rendering.demo_media import make_synthetic_master

pytestmark = [pytest.mark.browser, pytest.mark.slow]

GRID = "/admin/variants/creativevariant/"
# A whole cycle (15 renders) is the slowest click in the console.
CYCLE_TIMEOUT_MS = 240_000


@pytest.fixture(scope="module")
def batch_master_video(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("flow-master") / "master.mp4"
    return Path(
        make_synthetic_master(
            path, duration=FULL_BATCH.master_seconds, width=180, height=320, fps=10
        )
    ).read_bytes()


@pytest.fixture
def small_renders(settings):
    settings.RENDER_WIDTH, settings.RENDER_HEIGHT = 180, 320
    settings.META_STUB_UPLOAD_FAILURE_RATE = 0.0
    settings.CREATIVE_ENGINE_MODE = "stub"


def _charts_drawn(page) -> int:
    """Canvases Chart.js has drawn on (a drawn canvas is no longer blank)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('canvas.chart')].filter(c => {
               const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
               for (let i = 3; i < data.length; i += 4) { if (data[i]) return true; }
               return false;
           }).length"""
    )


def test_a_manager_runs_a_cycle_finds_the_winner_and_steers_variants(
    console_login, staff_user, batch_master_video, small_renders
):
    staff_user("manager1", groups=(MANAGER_GROUP,))
    master = master_with_approved_cuts(
        sheet=FULL_BATCH,
        title="Neon Nights",
        video_url="",
        video_file=ContentFile(batch_master_video, name="neon.mp4"),
    )
    console = console_login("manager1")
    page = console.page

    # The manager runs a cycle from the dashboard, confirming on the next page
    page.get_by_role("link", name="Run a cycle now").click()
    page.wait_for_url("**/admin/console/run-cycle/")
    console.screenshot("run-cycle-confirmation")
    with page.expect_navigation(timeout=CYCLE_TIMEOUT_MS):
        page.get_by_role("button", name="Run a cycle now").click(
            timeout=CYCLE_TIMEOUT_MS
        )
    run = CycleRun.objects.get()
    assert run.requested_by.username == "manager1"
    assert run.status == "succeeded", run.errors
    assert re.search(r"/admin/creative_engine/cyclerun/[^/]+/change/", page.url)
    console.screenshot("first-run-report")
    testing = CreativeVariant.objects.filter(parent=master, status="testing")
    assert 5 <= testing.count() <= 15

    # Four days of delivery later the engine's cycle promotes its top three
    later = cycle_request(as_of=timezone.now() + dt.timedelta(days=4, hours=1))
    assert cycle_execute(run_id=later.pk).status == "succeeded"
    # (three when three have passed the evidence gates; at least one after 4 days)
    winners = list(CreativeVariant.objects.filter(parent=master, status="active"))
    assert 1 <= len(winners) <= 3

    # The dashboard shows the delivery as drawn charts, and the winners
    console.visit("/admin/")
    page.wait_for_function(
        "() => document.querySelectorAll('canvas.chart').length >= 3"
    )
    assert _charts_drawn(page) >= 3
    plural = "s" if len(winners) != 1 else ""
    assert f"{len(winners)} winner{plural} running" in page.locator("body").inner_text()
    console.screenshot("dashboard-with-delivery")

    # The manager finds the winners in the grid and reads why one won
    console.visit(f"{GRID}?status__exact=active")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == len(winners)
    assert rows.first.locator(".field-name").inner_text().startswith("Neon Nights · #")
    console.screenshot("creative-grid-winners")
    rows.first.locator(".field-name a").click()
    page.wait_for_load_state("networkidle")
    timeline = page.locator(".ce-timeline").inner_text()
    assert re.search(
        r"Promoted on \w+ \d+: \d+ % chance of being in the top 3", timeline
    )
    assert _charts_drawn(page) >= 1
    console.screenshot("winner-page")

    # It promotes a variant still testing (cooldown waived) through the dialog
    tester = CreativeVariant.objects.filter(parent=master, status="testing").first()
    console.visit(reverse("admin:variants_creativevariant_change", args=[tester.pk]))
    page.get_by_role("link", name="Promote").first.click()
    dialog = page.locator("#dialog")
    dialog.wait_for()
    assert "Promote this variant?" in dialog.inner_text()
    dialog.get_by_label("Force").check()
    with page.expect_navigation():
        dialog.get_by_role("button", name="Promote").click()
    assert "promoted: its ad is ACTIVE" in page.locator("body").inner_text()
    tester.refresh_from_db()
    assert tester.status == VariantStatus.ACTIVE

    # And archives a winner, giving a reason
    winner = winners[0]
    console.visit(reverse("admin:variants_creativevariant_change", args=[winner.pk]))
    page.get_by_role("link", name="Archive").first.click()
    dialog = page.locator("#dialog")
    dialog.wait_for()
    dialog.get_by_label("Reason").fill("The hook shows last season's artwork")
    with page.expect_navigation():
        dialog.get_by_role("button", name="Archive").click()
    winner.refresh_from_db()
    assert winner.status == VariantStatus.ARCHIVED
    assert "last season's artwork" in page.locator(".ce-timeline").inner_text()
    console.screenshot("archived-variant")

    # An admin-only change is refused: the cycle's schedule is read-only to managers
    console.visit("/admin/django_celery_beat/periodictask/")
    assert page.locator("[name='_save']").count() == 0
    assert (
        page.locator("select[name='action'] option[value='disable_tasks']").count() == 0
    )
    assert console.problems == []


def test_view_only_staff_see_creatives_but_no_button_to_steer(
    console_login, staff_user, small_renders
):
    viewer = staff_user("viewer1")
    viewer.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_creativevariant"])
    )
    from tests.factories import VariantFactory

    variant = VariantFactory(status=VariantStatus.TESTING)
    console = console_login("viewer1")
    page = console.page

    assert page.get_by_role("link", name="Run a cycle now").count() == 0
    console.visit(reverse("admin:variants_creativevariant_change", args=[variant.pk]))
    assert page.get_by_role("link", name="Promote").count() == 0
    assert page.get_by_role("link", name="Archive").count() == 0
    answer = console.visit("/admin/console/run-cycle/")
    assert answer.status == 403
    console.screenshot("viewer-refused")
