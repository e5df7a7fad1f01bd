"""The stub account as the market simulator sees it.

The account (`StubMetaObject` rows) records which ads exist, what a viewer sees in
each, and their status and budget histories; the simulator turns that into daily
rows. What a viewer sees is read from the variant the video was rendered from,
found through the dedupe key in the object's name.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from typing import Any

from django.conf import settings

from promotion.choices import StubObjectKind
from promotion.fragment_scoring import fragment_ids_in_order, hook_fragment_id
from promotion.meta.market import (
    AdFeatures,
    BudgetChange,
    MarketAd,
    MarketAdSet,
    MarketSimulator,
    StatusChange,
)
from promotion.models import StubMetaObject
from variants.models import CreativeVariant


def load_stub_market(
    *, seed: int, ad_ids: Sequence[str] | None = None
) -> MarketSimulator:
    """The stub account's market as the simulator sees it (ads, statuses, budgets).

    With `ad_ids`, only those ads and their ad-set siblings (which share the budget)
    are loaded. Benchmarks use this for the truth; the engine never does.
    """
    ads = StubMetaObject.objects.filter(seed=seed, kind=StubObjectKind.AD)
    if ad_ids is not None:
        asked = list(ads.filter(meta_id__in=ad_ids).values("parent_meta_id", "payload"))
        creatives = {a["payload"].get("creative_id") for a in asked} - {None, ""}
        # The ads' siblings share their budget; ads of the same creative elsewhere
        # (a winner's test ad) carry their exposure over, with their siblings too.
        adset_ids = {a["parent_meta_id"] for a in asked} | set(
            ads.filter(payload__creative_id__in=list(creatives)).values_list(
                "parent_meta_id", flat=True
            )
        )
        ads = ads.filter(parent_meta_id__in=adset_ids)
    ads_list = list(ads)
    adsets = StubMetaObject.objects.filter(
        seed=seed,
        kind=StubObjectKind.ADSET,
        meta_id__in={a.parent_meta_id for a in ads_list},
    )
    return MarketSimulator(
        seed=seed,
        delivery=settings.META_STUB_DELIVERY,
        ads=[_market_ad(a) for a in ads_list],
        adsets=[
            MarketAdSet(
                adset_id=s.meta_id,
                budget_history=tuple(
                    BudgetChange(
                        at=dt.datetime.fromisoformat(c["at"]),
                        daily_budget=c["daily_budget_minor"] / 100,
                    )
                    for c in s.history
                    if "daily_budget_minor" in c
                ),
            )
            for s in adsets
        ],
    )


def _market_ad(obj: StubMetaObject) -> MarketAd:
    features = obj.payload.get("features") or {}
    return MarketAd(
        ad_id=obj.meta_id,
        adset_id=obj.parent_meta_id,
        features=AdFeatures(
            master_id=str(features.get("master_id", "")),
            hook_fragment_id=str(features.get("hook_fragment_id", "")),
            fragment_ids=tuple(features.get("fragment_ids", ())),
            structure=str(features.get("structure", "")),
            duration_category=str(features.get("duration_category", "")),
            caption=str(features.get("caption", "")),
            look=str(features.get("look", "")),
        ),
        created_at=obj.created_at,
        creative_id=str(obj.payload.get("creative_id", "")),
        status_history=tuple(
            StatusChange(at=dt.datetime.fromisoformat(c["at"]), status=c["status"])
            for c in obj.history
            if "status" in c
        ),
    )


def video_features(name: str, filename: str) -> dict[str, Any]:
    """What a viewer sees in the video: read from the variant it was rendered from."""
    key = name.rsplit("-", 1)[0]
    variant = (
        CreativeVariant.objects.filter(meta_object_key=key).order_by("pk").first()
        if key
        else None
    )
    if variant is None:
        # A video the engine did not render (hand-made tests): its name stands in.
        return {
            "master_id": "unknown",
            "hook_fragment_id": name,
            "fragment_ids": [name],
            "structure": "hook_body_cta",
            "duration_category": "medium",
            "caption": os.path.basename(filename),
            "look": "",
        }
    order = variant.fragments_order or []
    hashtags = " ".join(str(h) for h in variant.hashtags or [])
    return {
        "master_id": str(variant.parent_id),
        "hook_fragment_id": hook_fragment_id(order),
        "fragment_ids": fragment_ids_in_order(order),
        "structure": variant.narrative_structure,
        "duration_category": variant.duration_category,
        "caption": f"{variant.caption} {hashtags}".strip(),
        "look": variant.color_look,
    }
