"""Reads of the promotion app with their rules (scoping, filters, batching): the
services and the cycle read through here, the pure planners get plain rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID

from django.db.models import Count, Prefetch, Q, QuerySet, Sum

from productions.choices import Objective
from productions.models import CreativeProduction
from productions.roles import has_engine_role
from productions.selectors import get_by_id_or_404
from promotion.evidence import objective_is_money, resolve_objective
from promotion.models import PromotionLog, VariantDailyMetric
from promotion.performance_hints import MeasuredVariant
from promotion.ranking.policy import RankingPolicy
from variants.choices import LIVE_STATUSES, VariantStatus
from variants.models import CreativeVariant
from variants.services.work import Claim

# Working rows claimed before leases existed: abandoned when untouched this long.
LEGACY_WORK_STALE_AFTER = dt.timedelta(minutes=30)


def running_ads_count() -> int:
    """Ads the engine has running on the Page: live variants (testing or active) that
    have a Meta ad. Counted from our database, the one source of truth for the cap."""
    return (
        CreativeVariant.objects.filter(status__in=LIVE_STATUSES)
        .exclude(meta_ad_id="")
        .count()
    )


def variants_with_ads_for_insights(*, since: dt.date) -> QuerySet[CreativeVariant]:
    """Variants whose ads may have delivered on or after `since`: every variant with a
    Meta ad, except those archived before the window began."""
    since_start = dt.datetime.combine(since, dt.time.min, tzinfo=dt.UTC)
    return (
        CreativeVariant.objects.exclude(meta_ad_id="")
        .exclude(
            Q(status=VariantStatus.ARCHIVED)
            & Q(archived_at__isnull=False)
            & Q(archived_at__lt=since_start)
        )
        .order_by("id")
    )


def variants_stuck_uploading(*, changed_before: dt.datetime) -> list[UUID]:
    """Uploads whose worker died or gave up: `uploading` since before the cut-off."""
    return _in_status_since(VariantStatus.UPLOADING, changed_before)


def variants_waiting_for_upload(*, changed_before: dt.datetime) -> list[UUID]:
    """Rendered variants waiting for an upload since before the cut-off."""
    return _in_status_since(VariantStatus.RENDERED, changed_before)


def variants_stuck_rendering(*, changed_before: dt.datetime) -> list[UUID]:
    """Renders that outlived every time limit: `rendering` since before the cut-off."""
    return _in_status_since(VariantStatus.RENDERING, changed_before)


def _in_status_since(status: VariantStatus, changed_before: dt.datetime) -> list[UUID]:
    """Ids of variants in `status` since before the cut-off, longest waiting first."""
    # Rows written without a transition have no status_changed_at: treat as old.
    old = Q(status_changed_at__lt=changed_before) | Q(status_changed_at__isnull=True)
    return list(
        CreativeVariant.objects.filter(old, status=status)
        .order_by("status_changed_at")
        .values_list("id", flat=True)
    )


class WorkKind(StrEnum):
    RENDER = "render"
    UPLOAD = "upload"
    RESUME_RENDER = "resume_render"
    RESUME_UPLOAD = "resume_upload"


@dataclass(frozen=True)
class WorkItem:
    """A variant whose next work needs a message: what, why, and the dispatch token
    it has now (the re-send replaces exactly that one)."""

    variant_id: UUID
    kind: WorkKind
    token: str
    reason: str


def variants_needing_work(
    *,
    master_ids: Collection[UUID] | None = None,
    queued_tokens: frozenset[str] | None,
    now: dt.datetime,
    dispatch_stale_after: dt.timedelta,
    untracked_rendered_before: dt.datetime | None = None,
) -> list[WorkItem]:
    """Variants with work to do and no message in flight for it.

    - draft / rendered (no ad yet): never dispatched, or their message is provably
      not in flight (not among `queued_tokens`, the broker's waiting messages; when
      the broker cannot say, None: dispatched longer than `dispatch_stale_after`).
      Rendered variants never dispatched wait until `untracked_rendered_before`
      when given (the sweep leaves them to the cycle that rendered them a while).
    - rendering / uploading: the worker holding the lease is provably gone.
    Longest waiting first.
    """
    query = CreativeVariant.objects.filter(
        status__in=[
            VariantStatus.DRAFT,
            VariantStatus.RENDERED,
            VariantStatus.RENDERING,
            VariantStatus.UPLOADING,
        ]
    ).exclude(status=VariantStatus.RENDERED, meta_ad_id__gt="")
    if master_ids is not None:
        query = query.filter(parent_id__in=list(master_ids))
    rows = query.order_by("status_changed_at", "generated_at").values(
        "id",
        "status",
        "status_changed_at",
        "dispatch_token",
        "dispatched_at",
        "lease_holder",
        "lease_expires_at",
    )
    items = []
    for row in rows:
        item = _work_for_row(
            row,
            queued_tokens=queued_tokens,
            now=now,
            dispatch_stale_after=dispatch_stale_after,
            untracked_rendered_before=untracked_rendered_before,
        )
        if item is not None:
            items.append(item)
    return items


def _work_for_row(
    row: Mapping[str, Any],
    *,
    queued_tokens: frozenset[str] | None,
    now: dt.datetime,
    dispatch_stale_after: dt.timedelta,
    untracked_rendered_before: dt.datetime | None,
) -> WorkItem | None:
    status, token = row["status"], row["dispatch_token"]
    if status in (VariantStatus.RENDERING, VariantStatus.UPLOADING):
        claim = Claim.of(row)
        if not claim.is_abandoned(stale_after=LEGACY_WORK_STALE_AFTER, now=now):
            return None
        kind = (
            WorkKind.RESUME_RENDER
            if status == VariantStatus.RENDERING
            else WorkKind.RESUME_UPLOAD
        )
        return WorkItem(row["id"], kind, token, "the worker holding it is gone")
    kind = WorkKind.RENDER if status == VariantStatus.DRAFT else WorkKind.UPLOAD
    if not token:
        changed = row["status_changed_at"]
        if (
            kind == WorkKind.UPLOAD
            and untracked_rendered_before is not None
            and changed is not None
            and changed >= untracked_rendered_before
        ):
            return None
        what = (
            "draft waiting for its render"
            if kind == WorkKind.RENDER
            else ("rendered, not yet on Meta")
        )
        return WorkItem(row["id"], kind, token, what)
    if queued_tokens is not None:
        lost = token not in queued_tokens
    else:
        sent = row["dispatched_at"]
        lost = sent is None or sent < now - dispatch_stale_after
    if not lost:
        return None
    return WorkItem(row["id"], kind, token, "its message is no longer on the broker")


# --- API reads (scoped to the user; constant query counts) ---------------------------


def promotion_log_list(*, user: object) -> QuerySet:
    """Promotion logs; serializers read ids only, so no joins are needed."""
    if not has_engine_role(user):  # type: ignore[arg-type]
        return PromotionLog.objects.none()
    return PromotionLog.objects.all()


def uploads_total() -> int:
    """Variants that reached Meta as an ad (one ad per variant, ever)."""
    return CreativeVariant.objects.exclude(meta_ad_id="").count()


def promotion_log_get(*, user: object, log_id: object) -> object:
    """One promotion log the user may see; a malformed or unknown id is a 404."""
    return get_by_id_or_404(promotion_log_list(user=user), log_id, what="promotion log")


def masters_daily_impressions(
    *, master_ids: Collection[UUID], as_of: dt.date, days: int = 3
) -> dict[UUID, float]:
    """Each master's recent delivery: impressions a day over its variants, averaged
    over the last `days` complete days before `as_of` that have rows. One query for
    all masters; a master without rows is absent."""
    per_day = (
        VariantDailyMetric.objects.filter(
            variant__parent_id__in=list(master_ids),
            date__lt=as_of,
            date__gte=as_of - dt.timedelta(days=days),
        )
        .values("variant__parent_id", "date")
        .annotate(impressions=Sum("impressions"))
        .values_list("variant__parent_id", "impressions")
    )
    totals: dict[UUID, list[int]] = {}
    for master_id, impressions in per_day:
        totals.setdefault(master_id, []).append(int(impressions or 0))
    return {master_id: sum(days) / len(days) for master_id, days in totals.items()}


@dataclass(frozen=True)
class PerformanceScopes:
    """What the variants in each master's scope delivered, summed over every day.

    A master's scope is every master's variants in its campaign (SPEC: the best
    structure is detected per campaign), or its own variants when it names no
    campaign; masters of one campaign share one scope, so its rows are read (and
    the hints drawn from them) once, not once per master.
    """

    scope_of: Mapping[UUID, str]
    measured: Mapping[str, list[MeasuredVariant]]

    def for_master(self, master_id: UUID | str) -> list[MeasuredVariant]:
        """The master's scope's measured variants (none for an unknown master)."""
        return self.measured.get(self.scope_of.get(UUID(str(master_id)), ""), [])


def _performance_scope(master_id: UUID, campaign_id: str) -> str:
    return f"campaign:{campaign_id}" if campaign_id else f"master:{master_id}"


def masters_performance_sums(
    *, master_ids: Collection[UUID | str]
) -> PerformanceScopes:
    """The scopes of these masters and what their variants delivered, variants
    without delivery left out. Two queries whatever the number of masters: the
    masters' campaigns, then every variant of those scopes with its sums."""
    campaigns = dict(
        CreativeProduction.objects.filter(
            pk__in=[UUID(str(pk)) for pk in master_ids]
        ).values_list("pk", "campaign_id")
    )
    scope_of = {pk: _performance_scope(pk, c) for pk, c in campaigns.items()}
    in_campaign = {c for c in campaigns.values() if c}
    on_their_own = [pk for pk, c in campaigns.items() if not c]
    rows = (
        CreativeVariant.objects.filter(
            Q(parent__campaign_id__in=in_campaign) | Q(parent_id__in=on_their_own)
        )
        .annotate(
            impressions=Sum("daily_metrics__impressions"),
            clicks=Sum("daily_metrics__clicks"),
            conversions=Sum("daily_metrics__conversions"),
        )
        .filter(impressions__gt=0)
        .order_by("id")
        .values(
            "pk",
            "parent_id",
            "parent__campaign_id",
            "narrative_structure",
            "duration_category",
            "plan_details",
            "caption",
            "color_look",
            "pixel_id",
            "hashtags",
            "impressions",
            "clicks",
            "conversions",
        )
    )
    measured: dict[str, list[MeasuredVariant]] = {
        scope: [] for scope in scope_of.values()
    }
    for row in rows:
        scope = _performance_scope(row["parent_id"], row["parent__campaign_id"])
        measured.setdefault(scope, []).append(
            MeasuredVariant(
                variant_id=str(row["pk"]),
                narrative_structure=row["narrative_structure"],
                duration_category=row["duration_category"],
                caption_template=_caption_template(row["plan_details"]),
                caption=row["caption"],
                color_look=row["color_look"],
                pixel_id=row["pixel_id"],
                hashtags=tuple(str(t) for t in row["hashtags"] or []),
                impressions=row["impressions"],
                clicks=row["clicks"] or 0,
                conversions=row["conversions"] or 0,
            )
        )
    return PerformanceScopes(scope_of=scope_of, measured=measured)


