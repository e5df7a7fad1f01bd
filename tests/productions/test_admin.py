"""The admin as marketing staff use it: logged in through the test client."""

import socket

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from productions.models import ApprovalAudit, CreativeFragment, CreativeProduction
from tests.api.fake_dns import fake_getaddrinfo
from tests.factories import (
    CycleRunFactory,
    DailyMetricFactory,
    FragmentFactory,
    ProductionFactory,
    PromotionLogFactory,
    VariantFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fake_dns(monkeypatch):
    """A video URL typed into the admin is resolved and checked: no network in tests."""
    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)


@pytest.fixture
def manager_client(client, manager_user):
    manager_user.is_staff = True
    manager_user.save(update_fields=["is_staff"])
    client.force_login(manager_user)
    return client


@pytest.fixture
def admin_client_engine(client, admin_user_engine):
    admin_user_engine.is_staff = True
    admin_user_engine.save(update_fields=["is_staff"])
    client.force_login(admin_user_engine)
    return client


def _master_form(master=None, **overrides):
    """POST data for the master change form with an empty fragment inline."""
    data = {
        "title": master.title if master else "Spring launch",
        "is_active": "on",
        "video_url": master.video_url if master else "https://cdn.example.com/s.mp4",
        "duration": str(master.duration if master else 20.0),
        "style_guide": '{"tone": "warm"}',
        "human_instructions": "",
        "campaign_id": "",
        "adset_id": "",
        "fragment_set-TOTAL_FORMS": "0",
        "fragment_set-INITIAL_FORMS": "0",
        "fragment_set-MIN_NUM_FORMS": "0",
        "fragment_set-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    "model_url",
    [
        "productions_creativeproduction",
        "productions_creativefragment",
        "productions_approvalaudit",
        "variants_creativevariant",
        "promotion_promotionlog",
        "promotion_variantdailymetric",
        "creative_engine_cyclerun",
    ],
)
def test_manager_can_browse_every_list_with_rows(manager_client, model_url):
    variant = VariantFactory()
    FragmentFactory(master_creative=variant.parent)
    PromotionLogFactory(variant=variant)
    DailyMetricFactory(variant=variant)
    CycleRunFactory()

    response = manager_client.get(reverse(f"admin:{model_url}_changelist"))

    assert response.status_code == 200


def test_bulk_approve_action_records_the_manager_and_reports_the_count(
    manager_client, manager_user
):
    master = ProductionFactory()
    pending = [
        FragmentFactory(
            master_creative=master,
            approved=False,
            approved_at=None,
            start_time=i,
            end_time=i + 1,
        )
        for i in range(2)
    ]
    approved = FragmentFactory(master_creative=master, start_time=5, end_time=6)

    response = manager_client.post(
        reverse("admin:productions_creativefragment_changelist"),
        {
            "action": "approve_selected",
            "_selected_action": [str(f.pk) for f in [*pending, approved]],
        },
        follow=True,
    )

    assert "2 fragment(s) approved (1 already approved)." in response.content.decode()
    for fragment in pending:
        fragment.refresh_from_db()
        assert fragment.approved_by == manager_user and fragment.approved_at
    assert ApprovalAudit.objects.filter(action="fragment_approved").count() == 2


def test_reject_action_withdraws_approval(manager_client):
    fragment = FragmentFactory()

    manager_client.post(
        reverse("admin:productions_creativefragment_changelist"),
        {"action": "reject_selected", "_selected_action": [str(fragment.pk)]},
    )

    fragment.refresh_from_db()
    assert fragment.approved is False


def test_manager_sees_pixels_read_only_and_cannot_change_them(manager_client):
    master = ProductionFactory()
    url = reverse("admin:productions_creativeproduction_change", args=[master.pk])

    page = manager_client.get(url).content.decode()
    manager_client.post(
        url, _master_form(master, authorized_pixels='["999999999999"]', genre="sports")
    )

    assert 'name="authorized_pixels"' not in page
    master.refresh_from_db()
    assert master.authorized_pixels == ["123456789012345"]
    assert master.genre == "music"


