"""A changelist builds its column headers once, not once per row (unfold 0.91 built
them for every row; see creative_engine/console/changelists.py)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from creative_engine.console import changelists
from tests.factories import VariantFactory

pytestmark = pytest.mark.django_db


def test_a_page_of_rows_builds_its_headers_once(staff_manager, monkeypatch):
    # Given five variants, and a count of header builds
    VariantFactory.create_batch(5)
    built = []
    build = changelists._build_headers
    monkeypatch.setattr(
        changelists, "_build_headers", lambda cl: built.append(cl) or build(cl)
    )

    # When the grid is opened
    answer = staff_manager.get(reverse("admin:variants_creativevariant_changelist"))

    # Then the headers were built once for the five rows, and each cell still has
    # its column's label (for narrow screens)
    assert answer.status_code == 200
    assert len(built) == 1
    assert answer.content.decode().count('data-label="Hook rate"') == 5
