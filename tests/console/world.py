"""A console-sized world built in bulk: masters × variants × days of metrics, plus
the decision rows and runs the pages read. Used by the query-budget tests (small and
large worlds must cost the same queries) and by bench/console.py."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from creative_engine.models import CycleRun, RunStatus, RunTrigger
from productions.choices import NarrativeStructure
from productions.models import CreativeProduction
from promotion.choices import PromotionStatus, PromotionType
from promotion.models import PromotionLog, VariantDailyMetric
from tests.factories import FragmentFactory, ProductionFactory
from variants.choices import DurationCategory, VariantStatus, VariantType
from variants.models import CreativeVariant

STRUCTURES = list(NarrativeStructure.values)
LOOKS = ["natural", "warm_film", "neon_pop"]


@dataclass(frozen=True)
class World:
    masters: list[CreativeProduction]
    variants: list[CreativeVariant]
    first_day: dt.date
    last_day: dt.date


def build_world(
    *, masters: int, variants_per_master: int, days: int, seed: int = 7
) -> World:
    rng = random.Random(seed)
    last_day = timezone.localdate()
    first_day = last_day - dt.timedelta(days=days - 1)
    made = [ProductionFactory(title=f"Master {i:03d}") for i in range(masters)]
    for master in made:
        for kind, start, end in (("hook", 0, 3), ("body", 3, 8), ("cta", 8, 11)):
            FragmentFactory(
                master_creative=master,
                fragment_type=kind,
                start_time=start,
                end_time=end,
                label=f"{kind} of {master.title}",
            )
    now = timezone.now()
    variants = []
    for master in made:
        for n in range(variants_per_master):
            status = (
                VariantStatus.ACTIVE
                if n < 3
                else VariantStatus.TESTING
                if n < 10
                else VariantStatus.ARCHIVED
            )
            variants.append(
                CreativeVariant(
                    parent=master,
                    batch_number=1,
                    variant_number=n % 15 + 1,
                    variant_type=VariantType.FRAGMENT_REORDER,
                    narrative_structure=STRUCTURES[n % 3],
                    fragments_order=[],
                    caption="Listen now",
                    hashtags=["#newmusic"],
                    color_look=LOOKS[n % 3],
                    duration_seconds=10.0,
                    duration_category=DurationCategory.MEDIUM,
                    status=status,
                    meta_ad_id=f"{master.pk.int % 10**9}{n:03d}",
                    activated_at=now - dt.timedelta(days=days),
                    uploaded_at=now - dt.timedelta(days=days),
                )
            )
    CreativeVariant.objects.bulk_create(variants, batch_size=500)
    metrics = []
    for variant in variants:
        rate = rng.uniform(0.008, 0.02)
        for d in range(days):
            impressions = rng.randint(500, 1500)
            clicks = int(impressions * rate)
            conversions = clicks // 10
            metrics.append(
                VariantDailyMetric(
                    variant=variant,
                    date=first_day + dt.timedelta(days=d),
                    impressions=impressions,
                    reach=int(impressions * 0.8),
                    frequency=1.25,
                    clicks=clicks,
                    conversions=conversions,
                    spend=Decimal(impressions) / 100,
                    revenue=Decimal(conversions * 30),
                    video_3s_views=int(impressions * 0.4),
                    thruplays=int(impressions * 0.1),
                )
            )
    VariantDailyMetric.objects.bulk_create(metrics, batch_size=2000)
    logs = []
    for variant in variants:
        for step in range(3):
            logs.append(
                PromotionLog(
                    variant=variant,
                    promotion_type=PromotionType.WINNER,
                    operation="promote_top",
                    promotion_status=PromotionStatus.SUCCEEDED,
                    success=True,
                    decision_details={
                        "action": "promote",
                        "prob_top_n": 0.9 - step * 0.1,
                        "days_used": 5 + step,
                        "metric": "ctr",
                        "reason": "rank 1 of the posterior, in the top 3",
                    },
                )
            )
    PromotionLog.objects.bulk_create(logs, batch_size=2000)
    CycleRun.objects.create(
        trigger=RunTrigger.SCHEDULER,
        status=RunStatus.SUCCEEDED,
        as_of=now,
        started_at=now,
        finished_at=now,
        counts={"variants_generated": len(variants), "winners": 3 * masters},
    )
    return World(made, variants, first_day, last_day)
