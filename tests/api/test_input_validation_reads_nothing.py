"""Input serializers check shape only: validating a payload reads nothing from the
database: whether a master or fragment exists is the view's question, asked through
the selectors; whether a cut fits its master is the service's."""

import pytest

from creative_engine.api.engine.cycles import RunOptionsSerializer
from creative_engine.api.fragment_serializers import (
    FragmentCreateSerializer,
    FragmentIdsSerializer,
)
from creative_engine.api.master_serializers import ProductionCreateSerializer
from productions.models import CreativeFragment
from tests.api.test_productions_api import new_master
from tests.factories import FragmentFactory, ProductionFactory

pytestmark = pytest.mark.django_db


def test_validating_a_new_fragment_reads_nothing(django_assert_num_queries):
    master = ProductionFactory(duration=10.0)
    payload = {
        "master_creative": str(master.pk),
        "fragment_type": "cta",
        "start_time": 8.0,
        "end_time": 12.0,  # past the master's end: the service says so, not this
    }

    with django_assert_num_queries(0):
        valid = FragmentCreateSerializer(data=payload).is_valid()

    assert valid


def test_validating_fragment_ids_reads_nothing(django_assert_num_queries):
    fragment = FragmentFactory()
    unknown = "3b1f1c3e-0000-4000-8000-000000000000"

    with django_assert_num_queries(0):
        data = FragmentIdsSerializer(data={"ids": [str(fragment.pk), unknown, unknown]})
        valid = data.is_valid()

    assert valid
    assert [str(i) for i in data.validated_data["ids"]] == [str(fragment.pk), unknown]


def test_validating_run_options_reads_nothing(django_assert_num_queries):
    master = ProductionFactory()

    with django_assert_num_queries(0):
        valid = RunOptionsSerializer(
            data={"master_creative_ids": [str(master.pk)], "dry_run": True}
        ).is_valid()

    assert valid


def test_validating_a_new_master_with_its_cuts_reads_nothing(
    django_assert_num_queries,
):
    with django_assert_num_queries(0):
        data = ProductionCreateSerializer(data=new_master(duration=14.0))
        valid = data.is_valid()

    # The CTA cut ends at 15 s, past a 14-second master: refused on that cut.
    assert not valid
    assert data.errors["fragments"][2]["end_time"]


def test_a_fragment_past_its_masters_end_is_still_refused_by_the_api(manager_api):
    master = ProductionFactory(duration=10.0)

    response = manager_api.post(
        "/api/fragments/",
        {
            "master_creative": str(master.pk),
            "fragment_type": "cta",
            "start_time": 8.0,
            "end_time": 12.0,
        },
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["end_time"]
    assert not CreativeFragment.objects.exists()