def test_admin_changes_pixels_and_the_change_is_audited(admin_client_engine):
    master = ProductionFactory()
    url = reverse("admin:productions_creativeproduction_change", args=[master.pk])

    response = admin_client_engine.post(
        url,
        _master_form(
            master,
            authorized_pixels='["999999999999"]',
            authorized_subgenres='["indie pop"]',
            genre="music",
        ),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    master.refresh_from_db()
    assert master.authorized_pixels == ["999999999999"]
    audit = ApprovalAudit.objects.get(action="authorization_changed")
    assert audit.before["authorized_pixels"] == ["123456789012345"]


def test_malformed_style_guide_json_is_an_error_and_nothing_is_saved(manager_client):
    response = manager_client.post(
        reverse("admin:productions_creativeproduction_add"),
        _master_form(style_guide='{"tone": "warm",'),
    )

    assert response.status_code == 200
    assert "Enter a valid JSON" in response.content.decode()
    assert not CreativeProduction.objects.exists()


def test_fragment_inline_outside_the_master_is_an_error_and_nothing_is_saved(
    manager_client,
):
    data = _master_form(duration="10")
    data.update(
        {
            "fragment_set-TOTAL_FORMS": "2",
            "fragment_set-0-fragment_type": "hook",
            "fragment_set-0-start_time": "0",
            "fragment_set-0-end_time": "3",
            "fragment_set-1-fragment_type": "cta",
            "fragment_set-1-start_time": "8",
            "fragment_set-1-end_time": "12",
        }
    )

    response = manager_client.post(
        reverse("admin:productions_creativeproduction_add"), data
    )

    assert response.status_code == 200
    assert "master is only 10.00s long" in response.content.decode()
    assert not CreativeProduction.objects.exists()
    assert not CreativeFragment.objects.exists()


def test_master_with_fragments_created_in_the_admin_goes_through_the_services(
    manager_client, manager_user
):
    data = _master_form()
    data.update(
        {
            "fragment_set-TOTAL_FORMS": "1",
            "fragment_set-0-fragment_type": "hook",
            "fragment_set-0-start_time": "0",
            "fragment_set-0-end_time": "3",
        }
    )

    response = manager_client.post(
        reverse("admin:productions_creativeproduction_add"), data
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    master = CreativeProduction.objects.get()
    assert master.created_by == manager_user
    fragment = master.fragment_set.get()
    assert fragment.approved is False
    assert set(ApprovalAudit.objects.values_list("action", flat=True)) == {
        "master_created",
        "fragment_created",
    }


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "a cloud metadata address"),
        ("http://internal.example.com/master.mp4", "a private address"),
        ("http://[::1]/master.mp4", "a loopback address"),
    ],
)
def test_a_hostile_master_url_typed_into_the_admin_is_refused(
    manager_client, url, reason
):
    response = manager_client.post(
        reverse("admin:productions_creativeproduction_add"),
        _master_form(video_url=url),
    )

    assert response.status_code == 200
    assert reason in response.content.decode()
    assert not CreativeProduction.objects.exists()


def test_a_master_url_changed_to_a_private_host_in_the_admin_is_refused(
    manager_client,
):
    master = ProductionFactory(video_url="https://cdn.example.com/old.mp4")
    url = reverse("admin:productions_creativeproduction_change", args=[master.pk])

    response = manager_client.post(
        url, _master_form(master, video_url="http://loopback.example.com/m.mp4")
    )

    assert response.status_code == 200
    assert "a loopback address" in response.content.decode()
    master.refresh_from_db()
    assert master.video_url == "https://cdn.example.com/old.mp4"


def test_an_unchanged_master_url_is_not_checked_again(manager_client):
    # Saved before the check existed (or its host has since gone): other edits work.
    master = ProductionFactory(video_url="https://gone.example.test/m.mp4")
    url = reverse("admin:productions_creativeproduction_change", args=[master.pk])

    response = manager_client.post(url, _master_form(master, title="Renamed"))

    assert response.status_code == 302, response.content.decode()[:2000]
    master.refresh_from_db()
    assert master.title == "Renamed"


def test_a_hostile_fragment_url_typed_into_the_admin_is_refused(manager_client):
    master = ProductionFactory()

    response = manager_client.post(
        reverse("admin:productions_creativefragment_add"),
        {
            "master_creative": str(master.pk),
            "fragment_type": "hook",
            "start_time": "0",
            "end_time": "2",
            "video_url": "http://10.0.0.7/cut.mp4",
        },
    )

    assert response.status_code == 200
    assert "a private address" in response.content.decode()
    assert not CreativeFragment.objects.exists()


def test_unknown_fragment_type_in_the_admin_is_an_error(manager_client):
    master = ProductionFactory()

    response = manager_client.post(
        reverse("admin:productions_creativefragment_add"),
        {
            "master_creative": str(master.pk),
            "fragment_type": "teaser",
            "start_time": "0",
            "end_time": "2",
        },
    )

    assert response.status_code == 200
    assert "teaser is not one of the available choices" in response.content.decode()
    assert not CreativeFragment.objects.exists()


def test_master_page_has_a_video_player(manager_client):
    master = ProductionFactory(video_url="https://cdn.example.com/master.mp4")
    FragmentFactory(master_creative=master, start_time=1, end_time=3)

    page = manager_client.get(
        reverse("admin:productions_creativeproduction_change", args=[master.pk])
    ).content.decode()

    assert '<video src="https://cdn.example.com/master.mp4"' in page
    assert "master.mp4#t=1.000,3.000" in page


