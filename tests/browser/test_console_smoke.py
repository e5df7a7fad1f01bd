"""The console in Chromium: staff log in through the form and the pages they open work.

Every page visited here is screenshotted into test-artifacts/screenshots/ (see conftest).
"""

import pytest
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.urls import reverse

from productions.roles import ADMIN_GROUP, MANAGER_GROUP
from tests.factories import (
    CycleRunFactory,
    DailyMetricFactory,
    PromotionLogFactory,
    VariantFactory,
    master_with_approved_cuts,
)

pytestmark = pytest.mark.browser

LOGIN = "/admin/login/?next=/admin/"
# Every <video> on the page has read its file's duration: the preview would play.
ALL_VIDEOS_LOADED = """() => {
    const videos = [...document.querySelectorAll("video")];
    return videos.length > 0 && videos.every((v) => v.readyState >= 1 && !v.seeking);
}"""


def _admin_url(model: str, view: str = "changelist", *args: object) -> str:
    return reverse(f"admin:{model}_{view}", args=args)


def _saved_cut_rows(page):
    """The inline rows of saved fragments: the formset's first INITIAL_FORMS forms."""
    saved = int(page.locator("#id_fragment_set-INITIAL_FORMS").input_value())
    return page.locator(
        ", ".join(
            f"#fragment_set-group tr.form-row:has([name='fragment_set-{i}-start_time'])"
            for i in range(saved)
        )
    )


def _uploaded_master(video: bytes, **kwargs):
    """A master as marketing staff make one: a video file uploaded, cuts approved."""
    return master_with_approved_cuts(
        video_url="", video_file=ContentFile(video, name="spring.mp4"), **kwargs
    )


def test_an_admin_logs_in_through_the_form_and_sees_the_admin_index(
    console_login, staff_user
):
    staff_user("admin1", groups=(ADMIN_GROUP,))

    console = console_login("admin1")

    page = console.page
    assert page.get_by_role("link", name="Run a cycle now").is_visible()
    assert page.get_by_text("admin1", exact=True).first.is_visible()
    sidebar = page.locator("#nav-sidebar-inner, nav").first
    for model in (
        "productions_creativeproduction",
        "productions_creativefragment",
        "variants_creativevariant",
        "creative_engine_cyclerun",
    ):
        link = sidebar.locator(f"a[href='{_admin_url(model)}']").first
        assert link.is_visible()
    assert console.problems == []


def test_a_wrong_password_gets_the_form_again_and_no_session(console_page, staff_user):
    staff_user("admin1", groups=(ADMIN_GROUP,))
    console = console_page()
    console.visit(LOGIN)

    answer = console.submit_login("admin1", "not-the-password")

    assert answer.status == 200
    assert "correct username and password" in console.page.locator("body").inner_text()
    console.visit("/admin/")
    assert console.path.startswith("/admin/login/")
    assert console.problems == []


