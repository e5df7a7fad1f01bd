"""A console-sized world built in bulk: masters × variants × days of metrics, plus
the decision rows and runs the pages read. Used by the query-budget tests (small and
large worlds must cost the same queries) and by bench/console.py."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from creative_engine.models import CycleRun, RunStatus, RunTrigger
from productions.choices import NarrativeStructure
from productions.models import CreativeFragment, CreativeProduction
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
    run: CycleRun


def build_world(
    *, masters: int, variants_per_master: int, days: int, seed: int = 7
) -> World:
    rng = random.Random(seed)
    last_day = timezone.localdate()
    first_day = last_day - dt.timedelta(days=days - 1)
    made = [ProductionFactory(title=f"Master {i:03d}") for i in range(masters)]
    cuts: dict[object, list[dict[str, object]]] = {}
    for master in made:
        cuts[master.pk] = [
            {
                "fragment_id": str(
                    FragmentFactory(
                        master_creative=master,
                        fragment_type=kind,
                        start_time=start,
                        end_time=end,
                        label=f"{kind} of {master.title}",
                    ).pk
                ),
                "fragment_type": kind,
                "source_in": float(start),
                "source_out": float(end),
            }
            for kind, start, end in (("hook", 0, 3), ("body", 3, 8), ("cta", 8, 11))
        ]
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
                    fragments_order=cuts[master.pk],
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
    run = CycleRun.objects.create(
        trigger=RunTrigger.SCHEDULER,
        status=RunStatus.SUCCEEDED,
        as_of=now,
        started_at=now,
        finished_at=now,
        counts={"variants_generated": len(variants), "winners": 3 * masters},
        # A cycle's report names every live variant it judged, and each master.
        decisions=[
            {
                "step": "promote",
                "variant_id": str(v.pk),
                "master_id": str(v.parent_id),
                "action": "keep_active"
                if v.status == VariantStatus.ACTIVE
                else "keep_testing",
                "reason": "rank 1 of the posterior, in the top 3",
                "numbers": {"prob_top_n": 0.91, "days_used": days, "rank": 1},
            }
            for v in variants
            if v.status != VariantStatus.ARCHIVED
        ]
        + [
            {"step": "generate", "master_id": str(m.pk), "action": "generate"}
            for m in made
        ],
        timings={"collect_insights": 1.2, "promote": 0.4},
    )
    PromotionLog.objects.filter(pk__in=[log.pk for log in logs[:10]]).update(run=run)
    return World(made, variants, first_day, last_day, run)


def console_pages(world: World) -> dict[str, str]:
    """Every page of the console a marketer opens, by name: the bench times them and
    the query tests count them, on the same list."""
    master = world.masters[0]
    variant = world.variants[0]
    fragment = CreativeFragment.objects.filter(master_creative=master).first()
    log = PromotionLog.objects.filter(variant=variant).first()
    metric = VariantDailyMetric.objects.filter(variant=variant).first()
    assert fragment and log and metric
    grid = reverse("admin:variants_creativevariant_changelist")
    leaderboards = reverse("admin:promotion_leaderboards")
    return {
        "dashboard": reverse("admin:index"),
        "creative grid": grid,
        "grid sorted by ROAS": f"{grid}?o=-{_column('roas_column')}",
        "grid of one master": f"{grid}?parent__id__exact={master.pk}",
        "variant page": _change("variants_creativevariant", variant.pk),
        "master list": reverse("admin:productions_creativeproduction_changelist"),
        "master page": _change("productions_creativeproduction", master.pk),
        "new master": reverse("admin:productions_creativeproduction_add"),
        "fragment list": reverse("admin:productions_creativefragment_changelist"),
        "fragment page": _change("productions_creativefragment", fragment.pk),
        "approval audit": reverse("admin:productions_approvalaudit_changelist"),
        "leaderboards": leaderboards,
        "leaderboards by ROAS": f"{leaderboards}?metric=roas&master={master.pk}",
        "cycle runs": reverse("admin:creative_engine_cyclerun_changelist"),
        "run report": _change("creative_engine_cyclerun", world.run.pk),
        "run report, promote": _change("creative_engine_cyclerun", world.run.pk)
        + "?step=promote",
        "promotion log": reverse("admin:promotion_promotionlog_changelist"),
        "promotion log entry": _change("promotion_promotionlog", log.pk),
        "daily metrics": reverse("admin:promotion_variantdailymetric_changelist"),
        "daily metric entry": _change("promotion_variantdailymetric", metric.pk),
        "run a cycle now": reverse("console_run_cycle"),
        "preview a dry run": reverse("console_dry_run"),
        "generate now": reverse("console_generate", args=[master.pk]),
        "schedule": reverse("admin:django_celery_beat_periodictask_changelist"),
    }


def _change(model: str, pk: object) -> str:
    return reverse(f"admin:{model}_change", args=[pk])


def _column(name: str) -> int:
    """A grid column's index as the changelist's ?o= counts it (the grid has no bulk
    actions, so no checkbox column comes first)."""
    return list(admin.site._registry[CreativeVariant].list_display).index(name)
