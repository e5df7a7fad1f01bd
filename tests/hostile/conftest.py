"""A world to attack, raw requests to attack it with, and proof nothing was written.

The API clients and the fake DNS come from tests/api/conftest.py (imported, so they
are the same fixtures: a hostile test meets the same API as the API tests).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from creative_engine.models import CycleRun
from productions.models import ApprovalAudit, CreativeFragment, CreativeProduction
from promotion.models import PromotionLog
from tests.api.conftest import (  # noqa: F401  (fixtures, registered by import)
    _api_isolation,
    admin_api,
    manager_api,
    token_client,
)
from tests.factories import (
    FULL_BATCH,
    FragmentFactory,
    VariantFactory,
    master_with_approved_cuts,
)
from variants.choices import VariantStatus
from variants.models import CreativeVariant


@dataclass(frozen=True)
class World:
    master_id: str
    approved_fragment_id: str
    pending_fragment_id: str
    variant_id: str

    def url(self, template: str) -> str:
        return template.format(
            master=self.master_id,
            approved=self.approved_fragment_id,
            pending=self.pending_fragment_id,
            variant=self.variant_id,
        )


@pytest.fixture
def world(db) -> World:
    master = master_with_approved_cuts(sheet=FULL_BATCH)
    approved = master.fragment_set.order_by("start_time").first()
    pending = FragmentFactory(
        master_creative=master,
        fragment_type="hook",
        start_time=24.0,
        end_time=26.0,
        approved=False,
        approved_at=None,
    )
    variant = VariantFactory(parent=master, status=VariantStatus.RENDERED)
    assert approved is not None
    return World(
        master_id=str(master.pk),
        approved_fragment_id=str(approved.pk),
        pending_fragment_id=str(pending.pk),
        variant_id=str(variant.pk),
    )


def _state() -> dict[str, Any]:
    """Row counts, plus what a refused PATCH or approval would have changed."""
    return {
        "masters": CreativeProduction.objects.count(),
        "fragments": CreativeFragment.objects.count(),
        "variants": CreativeVariant.objects.count(),
        "runs": CycleRun.objects.count(),
        "promotion_logs": PromotionLog.objects.count(),
        "approval_audits": ApprovalAudit.objects.count(),
        "master_rows": sorted(
            CreativeProduction.objects.values_list(
                "id", "title", "duration", "style_guide", "is_active", "updated_at"
            ),
            key=str,
        ),
        "fragment_rows": sorted(
            CreativeFragment.objects.values_list(
                "id", "approved", "start_time", "end_time", "label"
            ),
            key=str,
        ),
        "variant_rows": sorted(
            CreativeVariant.objects.values_list("id", "status"), key=str
        ),
    }


@pytest.fixture
def nothing_written(world) -> Callable[[], None]:
    """Call after the request: asserts the database is as it was before it."""
    before = _state()

    def check() -> None:
        after = _state()
        assert after == before, {
            key: (before[key], after[key])
            for key in before
            if before[key] != after[key]
        }

    return check


@pytest.fixture
def manager_client(client, manager_user):
    """The Django test client signed in as a manager with staff access (the admin)."""
    manager_user.is_staff = True
    manager_user.save(update_fields=["is_staff"])
    client.force_login(manager_user)
    return client


@pytest.fixture
def raw_api(manager_user) -> Callable[..., Any]:
    """Send exact bytes (Django's test client, a manager's token): what a client
    outside the JSON encoder can send."""
    token, _ = Token.objects.get_or_create(user=manager_user)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")

    def send(
        method: str,
        url: str,
        body: bytes | str = b"",
        content_type: str = "application/json",
        **extra: Any,
    ) -> Any:
        return client.generic(
            method, url, data=body, content_type=content_type, **extra
        )

    return send


def nested(depth: int, leaf: Any = 1) -> Any:
    """A value nested `depth` arrays deep."""
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def assert_error(response: Any, status: int, code: str, *in_message: str) -> dict:
    """The one error shape, with this status and code and these words."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["code"] == code, error
    for words in in_message:
        assert words in error["message"], error
    return error