def master_performance_sums(*, master_id: UUID | str) -> list[MeasuredVariant]:
    """What the variants in the master's scope delivered (`masters_performance_sums`
    for one master: two queries)."""
    return masters_performance_sums(master_ids=[master_id]).for_master(master_id)


def _caption_template(plan_details: object) -> str:
    details = plan_details if isinstance(plan_details, dict) else {}
    return str(details.get("caption_template") or "")


def live_variants_with_metrics(*, master_id: UUID | str) -> list[CreativeVariant]:
    """A master's testing/active variants that have an ad, with their daily rows."""
    return list(
        CreativeVariant.objects.filter(
            parent_id=UUID(str(master_id)), status__in=LIVE_STATUSES
        )
        .exclude(meta_ad_id="")
        .prefetch_related(
            Prefetch(
                "daily_metrics", queryset=VariantDailyMetric.objects.order_by("date")
            )
        )
        .order_by("batch_number", "variant_number")
    )


def adset_budget_change_hours(*, adset_id: str, as_of: dt.datetime) -> list[float]:
    """Hours since each successful budget change of this ad set, on the cycle's clock."""
    since = dt.timedelta(days=2)
    rows = PromotionLog.objects.filter(
        adset_id=adset_id, operation="set_adset_budget", success=True
    ).order_by("-created_at")[:20]
    hours: list[float] = []
    for row in rows:
        stamp = (row.decision_details or {}).get("as_of")
        moment = dt.datetime.fromisoformat(stamp) if stamp else row.created_at
        if dt.timedelta(0) <= as_of - moment <= since:
            hours.append((as_of - moment).total_seconds() / 3600.0)
    return hours