def test_a_manager_opens_masters_a_master_with_its_fragments_variants_and_a_run(
    console_login, staff_user, master_video
):
    staff_user("manager1", groups=(MANAGER_GROUP,))
    master = _uploaded_master(master_video, title="Spring launch")
    VariantFactory(parent=master)
    run = CycleRunFactory(counts={"variants_planned": 1})
    console = console_login("manager1")
    page = console.page

    console.visit(_admin_url("productions_creativeproduction"))
    row = page.locator("#result_list tbody tr", has_text="Spring launch")
    assert row.count() == 1
    assert row.locator("td.field-approved_fragment_count").inner_text() == "3"

    row.get_by_role("link", name="Spring launch", exact=True).click()
    page.wait_for_url(
        f"**{_admin_url('productions_creativeproduction', 'change', master.pk)}"
    )
    console.screenshot("master-change-page")
    assert page.locator("#id_title").input_value() == "Spring launch"
    cuts = _saved_cut_rows(page)
    assert sorted(
        (
            cut.locator("select[name$='-fragment_type']").input_value(),
            cut.locator("input[name$='-start_time']").input_value(),
            cut.locator("input[name$='-end_time']").input_value(),
        )
        for cut in cuts.all()
    ) == [("body", "3.0", "8.0"), ("cta", "8.0", "11.0"), ("hook", "0.0", "3.0")]
    # Each cut shows its first frame, a small image, linked to the cut on the master.
    plays = sorted(
        cut.locator("a[title='Play the cut']").get_attribute("href").split("#t=")[1]
        for cut in cuts.all()
    )
    assert plays == ["0.000,3.000", "3.000,8.000", "8.000,11.000"]
    for cut in cuts.all():
        src = cut.locator("a[title='Play the cut'] img").get_attribute("src")
        frame = page.request.get(f"{console.base_url}{src}")
        assert frame.ok and frame.headers["content-type"] == "image/jpeg"
    assert page.locator("[name='_save']").is_visible()

    console.visit(_admin_url("variants_creativevariant"))
    assert page.locator("#result_list tbody tr").count() == 1
    assert (
        page.locator(".field-name").first.inner_text().startswith("Spring launch · #")
    )

    console.visit(_admin_url("creative_engine_cyclerun", "change", run.pk))
    assert "Succeeded" in page.locator("#content, main").first.inner_text()
    # The run's page is a report: its counts in a labelled table, not JSON.
    assert "Variants planned" in page.locator("table.run-counts").inner_text()
    assert (
        page.locator("[name='_save'], [name='_continue']").count() == 0
    )  # the engine's record

    assert console.problems == []


def test_a_view_only_staff_user_sees_no_save_button_and_no_add_link(
    console_login, staff_user, master_video
):
    viewer = staff_user("viewer1")
    viewer.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_creativeproduction", "view_creativefragment"]
        )
    )
    master = _uploaded_master(master_video, title="Spring launch")
    console = console_login("viewer1")
    page = console.page

    console.visit(_admin_url("productions_creativeproduction"))
    assert page.locator("#result_list tbody tr", has_text="Spring launch").count() == 1
    assert page.locator(".addlink").filter(visible=True).count() == 0

    console.visit(_admin_url("productions_creativeproduction", "change", master.pk))
    assert "View creative production" in page.title()
    assert page.locator("[name='_save'], [name='_continue']").count() == 0
    assert page.get_by_role("link", name="Close").is_visible()
    assert page.locator(".addlink").filter(visible=True).count() == 0  # no cut added
    assert page.locator("#id_title").count() == 0  # values shown, not editable
    assert console.problems == []


def test_five_wrong_passwords_then_the_right_one_is_refused_with_429(
    console_page, staff_user, settings
):
    staff_user("manager1", groups=(MANAGER_GROUP,))
    console = console_page()
    statuses = []
    for n in range(settings.AXES_FAILURE_LIMIT):
        console.visit(LOGIN)
        statuses.append(console.submit_login("manager1", f"guess-{n}").status)

    console.visit(LOGIN)
    right = console.submit_login("manager1", "pass-word-123")

    assert statuses[:-1] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    assert statuses[-1] == 429  # the failure that reaches the limit locks the pair
    assert right.status == 429
    assert (
        "too many login attempts" in console.page.locator("body").inner_text().lower()
    )
    console.visit("/admin/")
    assert console.path.startswith("/admin/login/")  # no session was opened
    # The browser logs each refused document; nothing else went wrong.
    refusals = [p for p in console.problems if "status of 429" in p]
    assert len(refusals) == 2
    assert [p for p in console.problems if p not in refusals] == []