def test_the_audit_trail_cannot_be_edited_or_deleted_in_the_admin(admin_client_engine):
    FragmentFactory()
    audit = ApprovalAudit.objects.create(
        action="fragment_approved", actor_name="x", object_repr="y"
    )

    change = admin_client_engine.post(
        reverse("admin:productions_approvalaudit_change", args=[audit.pk]),
        {"actor_name": "someone else"},
    )
    delete = admin_client_engine.post(
        reverse("admin:productions_approvalaudit_delete", args=[audit.pk]),
        {"post": "yes"},
    )

    assert change.status_code == 403
    assert delete.status_code == 403
    audit.refresh_from_db()
    assert audit.actor_name == "x"


def test_variant_system_fields_are_read_only_in_the_admin(admin_client_engine):
    variant = VariantFactory(status="testing", meta_ad_id="1202")

    page = admin_client_engine.get(
        reverse("admin:variants_creativevariant_change", args=[variant.pk])
    ).content.decode()

    assert 'name="status"' not in page and 'name="meta_ad_id"' not in page


def _inline(master, fragments, *, delete=()):
    """The fragment inline of `master` as the change page posts it back."""
    data = {
        "fragment_set-TOTAL_FORMS": str(len(fragments)),
        "fragment_set-INITIAL_FORMS": str(len(fragments)),
    }
    for i, fragment in enumerate(fragments):
        data.update(
            {
                f"fragment_set-{i}-id": str(fragment.pk),
                f"fragment_set-{i}-master_creative": str(master.pk),
                f"fragment_set-{i}-fragment_type": fragment.fragment_type,
                f"fragment_set-{i}-start_time": str(fragment.start_time),
                f"fragment_set-{i}-end_time": str(fragment.end_time),
                f"fragment_set-{i}-label": fragment.label,
            }
        )
        if fragment in delete:
            data[f"fragment_set-{i}-DELETE"] = "on"
    return data


def test_deleting_the_bad_fragment_and_shortening_the_master_in_one_save_works(
    manager_client,
):
    # Given a 20 s master whose one fragment runs to 18 s, the other to 9 s
    master = ProductionFactory(duration=20.0)
    keep = FragmentFactory(master_creative=master, start_time=1, end_time=9)
    bad = FragmentFactory(master_creative=master, start_time=12, end_time=18)
    url = reverse("admin:productions_creativeproduction_change", args=[master.pk])

    # When the manager deletes the bad one and sets the real duration, 10 s, at once
    response = manager_client.post(
        url,
        _master_form(
            master, duration="10", **_inline(master, [keep, bad], delete=[bad])
        ),
    )

    # Then it saves: the bad fragment is gone, the master is 10 s, both audited
    assert response.status_code == 302, response.content.decode()[:2000]
    master.refresh_from_db()
    assert master.duration == 10.0
    assert list(master.fragment_set.all()) == [keep]
    assert ApprovalAudit.objects.filter(action="master_changed").count() == 1


def test_a_duration_the_kept_fragments_do_not_fit_is_a_form_error_not_a_500(
    manager_client,
):
    # Given a 20 s master with fragments to 9 s and to 18 s
    master = ProductionFactory(duration=20.0)
    keep = FragmentFactory(master_creative=master, start_time=12, end_time=18)
    other = FragmentFactory(master_creative=master, start_time=1, end_time=9)
    url = reverse("admin:productions_creativeproduction_change", args=[master.pk])

    # When the manager deletes the short one and sets 10 s, which the other overruns
    response = manager_client.post(
        url,
        _master_form(
            master, duration="10", **_inline(master, [keep, other], delete=[other])
        ),
    )

    # Then the form comes back with a readable error and nothing is written
    assert response.status_code == 200
    assert "master is only 10.00s long" in response.content.decode()
    master.refresh_from_db()
    assert master.duration == 20.0
    assert master.fragment_set.count() == 2
    assert not ApprovalAudit.objects.exists()


def test_a_refusal_the_form_could_not_see_is_a_message_and_nothing_is_written(
    manager_client,
):
    # Given a master shortened to 10 s while, unseen by the open page, a fragment
    # running to 15 s was added (by the API, another tab)
    master = ProductionFactory(duration=20.0)
    doomed = FragmentFactory(master_creative=master, start_time=1, end_time=9)
    url = reverse("admin:productions_creativeproduction_change", args=[master.pk])
    data = _master_form(
        master,
        duration="10",
        title="Renamed",
        **_inline(master, [doomed], delete=[doomed]),
    )
    FragmentFactory(master_creative=master, start_time=5, end_time=15)

    # When the page is saved
    response = manager_client.post(url, data, follow=True)

    # Then the service's refusal is shown in plain words and nothing is half-written
    assert response.status_code == 200
    page = response.content.decode()
    assert "Nothing was saved" in page and "shorten them first" in page
    assert "was changed successfully" not in page
    master.refresh_from_db()
    assert master.duration == 20.0
    assert master.title != "Renamed"
    assert master.fragment_set.filter(pk=doomed.pk).exists()
    assert not ApprovalAudit.objects.exists()
    assert not LogEntry.objects.exists()
