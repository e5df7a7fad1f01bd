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

from django.conf import settings

from productions.models import CreativeProduction
from promotion.meta.protocol import AdSpec, AdStatus, MetaAdsClient
from variants.models import CreativeVariant


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
) -> None:
    """Run the winner in the scaling ad set: its second ad (the same creative),
    created once, ACTIVE; then its test ad is paused. The caller has opened the
    logged call context. Each Meta id is saved the moment it arrives."""
    if not variant.scaling_ad_id:
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
        CreativeVariant.objects.filter(id=variant.id).update(
            scaling_ad_id=ad_id, scaling_adset_id=scaling_adset_id
        )
        variant.scaling_ad_id, variant.scaling_adset_id = ad_id, scaling_adset_id
    scaling_ad_ensure(variant, AdStatus.ACTIVE, client=client)
    if variant.meta_ad_status != AdStatus.PAUSED.value:
        client.set_ad_status(ad_id=variant.meta_ad_id, status=AdStatus.PAUSED)
        CreativeVariant.objects.filter(id=variant.id).update(
            meta_ad_status=AdStatus.PAUSED.value
        )
        variant.meta_ad_status = AdStatus.PAUSED.value


def scaling_ad_ensure(
    variant: CreativeVariant, status: AdStatus, *, client: MetaAdsClient
) -> None:
    """Bring the variant's scaling ad (if it has one) to `status`: one logged call
    when a change is needed, none otherwise."""
    if not variant.scaling_ad_id or variant.scaling_ad_status == status.value:
        return
    client.set_ad_status(ad_id=variant.scaling_ad_id, status=status)
    CreativeVariant.objects.filter(id=variant.id).update(scaling_ad_status=status.value)
    variant.scaling_ad_status = status.value
