"""An ad's status and an ad set's budget on Meta, each call logged (for ranking,
promotion and fatigue). These change Meta only; the variant's lifecycle moves through
`variants.services.lifecycle`, decided by the caller."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from promotion.meta.protocol import AdStatus, MetaAdsClient
from promotion.services.meta_calls import CallContext, meta_call_context, meta_client
from variants.models import CreativeVariant


class NoMetaAd(Exception):
    """The variant has no Meta ad to change."""


@contextmanager
def variant_call_context(
    variant: CreativeVariant, **fields: Any
) -> Iterator[CallContext]:
    """`meta_call_context` for calls about one variant's ad: the variant's Meta ids go
    on every log row, `fields` add to or override them."""
    ids = {
        "variant_id": variant.pk,
        "campaign_id": variant.campaign_id,
        "adset_id": variant.adset_id,
        "meta_ad_id": variant.meta_ad_id,
        "meta_creative_id": variant.meta_creative_id,
    }
    with meta_call_context(**(ids | fields)) as context:
        yield context


def variant_set_ad_status(
    *,
    variant_id: UUID | str,
    status: AdStatus | str,
    run_id: UUID | str | None = None,
    promoted_by: str = "scheduler",
    promotion_type: str | None = None,
    decision: Mapping[str, Any] | None = None,
    as_of: dt.datetime | None = None,
    client: MetaAdsClient | None = None,
) -> None:
    """Set the variant's ad ACTIVE, PAUSED or ARCHIVED on Meta (one logged call) and
    remember it in `meta_ad_status`.

    `promotion_type` labels the log row (default: test/pause/archive by status);
    `decision` holds the numbers behind it; `as_of` is the stub's clock.
    """
    variant = CreativeVariant.objects.select_related("parent").get(id=variant_id)
    if not variant.meta_ad_id:
        raise NoMetaAd(f"Variant {variant_id} has no Meta ad.")
    client = meta_client(client=client, as_of=as_of)
    with variant_call_context(
        variant,
        run_id=run_id,
        promoted_by=promoted_by,
        promotion_type=promotion_type,
        campaign_id=variant.campaign_id or variant.parent.campaign_id,
        decision=decision,
    ):
        _apply_ad_status(variant, AdStatus(status), client=client)


def ad_status_ensure(
    variant: CreativeVariant, status: AdStatus, *, client: MetaAdsClient
) -> None:
    """Bring the variant's ad to `status` unless we already set it there.

    For services that hold the variant and have opened their own `meta_call_context`
    (the optimizer, fatigue); one logged call when a change is needed, none otherwise.
    """
    if variant.meta_ad_status != status.value:
        _apply_ad_status(variant, status, client=client)


def _apply_ad_status(
    variant: CreativeVariant, status: AdStatus, *, client: MetaAdsClient
) -> None:
    client.set_ad_status(ad_id=variant.meta_ad_id, status=status)
    CreativeVariant.objects.filter(id=variant.id).update(meta_ad_status=status.value)
    variant.meta_ad_status = status.value


def adset_set_budget(
    *,
    adset_id: str,
    daily_budget_minor: int,
    variant_id: UUID | str | None = None,
    run_id: UUID | str | None = None,
    promoted_by: str = "scheduler",
    promotion_type: str | None = None,
    decision: Mapping[str, Any] | None = None,
    as_of: dt.datetime | None = None,
    client: MetaAdsClient | None = None,
) -> None:
    """Set an ad set's daily budget, in minor units (cents), on Meta (one logged call).

    Meta allows 4 budget changes per ad set per hour (code 17 beyond) and resets
    learning on big steps; the caller caps steps and keeps a cooldown.
    """
    if daily_budget_minor <= 0:
        raise ValueError("A daily budget must be positive.")
    client = meta_client(client=client, as_of=as_of)
    with meta_call_context(
        variant_id=variant_id,
        run_id=run_id,
        promoted_by=promoted_by,
        promotion_type=promotion_type,
        adset_id=adset_id,
        decision=decision,
    ):
        client.set_adset_budget(
            adset_id=adset_id, daily_budget_minor=daily_budget_minor
        )
