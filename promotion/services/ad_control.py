"""A variant's ads' status on Meta (its test ad and, for a winner, its scaling ad),
each change one logged call (for ranking, promotion, fatigue and people). These
change Meta only; the variant's lifecycle moves through `variants.services.lifecycle`,
decided by the caller."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from promotion.meta.protocol import AdStatus, MetaAdsClient
from promotion.services.meta_calls import CallContext, meta_call_context
from variants.models import CreativeVariant


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


def ad_status_ensure(
    variant: CreativeVariant, status: AdStatus, *, client: MetaAdsClient
) -> None:
    """Bring the variant's test ad to `status` unless we already set it there.

    For services that hold the variant and have opened their own `meta_call_context`
    (the optimizer, fatigue); one logged call when a change is needed, none otherwise.
    """
    _ad_ensure(variant, status, client=client, ad="meta_ad")


def scaling_ad_ensure(
    variant: CreativeVariant, status: AdStatus, *, client: MetaAdsClient
) -> None:
    """The same for the winner's scaling ad, if it has one."""
    _ad_ensure(variant, status, client=client, ad="scaling_ad")


def variant_ads_ensure(
    variant: CreativeVariant, status: AdStatus, *, client: MetaAdsClient
) -> None:
    """Bring every ad of the variant to `status` (PAUSED or ARCHIVED): a variant
    paused or retired spends nowhere, in testing or in scaling."""
    for ad in ("meta_ad", "scaling_ad"):
        _ad_ensure(variant, status, client=client, ad=ad)


def _ad_ensure(
    variant: CreativeVariant, status: AdStatus, *, client: MetaAdsClient, ad: str
) -> None:
    """`ad` names the pair of fields `<ad>_id` and `<ad>_status` of the variant."""
    ad_id = getattr(variant, f"{ad}_id")
    if not ad_id or getattr(variant, f"{ad}_status") == status.value:
        return
    client.set_ad_status(ad_id=ad_id, status=status)
    CreativeVariant.objects.filter(id=variant.id).update(
        **{f"{ad}_status": status.value}
    )
    setattr(variant, f"{ad}_status", status.value)
