"""The services take the values the admin, commands and the API hand them at their
word only when they are what they claim: seconds are real numbers (never a boolean,
which Python and a FloatField read as 1), text is storable, URLs are well formed."""

import math

import pytest
from django.core.exceptions import ValidationError

from productions.guard import actor_for_user
from productions.models import ApprovalAudit, CreativeFragment, CreativeProduction
from productions.services import (
    FragmentData,
    fragment_create,
    fragment_update,
    production_create,
    production_update,
)
from tests.factories import FragmentFactory, ProductionFactory

pytestmark = pytest.mark.django_db

NOT_SECONDS = [True, False, "12", math.nan, math.inf, -math.inf, [3.0], {"s": 1}]
NOT_SECONDS_IDS = ["true", "false", "text", "nan", "inf", "-inf", "list", "dict"]


@pytest.fixture
def actor(manager_user):
    return actor_for_user(manager_user)


@pytest.mark.parametrize("duration", NOT_SECONDS, ids=NOT_SECONDS_IDS)
def test_creating_a_master_refuses_a_duration_that_is_not_a_number(actor, duration):
    with pytest.raises(ValidationError) as refused:
        production_create(
            actor=actor,
            title="t",
            video_url="https://cdn.example.com/m.mp4",
            duration=duration,
        )

    assert "Expected a number of seconds" in refused.value.message_dict["duration"][0]
    assert not CreativeProduction.objects.exists()
    assert not ApprovalAudit.objects.exists()


@pytest.mark.parametrize("duration", NOT_SECONDS, ids=NOT_SECONDS_IDS)
def test_changing_a_master_refuses_a_duration_that_is_not_a_number(actor, duration):
    master = ProductionFactory(duration=20.0)

    with pytest.raises(ValidationError) as refused:
        production_update(
            actor=actor, production_id=master.pk, changes={"duration": duration}
        )

    assert "Expected a number of seconds" in refused.value.message_dict["duration"][0]
    master.refresh_from_db()
    assert master.duration == 20.0


@pytest.mark.parametrize("field", ["start_time", "end_time"])
@pytest.mark.parametrize("value", [True, "1", math.nan], ids=["true", "text", "nan"])
def test_a_fragment_cut_refuses_seconds_that_are_not_numbers(actor, field, value):
    master = ProductionFactory()
    cut = {"fragment_type": "hook", "start_time": 0.0, "end_time": 2.0, field: value}

    with pytest.raises(ValidationError) as refused:
        fragment_create(actor=actor, production=master, data=FragmentData(**cut))

    assert "Expected a number of seconds" in refused.value.message_dict[field][0]
    assert not CreativeFragment.objects.exists()


def test_changing_a_cut_to_a_boolean_end_is_refused(actor):
    fragment = FragmentFactory(start_time=0.0, end_time=2.0)

    with pytest.raises(ValidationError) as refused:
        fragment_update(
            actor=actor, fragment_id=fragment.pk, changes={"end_time": True}
        )

    assert "not True (bool)" in refused.value.message_dict["end_time"][0]
    fragment.refresh_from_db()
    assert fragment.end_time == 2.0


def test_an_integer_duration_is_a_number(actor):
    master = production_create(
        actor=actor, title="t", video_url="https://cdn.example.com/m.mp4", duration=12
    )

    assert master.duration == 12


def test_seconds_past_the_longest_master_are_refused(actor, settings):
    settings.MASTER_MAX_SECONDS = 600
    master = ProductionFactory(duration=None)

    with pytest.raises(ValidationError) as refused:
        fragment_create(
            actor=actor,
            production=master,
            data=FragmentData(fragment_type="hook", start_time=0.0, end_time=601.0),
        )

    assert "(MASTER_MAX_SECONDS)" in refused.value.message_dict["end_time"][0]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "Spring\x00launch"),
        ("human_instructions", "Keep the face\ud800"),
        ("campaign_id", "\x00"),
    ],
)
def test_text_the_database_cannot_store_is_refused_on_its_field(actor, field, value):
    with pytest.raises(ValidationError) as refused:
        production_create(
            actor=actor,
            **{
                "title": "t",
                "video_url": "https://cdn.example.com/m.mp4",
                field: value,
            },
        )

    assert "NUL character" in refused.value.message_dict[field][0]
    assert not CreativeProduction.objects.exists()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://169.254.169.254/latest/meta-data/", "a cloud metadata address"),
        ("http://127.0.0.1:8000/m.mp4", "a loopback address"),
        ("http://cdn.example.com:0/m.mp4", "port 0 is not a TCP port"),
        ("http://cdn.example.com:99999/m.mp4", "port 99999 is not a TCP port"),
        ("http://user:pw@cdn.example.com/m.mp4", "user name or password"),
        ("http://[::ffff:10.0.0.1]/m.mp4", "an IPv4-mapped IPv6 address"),
    ],
)
def test_a_service_refuses_a_url_no_worker_may_fetch_without_any_dns(
    actor, url, message
):
    # Given a caller (a command, a script) that skipped the arrival check
    with pytest.raises(ValidationError) as refused:
        production_create(actor=actor, title="t", video_url=url, duration=10.0)

    assert message in refused.value.message_dict["video_url"][0]
    assert not CreativeProduction.objects.exists()
