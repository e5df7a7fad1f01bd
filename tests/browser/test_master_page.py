"""The master page in Chromium: upload (probed at once), cut on the timeline, approve.

A manager uploads a real 12-second video, cuts three fragments by dragging the cutter's
handles (they snap to the video's 10 fps and stop at its end), plays a cut, saves and
approves them, and sees the human rules read-only; an admin edits the pixels with the
list widget. Screenshots go to test-artifacts/screenshots/ (see conftest).
"""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from playwright.sync_api import Locator, Page

from productions.models import CreativeFragment, CreativeProduction
from productions.roles import ADMIN_GROUP, MANAGER_GROUP
from tests.factories import ProductionFactory

pytestmark = pytest.mark.browser

FPS = 10  # conftest's master_video
SECONDS = 12.0
HANDLE_PX = 12  # .ce-handle thumb width (master_page.css)


def _drag_handle(page: Page, handle: Locator, seconds: float) -> None:
    """Drag a range handle with the mouse from where it is to `seconds`."""
    # Mid-screen: clear of the sticky cutter above and the save bar below.
    handle.evaluate("(el) => el.scrollIntoView({block: 'center'})")
    box = handle.bounding_box()
    assert box is not None
    usable = box["width"] - HANDLE_PX
    value = float(handle.input_value())
    y = box["y"] + box["height"] / 2

    def x_of(t: float) -> float:
        return box["x"] + HANDLE_PX / 2 + usable * t / SECONDS

    page.mouse.move(x_of(value), y)
    page.mouse.down()
    page.mouse.move(x_of(seconds), y, steps=8)
    page.mouse.up()


def _row(page: Page, index: int) -> Locator:
    return page.locator(f"tr:has(input[name='fragment_set-{index}-start_time'])")


def _is_frame(value: str) -> bool:
    return abs(float(value) * FPS - round(float(value) * FPS)) < 1e-6


def test_a_manager_uploads_a_master_cuts_three_fragments_on_the_timeline_and_approves_them(
    console_login, staff_user, master_video
):
    # Given a manager on the add page, with a real 12 s video to upload
    staff_user("manager1", groups=(MANAGER_GROUP,))
    console = console_login("manager1")
    page = console.page
    console.visit(reverse("admin:productions_creativeproduction_add"))

    # When they first pick a file that is not a video
    page.locator("input[name='title']").fill("Spring launch")
    page.locator("input[name='video_file']").set_input_files(
        {"name": "spring.mp4", "mimeType": "video/mp4", "buffer": b"<html>no</html>"}
    )
    page.locator("button[name='_continue']").click()
    page.wait_for_load_state("load")
    console.screenshot("not-a-video")

    # Then the field says so and nothing is saved
    assert "not a readable video" in page.locator(".field-video_file").inner_text()
    assert not CreativeProduction.objects.exists()

    # When they upload the real video with only a title
    page.locator("input[name='title']").fill("Spring launch")
    page.locator("input[name='video_file']").set_input_files(
        {"name": "spring launch.mp4", "mimeType": "video/mp4", "buffer": master_video}
    )
    page.locator("button[name='_continue']").click()
    page.wait_for_load_state("load")
    console.screenshot("uploaded")

    # Then the duration and the streams are the probed ones, at once
    master = CreativeProduction.objects.get(title="Spring launch")
    assert master.duration == pytest.approx(SECONDS, abs=0.05)
    assert float(page.locator("input[name='duration']").input_value()) == (
        pytest.approx(SECONDS, abs=0.05)
    )
    probe = page.locator("[data-ce-probe]").inner_text()
    assert "12.00 s" in probe and "180×320 at 10 fps" in probe
    assert page.locator("[data-ce-cutter]").is_visible()
    timeline = page.locator("[data-ce-strip] img")
    assert timeline.count() == 10
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-ce-strip] img')]"
        ".every((img) => img.complete && img.naturalWidth > 0)"
    )

    # When they cut three fragments by dragging each row's handles
    add_row = page.get_by_text("Add another Creative fragment")
    add_row.click()
    add_row.click()
    cuts = [("hook", 0.0, 3.0), ("body", 3.0, 8.0), ("cta", 8.0, 30.0)]
    for index, (kind, start, end) in enumerate(cuts):
        row = _row(page, index)
        row.locator("select[name$='-fragment_type']").select_option(kind)
        _drag_handle(page, row.locator("[data-ce-handle='out']"), end)
        _drag_handle(page, row.locator("[data-ce-handle='in']"), start)
    console.screenshot("three-cuts")

    # Then every cut snapped to a frame, near where it was dragged, and none runs past
    # the end of the video (the last was dragged to 30 s)
    shown = []
    for index, (_kind, start, end) in enumerate(cuts):
        row = _row(page, index)
        start_value = row.locator("input[name$='-start_time']").input_value()
        end_value = row.locator("input[name$='-end_time']").input_value()
        assert _is_frame(start_value) and _is_frame(end_value)
        assert float(start_value) == pytest.approx(start, abs=0.35)
        assert float(end_value) == pytest.approx(min(end, SECONDS), abs=0.35)
        shown.append((float(start_value), float(end_value)))
    assert shown[2][1] == SECONDS
    assert page.locator("[data-ce-bars] .ce-bar").count() == 3

    # And a cut typed past the end is held at the end, with a note
    typed = _row(page, 2).locator("input[name$='-end_time']")
    typed.fill("30")
    typed.blur()
    assert typed.input_value() == "12"
    assert "Past the end" in _row(page, 2).locator("[data-ce-note]").inner_text()

    # When they play the first cut, the master plays from its in to its out point
    _row(page, 0).locator("[data-ce-play]").click()
    page.wait_for_function(
        "(end) => { const v = document.querySelector('[data-ce-video]');"
        " return v.paused && Math.abs(v.currentTime - end) < 0.2; }",
        arg=shown[0][1],
        timeout=20_000,
    )

    # And they save the page
    page.locator("button[name='_continue']").click()
    page.wait_for_load_state("load")
    console.screenshot("cuts-saved")

    # Then the three fragments are saved as cut, unapproved
    saved = list(
        CreativeFragment.objects.filter(master_creative=master).order_by("start_time")
    )
    assert [(f.fragment_type, f.start_time, f.end_time) for f in saved] == [
        (kind, s, e) for (kind, _, _), (s, e) in zip(cuts, shown, strict=True)
    ]
    assert not any(f.approved for f in saved)
    thumbs = page.locator(".field-thumbnail img.ce-thumb")
    assert thumbs.count() == 3
    thumbs.last.scroll_into_view_if_needed()  # they load lazily
    page.wait_for_function(
        "() => [...document.querySelectorAll('.field-thumbnail img.ce-thumb')]"
        ".every((img) => img.complete && img.naturalWidth > 0)"
    )

    # When they approve them from the fragment list
    console.visit(
        reverse("admin:productions_creativefragment_changelist")
        + f"?master_creative__id__exact={master.pk}"
    )
    page.locator("#action-toggle").check()
    page.locator("select[name='action']").select_option("approve_selected")
    page.get_by_role("button", name="Run").click()
    page.wait_for_load_state("load")
    console.screenshot("approved")

    # Then all three are approved, by them
    assert "3 fragment(s) approved" in page.locator("body").inner_text()
    assert (
        CreativeFragment.objects.filter(master_creative=master, approved=True).count()
        == 3
    )

    # And on the master page the human rules are read-only for them
    console.visit(
        reverse("admin:productions_creativeproduction_change", args=[master.pk])
    )
    page.get_by_text("Human rules (admins only)", exact=True).click()
    console.screenshot("rules-read-only")
    assert page.locator("[name='authorized_pixels']").count() == 0
    assert page.locator("[name='authorized_subgenres']").count() == 0
    assert page.locator("[data-ce-readonly='authorized_pixels']").is_visible()
    assert console.problems == []


