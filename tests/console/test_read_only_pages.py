"""A page on which nothing can be changed offers no Save, and a POST to it does not
claim a change."""

import pytest
from django.urls import reverse

from tests.factories import CycleRunFactory, VariantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client, manager_user):
    # A manager holds change_creativevariant (the API's promote and archive).
    manager_user.is_staff = True
    manager_user.save(update_fields=["is_staff"])
    client.force_login(manager_user)
    return client


def test_a_variant_page_has_no_save_button_and_a_post_changes_nothing(
    manager_client,
):
    # Given a variant, every field of which the engine owns
    variant = VariantFactory(status="testing", caption="Original caption")
    url = reverse("admin:variants_creativevariant_change", args=[variant.pk])

    # When a manager opens its page and posts it anyway
    page = manager_client.get(url)
    posted = manager_client.post(url, {"caption": "Hand-typed", "_save": "Save"})

    # Then the page offers no Save and the POST is refused, without "changed"
    assert page.status_code == 200
    html = page.content.decode()
    for button in ('name="_save"', 'name="_continue"', 'name="_addanother"'):
        assert button not in html
    assert posted.status_code == 403
    assert "was changed successfully" not in posted.content.decode()
    variant.refresh_from_db()
    assert variant.caption == "Original caption"


def test_a_superuser_gets_no_save_on_a_cycle_run_either(admin_client):
    run = CycleRunFactory()
    url = reverse("admin:creative_engine_cyclerun_change", args=[run.pk])

    html = admin_client.get(url).content.decode()
    posted = admin_client.post(url, {"_save": "Save"})

    assert 'name="_save"' not in html
    assert posted.status_code == 403
