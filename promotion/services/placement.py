"""Where a master's ads run: testing and scaling are separate ad sets.

New variants are tested in the testing ad set (the master's `adset_id`, else
META_TESTING_ADSET_ID, else META_DEFAULT_ADSET_ID) on its bounded test budget. A
winner graduates into the scaling ad set (the master's `scaling_adset_id`, else
META_SCALING_ADSET_ID) as a second ad of the same creative, so the post's likes and
comments (its social proof) carry over; its test ad is paused, so the test budget
goes to the variants still being judged. A winner that loses its place, a loser,
and a fatigued variant leave scaling. Without a scaling ad set, winners stay ACTIVE
in the testing ad set, as before.
"""

from __future__ import annotations

import logging

from django.conf import settings

from productions.models import CreativeProduction
from promotion.meta.errors import MetaError
from promotion.meta.protocol import AdSpec, AdStatus, MetaAdsClient
from promotion.services.ad_control import ad_status_ensure, scaling_ad_ensure
from variants.models import CreativeVariant

logger = logging.getLogger(__name__)


def adset_for_testing(master: CreativeProduction) -> str:
    return (
        master.adset_id
        or settings.META_TESTING_ADSET_ID
        or settings.META_DEFAULT_ADSET_ID
    )


def adset_for_scaling(master: CreativeProduction) -> str:
    """The scaling ad set, or "" when winners stay in the testing ad set."""
    scaling = master.scaling_adset_id or settings.META_SCALING_ADSET_ID
    return "" if scaling == adset_for_testing(master) else scaling


def variant_graduate(
    variant: CreativeVariant, *, scaling_adset_id: str, client: MetaAdsClient
) -> bool:
    """Run the winner in the scaling ad set: its second ad (the same creative),
    created once, ACTIVE; then its test ad is paused. The caller has opened the
    logged call context. Each Meta id is saved the moment it arrives.

    If Meta refuses the scaling ad (the failure is logged like every call), the
    winner keeps running on its test ad, and the next cycle graduates it; returns
    whether it graduated."""
    if not variant.scaling_ad_id:
        try:
            ad_id = client.create_ad(
                spec=AdSpec(
                    name=f"{variant.meta_object_key}-scale-ad",
                    adset_id=scaling_adset_id,
                    creative_id=variant.meta_creative_id,
                    pixel_id=variant.pixel_id or "",
                    status=AdStatus.PAUSED,
                ),
                resume=True,
            )
        except MetaError as exc:
            logger.warning("variant %s not graduated yet: %s", variant.pk, exc)
            ad_status_ensure(variant, AdStatus.ACTIVE, client=client)
            return False
        CreativeVariant.objects.filter(id=variant.id).update(
            scaling_ad_id=ad_id, scaling_adset_id=scaling_adset_id
        )
        variant.scaling_ad_id, variant.scaling_adset_id = ad_id, scaling_adset_id
    scaling_ad_ensure(variant, AdStatus.ACTIVE, client=client)
    ad_status_ensure(variant, AdStatus.PAUSED, client=client)
    return True
