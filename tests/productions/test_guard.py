"""The human rules hold whatever code path writes."""

import logging

import pytest

from productions.guard import (
    SYSTEM,
    Actor,
    ProtectedFieldChangeRefused,
    SystemApprovalRefused,
    UnapprovedFragmentRefused,
    UnapprovedHashtagRefused,
    UnauthorizedPixelRefused,
    approved_hashtags,
    check_fragments_approved,
    check_hashtags_approved,
    check_pixel_authorized,
    check_variant_respects_human_rules,
    human_authorization,
)
from productions.models import ApprovalAudit, CreativeProduction
from productions.selectors import approved_fragment_ids
from productions.services import fragments_approve, production_update
from tests.factories import FragmentFactory, ProductionFactory

pytestmark = pytest.mark.django_db


def test_system_code_saving_changed_pixels_is_refused():
    master = ProductionFactory()
    master.authorized_pixels = ["999999999999"]

    with pytest.raises(ProtectedFieldChangeRefused):
        master.save()

    master.refresh_from_db()
    assert master.authorized_pixels == ["123456789012345"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("authorized_pixels", ["999999999999"]),
        ("authorized_subgenres", ["techno"]),
        ("genre", "sports"),
    ],
)
def test_system_code_cannot_bulk_update_protected_fields(field, value):
    master = ProductionFactory()

    with pytest.raises(ProtectedFieldChangeRefused):
        CreativeProduction.objects.filter(pk=master.pk).update(**{field: value})

    master.refresh_from_db()
    assert getattr(master, field) != value


def test_system_code_cannot_bulk_update_or_bulk_create_with_pixels():
    master = ProductionFactory()
    master.genre = "sports"

    with pytest.raises(ProtectedFieldChangeRefused):
        CreativeProduction.objects.bulk_update([master], ["genre"])
    with pytest.raises(ProtectedFieldChangeRefused):
        CreativeProduction.objects.bulk_create(
            [
                CreativeProduction(
                    title="x", video_url="https://e.com/a.mp4", genre="pop"
                )
            ]
        )


def test_system_may_save_engine_counters_without_touching_protected_fields():
    master = ProductionFactory()
    master.total_variants_generated = 7

    master.save(update_fields=["total_variants_generated"])

    master.refresh_from_db()
    assert master.total_variants_generated == 7


def test_the_system_actor_can_never_open_a_human_authorization_window():
    with pytest.raises(ProtectedFieldChangeRefused):
        with human_authorization(SYSTEM):
            pass


def test_a_person_without_the_permission_cannot_open_the_window():
    manager = Actor(name="bob", user_id=2, may_change_authorization=False)

    with pytest.raises(ProtectedFieldChangeRefused):
        with human_authorization(manager):
            pass


def test_manager_changing_pixels_through_the_service_is_refused(manager_user):
    from productions.guard import actor_for_user

    master = ProductionFactory()

    with pytest.raises(ProtectedFieldChangeRefused):
        production_update(
            actor=actor_for_user(manager_user),
            production_id=master.pk,
            changes={"authorized_pixels": ["999999999999"]},
        )

    master.refresh_from_db()
    assert master.authorized_pixels == ["123456789012345"]
    assert not ApprovalAudit.objects.filter(production=master).exists()


def test_admin_changing_subgenres_is_saved_and_audited_with_before_and_after(
    admin_user_engine,
):
    from productions.guard import actor_for_user

    master = ProductionFactory()

    production_update(
        actor=actor_for_user(admin_user_engine),
        production_id=master.pk,
        changes={"authorized_subgenres": ["techno"], "title": "Renamed"},
    )

    master.refresh_from_db()
    assert master.authorized_subgenres == ["techno"]
    audit = ApprovalAudit.objects.get(production=master, action="authorization_changed")
    assert audit.actor == admin_user_engine
    assert audit.before == {"authorized_subgenres": ["indie pop", "synthwave"]}
    assert audit.after == {"authorized_subgenres": ["techno"]}
    assert ApprovalAudit.objects.filter(
        production=master, action="master_changed"
    ).exists()