CONSOLE_PAGES = [
    ("productions_creativeproduction", "changelist"),
    ("productions_creativeproduction", "add"),
    ("productions_creativeproduction", "change"),
    ("productions_creativefragment", "changelist"),
    ("productions_creativefragment", "change"),
    ("productions_approvalaudit", "changelist"),
    ("variants_creativevariant", "changelist"),
    ("variants_creativevariant", "change"),
    ("promotion_promotionlog", "changelist"),
    ("promotion_variantdailymetric", "changelist"),
    ("creative_engine_cyclerun", "changelist"),
    ("creative_engine_cyclerun", "change"),
    ("django_celery_beat_periodictask", "changelist"),
]


def test_every_console_page_carries_a_csp_and_the_browser_reports_no_error(
    console_login, staff_user, master_video
):
    staff_user("admin1", groups=(ADMIN_GROUP,))
    master = _uploaded_master(master_video, title="Spring launch")
    variant = VariantFactory(parent=master)
    PromotionLogFactory(variant=variant)
    DailyMetricFactory(variant=variant)
    rows = {
        "productions_creativeproduction": master,
        "productions_creativefragment": master.fragment_set.first(),
        "variants_creativevariant": variant,
        "creative_engine_cyclerun": CycleRunFactory(),
    }
    console = console_login("admin1")

    policies = {}
    for model, view in CONSOLE_PAGES:
        args = (rows[model].pk,) if view == "change" else ()
        response = console.visit(_admin_url(model, view, *args))
        assert response.status == 200, f"{model} {view}: {response.status}"
        policies[f"{model} {view}"] = response.headers.get("content-security-policy")

    for page, policy in policies.items():
        assert policy is not None, f"{page} has no Content-Security-Policy"
        assert "script-src 'self'" in policy, page
        assert "object-src 'none'" in policy, page
    assert console.problems == []


def test_the_browser_enforces_the_policy_and_the_harness_sees_a_violation(
    console_login, staff_user
):
    """The checks above could pass by seeing nothing: here a page breaks the policy."""
    staff_user("admin1", groups=(ADMIN_GROUP,))
    console = console_login("admin1")

    with console.page.expect_console_message(lambda m: m.type == "error"):
        console.page.evaluate(
            """() => {
                const script = document.createElement("script");
                script.textContent = "window.inlineRan = true";
                document.body.appendChild(script);
            }"""
        )

    assert console.page.evaluate("() => window.inlineRan === true") is False
    assert len(console.problems) == 1
    assert "Content Security Policy" in console.problems[0]


def test_the_harness_sees_an_uncaught_javascript_error(console_login, staff_user):
    staff_user("admin1", groups=(ADMIN_GROUP,))
    console = console_login("admin1")

    with console.page.expect_event("pageerror"):
        console.page.evaluate("() => setTimeout(() => { throw new Error('boom'); })")

    assert console.problems == ["/admin/: JavaScript error: boom"]


def test_a_master_registered_by_url_shows_a_player_that_loads(
    console_login, staff_user
):
    staff_user("manager1", groups=(MANAGER_GROUP,))
    master = master_with_approved_cuts(video_url="https://cdn.example.com/master.mp4")
    console = console_login("manager1")

    console.visit(_admin_url("productions_creativeproduction", "change", master.pk))

    blocked = [p for p in console.problems if "media-src" in p]
    assert blocked == []


def test_the_blank_row_for_a_new_cut_has_no_player(
    console_login, staff_user, master_video
):
    staff_user("manager1", groups=(MANAGER_GROUP,))
    master = _uploaded_master(master_video)
    console = console_login("manager1")

    console.visit(_admin_url("productions_creativeproduction", "change", master.pk))

    saved = int(console.page.locator("#id_fragment_set-INITIAL_FORMS").input_value())
    total = int(console.page.locator("#id_fragment_set-TOTAL_FORMS").input_value())
    blank_rows = console.page.locator(
        ", ".join(
            f"#fragment_set-group tr.form-row:has([name='fragment_set-{i}-start_time'])"
            for i in range(saved, total)
        )
    )
    assert blank_rows.count() == 1
    assert blank_rows.locator("video").count() == 0