def master_objectives(*, master_ids: Collection[UUID | str]) -> dict[str, Objective]:
    """Each master's objective: the one a person chose, else ROAS when its pixel
    reports revenue (any of its variants' days has revenue), else CPA. Two queries."""
    chosen = dict(
        CreativeProduction.objects.filter(pk__in=list(master_ids)).values_list(
            "pk", "objective"
        )
    )
    with_revenue = set(
        VariantDailyMetric.objects.filter(
            variant__parent_id__in=list(chosen), revenue__gt=0
        )
        # Unordered: the default order's columns would join in and break DISTINCT
        # into one row per variant and day.
        .order_by()
        .values_list("variant__parent_id", flat=True)
        .distinct()
    )
    return {
        str(pk): resolve_objective(value, revenue_tracked=pk in with_revenue)
        for pk, value in chosen.items()
    }


def master_objective(*, master_id: UUID | str) -> Objective:
    """One master's objective (an unknown master: the default for no revenue)."""
    found = master_objectives(master_ids=[master_id])
    return found.get(str(master_id), resolve_objective("", revenue_tracked=False))


# Variants on their way to a test: not yet judged by anyone.
PRE_TEST_STATUSES = (
    VariantStatus.DRAFT,
    VariantStatus.RENDERING,
    VariantStatus.RENDERED,
    VariantStatus.UPLOADING,
)


