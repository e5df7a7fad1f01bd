"""Insights collector (10.7): Meta's daily rows into VariantDailyMetric, then totals.

Idempotent: one row per (variant, day), upserted, so reading a day again (Meta's late
conversions arrive for days) overwrites it with the corrected numbers.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import Count, Max, Min, Q, Sum
from django.utils import timezone

from promotion.choices import PromotionType
from promotion.meta.protocol import InsightRow, MetaAdsClient
from promotion.models import VariantDailyMetric
from promotion.selectors import variants_with_ads_for_insights
from promotion.services.meta_calls import meta_call_context, meta_client
from variants.models import CreativeVariant

logger = logging.getLogger(__name__)

INSIGHTS_BATCH_SIZE = 50  # ads per request, as one Graph batch holds at most 50
_METRIC_FIELDS = (
    "impressions",
    "reach",
    "frequency",
    "clicks",
    "spend",
    "conversions",
    "revenue",
    "video_plays",
    "video_p25",
    "video_p50",
    "video_p75",
    "video_p100",
    "video_avg_watch_seconds",
    "video_3s_views",
    "thruplays",
)


def insights_collect(
    *,
    until: dt.date,
    run_id: UUID | str | None = None,
    lookback_days: int = 28,
    as_of: dt.datetime | None = None,
    client: MetaAdsClient | None = None,
    batch_size: int = INSIGHTS_BATCH_SIZE,
) -> int:
    """Pull daily insights for every variant with an ad; returns the rows upserted.

    1. Pick the variants whose ads may have delivered in [until - lookback + 1, until].
    2. For each batch of ads: one insights call (logged), then one upsert of its rows
       (late corrections overwrite) in its own transaction, so a failure later keeps
       the batches already stored.
    3. Refresh `actual_performance` and `days_active` of the variants that got rows.
    """
    if lookback_days < 1:
        raise ValueError("lookback_days must be at least 1.")
    since = until - dt.timedelta(days=lookback_days - 1)
    # A graduated winner has two ads (testing and scaling, the same creative): both
    # are read, and their days are summed into the variant's one row per day.
    variant_by_ad: dict[str, UUID] = {}
    for variant_id, ad_id, scaling_ad_id in variants_with_ads_for_insights(
        since=since
    ).values_list("id", "meta_ad_id", "scaling_ad_id"):
        variant_by_ad[ad_id] = variant_id
        if scaling_ad_id:
            variant_by_ad[scaling_ad_id] = variant_id
    client = meta_client(client=client, as_of=as_of)
    ad_ids = sorted(variant_by_ad)
    written = 0
    touched: set[UUID] = set()
    with meta_call_context(run_id=run_id, promotion_type=PromotionType.INSIGHTS):
        for start in range(0, len(ad_ids), batch_size):
            batch = ad_ids[start : start + batch_size]
            rows = list(
                client.get_daily_insights(ad_ids=batch, since=since, until=until)
            )
            metrics = _merged_metrics(
                [
                    (variant_by_ad[row.ad_id], row)
                    for row in rows
                    if row.ad_id in variant_by_ad
                ]
            )
            with transaction.atomic():
                VariantDailyMetric.objects.bulk_create(
                    metrics,
                    update_conflicts=True,
                    unique_fields=["variant", "date"],
                    update_fields=[*_METRIC_FIELDS, "fetched_at"],
                )
            written += len(metrics)
            touched.update(m.variant_id for m in metrics)
    variants_refresh_performance(variant_ids=touched)
    logger.info(
        "insights: %d rows for %d of %d ads, %s..%s",
        written,
        len(touched),
        len(ad_ids),
        since,
        until,
    )
    return written


@transaction.atomic
def variants_refresh_performance(*, variant_ids: Iterable[UUID | str]) -> int:
    """Recompute `actual_performance` totals and `days_active` from the daily rows.

    `days_active` counts days with delivery. Rates: `ctr` = clicks / impressions,
    `cvr` = conversions / clicks, `conversions_per_impression`, `roas` = revenue /
    spend, `cpa` = spend / conversions, `cpc` = spend / clicks, `hook_rate` =
    3-second views / impressions, `hold_rate` = ThruPlays / impressions (None when
    undefined).
    """
    ids = [UUID(str(v)) for v in variant_ids]
    if not ids:
        return 0
    totals = (
        VariantDailyMetric.objects.filter(variant_id__in=ids)
        .values("variant_id")
        .annotate(
            total_impressions=Sum("impressions"),
            total_reach=Sum("reach"),
            total_clicks=Sum("clicks"),
            total_conversions=Sum("conversions"),
            total_spend=Sum("spend"),
            total_revenue=Sum("revenue"),
            total_video_p100=Sum("video_p100"),
            total_views_3s=Sum("video_3s_views"),
            total_thruplays=Sum("thruplays"),
            days=Count("id", filter=Q(impressions__gt=0)),
            first_date=Min("date"),
            last_date=Max("date"),
        )
    )
    by_variant = {t["variant_id"]: t for t in totals}
    now = timezone.now()
    variants = list(CreativeVariant.objects.filter(id__in=ids))
    for variant in variants:
        total = by_variant.get(variant.id)
        variant.actual_performance = _performance(total, now) if total else {}
        variant.days_active = total["days"] if total else 0
    CreativeVariant.objects.bulk_update(
        variants, ["actual_performance", "days_active"], batch_size=200
    )
    return len(variants)


# Rates over a day: a variant's ads' rows are weighted by impressions, not added.
_WEIGHTED_FIELDS = ("frequency", "video_avg_watch_seconds")
_SUMMED_FIELDS = tuple(f for f in _METRIC_FIELDS if f not in _WEIGHTED_FIELDS)


def _merged_metrics(
    rows: Iterable[tuple[UUID, InsightRow]],
) -> list[VariantDailyMetric]:
    """One metric row per (variant, day): a variant's ads' rows summed (frequency
    and average watch time weighted by impressions)."""
    merged: dict[tuple[UUID, dt.date], VariantDailyMetric] = {}
    for variant_id, row in rows:
        metric = _metric(variant_id, row)
        key = (variant_id, row.date)
        first = merged.get(key)
        if first is None:
            merged[key] = metric
            continue
        shown = first.impressions + metric.impressions
        for name in _WEIGHTED_FIELDS:
            weighted = (
                getattr(first, name) * first.impressions
                + getattr(metric, name) * metric.impressions
            )
            setattr(first, name, round(weighted / shown, 4) if shown else 0.0)
        for name in _SUMMED_FIELDS:
            setattr(first, name, getattr(first, name) + getattr(metric, name))
    return list(merged.values())


def _metric(variant_id: UUID, row: InsightRow) -> VariantDailyMetric:
    return VariantDailyMetric(
        variant_id=variant_id,
        date=row.date,
        impressions=row.impressions,
        reach=row.reach,
        frequency=row.frequency,
        clicks=min(row.clicks, row.impressions) if row.impressions else row.clicks,
        spend=row.spend,
        conversions=row.conversions,
        revenue=row.revenue,
        video_plays=row.video_plays,
        video_p25=row.video_p25,
        video_p50=row.video_p50,
        video_p75=row.video_p75,
        video_p100=row.video_p100,
        video_avg_watch_seconds=row.video_avg_watch_seconds,
        video_3s_views=row.video_3s_views,
        thruplays=row.thruplays,
        fetched_at=timezone.now(),
    )


def _performance(total: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    impressions = int(total["total_impressions"] or 0)
    clicks = int(total["total_clicks"] or 0)
    conversions = int(total["total_conversions"] or 0)
    spend = Decimal(total["total_spend"] or 0)
    revenue = Decimal(total["total_revenue"] or 0)
    return {
        "impressions": impressions,
        "reach": int(total["total_reach"] or 0),
        "clicks": clicks,
        "conversions": conversions,
        "spend": float(spend),
        "revenue": float(revenue),
        "video_completions": int(total["total_video_p100"] or 0),
        # Retention: did people stop (hook) and stay (hold)?
        "hook_rate": _ratio(total["total_views_3s"] or 0, impressions),
        "hold_rate": _ratio(total["total_thruplays"] or 0, impressions),
        "ctr": _ratio(clicks, impressions),
        "cvr": _ratio(conversions, clicks),
        "conversions_per_impression": _ratio(conversions, impressions),
        "roas": _ratio(revenue, spend),
        "cpa": _ratio(spend, conversions),
        "cpc": _ratio(spend, clicks),
        "days_with_data": int(total["days"] or 0),
        "first_date": total["first_date"].isoformat() if total["first_date"] else None,
        "last_date": total["last_date"].isoformat() if total["last_date"] else None,
        "refreshed_at": now.isoformat(),
    }


def _ratio(numerator: Any, denominator: Any) -> float | None:
    if not denominator:
        return None
    return round(float(numerator) / float(denominator), 6)