def test_an_admin_adds_a_pixel_with_the_list_widget(
    console_login, staff_user, master_video
):
    # Given a master with one authorized pixel, and an admin on its page
    master = ProductionFactory(
        title="Neon", video_url="", video_file=ContentFile(master_video, name="n.mp4"),
        duration=SECONDS,
    )  # fmt: skip
    staff_user("admin1", groups=(ADMIN_GROUP,))
    console = console_login("admin1")
    page = console.page
    console.visit(
        reverse("admin:productions_creativeproduction_change", args=[master.pk])
    )

    # When they add a hashtag in the tag input (Enter makes it a chip) ...
    entry = page.locator(".field-sg_hashtags [data-ce-tag-entry]")
    entry.fill("#springdrop")
    entry.press("Enter")
    assert (
        page.locator(".field-sg_hashtags [data-ce-tag]")
        .last.inner_text()
        .startswith("#springdrop")
    )
    # ... remove the first one with its ×, and pick a look
    page.locator(".field-sg_hashtags [data-ce-tag-remove]").first.click()
    page.get_by_label("Mono").check()

    # And add a pixel as a new row of the list and save
    page.get_by_text("Human rules (admins only)", exact=True).click()
    field = page.locator(".field-authorized_pixels")
    field.get_by_text("Add new item").click()
    field.locator("input[name='authorized_pixels']").last.fill("999999999999")
    console.screenshot("pixel-added")
    page.locator("button[name='_continue']").click()
    page.wait_for_load_state("load")
    console.screenshot("pixel-saved")

    # Then the master holds both pixels, in order, and the style guide its new tags
    master.refresh_from_db()
    assert master.authorized_pixels == ["123456789012345", "999999999999"]
    assert master.style_guide["hashtags"] == ["#livetour", "#nowplaying", "#springdrop"]
    assert master.style_guide["luts"] == {"mono": {"contrast": 1.1, "saturation": 0.0}}
    assert console.problems == []
