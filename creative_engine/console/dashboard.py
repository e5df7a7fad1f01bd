"""The console's home: how the ads are doing, what the engine will do next, and what a
person must act on.

Two weeks of delivery per master and in total (live ads, winners, spend, conversions,
ROAS, CPA) as charts and a table; the next scheduled cycle and the last run's summary;
alerts for what needs a person. Every number comes from a fixed set of aggregate
queries, whatever the number of masters, variants or days.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.conf import settings
from django.db.models import Count, Max, Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from creative_engine.console import queries
from creative_engine.console.charts import chart_options
from creative_engine.console.figures import on_objective
from creative_engine.models import CycleRun, RunStatus
from creative_engine.selectors import engine_status
from productions.models import CreativeProduction
from productions.roles import has_engine_role
from promotion.delivery import DeliveryTotals, delivery_sums
from promotion.models import PromotionLog, VariantDailyMetric
from promotion.selectors import master_objectives, running_ads_count
from variants.choices import LIVE_STATUSES, WORKING_STATUSES, VariantStatus
from variants.models import CreativeVariant

DASHBOARD_DAYS = 14
ALERT_LOOKBACK = dt.timedelta(days=7)
# Meta's error codes that mean the account or the token needs a person (Graph API).
ACCOUNT_ERROR_CODES = ("190", "102", "200", "10", "272", "1487390", "2635")
PAGE_CAP_WARNING_SHARE = 0.9
# A master with approved cuts and nothing live or in flight for this long has stalled.
STALL_AFTER = dt.timedelta(hours=36)


@dataclass(frozen=True)
class Alert:
    tone: str  # danger / warning / info
    title: str
    detail: str
    link: str = ""


class MasterRow(NamedTuple):
    """A master's two weeks (or, without a master, every master's)."""

    title: str
    live: int
    winners: int
    delivery: DeliveryTotals
    objective: str = ""  # on the master's objective, "ROAS 2.31×"; blank for the total
    link: str = ""


def environment_badge(request: HttpRequest) -> list[str]:
    """The header badge: which Meta the engine talks to."""
    if settings.CREATIVE_ENGINE_MODE == "live":
        return ["Live Meta account", "danger"]
    return ["Stub Meta (no real spend)", "info"]


def dashboard_data(*, now: dt.datetime) -> dict[str, Any]:
    end = queries.period_end()
    start = end - dt.timedelta(days=DASHBOARD_DAYS - 1)
    days = [start + dt.timedelta(days=i) for i in range(DASHBOARD_DAYS)]
    # One query for the charts and the table: each master's days. The variants'
    # ids lead the database to the (variant, date) index, not the date's.
    by_master_and_day = (
        VariantDailyMetric.objects.filter(
            variant_id__in=CreativeVariant.objects.order_by().values("pk"),
            date__gte=start,
            date__lte=end,
        )
        .order_by()
        .values("date", "variant__parent_id")
        .annotate(**delivery_sums())
    )
    daily: dict[dt.date, DeliveryTotals] = defaultdict(DeliveryTotals)
    per_master: dict[Any, DeliveryTotals] = defaultdict(DeliveryTotals)
    for row in by_master_and_day:
        totals = DeliveryTotals.from_sums(row)
        daily[row["date"]] += totals
        per_master[row["variant__parent_id"]] += totals
    masters: list[dict[str, Any]] = [
        dict(row)
        for row in CreativeProduction.objects.filter(is_active=True)
        .annotate(
            live=Count("variants", filter=Q(variants__status__in=LIVE_STATUSES)),
            winners=Count("variants", filter=Q(variants__status=VariantStatus.ACTIVE)),
        )
        .order_by("title")
        .values("id", "title", "live", "winners")
    ]
    objectives = master_objectives(master_ids=[m["id"] for m in masters])
    rows = []
    for master in masters:
        delivery = per_master.get(master["id"], DeliveryTotals())
        objective = objectives.get(str(master["id"]))
        rows.append(
            MasterRow(
                title=master["title"],
                live=master["live"],
                winners=master["winners"],
                delivery=delivery,
                objective=on_objective(objective, delivery) if objective else "—",
                link=reverse(
                    "admin:productions_creativeproduction_change", args=[master["id"]]
                ),
            )
        )
    total = MasterRow(
        title="All masters",
        live=sum(r.live for r in rows),
        winners=sum(r.winners for r in rows),
        delivery=sum((r.delivery for r in rows), DeliveryTotals()),
    )
    labels = [f"{d:%b} {d.day}" for d in days]

    period = [daily.get(d, DeliveryTotals()) for d in days]
    spend = [round(d.spend, 2) for d in period]
    conversions = [d.conversions for d in period]
    revenue = [round(d.revenue, 2) for d in period]
    money_chart = {
        "labels": labels,
        "datasets": [
            {"label": "Spend", "data": spend},
            {"label": "Revenue", "data": revenue},
        ],
    }
    conversions_chart = {
        "labels": labels,
        "datasets": [{"label": "Conversions", "data": conversions}],
    }
    efficiency_chart = {
        "labels": labels,
        "datasets": [
            {
                "label": "ROAS",
                "data": [round(d.roas, 2) if d.roas else None for d in period],
            },
            {
                "label": "CPA",
                "yAxisID": "y1",
                "data": [round(d.cpa, 2) if d.cpa else None for d in period],
            },
        ],
    }
    status = engine_status(now=now, mode=settings.CREATIVE_ENGINE_MODE)
    last_run = (
        CycleRun.objects.exclude(status__in=(RunStatus.QUEUED, RunStatus.RUNNING))
        .order_by("-created_at")
        .first()
    )
    return {
        "period": {"start": start, "end": end, "days": DASHBOARD_DAYS},
        "total": total,
        "master_rows": rows,
        "money_chart": json.dumps(money_chart),
        "conversions_chart": json.dumps(conversions_chart),
        "efficiency_chart": json.dumps(efficiency_chart),
        "money_chart_options": chart_options(left="Account currency", bars=True),
        "conversions_chart_options": chart_options(left="Conversions", bars=True),
        "efficiency_chart_options": chart_options(left="ROAS", right="CPA"),
        "has_delivery": bool(daily),
        "engine": status,
        "last_run": last_run,
        "last_run_summary": _run_summary(last_run),
        "last_run_link": (
            reverse("admin:creative_engine_cyclerun_change", args=[last_run.pk])
            if last_run
            else ""
        ),
        "alerts": [*_run_alerts(last_run), *alerts(now=now, masters=masters)],
    }


RUN_SUMMARY_COUNTS = (
    ("variants_generated", "generated"),
    ("renders_dispatched", "sent to render"),
    ("variants_now_testing", "now testing"),
    ("winners", "winners"),
    ("fatigued", "fatigued"),
    ("insight_rows", "days of insights read"),
)


def _run_summary(run: CycleRun | None) -> str:
    if run is None:
        return "No cycle has run yet."
    counts = run.counts or {}
    parts = [
        f"{counts[key]} {words}" for key, words in RUN_SUMMARY_COUNTS if counts.get(key)
    ]
    problems = len(run.errors or []) + len(run.refusals or [])
    if problems:
        parts.append(f"{problems} problem{'s' if problems != 1 else ''} to read")
    return ", ".join(parts) or "Nothing to do."


def _run_alerts(run: CycleRun | None) -> list[Alert]:
    """What the last cycle said a person must act on (a refused token or ad set from
    the live preflight, a master whose testing pool cannot be refilled)."""
    if run is None:
        return []
    link = reverse("admin:creative_engine_cyclerun_change", args=[run.pk])
    return [
        Alert(
            "danger" if entry.get("step") == "preflight" else "warning",
            "The last cycle needs a person",
            str(entry.get("message", ""))[:300],
            link,
        )
        for entry in (run.alerts or [])
        if isinstance(entry, dict)
    ]


def alerts(*, now: dt.datetime, masters: list[dict[str, Any]]) -> list[Alert]:
    """What a person must act on, most serious first."""
    since = now - ALERT_LOOKBACK
    found: list[Alert] = []
    account_errors = list(
        PromotionLog.objects.filter(
            created_at__gte=since, success=False, error_code__in=ACCOUNT_ERROR_CODES
        )
        .order_by("-created_at")
        .values("error_code", "error_message", "created_at")[:1]
    )
    if account_errors:
        error = account_errors[0]
        found.append(
            Alert(
                "danger",
                "Meta refused the account or its token",
                f"Error {error['error_code']} on {error['created_at']:%b %d %H:%M}: "
                f"{error['error_message'][:200]}",
                reverse("admin:promotion_promotionlog_changelist")
                + "?success__exact=0",
            )
        )
    variant_counts = CreativeVariant.objects.aggregate(
        failed=Count(
            "id",
            filter=Q(status=VariantStatus.FAILED, status_changed_at__gte=since),
        ),
        fatigued=Count("id", filter=Q(is_fatigued=True, archived_at__gte=since)),
    )
    variants_url = reverse("admin:variants_creativevariant_changelist")
    if variant_counts["failed"]:
        found.append(
            Alert(
                "danger",
                f"{variant_counts['failed']} variant(s) failed to render or upload",
                "Each one's page says why; the engine retries what can be retried.",
                variants_url + "?status__exact=failed",
            )
        )
    failed_calls = PromotionLog.objects.filter(
        created_at__gte=since, success=False
    ).exclude(error_code__in=ACCOUNT_ERROR_CODES)
    failed_uploads = failed_calls.filter(promotion_type="upload").count()
    if failed_uploads:
        found.append(
            Alert(
                "warning",
                f"{failed_uploads} upload call(s) to Meta failed this week",
                "Transient failures are retried; repeated ones need a look.",
                reverse("admin:promotion_promotionlog_changelist")
                + "?promotion_type__exact=upload&success__exact=0",
            )
        )
    found.extend(_stalled_masters(now=now, masters=masters))
    if variant_counts["fatigued"]:
        found.append(
            Alert(
                "info",
                f"{variant_counts['fatigued']} variant(s) retired for fatigue this week",
                "Their refreshes are generated in the next cycle.",
                variants_url + "?is_fatigued__exact=1",
            )
        )
    cap = settings.META_MAX_RUNNING_ADS_PER_PAGE
    running = running_ads_count()
    if running >= PAGE_CAP_WARNING_SHARE * cap:
        found.append(
            Alert(
                "danger" if running >= cap else "warning",
                f"{running} of the Page's {cap} running ads are in use",
                "New variants wait, rendered, until ads are paused or archived "
                "(META_MAX_RUNNING_ADS_PER_PAGE).",
                variants_url + "?status__exact=testing",
            )
        )
    return found


def _stalled_masters(*, now: dt.datetime, masters: list[dict[str, Any]]) -> list[Alert]:
    """Active masters with approved cuts and nothing live or being made, for a while."""
    quiet = [m for m in masters if m["live"] == 0]
    if not quiet:
        return []
    ids = [m["id"] for m in quiet]
    busy = set(
        CreativeVariant.objects.filter(
            parent_id__in=ids,
            status__in=[*WORKING_STATUSES, VariantStatus.DRAFT, VariantStatus.RENDERED],
        ).values_list("parent_id", flat=True)
    )
    stats = {
        row["id"]: row
        for row in CreativeProduction.objects.filter(pk__in=ids)
        .annotate(
            approved=Count("fragment_set", filter=Q(fragment_set__approved=True)),
            last_variant=Max("variants__generated_at"),
        )
        .values("id", "approved", "last_variant", "created_at")
    }
    found = []
    for master in quiet:
        row = stats.get(master["id"])
        if row is None or master["id"] in busy or not row["approved"]:
            continue
        since = row["last_variant"] or row["created_at"]
        if now - since < STALL_AFTER:
            continue
        found.append(
            Alert(
                "warning",
                f"{master['title']}: nothing live or being made",
                f"No variant running since {since:%b %d}; run a cycle or generate "
                "variants from the master's page.",
                reverse(
                    "admin:productions_creativeproduction_change", args=[master["id"]]
                ),
            )
        )
    return found


def dashboard_callback(request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
    """unfold's DASHBOARD_CALLBACK: the home page's data."""
    context.update(dashboard_data(now=timezone.now()))
    context["title"] = "Dashboard"  # not the admin's "Site administration"
    context.update(
        may_steer=has_engine_role(request.user),
        run_cycle_url=reverse("console_run_cycle"),
        dry_run_url=reverse("console_dry_run"),
    )
    return context