def pool_waiting_for_evidence(
    *,
    master_ids: Collection[UUID],
    policy: RankingPolicy | None = None,
) -> dict[UUID, int]:
    """Per master, the variants that still wait for evidence: on their way to a test
    (draft → uploading), or testing without the evidence the ranking's gates ask for
    (impressions, days; spend for ROAS/CPA objectives). Paused, judged, active and
    retired variants do not count: they no longer wait for anything. Three queries."""
    policy = policy or RankingPolicy()
    ids = list(master_ids)
    objectives = master_objectives(master_ids=ids)
    waiting: dict[UUID, int] = dict(
        CreativeVariant.objects.filter(parent_id__in=ids, status__in=PRE_TEST_STATUSES)
        .values("parent_id")
        .annotate(n=Count("id"))
        .values_list("parent_id", "n")
    )
    testing = (
        CreativeVariant.objects.filter(parent_id__in=ids, status=VariantStatus.TESTING)
        .annotate(
            shown=Sum("daily_metrics__impressions"),
            spent=Sum("daily_metrics__spend"),
            days=Count("daily_metrics", filter=Q(daily_metrics__impressions__gt=0)),
        )
        .values_list("parent_id", "shown", "spent", "days")
    )
    for parent_id, shown, spent, days in testing:
        money = objective_is_money(objectives.get(str(parent_id), Objective.CPA))
        judged = (
            (shown or 0) >= policy.min_impressions
            and days >= policy.min_days
            and (not money or float(spent or 0) >= policy.min_spend)
        )
        if not judged:
            waiting[parent_id] = waiting.get(parent_id, 0) + 1
    return waiting