def test_the_system_may_not_approve_fragments():
    fragment = FragmentFactory(approved=False, approved_at=None)

    with pytest.raises(SystemApprovalRefused):
        fragments_approve(actor=SYSTEM, fragment_ids=[fragment.pk])

    fragment.refresh_from_db()
    assert fragment.approved is False


def test_unapproved_or_foreign_fragments_are_refused():
    with pytest.raises(UnapprovedFragmentRefused, match="f3"):
        check_fragments_approved(
            master_id="m", fragment_ids=["f1", "f3"], approved_fragment_ids={"f1", "f2"}
        )
    with pytest.raises(UnapprovedFragmentRefused):
        check_fragments_approved(
            master_id="m", fragment_ids=[], approved_fragment_ids={"f1"}
        )


def test_pixel_outside_the_authorized_list_is_refused():
    check_pixel_authorized(
        master_id="m", pixel_id="111111", authorized_pixels=["111111"]
    )

    with pytest.raises(UnauthorizedPixelRefused):
        check_pixel_authorized(
            master_id="m", pixel_id="222222", authorized_pixels=["111111"]
        )


def test_approved_hashtags_are_the_style_guide_tags_plus_subgenres():
    approved = approved_hashtags(
        style_guide={"hashtags": ["#NewMusic", "tour"]},
        authorized_subgenres=["indie pop"],
    )

    assert approved == ["#newmusic", "#tour", "#indiepop"]
    check_hashtags_approved(
        master_id="m", hashtags=["#IndiePop", "#newmusic"], approved=approved
    )
    with pytest.raises(UnapprovedHashtagRefused, match="#viral"):
        check_hashtags_approved(master_id="m", hashtags=["#viral"], approved=approved)


def test_violations_are_logged_at_error(caplog):
    with caplog.at_level(logging.ERROR, logger="creative_engine.human_rules"):
        with pytest.raises(UnauthorizedPixelRefused):
            check_pixel_authorized(master_id="m", pixel_id="2", authorized_pixels=["1"])

    assert any("unauthorized_pixel_refused" in r.getMessage() for r in caplog.records)


def test_variant_check_honours_the_approved_set_the_selector_reads():
    master = ProductionFactory()
    hook = FragmentFactory(master_creative=master, fragment_type="hook")
    pending = FragmentFactory(
        master_creative=master,
        fragment_type="cta",
        start_time=15,
        end_time=18,
        approved=False,
        approved_at=None,
    )
    other_master_fragment = FragmentFactory()
    approved = approved_fragment_ids(production_id=master.pk)
    assert approved == [str(hook.pk)]

    def check(
        fragment_ids: list[str], hashtags: tuple[str, ...] = (), pixel_id: str = ""
    ) -> None:
        check_variant_respects_human_rules(
            master=master,
            fragment_ids=fragment_ids,
            hashtags=hashtags,
            pixel_id=pixel_id,
            approved_fragment_ids=approved,
        )

    check([str(hook.pk)], hashtags=("#synthwave",), pixel_id="123456789012345")
    with pytest.raises(UnapprovedFragmentRefused):
        check([str(hook.pk), str(pending.pk)])
    with pytest.raises(UnapprovedFragmentRefused):
        check([str(other_master_fragment.pk)])
    with pytest.raises(UnauthorizedPixelRefused):
        check([str(hook.pk)], pixel_id="5555555")


def test_the_guard_reads_nothing_from_the_database(django_assert_num_queries):
    """Pure: the caller hands it the approved set, so a batch pays for one read."""
    master = ProductionFactory()
    hook = FragmentFactory(master_creative=master, fragment_type="hook")
    with django_assert_num_queries(0):
        for _ in range(12):
            check_variant_respects_human_rules(
                master=master,
                fragment_ids=[str(hook.pk)],
                hashtags=[],
                approved_fragment_ids=[str(hook.pk)],
            )
