"""Reads behind the engine's status and history endpoints, and the run history.

Each figure is one aggregate query; nothing here loads rows to count them in Python.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django_celery_beat.models import PeriodicTask

from creative_engine.models import IN_FLIGHT_STATUSES, CycleRun
from creative_engine.schedule import CYCLE_TASK_NAME, next_scheduled_run
from productions.models import CreativeProduction
from productions.roles import has_engine_role
from productions.selectors import get_by_id_or_404
from promotion.models import VariantDailyMetric
from promotion.ranking import best_structure
from promotion.selectors import uploads_total
from variants.choices import LIVE_STATUSES, VariantStatus
from variants.models import CreativeVariant


def run_list(*, user: Any) -> QuerySet[CycleRun]:
    if not has_engine_role(user):
        return CycleRun.objects.none()
    return CycleRun.objects.select_related("requested_by")


def run_get(*, user: Any, run_id: Any) -> CycleRun:
    return get_by_id_or_404(run_list(user=user), run_id, what="run")


def engine_status(*, now: dt.datetime, mode: str) -> dict[str, Any]:
    """SPEC.md's status: running while a cycle is queued or running; paused when the
    beat entry is disabled or missing (no scheduled cycle will start), else idle.

    Queries: in-flight run, last start, beat entry, last run's alerts, masters,
    variant counts.
    """
    in_flight = CycleRun.objects.filter(status__in=IN_FLIGHT_STATUSES).exists()
    last_run = (
        CycleRun.objects.filter(started_at__isnull=False)
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )
    scheduled = (
        PeriodicTask.objects.filter(name=CYCLE_TASK_NAME)
        .values_list("enabled", flat=True)
        .first()
    )
    paused = not scheduled  # disabled (False) or missing (None)
    last_alerts = (
        CycleRun.objects.filter(finished_at__isnull=False, dry_run=False)
        .order_by("-finished_at")
        .values_list("alerts", flat=True)
        .first()
    )
    variants = CreativeVariant.objects.aggregate(
        total=Count("id"),
        live=Count("id", filter=Q(status__in=LIVE_STATUSES)),
        fatigued=Count("id", filter=Q(status=VariantStatus.FATIGUED)),
    )
    if in_flight:
        status = "running"
    elif paused:
        status = "paused"
    else:
        status = "idle"
    return {
        "status": status,
        "last_run": last_run,
        "next_run": None if paused else next_scheduled_run(now),
        "total_masters": CreativeProduction.objects.count(),
        "total_variants": variants["total"],
        "active_variants": variants["live"],
        "fatigued_variants": variants["fatigued"],
        "mode": mode,
        "alerts": list(last_alerts or []),
    }


def runs_recent(*, limit: int) -> list[CycleRun]:
    return list(
        CycleRun.objects.select_related("requested_by").order_by("-created_at")[:limit]
    )


def structure_totals() -> list[dict[str, Any]]:
    """Measured delivery pooled per narrative structure (one GROUP BY query)."""
    rows = (
        VariantDailyMetric.objects.values("variant__narrative_structure")
        .annotate(
            impressions=Sum("impressions"),
            clicks=Sum("clicks"),
            conversions=Sum("conversions"),
        )
        .order_by("variant__narrative_structure")
    )
    return [dict(row) for row in rows]


def best_performing_structure(
    totals: list[dict[str, Any]],
) -> tuple[str | None, str | None]:
    """The structure with the highest posterior rate over every measured variant, and
    the metric used: conversions per impression once there are conversions, else CTR.
    (None, None) before any impression was measured."""
    impressions = sum(int(t["impressions"] or 0) for t in totals)
    if impressions == 0:
        return None, None
    conversions = sum(int(t["conversions"] or 0) for t in totals)
    metric = "conversions_per_impression" if conversions else "ctr"
    successes_key = "conversions" if conversions else "clicks"
    rows = [
        (
            "all",
            t["variant__narrative_structure"],
            int(t[successes_key] or 0),
            int(t["impressions"] or 0),
        )
        for t in totals
    ]
    return best_structure(rows)["all"].best, metric


def engine_history(*, limit: int) -> dict[str, Any]:
    """SPEC.md's history: totals, averages, the best structure and the last runs.

    Queries: runs total, variants and masters with variants, uploads, structure
    totals, the last `limit` runs (with who requested them).
    """
    total_runs = CycleRun.objects.count()
    variants = CreativeVariant.objects.aggregate(
        total=Count("id"), masters=Count("parent_id", distinct=True)
    )
    totals = structure_totals()
    best, metric = best_performing_structure(totals)
    average = variants["total"] / variants["masters"] if variants["masters"] else 0.0
    return {
        "total_runs": total_runs,
        "total_variants_generated": variants["total"],
        "total_uploads": uploads_total(),
        "avg_variants_per_master": round(average, 1),
        "best_performing_structure": best,
        "best_structure_metric": metric,
        "structures": [
            {
                "narrative_structure": t["variant__narrative_structure"],
                "impressions": int(t["impressions"] or 0),
                "clicks": int(t["clicks"] or 0),
                "conversions": int(t["conversions"] or 0),
            }
            for t in totals
        ],
        "history": runs_recent(limit=limit),
    }
